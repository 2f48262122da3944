// Prints what each page loads (its entry plus the chunks it imports at start, from esbuild's
// metafile that `npm run build:web` writes), in bytes and gzip, and what it loads later (dynamic import).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
const meta = JSON.parse(readFileSync(process.argv[2] ?? 'dist/web-meta.json', 'utf8'));
const outputs = meta.outputs;
const gz = (f) => gzipSync(readFileSync(f)).length;
const closure = (file, kind, seen = new Set()) => {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const i of outputs[file].imports ?? []) if (i.kind === 'import-statement' && !i.external) closure(i.path, kind, seen);
  return seen;
};
for (const [file, o] of Object.entries(outputs)) {
  // A dynamic import of a package (libphonenumber-js) is an entry in the metafile, not a page.
  if (!o.entryPoint || !file.endsWith('.js') || o.entryPoint.startsWith('node_modules/')) continue;
  const now = [...closure(file)];
  const lazyRoots = now.flatMap((f) => (outputs[f].imports ?? []).filter((i) => i.kind === 'dynamic-import').map((i) => i.path));
  const later = [...new Set(lazyRoots.flatMap((f) => [...closure(f)]))].filter((f) => !now.includes(f));
  const sum = (fs) => fs.reduce((a, f) => ({ bytes: a.bytes + outputs[f].bytes, gzip: a.gzip + gz(f) }), { bytes: 0, gzip: 0 });
  const a = sum(now);
  const b = sum(later);
  console.log(`${o.entryPoint.padEnd(30)} at load ${String(a.bytes).padStart(7)} B (${String(a.gzip).padStart(6)} B gzip)` + (later.length ? `   later ${b.bytes} B (${b.gzip} B gzip)` : ''));
}
