/**
 * Start-up benches: how long the built CLI takes, as a whole process, for commands that do little
 * work (`--help`, `validate` of the quick-start scenario), against the targets of issue 17. Each run
 * spawns `node BIN ...` (BIN: the checkout's package.json `bin`, the bundle dist/cli/main.js since
 * scripts/bundle.mjs, dist/src/cli/main.js before) and times it from spawn to exit; the median of the runs is
 * reported, beside the same for `node -e 0`, which is what Node itself costs on this machine
 * (start-up time moves with the machine's load far more than with our code).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StartupCase {
  name: string;
  /** Arguments after `node BIN`; relative paths resolve against the checkout. */
  args: string[];
  targetMs?: number;
}

export const STARTUP_CASES: readonly StartupCase[] = [
  { name: 'startup/node -e 0', args: [] },
  { name: 'startup/--help', args: ['--help'], targetMs: 150 },
  { name: 'startup/validate quick-start', args: ['validate', 'scenarios/multi-model-platform.yaml'], targetMs: 300 },
];

export interface StartupRow {
  name: string;
  wall_s: number;
  against_ratio?: number;
  note: string;
}

/** The CLI a user of that checkout runs (`npx fleetsim`, `npm link`): its package.json `bin`. */
function binOf(checkout: string): string {
  const pkg = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { bin: { fleetsim: string } };
  return join(checkout, pkg.bin.fleetsim);
}

/** One run's wall time in seconds; a failing command is a broken bench, not a slow one. */
function timeOnce(checkout: string, c: StartupCase): number {
  const args = c.args.length === 0 ? ['-e', '0'] : [binOf(checkout), ...c.args];
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: checkout, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wallS = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`startup bench: node ${args.join(' ')} (in ${checkout}) exited ${r.status}: ${r.stderr}`);
  return wallS;
}

/** The median; shared with bench/run.ts. */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * `runs` timed runs per case after one untimed (which warms the file cache); with `against`, runs
 * of that checkout's CLI alternate with ours, each going first in every other pair.
 */
export function startupRows(root: string, runs: number, against: string | null): StartupRow[] {
  const rows: StartupRow[] = [];
  for (const c of STARTUP_CASES) {
    timeOnce(root, c);
    if (against !== null) timeOnce(against, c);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < runs; i++) {
      if (against !== null && i % 2 === 1) theirs.push(timeOnce(against, c));
      ours.push(timeOnce(root, c));
      if (against !== null && i % 2 === 0) theirs.push(timeOnce(against, c));
    }
    const wallS = median(ours);
    const target = c.targetMs === undefined ? '' : `; target <= ${c.targetMs} ms: ${wallS * 1000 <= c.targetMs ? 'met' : 'NOT met'}`;
    const row: StartupRow = { name: c.name, wall_s: Number(wallS.toFixed(3)), note: `median of ${runs}${target}` };
    if (against !== null && c.args.length > 0) {
      row.against_ratio = Number((median(theirs) / wallS).toFixed(3));
      row.note += `; ${against} took ${median(theirs).toFixed(3)} s`;
    }
    rows.push(row);
  }
  return rows;
}
