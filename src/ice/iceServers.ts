/**
 * ICE server list for clients: STUN, plus TURN with short-lived credentials in the
 * TURN REST API style that coturn's `use-auth-secret` understands:
 *   username   = "<unix expiry>:<user id>"
 *   credential = base64(HMAC-SHA1(static-auth-secret, username))
 */
import { createHmac } from 'node:crypto';

export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface IceConfigOptions {
  stunUrls: string[];
  turnUrls: string[];
  turnSecret?: string;
  turnTtlSeconds: number;
}

export function turnCredentials(secret: string, userId: string, ttlSeconds: number, now = Date.now()): { username: string; credential: string; expiresAt: number } {
  const expiresAt = Math.floor(now / 1000) + ttlSeconds;
  const username = `${expiresAt}:${userId}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt };
}

export class IceServerProvider {
  constructor(private readonly options: IceConfigOptions) {}

  /** The list for one user; TURN credentials are minted per call and expire after the TTL. */
  forUser(userId: string): IceServer[] {
    const servers: IceServer[] = this.options.stunUrls.map((urls) => ({ urls }));
    const { turnUrls, turnSecret, turnTtlSeconds } = this.options;
    if (turnUrls.length > 0 && turnSecret) {
      const { username, credential } = turnCredentials(turnSecret, userId, turnTtlSeconds);
      servers.push({ urls: turnUrls, username, credential });
    }
    return servers;
  }
}
