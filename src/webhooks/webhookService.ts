/**
 * Webhooks for integrators: events (today `call.status_changed`) are recorded as one
 * delivery per subscribed endpoint, then POSTed by a background loop, signed with the
 * endpoint's secret (see webhookSignature.ts), and retried with exponential backoff.
 *
 * The delivery log in storage is the queue: a delivery is `pending` until a 2xx answer
 * (`delivered`) or until `maxAttempts` attempts have failed (`failed`). Pending deliveries
 * left by a previous run are picked up by `start()`.
 *
 * Order: publishes are recorded in the order they were made, and each endpoint is sent one
 * delivery at a time, oldest first, so a healthy receiver sees events in order. A delivery
 * that is being retried does not hold back later ones (deliveries are independent), so a
 * receiver that failed may get an older event after a newer one; `createdAt` orders them.
 *
 * Targets: only public addresses unless `allowPrivateTargets` (see webhookTargets.ts), checked
 * at registration and against the resolved address at every attempt. Storage failures (disk
 * full, read-only, unreachable) pause the loop with a capped exponential backoff and a
 * throttled log, instead of retrying at once.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { ParleyError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Database } from '../storage/schema.js';
import { storageFailureKind } from '../storage/storageErrors.js';
import { signPayload, signatureHeader } from './webhookSignature.js';
import { BlockedTargetError, WebhookTargetPolicy, type Resolver } from './webhookTargets.js';
import {
  WebhookRepository,
  type AttemptOutcome,
  type DueDelivery,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEndpointWithSecret,
} from './webhookRepository.js';

export type { WebhookDelivery, WebhookEndpoint, WebhookEndpointWithSecret } from './webhookRepository.js';

/** Event types an endpoint can subscribe to; '*' is every type, present and future. */
export const webhookEventTypes = ['call.status_changed'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];
export const webhookSubscriptions = ['*', ...webhookEventTypes] as const;

export const webhookUserAgent = 'Parley-Webhooks/0.1';

/** How long hasSubscribers trusts its last answer (another node may register an endpoint). */
const SUBSCRIBER_CACHE_MS = 5_000;

/** Longest wait between two attempts, whatever the backoff says. */
export const maxRetryDelayMs = 60 * 60 * 1000;

export interface WebhookOptions {
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs: number;
  pollMs?: number;
  /** Send to loopback, private, link-local and other non-public addresses too. Default false. */
  allowPrivateTargets?: boolean;
  /** Longest pause of the loop while storage fails (it doubles from 100 ms). Default 30 s. */
  storageBackoffMaxMs?: number;
  /** Name resolution for targets (tests replace it to play DNS rebinding). Default: the system's. */
  resolver?: Resolver;
}

/** First pause of the loop after a storage failure. */
const STORAGE_BACKOFF_BASE_MS = 100;
/** At most one "still failing" log line per this many milliseconds. */
const STORAGE_LOG_EVERY_MS = 10_000;
/** Events kept in memory while storage cannot record them; later ones are dropped (and logged). */
const MAX_WAITING_EVENTS = 1_000;

/** The JSON body of every webhook POST. */
export interface WebhookEvent {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

/** Delay before the next attempt once `attempts` attempts have failed: base · 2^(attempts−1), at most one hour. */
export function retryDelayMs(retryBaseMs: number, attempts: number): number {
  return Math.min(maxRetryDelayMs, retryBaseMs * 2 ** Math.max(0, attempts - 1));
}

export const webhookUrl = z
  .string()
  .trim()
  .max(2048)
  .pipe(z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }));

const endpointInput = z.object({
  url: webhookUrl,
  events: z
    .array(z.enum(webhookSubscriptions))
    .min(1, 'subscribe to at least one event type, or "*"')
    .max(20)
    .default(['*']),
  description: z.string().trim().max(500).optional(),
  createdBy: z.string().min(1),
});

const page = z.object({ limit: z.number().int().min(1).max(500), offset: z.number().int().min(0) });

const errorTextMax = 200;
const shortError = (text: string): string => (text.length > errorTextMax ? `${text.slice(0, errorTextMax - 1)}…` : text);

/** A short, useful reason for a failed fetch: timeout, refused connection, DNS, TLS. */
function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: unknown }).code;
      return shortError(typeof code === 'string' && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message);
    }
    return shortError(err.message);
  }
  return shortError(String(err));
}

