/** Runs `src/main.ts` as its own process (what `npm start` runs, without the build step). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

export function spawnServer(env: Record<string, string>): ServerProcess {
  const dir = mkdtempSync(join(tmpdir(), 'parley-proc-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', SQLITE_PATH: join(dir, 'p.sqlite'), LOG_LEVEL: 'info', STT_ENGINE: 'none', ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { child, output: () => out, exited };
}

/** Waits until the log shows Parley listening, or fails with the output so far. */
export async function waitForListening(p: ServerProcess, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (p.output().includes('Parley listening')) return;
    if (p.child.exitCode !== null) throw new Error(`server exited early:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not start in ${timeoutMs} ms:\n${p.output()}`);
}

/** The URL a started server's log names (`Parley listening on …`), with 127.0.0.1 for localhost. */
export function listeningUrl(p: ServerProcess): string {
  const m = /Parley listening on (http:\/\/[^"\s]+)/.exec(p.output());
  if (!m) throw new Error(`the log names no URL yet:\n${p.output()}`);
  return m[1]!.replace('localhost', '127.0.0.1');
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopServer(p: ServerProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}
