/**
 * How bench:sfu starts Parley's process: as `npm start` runs it (the compiled build in dist/,
 * plain Node), or from the TypeScript sources through tsx (`--parley=tsx`).
 *
 * The difference is not only start-up time. Under tsx, every thread that loads modules has
 * tsx's loader hooks on a thread of their own (Node 20's off-thread hooks): the main thread
 * and each media worker, three more V8 isolates in Parley's process (`--trace-gc`: 6 isolates
 * against 3 for `node dist/main.js`). They do nothing once everything is loaded, except their
 * own garbage collections (the memory reducer's, seconds after start), which then land in
 * whichever window is being measured — CPU that a production server does not spend.
 *
 * For `dist`, the build is made here as `npm run build` makes it (`tsc -p tsconfig.build.json`),
 * and bench/sfu/server.ts is compiled by esbuild into a temporary module whose imports of
 * `../../src/…` point at dist/ instead.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export type ParleyRunner = 'dist' | 'tsx';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The script to fork for Parley's benchmark server, and the Node flags it needs. */
export async function parleyServerEntry(runner: ParleyRunner, log: (s: string) => void): Promise<{ script: string; execArgv: string[] }> {
  const source = join(repo, 'bench/sfu/server.ts');
  if (runner === 'tsx') return { script: source, execArgv: ['--import', 'tsx'] };
  const started = Date.now();
  log('  building dist/ as `npm run build` does (tsc -p tsconfig.build.json) …');
  const tsc = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: repo, encoding: 'utf8' });
  if (tsc.status !== 0) {
    throw new Error(`tsc -p tsconfig.build.json failed (exit ${tsc.status}); fix the build or run with --parley=tsx:\n${(tsc.stdout + tsc.stderr).slice(0, 4000)}`);
  }
  const out = join(mkdtempSync(join(tmpdir(), 'parley-sfu-bench-server-')), 'server.mjs');
  await build({
    entryPoints: [source],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
    plugins: [
      {
        name: 'parley-dist',
        setup(b) {
          // ../../src/x.js → <repo>/dist/x.js, left as an import of the compiled module.
          b.onResolve({ filter: /^\.\.\/\.\.\/src\// }, (args) => ({ path: pathToFileURL(join(repo, 'dist', args.path.slice('../../src/'.length))).href, external: true }));
        },
      },
    ],
  });
  log(`  built in ${((Date.now() - started) / 1000).toFixed(1)} s; Parley runs as \`node dist/…\` (--parley=tsx: from the sources)`);
  return { script: out, execArgv: [] };
}