export class WebhookService {
  private readonly repo: WebhookRepository;
  private readonly log: Logger;
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;
  /** Publishes are recorded one after the other, in call order. */
  private publishing: Promise<void> = Promise.resolve();
  /** Event times strictly increase within this process, so the log orders same-millisecond events. */
  private lastEventMs = 0;
  private ticking: Promise<void> | undefined;
  private tickAgain = false;
  /** Endpoints with a worker sending to them now (one delivery at a time per endpoint). */
  private readonly busyEndpoints = new Set<string>();
  /** Deliveries whose attempt is on the wire. */
  private readonly inFlight = new Set<string>();
  private readonly workers = new Set<Promise<void>>();
  /** Wake-ups for retries due before the next poll. */
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Whether each event type has an active endpoint (see hasSubscribers). */
  private readonly subscribers = new Map<string, { at: number; any: boolean }>();
  private readonly targets: WebhookTargetPolicy;
  private readonly storageBackoffMaxMs: number;
  /** Storage failures in a row, the loop's pause after the last one, and its log throttle. */
  private storageFailures = 0;
  private pausedUntil = 0;
  private pauseTimer: NodeJS.Timeout | undefined;
  private lastFailureLogAt = 0;
  private failuresSinceLog = 0;
  /** Events published and not yet recorded (waiting while storage fails), and those dropped for it. */
  private waitingEvents = 0;
  private droppedEvents = 0;
  /** Aborted by close(), to end waits for storage. */
  private readonly closing = new AbortController();

  constructor(
    db: Kysely<Database>,
    logger: Logger,
    private readonly options: WebhookOptions,
  ) {
    if (!(options.maxAttempts >= 1)) throw new RangeError('maxAttempts must be at least 1');
    this.repo = new WebhookRepository(db);
    this.log = logger;
    this.pollMs = options.pollMs ?? 500;
    this.targets = new WebhookTargetPolicy(options.allowPrivateTargets ?? false, options.resolver);
    this.storageBackoffMaxMs = options.storageBackoffMaxMs ?? 30_000;
  }

  /**
   * Records one delivery per active endpoint subscribed to `type` (or '*'), then delivers in
   * the background. Never rejects: a failure to record is logged, so callers on a hot path
   * (call transitions) are not disturbed by the webhook machinery.
   */
  publish(type: string, data: Record<string, unknown>): Promise<void> {
    const now = Math.max(Date.now(), this.lastEventMs + 1);
    this.lastEventMs = now;
    const createdAt = new Date(now);
    const id = randomUUID();
    let payload: string;
    try {
      // Serialised now, so later changes to `data` by the caller do not leak into the event.
      payload = JSON.stringify({ id, type, createdAt: createdAt.toISOString(), data } satisfies WebhookEvent);
    } catch (err) {
      this.log.error({ err, eventId: id, type }, 'webhook event data is not JSON-serialisable; it will not be delivered');
      return Promise.resolve();
    }
    if (this.waitingEvents >= MAX_WAITING_EVENTS) {
      this.droppedEvents += 1;
      if (this.droppedEvents === 1 || this.droppedEvents % 1000 === 0) {
        this.log.error({ eventId: id, type, dropped: this.droppedEvents }, `${MAX_WAITING_EVENTS} webhook events are waiting for storage; dropping new ones until it works again`);
      }
      return Promise.resolve();
    }
    this.waitingEvents += 1;
    const recorded = this.publishing.then(() => this.record({ id, type, payload, createdAt })).finally(() => {
      this.waitingEvents -= 1;
    });
    this.publishing = recorded;
    return recorded;
  }

