/**
 * Retention: rows that have done their job are deleted after a configurable number of days,
 * so anonymous seed-001 calls (one per request, a webhook delivery each) cannot fill the
 * disk over time.
 *
 * - ended seed-001 calls (ENDED or FAILED, channel 'api') after `callDays`, with their
 *   transitions;
 * - ended consultations after `consultationDays` (longer: they are the business record),
 *   with their transitions, events, participants and notes;
 * - delivered or failed webhook deliveries after `webhookDeliveryDays` (pending ones never).
 *
 * Age is counted from the row's last change (`updated_at`: the end of a call, the outcome
 * of a delivery). 0 days keeps that kind forever. Deletes go in batches of `batchSize` rows,
 * each batch its own short transaction, at most `maxBatchesPerRun` per kind per run, so a
 * large backlog is worked off over several runs without holding the database for long.
 */
import type { Kysely } from 'kysely';
import type { Logger } from '../log/logger.js';
import type { Database } from '../storage/schema.js';

export interface RetentionOptions {
  /** Days an ended seed-001 call is kept; 0 keeps them forever. */
  callDays: number;
  /** Days an ended consultation is kept; 0 keeps them forever. */
  consultationDays: number;
  /** Days a delivered or failed webhook delivery is kept; 0 keeps them forever. */
  webhookDeliveryDays: number;
  /** Time between two runs. */
  intervalMs: number;
  /** Rows deleted per batch. Default 500. */
  batchSize?: number;
  /** Batches per kind per run. Default 20. */
  maxBatchesPerRun?: number;
}

export interface PruneCounts {
  calls: number;
  consultations: number;
  webhookDeliveries: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const terminalStatuses = ['ENDED', 'FAILED'] as const;
/** Tables whose rows belong to one call (they also cascade; deleting them first does not depend on it). */
const callChildTables = ['call_transitions', 'call_events', 'call_participants', 'call_notes', 'transcripts'] as const;

export class RetentionPruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneCounts> | undefined;
  private readonly batchSize: number;
  private readonly maxBatches: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: RetentionOptions,
    private readonly log: Logger,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.maxBatches = options.maxBatchesPerRun ?? 20;
  }

  /** Runs once now and then every `intervalMs` (a run never overlaps the previous one). */
  start(): void {
    if (this.timer) return;
    const run = () => {
      if (this.running) return;
      this.running = this.pruneOnce()
        .catch((err: unknown) => {
          this.log.error({ err }, 'retention: pruning failed; it runs again at the next interval');
          return { calls: 0, consultations: 0, webhookDeliveries: 0 };
        })
        .finally(() => {
          this.running = undefined;
        });
    };
    this.timer = setInterval(run, this.options.intervalMs);
    this.timer.unref();
    run();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Deletes what is past its retention at `now`; returns how many rows of each kind went. */
  async pruneOnce(now: Date = new Date()): Promise<PruneCounts> {
    const { callDays, consultationDays, webhookDeliveryDays } = this.options;
    const counts: PruneCounts = {
      calls: callDays > 0 ? await this.pruneCalls('api', cutoff(now, callDays)) : 0,
      consultations: consultationDays > 0 ? await this.pruneCalls('consultation', cutoff(now, consultationDays)) : 0,
      webhookDeliveries: webhookDeliveryDays > 0 ? await this.pruneDeliveries(cutoff(now, webhookDeliveryDays)) : 0,
    };
    if (counts.calls + counts.consultations + counts.webhookDeliveries > 0) this.log.info({ ...counts }, 'retention: pruned rows past their retention');
    return counts;
  }

  private async pruneCalls(channel: 'api' | 'consultation', before: string): Promise<number> {
    return this.inBatches(async () => {
      let q = this.db.selectFrom('calls').select('id').where('status', 'in', [...terminalStatuses]).where('updated_at', '<', before);
      // Rows from before 0003 have no channel; they are seed-001 calls.
      q = channel === 'api' ? q.where((eb) => eb.or([eb('channel', '=', 'api'), eb('channel', 'is', null)])) : q.where('channel', '=', 'consultation');
      const ids = (await q.orderBy('updated_at').limit(this.batchSize).execute()).map((r) => r.id);
      if (ids.length === 0) return 0;
      await this.db.transaction().execute(async (tx) => {
        for (const table of callChildTables) await tx.deleteFrom(table).where('call_id', 'in', ids).execute();
        await tx.deleteFrom('calls').where('id', 'in', ids).execute();
      });
      return ids.length;
    });
  }

  private async pruneDeliveries(before: string): Promise<number> {
    return this.inBatches(async () => {
      const ids = (
        await this.db
          .selectFrom('webhook_deliveries')
          .select('id')
          .where('status', 'in', ['delivered', 'failed'])
          .where('updated_at', '<', before)
          .orderBy('updated_at')
          .limit(this.batchSize)
          .execute()
      ).map((r) => r.id);
      if (ids.length === 0) return 0;
      await this.db.deleteFrom('webhook_deliveries').where('id', 'in', ids).execute();
      return ids.length;
    });
  }

  /** Runs `batch` until it deletes less than a full batch, at most maxBatchesPerRun times. */
  private async inBatches(batch: () => Promise<number>): Promise<number> {
    let total = 0;
    for (let i = 0; i < this.maxBatches; i++) {
      const n = await batch();
      total += n;
      if (n < this.batchSize) break;
    }
    return total;
  }
}

function cutoff(now: Date, days: number): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString();
}
