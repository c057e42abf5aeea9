#!/usr/bin/env node
// `npm run build [-- --outdir DIR]`: the TypeScript sources (src/, schema/) as JavaScript in dist/, file by file, with
// esbuild, the transform tsx applies when it runs the sources; beside them what they read from their own directory
// (the migrations, the theme, the demo export). `npm start` and the benchmark run the server from there: without tsx's
// loader thread and its caches the process holds about 45 MiB less. The CLI (bin/doelpoort.js) and the tests run the
// sources through tsx, so they never run a stale build.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir = path.resolve(root, values.outdir ?? 'dist');
// The directory is emptied first, and must lie inside the checkout, where the imports find node_modules: only dist/
// or a directory under it or under .scratch/ (never the checkout itself, nor its sources).
const where = path.relative(root, outdir).split(path.sep);
if (!(where[0] === 'dist' || (where[0] === '.scratch' && where.length > 1))) {
  console.error(`build: --outdir must be dist/, or lie under dist/ or .scratch/ of ${root}`);
  process.exit(2);
}

const sources = (dir) =>
  fs
    .readdirSync(path.join(root, dir), { recursive: true })
    .filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => path.join(root, dir, f));

fs.rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [...sources('src'), ...sources('schema')],
  outdir,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  jsx: 'automatic',
  jsxImportSource: 'hono/jsx',
  logLevel: 'warning',
});
for (const dir of ['schema/migrations', 'schema/records-migrations', 'schema/pg-migrations', 'demo']) {
  fs.cpSync(path.join(root, dir), path.join(outdir, dir), { recursive: true });
}
for (const f of fs.readdirSync(path.join(root, 'src'), { recursive: true })) {
  const file = path.join(root, 'src', f);
  if (!/\.tsx?$/.test(f) && fs.statSync(file).isFile()) fs.copyFileSync(file, path.join(outdir, 'src', f));
}