  /**
   * Records one event's deliveries. While storage fails (disk full, read-only, unreachable)
   * it waits out the loop's pause and tries again, so an event published at that moment is
   * not lost; any other error, or closing, gives up with a log line.
   */
  private async record(event: { id: string; type: string; payload: string; createdAt: Date }): Promise<void> {
    for (;;) {
      try {
        const endpoints = await this.repo.activeEndpointsFor(event.type);
        if (endpoints.length === 0) return;
        await this.repo.addDeliveries(event, endpoints.map((e) => e.id));
        this.storageWorks();
        this.log.debug({ eventId: event.id, type: event.type, endpoints: endpoints.length }, 'webhook event recorded');
        this.kick();
        return;
      } catch (err) {
        if (this.closed || !storageFailureKind(err)) {
          this.log.error({ err, eventId: event.id, type: event.type }, 'could not record a webhook event; it will not be delivered');
          return;
        }
        this.storageFailed(err, `could not record event ${event.id}`);
        try {
          await sleep(Math.max(0, this.pausedUntil - Date.now()), undefined, { signal: this.closing.signal });
        } catch {
          this.log.error({ eventId: event.id, type: event.type }, 'closed while storage was failing; a webhook event was not recorded and will not be delivered');
          return;
        }
      }
    }
  }

  /**
   * Whether any active endpoint takes `type`, so callers can skip building an event nobody
   * receives. Cached briefly; registering or disabling an endpoint here refreshes it.
   */
  async hasSubscribers(type: string): Promise<boolean> {
    const cached = this.subscribers.get(type);
    if (cached && Date.now() - cached.at < SUBSCRIBER_CACHE_MS) return cached.any;
    const any = (await this.repo.activeEndpointsFor(type)).length > 0;
    this.subscribers.set(type, { at: Date.now(), any });
    return any;
  }

