/**
 * A forked benchmark child with typed IPC: `next(type)` waits (bounded) for the next message
 * of that type; a `fatal` message or an early exit rejects every waiter.
 */
import { fork, type ChildProcess } from 'node:child_process';

interface Typed {
  type: string;
}

type Waiter = { type: string; resolve: (m: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class Child<In extends Typed, Out extends Typed> {
  readonly proc: ChildProcess;
  private readonly inbox: Out[] = [];
  private readonly waiters: Waiter[] = [];
  private failure: Error | undefined;
  readonly exited: Promise<number | null>;

  constructor(
    readonly label: string,
    script: string,
    args: string[],
  ) {
    // Inherits process.execArgv, i.e. tsx's loader when started with `npx tsx`.
    this.proc = fork(script, args, { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (raw) => {
      const m = raw as Out & { message?: string };
      if (m.type === 'fatal') return this.fail(new Error(`${label}: ${m.message ?? 'failed'}`));
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        clearTimeout(w!.timer);
        w!.resolve(m);
      } else this.inbox.push(m);
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.fail(new Error(`${label} exited (code ${code}, signal ${signal})`));
        resolve(code);
      });
    });
    this.proc.on('error', (err) => this.fail(err));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.failure);
    }
  }

  send(m: In): void {
    if (this.proc.connected) this.proc.send(m);
  }

  next<T extends Out['type']>(type: T, timeoutMs: number): Promise<Extract<Out, { type: T }>> {
    const i = this.inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0] as Extract<Out, { type: T }>);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const k = this.waiters.findIndex((w) => w.timer === timer);
        if (k >= 0) this.waiters.splice(k, 1);
        reject(new Error(`${this.label}: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({ type, resolve, reject, timer });
    });
  }

  /** Asks nicely (`close` message, wait for `closed`), then SIGKILL after `graceMs`. */
  async stop(closeMessage: In, graceMs: number): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    try {
      this.send(closeMessage);
      await this.next('closed' as Out['type'], graceMs);
    } catch {
      /* fall through to the kill */
    }
    const exited = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs))]);
    if (!exited) {
      this.kill();
      await this.exited;
    }
  }

  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }
}
