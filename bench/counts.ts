/**
 * Counted benches (`--only=counts`): instructions, first-level data-cache misses and mispredicted
 * branches of one end-to-end run, counted by valgrind's cachegrind instead of timed.
 *
 * Why: on the shared 2-vCPU VMs this project is measured on, the same build's wall time moves by
 * up to 40% between minutes, so a 3% change cannot be told from noise however the runs are
 * alternated. Counts of a run do not move: with `node --single-threaded` (the optimising compiler
 * and the GC on the main thread, so what gets compiled when no longer depends on thread timing)
 * the same build counts the same instructions to within 0.02%, run after run, with the other core
 * busy or not (docs/performance.md#counted-benches). The price is time (valgrind runs the
 * process about 50x slower) and that a count is not a second: a cache miss costs more than an
 * instruction, which is why the misses and mispredictions are counted beside the instructions.
 *
 * A child process counts everything: loading, compiling, simulating, writing reports. On a short
 * horizon the compiling outweighs the simulating, and with compilation on the main thread V8 goes
 * on optimising for about 400,000 events (measured: 5-minute runs of platform-1m reach their
 * steady 0.30 µs per event at the fifth run in one process). So each bench is counted twice, a
 * child that runs it SETTLE_RUNS times and one that runs it twice more, and the difference, over
 * those last two runs' events, is the per-event figure: what the event loop costs once compiled.
 * With `--against=DIR` the other build is counted the same way and the ratio theirs / ours is
 * given per counter. Two children's counts of the same build differ by under 0.1%.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface Counts {
  instructions: number;
  dataRefs: number;
  d1Misses: number;
  llMisses: number;
  branches: number;
  mispredicts: number;
}

/** The numbers of a cachegrind summary (valgrind's stderr, `--cache-sim=yes --branch-sim=yes`), or null when one is missing. */
export function parseCachegrind(text: string): Counts | null {
  const read = (label: RegExp): number | null => {
    const m = text.match(label);
    return m ? Number(m[1].replace(/,/g, '')) : null;
  };
  const counts = {
    instructions: read(/I\s+refs:\s+([\d,]+)/),
    dataRefs: read(/D\s+refs:\s+([\d,]+)/),
    d1Misses: read(/D1\s+misses:\s+([\d,]+)/),
    llMisses: read(/LLd\s+misses:\s+([\d,]+)/),
    branches: read(/Branches:\s+([\d,]+)/),
    mispredicts: read(/Mispredicts:\s+([\d,]+)/),
  };
  return Object.values(counts).every((v) => v !== null) ? (counts as Counts) : null;
}

export interface CountsRow {
  name: string;
  events?: number;
  instructions_per_event?: number;
  d1_misses_per_event?: number;
  mispredicts_per_event?: number;
  /** With --against: theirs / ours per counter (above 1: ours does less). */
  against_ratio?: number;
  note?: string;
}

interface ChildRun {
  counts: Counts;
  events: number;
  /** Runs the child made, as it reports them (absent: a build whose child runs once, whatever it is asked). */
  repeats: number | undefined;
}

/** Whether valgrind can be run here. */
export function haveValgrind(): boolean {
  return spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Counts one `--child e2e` process of `benchScript` (a checkout's dist/bench/run.js) simulating `file` to `horizonS`, `repeats` times. */
function countChild(benchScript: string, file: string, horizonS: number | undefined, repeats: number): ChildRun | string {
  const r = spawnSync(
    'valgrind',
    [
      '--tool=cachegrind',
      '--cache-sim=yes',
      '--branch-sim=yes',
      // V8 writes and rewrites machine code: without this valgrind runs stale translations.
      '--smc-check=all',
      '--cachegrind-out-file=/dev/null',
      process.execPath,
      '--single-threaded',
      benchScript,
      '--child',
      'e2e',
      file,
      horizonS === undefined ? '-' : String(horizonS),
      String(repeats),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const counts = parseCachegrind(r.stderr ?? '');
  if (r.status !== 0 || counts === null) {
    const line = (r.stderr ?? '').split('\n').find((l) => l.trim() !== '' && !l.startsWith('=='));
    return line?.trim() ?? `valgrind exited ${r.status}`;
  }
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as { events: number; repeats?: number };
  return { counts, events: report.events, repeats: report.repeats };
}

/** Runs before the counted ones, and counted runs. */
const SETTLE_RUNS = 5;
const WARM_RUNS = 2;

/** Counts of one warm run of the bench, and its events. */
interface Counted {
  warm: Counts;
  events: number;
}

function counted(benchScript: string, file: string, horizonS: number | undefined): Counted | string {
  const settled = countChild(benchScript, file, horizonS, SETTLE_RUNS);
  if (typeof settled === 'string') return settled;
  const more = countChild(benchScript, file, horizonS, SETTLE_RUNS + WARM_RUNS);
  if (typeof more === 'string') return more;
  // A build from before this bench runs its child once whatever it is asked: nothing to subtract.
  if (more.repeats !== SETTLE_RUNS + WARM_RUNS) return 'its bench cannot repeat a run in one process (--child e2e FILE H N, added with bench/counts.ts)';
  const warm = {} as Counts;
  for (const k of Object.keys(settled.counts) as (keyof Counts)[]) warm[k] = (more.counts[k] - settled.counts[k]) / WARM_RUNS;
  return { warm, events: settled.events };
}

const perEvent = (n: number, events: number) => Number((n / events).toFixed(1));

function row(name: string, c: Counted): CountsRow {
  return {
    name,
    events: c.events,
    instructions_per_event: perEvent(c.warm.instructions, c.events),
    d1_misses_per_event: perEvent(c.warm.d1Misses, c.events),
    mispredicts_per_event: perEvent(c.warm.mispredicts, c.events),
    note: `a warm run, per event (valgrind's virtual CPU: compare builds, not absolute figures)`,
  };
}

const ratio = (theirs: number, ours: number) => (theirs / ours).toFixed(3);

/** The note comparing two builds' warm counts of the same scenario. */
export function countsNote(against: string, ours: Counts, theirs: Counts): string {
  return (
    `${against} counted ${ratio(theirs.instructions, ours.instructions)}x our instructions, ` +
    `${ratio(theirs.d1Misses, ours.d1Misses)}x our D1 misses, ${ratio(theirs.mispredicts, ours.mispredicts)}x our mispredicted branches`
  );
}

/** One counted bench: our row, and with `against` the other build's row and the ratios. */
export function countsRows(name: string, root: string, file: string, horizonS: number | undefined, against: string | null): CountsRow[] {
  const ours = counted(join(root, 'dist/bench/run.js'), file, horizonS);
  if (typeof ours === 'string') return [{ name, note: `failed: ${ours}` }];
  const mine = row(name, ours);
  if (against === null) return [mine];
  const theirs = counted(join(against, 'dist/bench/run.js'), file, horizonS);
  if (typeof theirs === 'string') {
    mine.note += `; ${against} could not run this bench, so no ratio: ${theirs}`;
    return [mine];
  }
  mine.against_ratio = Number(ratio(theirs.warm.instructions, ours.warm.instructions));
  mine.note += `; ${countsNote(against, ours.warm, theirs.warm)}`;
  if (theirs.events !== ours.events) mine.note += ` (${theirs.events} events there)`;
  return [mine, row(`${name}@against`, theirs)];
}
