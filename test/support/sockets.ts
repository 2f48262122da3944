/** socket.io-client helpers for tests: connect, wait for one event, wait for silence. */
import { io, type Socket } from 'socket.io-client';

/** Connects one socket (no reconnection); rejects with the server's refusal or after `timeoutMs`. */
export function connect(url: string, options: Parameters<typeof io>[1] = {}, timeoutMs = 5000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`connect to ${url} timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
  });
}

export function once<T = any>(socket: Socket, event: string, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`no "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const handler = (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    };
    socket.once(event, handler);
  });
}

/** Resolves with every `event` payload seen during `ms`. */
export async function collect<T = any>(socket: Socket, event: string, ms: number): Promise<T[]> {
  const seen: T[] = [];
  const handler = (p: T) => seen.push(p);
  socket.on(event, handler);
  await new Promise((r) => setTimeout(r, ms));
  socket.off(event, handler);
  return seen;
}