  async createEndpoint(input: { url: string; events: string[]; description?: string; createdBy: string }): Promise<WebhookEndpoint & { secret: string }> {
    const parsed = endpointInput.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ParleyError('INVALID_PAYLOAD', `${issue?.path.join('.') || 'webhook'}: ${issue?.message ?? 'invalid'}`);
    }
    const { url, events, description, createdBy } = parsed.data;
    try {
      await this.targets.assertAllowed(url);
    } catch (err) {
      if (err instanceof BlockedTargetError) throw new ParleyError('INVALID_PAYLOAD', `url: ${err.message}`);
      throw err;
    }
    const subscribed = events.includes('*') ? ['*'] : [...new Set(events)];
    const endpoint = await this.repo.createEndpoint({
      url: new URL(url).href,
      secret: `whsec_${randomBytes(24).toString('hex')}`,
      events: subscribed,
      description: description || null,
      createdBy,
    });
    this.subscribers.clear();
    // The host only: a URL's path or query may carry the receiver's own credentials.
    this.log.info({ endpointId: endpoint.id, host: new URL(endpoint.url).host, events: endpoint.events, createdBy }, 'webhook endpoint registered');
    return endpoint;
  }

  /** Every endpoint, disabled ones included; never the secret. */
  async listEndpoints(): Promise<WebhookEndpoint[]> {
    return this.repo.listEndpoints();
  }

  /** Stops sending to an endpoint; its pending deliveries end as failed. NOT_FOUND when unknown. */
  async disableEndpoint(id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.repo.disableEndpoint(id);
    if (!endpoint) throw new ParleyError('NOT_FOUND', `no webhook ${id}`);
    this.subscribers.clear();
    this.log.info({ endpointId: id }, 'webhook endpoint disabled');
    return endpoint;
  }

  /** One endpoint's delivery log, newest first. NOT_FOUND when the endpoint is unknown. */
  async deliveries(endpointId: string, opts: { limit: number; offset: number }): Promise<{ deliveries: WebhookDelivery[]; total: number }> {
    const p = page.safeParse(opts);
    if (!p.success) throw new ParleyError('INVALID_PAYLOAD', 'limit must be 1–500 and offset 0 or more');
    await this.endpoint(endpointId);
    return this.repo.listDeliveries(endpointId, p.data);
  }

  /**
   * Sends a delivery again now (whatever its status). Attempts keep counting; a delivery that
   * had used up its attempts gets this one attempt. CONFLICT while an attempt is on the wire
   * or when the endpoint is disabled.
   */
  async redeliver(endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
    const endpoint = await this.endpoint(endpointId);
    if (endpoint.disabledAt) throw new ParleyError('CONFLICT', `webhook ${endpointId} is disabled; register the URL again to receive events`);
    const delivery = await this.repo.findDelivery(endpointId, deliveryId);
    if (!delivery) throw new ParleyError('NOT_FOUND', `no delivery ${deliveryId} for webhook ${endpointId}`);
    if (this.inFlight.has(deliveryId)) throw new ParleyError('CONFLICT', `delivery ${deliveryId} is being sent right now; try again when it has an outcome`);
    const reset = await this.repo.resetForRedelivery(deliveryId);
    if (!reset) throw new ParleyError('NOT_FOUND', `no delivery ${deliveryId} for webhook ${endpointId}`);
    this.log.info({ endpointId, deliveryId, attempts: reset.attempts }, 'webhook redelivery requested');
    this.kick();
    return reset;
  }

  /** Starts the delivery loop; pending deliveries left by a previous run are sent too. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Stops the loop and waits for attempts on the wire (each bounded by timeoutMs). */
  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    await this.publishing;
    while (this.ticking || this.workers.size > 0) {
      await Promise.allSettled([this.ticking, ...this.workers]);
    }
  }

  /** Makes sure the loop looks again at `at` when that is sooner than the next poll. */
  private wakeAt(at: Date): void {
    const delay = at.getTime() - Date.now();
    if (this.closed || delay >= this.pollMs) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(t);
      this.kick();
    }, Math.max(0, delay) + 5);
    t.unref();
    this.retryTimers.add(t);
  }

  private async endpoint(id: string): Promise<WebhookEndpointWithSecret> {
    const endpoint = await this.repo.findEndpoint(id);
    if (!endpoint) throw new ParleyError('NOT_FOUND', `no webhook ${id}`);
    return endpoint;
  }

  /** Looks for due deliveries now (again after the current look, if one is running). */
  private kick(): void {
    if (!this.started || this.closed) return;
    const pause = this.pausedUntil - Date.now();
    if (pause > 0) {
      // One wake-up at the end of the pause; every kick until then is absorbed here.
      if (!this.pauseTimer) {
        this.pauseTimer = setTimeout(() => {
          this.pauseTimer = undefined;
          this.kick();
        }, pause);
        this.pauseTimer.unref();
      }
      return;
    }
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      if (this.tickAgain) {
        this.tickAgain = false;
        this.kick();
      }
    });
  }

  private async tick(): Promise<void> {
    try {
      const due = await this.repo.due(new Date(), 100, [...this.busyEndpoints]);
      const byEndpoint = new Map<string, DueDelivery[]>();
      for (const d of due) {
        const list = byEndpoint.get(d.endpointId);
        if (list) list.push(d);
        else byEndpoint.set(d.endpointId, [d]);
      }
      for (const [endpointId, deliveries] of byEndpoint) {
        if (this.closed || this.busyEndpoints.has(endpointId)) continue;
        this.busyEndpoints.add(endpointId);
        const worker = this.work(deliveries).finally(() => {
          this.busyEndpoints.delete(endpointId);
          this.workers.delete(worker);
          // More may have become due for this endpoint while it was busy.
          this.kick();
        });
        this.workers.add(worker);
      }
    } catch (err) {
      if (!this.closed) this.storageFailed(err, 'could not read due deliveries');
    }
  }

  /**
   * The loop could not use storage: pause it (100 ms, doubling up to storageBackoffMaxMs)
   * instead of retrying at once, and log at most once every ten seconds.
   */
  private storageFailed(err: unknown, what: string): void {
    this.storageFailures += 1;
    const delay = Math.min(this.storageBackoffMaxMs, STORAGE_BACKOFF_BASE_MS * 2 ** Math.min(30, this.storageFailures - 1));
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
    this.failuresSinceLog += 1;
    const now = Date.now();
    if (this.storageFailures === 1 || now - this.lastFailureLogAt >= STORAGE_LOG_EVERY_MS) {
      const kind = storageFailureKind(err);
      const advice =
        kind === 'unwritable'
          ? 'storage cannot be written (disk full or read-only): free space or make it writable; deliveries resume by themselves'
          : kind === 'unreachable'
            ? 'storage is unreachable; deliveries resume by themselves when it returns'
            : 'deliveries resume by themselves when the cause is fixed';
      this.log.error({ err, failures: this.storageFailures, failuresSinceLastLog: this.failuresSinceLog, pauseMs: delay }, `webhook delivery loop ${what}; pausing ${delay} ms. ${advice}`);
      this.lastFailureLogAt = now;
      this.failuresSinceLog = 0;
    }
  }

  /** A write went through: end the pause. */
  private storageWorks(): void {
    if (this.storageFailures === 0) return;
    this.log.info({ failures: this.storageFailures }, 'webhook delivery loop: storage works again; sending pending deliveries');
    this.storageFailures = 0;
    this.failuresSinceLog = 0;
    this.pausedUntil = 0;
  }

  /** Sends one endpoint's due deliveries, one at a time, in order. */
  private async work(deliveries: DueDelivery[]): Promise<void> {
    for (const delivery of deliveries) {
      if (this.closed || this.pausedUntil > Date.now()) return;
      try {
        await this.attempt(delivery);
      } catch (err) {
        // The rest of this batch would fail the same way; the pause decides when to look again.
        this.storageFailed(err, `could not record an attempt (delivery ${delivery.id})`);
        return;
      }
    }
  }

  /** One attempt: claim, POST, record the outcome. The delivery counts as in flight throughout. */
  private async attempt(delivery: DueDelivery): Promise<void> {
    const { timeoutMs, maxAttempts, retryBaseMs } = this.options;
    const attempt = delivery.attempts + 1;
    const fields = { endpointId: delivery.endpointId, deliveryId: delivery.id, eventId: delivery.eventId, attempt };
    this.inFlight.add(delivery.id);
    try {
      // The lease outlasts the request; it only matters if this process dies mid-attempt.
      const lease = new Date(Date.now() + timeoutMs * 2 + 10_000);
      if (!(await this.repo.claim(delivery.id, delivery.attempts, lease))) return;
      this.storageWorks();
      const { statusCode, error, permanent } = await this.send(delivery);
      const at = new Date();
      let outcome: AttemptOutcome;
      if (error === undefined && statusCode !== null) {
        outcome = { status: 'delivered', statusCode, at };
        this.log.info({ ...fields, status: statusCode }, 'webhook delivered');
      } else if (attempt < maxAttempts && !permanent) {
        const nextAttemptAt = new Date(at.getTime() + retryDelayMs(retryBaseMs, attempt));
        outcome = { status: 'pending', statusCode, error: error ?? 'no answer', nextAttemptAt, at };
        this.log.warn({ ...fields, status: statusCode, error, nextAttemptAt: nextAttemptAt.toISOString() }, 'webhook attempt failed; will retry');
        this.wakeAt(nextAttemptAt);
      } else {
        outcome = { status: 'failed', statusCode, error: error ?? 'no answer', at };
        this.log.error({ ...fields, status: statusCode, error }, `webhook delivery failed after ${attempt} attempts`);
      }
      await this.repo.recordAttempt(delivery.id, attempt, outcome);
    } finally {
      this.inFlight.delete(delivery.id);
    }
  }

  /**
   * POSTs the stored payload, signed now, to an address the target policy allows. A 2xx
   * answer has no error; anything else says why in a short, status-only summary (the
   * receiver's body and reason phrase are never stored). `permanent`: no retry will help.
   */
  private async send(delivery: DueDelivery): Promise<{ statusCode: number | null; error?: string; permanent?: boolean }> {
    const { timeoutMs } = this.options;
    let url: URL;
    try {
      url = new URL(delivery.url);
    } catch {
      return { statusCode: null, error: 'the endpoint URL is not valid', permanent: true };
    }
    const blocked = this.targets.blockedLiteral(url);
    if (blocked) return { statusCode: null, error: shortError(`refused: ${blocked.message}`), permanent: true };
    const body = Buffer.from(delivery.payload, 'utf8');
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
          url,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'content-length': String(body.length),
              'user-agent': webhookUserAgent,
              [signatureHeader]: signPayload(delivery.secret, delivery.payload, Math.floor(Date.now() / 1000)),
              'Parley-Event': delivery.eventType,
              'Parley-Delivery': delivery.id,
            },
            lookup: this.targets.lookup(),
            signal: AbortSignal.timeout(timeoutMs),
          },
          (res: IncomingMessage) => {
            // Only the status matters; the body is not read (nor kept).
            resolve(res.statusCode ?? 0);
            res.destroy();
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      if (status >= 200 && status <= 299) return { statusCode: status };
      return { statusCode: status, error: `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}` };
    } catch (err) {
      if (err instanceof BlockedTargetError) return { statusCode: null, error: shortError(`refused: ${err.message}`), permanent: true };
      return { statusCode: null, error: describeFetchError(err, timeoutMs) };
    }
  }
}
