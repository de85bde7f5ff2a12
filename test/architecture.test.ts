/**
 * The layers of ARCHITECTURE.md, enforced: reads every import / export-from / dynamic import() of
 * src/ and fails on an arrow the layering forbids. The rules live here, once; ARCHITECTURE.md
 * explains them.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from './helpers/cli.js';

export interface Edge {
  from: string;
  to: string;
}

/** `import ... from '...'`, `export ... from '...'`, `import '...'`, `import('...')`. */
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Edges between files of src/ (repo-relative, .ts), parsed from their import statements. */
export function importGraph(srcDir = join(ROOT, 'src')): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(srcDir)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith('.')) continue; // packages and node: builtins
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      edges.push({ from: relative(ROOT, file), to: relative(ROOT, target) });
    }
  }
  return edges;
}

interface Rule {
  /** Files the rule applies to (path prefix). */
  from: string;
  /** The only prefixes they may import (when set). */
  only?: string[];
  /** Prefixes they must never import. */
  never?: string[];
  why: string;
}

export const RULES: Rule[] = [
  { from: 'src/engine/', only: ['src/engine/', 'src/errors.ts'], why: 'the engine is the generic discrete-event core' },
  {
    from: 'src/economics/',
    never: ['src/scenario/', 'src/serving/', 'src/engine/', 'src/workload/', 'src/metrics/', 'src/report/', 'src/cli/'],
    why: 'economics takes typed inputs (prices, costs, a simulation result), not the scenario loader',
  },
  {
    from: 'src/serving/',
    never: ['src/simulation/', 'src/report/', 'src/cli/', 'src/sweep/', 'src/plan/', 'src/metrics/calendar.ts'],
    why: 'serving is driven by the simulation, never drives it',
  },
  {
    from: 'src/workload/',
    never: ['src/serving/', 'src/simulation/', 'src/metrics/', 'src/economics/', 'src/report/', 'src/cli/'],
    why: 'workload generators know nothing of who serves them',
  },
  { from: 'src/perf/', never: ['src/serving/', 'src/simulation/', 'src/metrics/', 'src/economics/'], why: 'physics is below serving' },
  { from: 'src/metrics/', never: ['src/serving/', 'src/simulation/', 'src/report/', 'src/cli/'], why: 'the recorder is fed, it does not reach up' },
  { from: 'src/fidelity/', never: ['src/cli/', 'src/sweep/', 'src/plan/'], why: 'measurements and the row simulator are a library for fidelity and calibrate' },
  { from: 'src/simulation/', never: ['src/report/', 'src/cli/', 'src/sweep/', 'src/plan/'], why: 'the simulation hands results to its callers' },
];

/** The edges that break a rule, as "from -> to (why)". */
export function forbiddenEdges(edges: Edge[], rules = RULES): string[] {
  const bad: string[] = [];
  for (const { from, to } of edges) {
    for (const r of rules) {
      if (!from.startsWith(r.from)) continue;
      const outside = r.only !== undefined && !r.only.some((p) => to.startsWith(p));
      const banned = r.never?.some((p) => to.startsWith(p)) ?? false;
      if (outside || banned) bad.push(`${from} -> ${to} (${r.why})`);
    }
  }
  return bad;
}

describe('architecture: one-way arrows between the parts of src/', () => {
  const edges = importGraph();

  it('reads the import graph (sanity: known edges are found)', () => {
    expect(edges).toContainEqual({ from: 'src/simulation/simulate.ts', to: 'src/engine/event-queue.ts' });
    expect(edges).toContainEqual({ from: 'src/simulation/simulate.ts', to: 'src/serving/fleet.ts' });
    expect(edges.length).toBeGreaterThan(50);
  });

  it('has no forbidden arrow', () => {
    expect(forbiddenEdges(edges)).toEqual([]);
  });

  it('src/engine/ imports nothing but itself and src/errors.ts', () => {
    const out = edges.filter((e) => e.from.startsWith('src/engine/')).map((e) => e.to);
    expect(out.every((t) => t.startsWith('src/engine/') || t === 'src/errors.ts')).toBe(true);
  });

  // Issue 17: the serving layer stays in files a maintainer can own one at a time.
  it('has no src/serving file over 400 lines', () => {
    const long = sourceFiles(join(ROOT, 'src/serving'))
      .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > 400)
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(long).toEqual([]);
  });

  // Test of the test: an injected engine -> serving arrow, and one economics -> scenario arrow, fail.
  it('fails on an injected forbidden edge', () => {
    const injected = [
      ...edges,
      { from: 'src/engine/event-queue.ts', to: 'src/serving/fleet.ts' },
      { from: 'src/economics/ledger.ts', to: 'src/scenario/load.ts' },
    ];
    expect(forbiddenEdges(injected)).toEqual([
      'src/engine/event-queue.ts -> src/serving/fleet.ts (the engine is the generic discrete-event core)',
      'src/economics/ledger.ts -> src/scenario/load.ts (economics takes typed inputs (prices, costs, a simulation result), not the scenario loader)',
    ]);
  });

  it('parses every form of import statement', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b/b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "import './e.js';",
      "const f = await import('./f.js');",
      "import {\n  g,\n  h,\n} from './g.js';",
    ].join('\n');
    const specs = [...text.matchAll(SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3]);
    expect(specs).toEqual(['./a.js', '../b/b.js', './c.js', './d.js', './e.js', './f.js', './g.js']);
  });
});
