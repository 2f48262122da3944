/**
 * The REST half of the client (the socket half is client.ts): Parley's error shape from
 * lib/api.ts, and typed answers imported from the server's route modules (type-only).
 */
import type { HealthAnswer } from '../../src/http/routes/healthRoutes.js';
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** JSON REST call; throws ApiError with the server's code and message on 4xx/5xx. */
export async function api<T>(method: string, path: string, options: { body?: unknown; token?: string } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? (text.slice(0, 200) || res.statusText));
  }
  return json as T;
}


/** `GET /health`: 200 `{status:'ok'}` or 503 `{status:'draining'|'error', reason}`; undefined when the server does not answer. */
export async function fetchHealth(): Promise<HealthAnswer | undefined> {
  try {
    const res = await fetch('/health', { headers: { accept: 'application/json' } });
    return (await res.json()) as HealthAnswer;
  } catch {
    return undefined;
  }
}
