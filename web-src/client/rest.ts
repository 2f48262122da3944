/**
 * The pages' REST client, held to src/contracts/rest.ts: `call('signIn', {body})` knows the
 * method, the path, what to send and what comes back. Errors are ApiError with the server's
 * code and message (web-src/ui/rest.ts).
 */
import type { RestBody, RestReply, RestRouteName, RestRoutes } from '../../src/contracts/rest.js';
import { api } from '../ui/rest.js';

/** The method and path of every route (kept in step with the contract by the type below). */
const routes: { [N in RestRouteName]: { method: RestRoutes[N]['method']; path: RestRoutes[N]['path'] } } = {
  signIn: { method: 'POST', path: '/api/v1/auth/signin' },
  signOut: { method: 'POST', path: '/api/v1/auth/signout' },
  me: { method: 'GET', path: '/api/v1/auth/me' },
  listUsers: { method: 'GET', path: '/api/v1/users' },
  createUser: { method: 'POST', path: '/api/v1/users' },
  updateUser: { method: 'PATCH', path: '/api/v1/users/:id' },
  resetPassword: { method: 'POST', path: '/api/v1/users/:id/password' },
  listEntryPoints: { method: 'GET', path: '/api/v1/entry-points' },
  createEntryPoint: { method: 'POST', path: '/api/v1/entry-points' },
  updateEntryPoint: { method: 'PATCH', path: '/api/v1/entry-points/:id' },
  setEntryPointRecording: { method: 'PUT', path: '/api/v1/entry-points/:id/recording' },
  closeEntryPoint: { method: 'DELETE', path: '/api/v1/entry-points/:id' },
  entryInfo: { method: 'GET', path: '/api/v1/entry/:entryToken' },
  startConsultation: { method: 'POST', path: '/api/v1/consultations' },
  history: { method: 'GET', path: '/api/v1/consultations' },
  consultation: { method: 'GET', path: '/api/v1/consultations/:id' },
  addNote: { method: 'POST', path: '/api/v1/consultations/:id/notes' },
  listWebhooks: { method: 'GET', path: '/api/v1/webhooks' },
  createWebhook: { method: 'POST', path: '/api/v1/webhooks' },
  disableWebhook: { method: 'DELETE', path: '/api/v1/webhooks/:id' },
  deliveries: { method: 'GET', path: '/api/v1/webhooks/:id/deliveries' },
  redeliver: { method: 'POST', path: '/api/v1/webhooks/:id/deliveries/:deliveryId/redeliver' },
};

/** `:name` segments of a path. */
type ParamsOf<P extends string> = P extends `${string}:${infer Name}/${infer Rest}` ? Name | ParamsOf<`/${Rest}`> : P extends `${string}:${infer Name}` ? Name : never;

export type CallOptions<N extends RestRouteName> = {
  token?: string;
  query?: Record<string, string | number | undefined>;
} & ([ParamsOf<RestRoutes[N]['path']>] extends [never] ? { params?: undefined } : { params: Record<ParamsOf<RestRoutes[N]['path']>, string> }) &
  (undefined extends RestBody<N> ? { body?: RestBody<N> } : { body: RestBody<N> });

export type { RestBody, RestReply };

export function pathOf<N extends RestRouteName>(name: N, params?: Record<string, string>, query?: Record<string, string | number | undefined>): string {
  const path = routes[name].path.replace(/:([A-Za-z]+)/g, (_m, key: string) => encodeURIComponent(params?.[key] ?? ''));
  const q = Object.entries(query ?? {}).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '');
  return q.length === 0 ? path : `${path}?${new URLSearchParams(q.map(([k, v]) => [k, String(v)])).toString()}`;
}

export function call<N extends RestRouteName>(name: N, options: CallOptions<N>): Promise<RestReply<N>> {
  const opts = options as { token?: string; body?: unknown; params?: Record<string, string>; query?: Record<string, string | number | undefined> };
  return api<RestReply<N>>(routes[name].method, pathOf(name, opts.params, opts.query), { body: opts.body, token: opts.token });
}
