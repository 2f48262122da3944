/**
 * A socket.io-client connection for the consultation benchmark: listens before connecting
 * (Parley emits right after the handshake, as RecordingSocket in test/support/consultation.ts
 * does), stamps every event with performance.now() on arrival, and counts the messages and
 * the characters of every Socket.IO frame the connection received (≈ bytes: the payloads are ASCII).
 * Unlike RecordingSocket it keeps nothing, so thousands of them stay cheap.
 */
import { io, type Socket } from 'socket.io-client';

export interface CountingSocket {
  socket: Socket;
  /** Events received (reserved ones such as connect/disconnect excluded). */
  messages: number;
  /** Characters of the Socket.IO frames received. */
  chars: number;
}

/**
 * Opens `url + namespace` with `auth: {token}`; `onEvent(event, data, at)` sees every event.
 * Rejects on connect_error or after `timeoutMs`.
 */
export function openCounting(
  url: string,
  namespace: string,
  token: string,
  onEvent: (event: string, data: any, at: number) => void,
  timeoutMs = 10_000,
): Promise<CountingSocket> {
  const socket = io(`${url}${namespace}`, { transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false, auth: { token } });
  const counting: CountingSocket = { socket, messages: 0, chars: 0 };
  socket.io.on('open', () => {
    socket.io.engine.on('data', (d: unknown) => {
      counting.chars += typeof d === 'string' ? d.length : d instanceof ArrayBuffer ? d.byteLength : 0;
    });
  });
  socket.onAny((event: string, data: unknown) => {
    counting.messages++;
    onEvent(event, data, performance.now());
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`connect to ${namespace} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(counting);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.connect();
  });
}

/** An acknowledged request with a bounded wait; Parley's `{error}` answers are thrown as errors carrying the code. */
export async function ask<T = any>(socket: Socket, event: string, data: unknown, timeoutMs = 10_000): Promise<T> {
  const res = (await socket.timeout(timeoutMs).emitWithAck(event, data)) as { error?: { code: string; message: string } };
  if (res && typeof res === 'object' && res.error) throw Object.assign(new Error(`${event}: ${res.error.code} ${res.error.message}`), { code: res.error.code });
  return res as T;
}
