/**
 * `fleetsim --help` stays fast only while src/cli/main.ts loads almost nothing up front: each
 * command's action imports its module when it runs (see main.ts's header). The timing itself is a
 * bench (`node dist/bench/run.js --only=startup`); this test checks the structure that gives it,
 * so that a static import of a heavy module fails here, with the fix, rather than in a benchmark.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { CLI, ROOT, tempDir } from './helpers/cli.js';

/** What main.ts may load before knowing the command: commander, node built-ins and these files. */
const LIGHT_FILES = ['src/cli/main.ts', 'src/errors.ts', 'src/scenario/units.ts', 'src/version.ts'];
const LIGHT_PACKAGES = ['commander'];

/** Every module a file loads statically (value imports and re-exports; `import type` is erased). */
export function staticImports(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const walk = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
      if (m[2]) continue;
      const spec = m[3]!;
      if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:')) packages.add(spec);
    }
  };
  walk(entry);
  return { files: [...files].map((f) => relative(ROOT, f)).sort(), packages: [...packages].sort() };
}

describe('CLI start-up', () => {
  it('src/cli/main.ts statically loads only commander and light modules; commands load in their action', () => {
    const { files, packages } = staticImports(join(ROOT, 'src/cli/main.ts'));
    const heavy = [...files.filter((f) => !LIGHT_FILES.includes(f)), ...packages.filter((p) => !LIGHT_PACKAGES.includes(p))];
    expect(
      heavy,
      'src/cli/main.ts loads these at start-up, for every command and --help: import them inside the ' +
        "command's action instead (`.action(async (...) => (await import('./x.js')).xCommand(...))`), and " +
        'flag types with `import type`',
    ).toEqual([]);
  });

  it('the import walk sees through re-exports and skips type-only imports (a test of the test)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.ts'), "import type { T } from './t.js';\nimport { b } from './b.js';\nexport * from './c.js';\n");
    writeFileSync(join(dir, 'b.ts'), "import { z } from 'zod';\nimport { readFileSync } from 'node:fs';\nexport const b = 1;\n");
    writeFileSync(join(dir, 'c.ts'), 'export const c = 2;\n');
    const { files, packages } = staticImports(join(dir, 'a.ts'));
    expect(files.map((f) => f.slice(f.lastIndexOf('/') + 1))).toEqual(['a.ts', 'b.ts', 'c.ts']);
    expect(packages).toEqual(['zod']);
  });

  // The bundle (scripts/bundle.mjs, package.json's `bin`) keeps main.ts's lazy imports as chunks
  // of their own: what dist/cli/main.js loads before a command runs is commander and the light files.
  it('the bundled bin loads only commander and the light files before a command runs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { fleetsim: string } };
    expect(join(ROOT, pkg.bin.fleetsim)).toBe(CLI);
    const meta = JSON.parse(readFileSync(join(ROOT, 'dist/cli/meta.json'), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, unknown>; imports: { path: string; kind: string; external?: boolean }[] }>;
    };
    const inputs = new Set<string>();
    const walk = (out: string) => {
      for (const i of Object.keys(meta.outputs[out]!.inputs)) inputs.add(i);
      for (const imp of meta.outputs[out]!.imports) if (imp.kind === 'import-statement' && !imp.external) walk(imp.path);
    };
    walk(relative(ROOT, CLI));
    const light = new Set(LIGHT_FILES.map((f) => 'dist/' + f.replace(/\.ts$/, '.js')));
    const heavy = [...inputs].filter((i) => !light.has(i) && !LIGHT_PACKAGES.some((p) => i.startsWith(`node_modules/${p}/`)));
    expect(heavy, 'dist/cli/main.js loads these up front: is a lazy import() of main.ts now static?').toEqual([]);
  });
});
