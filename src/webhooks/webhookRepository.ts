/**
 * Webhook endpoints and their delivery log (`webhook_endpoints`, `webhook_deliveries`).
 * Timestamps are written as ISO strings and read back through `toDate`, so the same code
 * runs on SQLite (TEXT) and PostgreSQL (timestamptz).
 *
 * A delivery is claimed before each attempt by bumping `attempts` only if it still has the
 * count it was read with (optimistic check) and pushing `next_attempt_at` out by a lease:
 * two workers cannot both send the same attempt, and an attempt cut off by a crash is
 * retried once the lease has passed.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { toDate, type Database, type WebhookDeliveriesTable, type WebhookEndpointsTable } from '../storage/schema.js';

export type WebhookDeliveryStatus = WebhookDeliveriesTable['status'];

export interface WebhookEndpoint {
  id: string;
  url: string;
  /** Event types this endpoint receives; `['*']` for all. */
  events: string[];
  description: string | null;
  createdBy: string;
  createdAt: Date;
  disabledAt: Date | null;
}

export type WebhookEndpointWithSecret = WebhookEndpoint & { secret: string };

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  /** The exact JSON body POSTed; the signature covers these bytes. */
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
}

/** A due delivery together with where it goes and the key it is signed with. */
export interface DueDelivery extends WebhookDelivery {
  url: string;
  secret: string;
}

/** The outcome of one attempt. */
export type AttemptOutcome =
  | { status: 'delivered'; statusCode: number; at: Date }
  | { status: 'pending'; statusCode: number | null; error: string; nextAttemptAt: Date; at: Date }
  | { status: 'failed'; statusCode: number | null; error: string; at: Date };

