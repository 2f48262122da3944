// Prints each page bundle's size (bytes, and gzip) from esbuild's metafile (`npm run build:web` writes it).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
const meta = JSON.parse(readFileSync(process.argv[2] ?? 'dist/web-meta.json', 'utf8'));
const rows = Object.entries(meta.outputs)
  .filter(([file]) => file.endsWith('.js'))
  .map(([file, o]) => ({ file, bytes: o.bytes, gzip: gzipSync(readFileSync(file)).length }));
for (const r of rows) console.log(`${r.file.padEnd(28)} ${String(r.bytes).padStart(8)} B  ${String(r.gzip).padStart(7)} B gzip`);
