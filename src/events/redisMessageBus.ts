/**
 * The message bus over Redis pub/sub (REDIS_URL set): every node subscribes to the
 * channels it needs, under the deployment's key prefix. JSON on the wire.
 */
import type { RedisConnection } from '../cluster/redis/redisConnection.js';
import type { Logger } from '../log/logger.js';
import type { BusEnvelope, BusHandler, MessageBus } from './messageBus.js';

export class RedisMessageBus implements MessageBus {
  private readonly handlers = new Map<string, Set<BusHandler>>();

  constructor(
    readonly nodeId: string,
    private readonly redis: RedisConnection,
    private readonly logger: Logger,
  ) {}

  async publish(channel: string, data: unknown): Promise<void> {
    const envelope: BusEnvelope = { from: this.nodeId, data };
    await this.redis.commands.publish(this.channel(channel), JSON.stringify(envelope));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      const handlers = set;
      await this.redis.subscriber.subscribe(this.channel(channel), (raw: string) => {
        let envelope: BusEnvelope;
        try {
          envelope = JSON.parse(raw) as BusEnvelope;
        } catch {
          this.logger.warn({ channel }, 'a bus message that is not JSON was ignored (another program on this Redis prefix?)');
          return;
        }
        for (const h of handlers) {
          try {
            h(envelope);
          } catch (err) {
            this.logger.error({ err, channel }, 'a bus subscriber failed');
          }
        }
      });
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }

  private channel(name: string): string {
    return `${this.redis.keyPrefix}bus:${name}`;
  }
}