function parseEvents(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

function toEndpoint(r: WebhookEndpointsTable): WebhookEndpoint {
  return {
    id: r.id,
    url: r.url,
    events: parseEvents(r.events),
    description: r.description,
    createdBy: r.created_by,
    createdAt: toDate(r.created_at),
    disabledAt: r.disabled_at ? toDate(r.disabled_at) : null,
  };
}

function toDelivery(r: WebhookDeliveriesTable): WebhookDelivery {
  return {
    id: r.id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    eventType: r.event_type,
    payload: r.payload,
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: r.next_attempt_at ? toDate(r.next_attempt_at) : null,
    lastStatusCode: r.last_status_code === null ? null : Number(r.last_status_code),
    lastError: r.last_error,
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
    deliveredAt: r.delivered_at ? toDate(r.delivered_at) : null,
  };
}

export function subscribes(endpoint: Pick<WebhookEndpoint, 'events'>, type: string): boolean {
  return endpoint.events.includes('*') || endpoint.events.includes(type);
}

export class WebhookRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async createEndpoint(input: { url: string; secret: string; events: string[]; description: string | null; createdBy: string }): Promise<WebhookEndpointWithSecret> {
    const row: WebhookEndpointsTable = {
      id: randomUUID(),
      url: input.url,
      secret: input.secret,
      events: JSON.stringify(input.events),
      description: input.description,
      created_by: input.createdBy,
      created_at: new Date().toISOString(),
      disabled_at: null,
    };
    await this.db.insertInto('webhook_endpoints').values(row).execute();
    return { ...toEndpoint(row), secret: row.secret };
  }

  async findEndpoint(id: string): Promise<WebhookEndpointWithSecret | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? { ...toEndpoint(row), secret: row.secret } : undefined;
  }

  /** Every endpoint, disabled ones included, oldest first. */
  async listEndpoints(): Promise<WebhookEndpoint[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toEndpoint);
  }

  /** Active endpoints subscribed to `type` (or to '*'). */
  async activeEndpointsFor(type: string): Promise<WebhookEndpoint[]> {
    const rows = await this.db.selectFrom('webhook_endpoints').selectAll().where('disabled_at', 'is', null).orderBy('created_at').orderBy('id').execute();
    return rows.map(toEndpoint).filter((e) => subscribes(e, type));
  }

  /**
   * Disables an endpoint (once; a second call keeps the first time) and closes its pending
   * deliveries as failed, since nothing will send them any more. Undefined when it is unknown.
   */
  async disableEndpoint(id: string, at: Date = new Date()): Promise<WebhookEndpoint | undefined> {
    const now = at.toISOString();
    return this.db.transaction().execute(async (tx) => {
      await tx.updateTable('webhook_endpoints').set({ disabled_at: now }).where('id', '=', id).where('disabled_at', 'is', null).execute();
      await tx
        .updateTable('webhook_deliveries')
        .set({ status: 'failed', next_attempt_at: null, last_error: 'endpoint disabled', updated_at: now })
        .where('endpoint_id', '=', id)
        .where('status', '=', 'pending')
        .execute();
      const row = await tx.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toEndpoint(row) : undefined;
    });
  }

  /** Records one pending delivery per endpoint for one event, due at `event.createdAt`. */
  async addDeliveries(event: { id: string; type: string; payload: string; createdAt: Date }, endpointIds: string[]): Promise<WebhookDelivery[]> {
    if (endpointIds.length === 0) return [];
    const at = event.createdAt.toISOString();
    const rows: WebhookDeliveriesTable[] = endpointIds.map((endpointId) => ({
      id: randomUUID(),
      endpoint_id: endpointId,
      event_id: event.id,
      event_type: event.type,
      payload: event.payload,
      status: 'pending',
      attempts: 0,
      next_attempt_at: at,
      last_status_code: null,
      last_error: null,
      created_at: at,
      updated_at: at,
      delivered_at: null,
    }));
    await this.db.insertInto('webhook_deliveries').values(rows).execute();
    return rows.map(toDelivery);
  }

  async findDelivery(endpointId: string, deliveryId: string): Promise<WebhookDelivery | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', deliveryId).where('endpoint_id', '=', endpointId).executeTakeFirst();
    return row ? toDelivery(row) : undefined;
  }

  /** One endpoint's delivery log, newest first, with the total for paging. */
  async listDeliveries(endpointId: string, page: { limit: number; offset: number }): Promise<{ deliveries: WebhookDelivery[]; total: number }> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('endpoint_id', '=', endpointId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const { n } = await this.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('endpoint_id', '=', endpointId)
      .executeTakeFirstOrThrow();
    return { deliveries: rows.map(toDelivery), total: Number(n) };
  }

  /**
   * Pending deliveries due by `now` on active endpoints, oldest due first (then in the order
   * the events happened), skipping endpoints in `exceptEndpoints` (already being worked on).
   */
  async due(now: Date, limit: number, exceptEndpoints: readonly string[] = []): Promise<DueDelivery[]> {
    let q = this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .selectAll('d')
      .select(['e.url as url', 'e.secret as secret'])
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now.toISOString())
      .where('e.disabled_at', 'is', null);
    if (exceptEndpoints.length > 0) q = q.where('d.endpoint_id', 'not in', [...exceptEndpoints]);
    const rows = await q.orderBy('d.next_attempt_at').orderBy('d.created_at').orderBy('d.id').limit(limit).execute();
    return rows.map((r) => ({ ...toDelivery(r), url: r.url, secret: r.secret }));
  }

  /**
   * Claims the next attempt of a pending delivery read with `attempts`: counts the attempt
   * and leases the delivery until `leaseUntil`. False when someone else got there first.
   */
  async claim(id: string, attempts: number, leaseUntil: Date, at: Date = new Date()): Promise<boolean> {
    const res = await this.db
      .updateTable('webhook_deliveries')
      .set({ attempts: attempts + 1, next_attempt_at: leaseUntil.toISOString(), updated_at: at.toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('attempts', '=', attempts)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Writes the outcome of attempt number `attempt` (as claimed). */
  async recordAttempt(id: string, attempt: number, outcome: AttemptOutcome): Promise<WebhookDelivery | undefined> {
    const at = outcome.at.toISOString();
    const patch: Partial<WebhookDeliveriesTable> =
      outcome.status === 'delivered'
        ? { status: 'delivered', last_status_code: outcome.statusCode, last_error: null, next_attempt_at: null, delivered_at: at, updated_at: at }
        : outcome.status === 'pending'
          ? { status: 'pending', last_status_code: outcome.statusCode, last_error: outcome.error, next_attempt_at: outcome.nextAttemptAt.toISOString(), updated_at: at }
          : { status: 'failed', last_status_code: outcome.statusCode, last_error: outcome.error, next_attempt_at: null, updated_at: at };
    let q = this.db.updateTable('webhook_deliveries').set(patch).where('id', '=', id).where('attempts', '=', attempt);
    // A failure does not reopen a delivery closed meanwhile (its endpoint was disabled); a success is always recorded.
    if (outcome.status !== 'delivered') q = q.where('status', '=', 'pending');
    await q.execute();
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toDelivery(row) : undefined;
  }

  /** Makes a delivery pending again and due at `at`; attempts keep their count. */
  async resetForRedelivery(id: string, at: Date = new Date()): Promise<WebhookDelivery | undefined> {
    const now = at.toISOString();
    await this.db.updateTable('webhook_deliveries').set({ status: 'pending', next_attempt_at: now, delivered_at: null, updated_at: now }).where('id', '=', id).execute();
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toDelivery(row) : undefined;
  }
}
