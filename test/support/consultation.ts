/**
 * The consultation flow as a client would drive it, for tests: an admin, agent accounts, a
 * QR entry point, customers calling from it, and socket clients that record every event so
 * a test can wait for one without racing its arrival.
 */
import { io, type Socket } from 'socket.io-client';
import { request } from './parleyServer.js';

export const PASSWORD = 'correct-horse-battery';

export interface Staff {
  id: string;
  name: string;
  token: string;
}

/** Signs up the first account (it becomes admin) and signs it in. */
export async function firstAdmin(url: string, email = 'admin@example.com'): Promise<Staff> {
  const up = await request(`${url}/api/v1/auth/signup`, { body: { email, password: PASSWORD, name: 'Ada Admin' } });
  if (up.status !== 201) throw new Error(`signup failed: ${up.status} ${JSON.stringify(up.body)}`);
  return signIn(url, email);
}

export async function signIn(url: string, email: string, password = PASSWORD): Promise<Staff> {
  const r = await request(`${url}/api/v1/auth/signin`, { body: { email, password } });
  if (r.status !== 200) throw new Error(`signin failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.user.id, name: r.body.user.name, token: r.body.accessToken };
}

/** The admin creates an agent account, and the agent signs in. */
export async function createAgent(url: string, admin: Staff, name: string): Promise<Staff> {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}@example.com`;
  const r = await request(`${url}/api/v1/users`, { token: admin.token, body: { email, password: PASSWORD, name, role: 'agent' } });
  if (r.status !== 201) throw new Error(`create agent failed: ${r.status} ${JSON.stringify(r.body)}`);
  return signIn(url, email);
}

export interface EntryPointJson {
  id: string;
  name: string;
  url: string;
  expiresAt: string;
  disabled: boolean;
  qrPngUrl: string;
  qrSvgUrl: string;
}

export async function createEntryPoint(url: string, staff: Staff, name = 'Front desk', ttlHours = 24): Promise<EntryPointJson & { entryToken: string }> {
  const r = await request(`${url}/api/v1/entry-points`, { token: staff.token, body: { name, ttlHours } });
  if (r.status !== 201) throw new Error(`create entry point failed: ${r.status} ${JSON.stringify(r.body)}`);
  const ep = r.body.entryPoint as EntryPointJson;
  return { ...ep, entryToken: new URL(ep.url).searchParams.get('e')! };
}

export interface Started {
  consultation: { id: string; status: string; roomId: string };
  customerToken: string;
  roomId: string;
}

export async function callFrom(url: string, entryToken: string, name: string, phone = '01012345678', inquiry = 'My order has not arrived'): Promise<Started> {
  const r = await request(`${url}/api/v1/consultations`, { body: { entryToken, name, phone, inquiry, recordingConsent: true } });
  if (r.status !== 201) throw new Error(`start consultation failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as Started;
}

/** A socket that keeps every event it received, so a test can wait for one that already came. */
export class RecordingSocket {
  readonly events: Array<{ event: string; data: any }> = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.onAny((event: string, data: unknown) => {
      this.events.push({ event, data });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /**
   * Listens before connecting: the server emits right after the handshake, and several
   * frames that arrive together are dispatched before an awaited connect resumes.
   */
  static open(url: string, namespace: string, token: string): Promise<RecordingSocket> {
    const socket = io(`${url}${namespace}`, { transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false, auth: { token } });
    const recorder = new RecordingSocket(socket);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connect to ${url}${namespace} timed out`)), 5000);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(recorder);
      });
      socket.once('connect_error', (err) => {
        clearTimeout(timer);
        socket.close();
        reject(err);
      });
      socket.connect();
    });
  }

  /** Resolves with the first recorded `event` (from index `from`) matching `where`. */
  async waitFor(event: string, where: (data: any) => boolean = () => true, timeoutMs = 5000, from = 0): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.slice(from).find((e) => e.event === event && where(e.data));
      if (hit) return hit.data;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${event}" matching within ${timeoutMs} ms; got: ${this.events.map((e) => e.event).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves with the reason once the socket is disconnected (reserved events bypass onAny). */
  disconnected(timeoutMs = 5000): Promise<string> {
    if (!this.socket.connected) return Promise.resolve('already disconnected');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`still connected after ${timeoutMs} ms`)), timeoutMs);
      this.socket.once('disconnect', (reason) => {
        clearTimeout(timer);
        resolve(reason);
      });
    });
  }

  /** Every recorded `event` payload so far. */
  all<T = any>(event: string): T[] {
    return this.events.filter((e) => e.event === event).map((e) => e.data as T);
  }

  async request<T = any>(event: string, data: unknown = {}): Promise<T> {
    return (await this.socket.timeout(5000).emitWithAck(event, data)) as T;
  }

  close(): void {
    this.socket.close();
  }
}
