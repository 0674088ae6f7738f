#!/usr/bin/env -S node --v8-pool-size=2
// The `commcomms` command, and what `npm start` runs: server/cli.ts from one ES module that
// esbuild bundles into node_modules/.cache/commcomms, made again only when a source changed.
//
// Two V8 worker threads instead of Node's four: each thread that compiles (PGlite's WebAssembly
// tiers up at start) or marks keeps a malloc arena, and two fewer gave an idle embedded server
// ~25 MB less RSS, with send throughput no lower (test/bench/RESULTS.md, 2026-12-07).
//
// Not tsx, as before: tsx's ESM loader runs in a thread of its own with a second V8 heap and
// transforms each of some 300 files at every start. That was ~50-80 MB of an idle embedded
// server's ~310 MB, and most of a second of its start-up (test/bench/RESULTS.md, 2026-12-07).
// Where the cache cannot be written (a read-only install), the sources run through tsx still.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'server', 'cli.ts');
const outDir = join(root, 'node_modules', '.cache', 'commcomms');
const bundle = join(outDir, 'cli.mjs');
const manifest = join(outDir, 'inputs.json');

/** A source's identity for the cache: it changed if its mtime or size did. */
const stampOf = (stats) => `${stats.mtimeMs}:${stats.size}`;
const stamp = (file) => stampOf(statSync(join(root, file)));

function bundleIsFresh() {
  try {
    const inputs = JSON.parse(readFileSync(manifest, 'utf8'));
    statSync(bundle);
    return Object.entries(inputs).every(([file, was]) => stamp(file) === was);
  } catch {
    return false;
  }
}

/** Writes the bundle, its source map and the manifest, each by rename, so that servers starting at once never read half a file. */
async function makeBundle() {
  const { buildSync } = await import('esbuild');
  const began = Date.now();
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node.split('.')[0]}`,
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(outDir, { recursive: true });
  const put = (path, contents) => {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, contents);
    renameSync(tmp, path);
  };
  const output = (path) => result.outputFiles.find((f) => f.path === path).contents;
  // The map before the code that points at it.
  put(`${bundle}.map`, output(`${bundle}.map`));
  put(bundle, output(bundle));
  const inputs = Object.keys(result.metafile.inputs).map((f) => [f, statSync(join(root, f))]);
  // A source saved while esbuild read it may be in the bundle as it was before: no manifest
  // then, so that the next start builds again.
  if (inputs.every(([, stats]) => stats.mtimeMs < began))
    put(manifest, JSON.stringify(Object.fromEntries(inputs.map(([f, stats]) => [f, stampOf(stats)]))));
}

let target = pathToFileURL(bundle).href;
try {
  if (!bundleIsFresh()) await makeBundle();
} catch (err) {
  console.error(`commcomms: running the sources through tsx (no bundle: ${err instanceof Error ? err.message : String(err)})`);
  const { register } = await import('tsx/esm/api');
  register();
  target = pathToFileURL(entry).href;
}
// Stack traces in logs name the TypeScript sources, not lines of the bundle.
process.setSourceMapsEnabled(true);
await import(target);
