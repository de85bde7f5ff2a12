// Bundles the built CLI (dist/src, from tsc) into dist/cli/: package.json's `bin`.
//
// Why: a command that does little work (`--help`, `validate`) spends most of its time resolving
// and compiling modules, one file at a time (about 180 files of ours and our dependencies'). One
// bundle per command, split at main.ts's lazy `import()`s, keeps `--help` loading commander alone
// and `validate` loading a handful of files (docs/performance.md#start-up gives the figures).
//
// The worker threads (run, sweep, calibrate) are entries of their own, written beside the chunks
// under the same names as in dist/src, because their callers find them by a path relative to their
// own file (`new URL('./worker.js', import.meta.url)`); every output file is in one flat directory
// so those paths hold whichever chunk the caller lands in.
//
// dist/src stays as tsc wrote it: the library entry (package.json `main`), the benches and the
// tests that import modules use it. The bundle is built from it, so both run the same code.
import { build } from 'esbuild';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = 'dist/cli';

rmSync(OUT, { recursive: true, force: true });
const result = await build({
  entryPoints: {
    main: 'dist/src/cli/main.js',
    'run-worker': 'dist/src/cli/run-worker.js',
    worker: 'dist/src/sweep/worker.js',
    'calibrate-worker': 'dist/src/fidelity/calibrate-worker.js',
  },
  outdir: OUT,
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // ESM builds where a package has one: esbuild can then drop what we do not use.
  mainFields: ['module', 'main'],
  // exceljs (report.xlsx only) stays a package loaded at run time: large, CommonJS, and not on
  // any start-up path worth bundling for.
  external: ['exceljs'],
  // CommonJS packages bundled into ES modules still call require() for node: built-ins.
  banner: { js: "import { createRequire as __fleetsimCreateRequire } from 'node:module'; const require = __fleetsimCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
// What each output file loads, for test/cli-startup.test.ts (main.js must load only commander up front).
writeFileSync(`${OUT}/meta.json`, JSON.stringify(result.metafile, null, 1) + '\n');
chmodSync(`${OUT}/main.js`, 0o755);
chmodSync('dist/src/cli/main.js', 0o755);

// The parsed built-in tables (src/catalog/cache.ts), from the code just built and data/*.csv.
const { parseBuiltInCatalog, tableCacheFile } = await import('../dist/src/catalog/catalog.js');
const { loadFacilities } = await import('../dist/src/economics/facility.js');
const { writeTableCache } = await import('../dist/src/catalog/cache.js');
const dataDir = fileURLToPath(new URL('../data', import.meta.url));
rmSync(tableCacheFile(), { force: true });
writeTableCache(tableCacheFile(), dataDir, { ...parseBuiltInCatalog(dataDir, true), facility: loadFacilities(join(dataDir, 'facility.csv')) });
