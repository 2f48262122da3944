/**
 * The security posture, printed at start: which surfaces an anonymous client can reach and
 * the variable that closes (or opens) each. Development opens what the seeds' clients need
 * unchanged; production closes each unless it is switched on by name.
 */
import type { Config } from './config.js';

export interface PostureReport {
  posture: Config['posture'];
  /** Surfaces open to anonymous clients, each with the variable that governs it. */
  open: string[];
  summary: string;
}

export function describePosture(config: Config): PostureReport {
  const open: string[] = [];
  const { auth } = config;
  if (auth.allowAnonymousSockets && auth.mode !== 'external') open.push('sockets without a token on /, /signaling and /voice (ALLOW_ANONYMOUS_SOCKETS)');
  if (auth.allowAnonymousRoomTokens) open.push('POST /token for any open room (ALLOW_ANONYMOUS_ROOM_TOKENS)');
  if (auth.allowAnonymousCalls) open.push("seed 001's /api/v1/calls routes (ALLOW_ANONYMOUS_CALLS)");
  if (config.moderation.allowAnonymous) open.push('POST /api/v1/moderation/mask (ALLOW_ANONYMOUS_MODERATION)');
  if (config.recordings.allowAnonymous) open.push("seed 004's /recordings for open rooms (ALLOW_ANONYMOUS_RECORDINGS)");
  if (auth.signupOpen) open.push('self sign-up at POST /api/v1/auth/signup (SIGNUP_OPEN)');
  if (!config.metrics.listener && !config.metrics.token && config.posture === 'development') open.push('/metrics without consultation rooms (METRICS_TOKEN or METRICS_PORT close it)');
  const summary =
    open.length === 0
      ? `${config.posture} posture: nothing is open to anonymous clients beyond QR entry links, /health and the pages`
      : `${config.posture} posture: open to anonymous clients: ${open.join('; ')}`;
  return { posture: config.posture, open, summary };
}
