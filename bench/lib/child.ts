/**
 * A forked benchmark child with typed IPC: `next(type, ms)` waits (bounded) for its next
 * message of that type; a `fatal` message or an early exit rejects every waiter. Every child
 * is remembered so that `killAll()` can end them (by pid) when a benchmark stops.
 */
import { fork, type ChildProcess } from 'node:child_process';

interface Typed {
  type: string;
}
type Waiter = { type: string; resolve: (m: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

const living = new Set<ChildProcess>();

export class Child<In extends Typed, Out extends Typed> {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  private readonly inbox: Out[] = [];
  private readonly waiters: Waiter[] = [];
  private failure: Error | undefined;

  constructor(
    readonly label: string,
    script: string,
    args: string[],
    options: { execArgv?: string[]; env?: NodeJS.ProcessEnv; quiet?: boolean; outputFd?: number } = {},
  ) {
    this.proc = fork(script, args, {
      execArgv: options.execArgv ?? ['--import', 'tsx'],
      env: options.env ?? process.env,
      serialization: 'advanced',
      stdio: ['ignore', options.outputFd ?? (options.quiet ? 'ignore' : 'inherit'), options.outputFd ?? 'inherit', 'ipc'],
    });
    living.add(this.proc);
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
        living.delete(this.proc);
        this.fail(new Error(`${label} exited (code ${code}, signal ${signal})`));
        resolve(code);
      });
    });
    this.proc.on('error', (err) => this.fail(err));
  }

  get pid(): number {
    return this.proc.pid ?? -1;
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
        const j = this.waiters.findIndex((w) => w.timer === timer);
        if (j >= 0) this.waiters.splice(j, 1);
        reject(new Error(`${this.label}: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({ type, resolve: resolve as (m: unknown) => void, reject, timer });
    });
  }

  /** Asks the child to stop (`close` message or SIGTERM), then kills it after `graceMs`. */
  async stop(graceMs: number, closeMessage?: In): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    if (closeMessage) this.send(closeMessage);
    else this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Kills every child still running (by its pid). */
export function killAll(): void {
  for (const p of living) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
