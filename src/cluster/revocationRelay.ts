/**
 * A revoked sign-in reaches every node: the node where the admin acted publishes it on the
 * bus, and every node (that one included) ends the sockets it holds for it. The events
 * come out of one emitter, so the socket layer does not care where the revocation happened.
 */
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import type { AccountEvents, AccountService } from '../auth/accountService.js';
import type { MessageBus } from '../events/messageBus.js';
import type { Logger } from '../log/logger.js';

const revocation = z.object({
  userId: z.string().min(1),
  sessionId: z.string().min(1).optional(),
  reason: z.enum(['signed-out', 'account-disabled', 'password-reset', 'account-withdrawn', 'role-changed']),
});

export type Revocations = EventEmitter<Pick<AccountEvents, 'revoked'>>;

export async function relayRevocations(accounts: AccountService, bus: MessageBus, logger: Logger): Promise<Revocations> {
  const out: Revocations = new EventEmitter();
  accounts.on('revoked', (event) => {
    out.emit('revoked', event);
    bus.publish('revoked', event).catch((err: unknown) => logger.error({ err: err instanceof Error ? err.message : String(err), userId: event.userId }, 'a revoked sign-in could not be told to the other nodes: its sockets there stay open until they reconnect'));
  });
  await bus.subscribe('revoked', ({ from, data }) => {
    if (from === bus.nodeId) return;
    const parsed = revocation.safeParse(data);
    if (parsed.success) out.emit('revoked', parsed.data);
  });
  return out;
}
