/**
 * Tokens are checked when a socket connects; an account disabled, reset, withdrawn, re-roled
 * or signed out afterwards must not keep its open sockets. This ends them: each gets
 * `signed-out {reason}` and is disconnected (a role change reconnects with the new role).
 */
import type { Namespace } from 'socket.io';
import type { AccountEvents } from '../auth/accountService.js';
import type { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger.js';
import { accountSession } from '../auth/identity.js';
import { identityOf } from './handshakeAuth.js';

/** `accounts`: this node's AccountService, or the cluster's relay of every node's revocations. */
export function endRevokedConnections(accounts: EventEmitter<Pick<AccountEvents, 'revoked'>>, namespaces: Namespace[], logger: Logger): void {
  accounts.on('revoked', ({ userId, sessionId, reason }) => {
    let ended = 0;
    for (const ns of namespaces) {
      for (const socket of ns.sockets.values()) {
        const identity = identityOf(socket);
        const session = accountSession(identity);
        if (session === undefined || identity.userId !== userId) continue;
        if (sessionId && session !== sessionId) continue;
        socket.emit('signed-out', { reason });
        socket.disconnect(true);
        ended += 1;
      }
    }
    if (ended > 0) logger.info({ userId, reason, sockets: ended }, 'ended the connections of a revoked sign-in');
  });
}
