/** CLI for `sweep`, `merge` and the `--set` / `--replications` flags of `run`. */
import { InputError } from '../errors.js';
import { parseSetFlag, type Edit } from '../sweep/paths.js';
import { defaultWorkers } from '../sweep/pool.js';
import { MERGED_FILES, parseShard, readPartials, writeSweepOutputs } from '../sweep/output.js';
import { checkOutputDir } from '../index.js';
import { runSweep, writeReplicationCi } from '../sweep/sweep.js';
import { loadScenarioWithEdits } from '../sweep/job.js';
import { reportWarnings } from './warnings.js';
import { count } from '../scenario/units.js';

/** commander collector for repeatable `--set path=value`. */
export function parseSets(flags: string[] | undefined): Edit[] {
  return (flags ?? []).map(parseSetFlag);
}

function positive(n: number | undefined, flag: string, fallback: number): number {
  const v = n ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new InputError(`${flag} expects a positive integer, got ${v}`, { path: flag });
  return v;
}

export interface SweepFlags {
  out: string;
  set?: string[];
  replications?: number;
  workers?: number;
  shard?: string;
  seed?: number;
  horizon?: number;
  quiet?: boolean;
  strict?: boolean;
}

export async function sweepCommand(file: string, flags: SweepFlags): Promise<void> {
  checkOutputDir(flags.out);
  // The scenario as the sweep's points start from it (each point's own edits are not checked here).
  reportWarnings(loadScenarioWithEdits(file, parseSets(flags.set), { seed: flags.seed, horizonS: flags.horizon }).warnings, flags.strict);
  const started = performance.now();
  const summary = await runSweep({
    file,
    outDir: flags.out,
    sets: parseSets(flags.set),
    replications: positive(flags.replications, '--replications', 1),
    workers: positive(flags.workers, '--workers', defaultWorkers()),
    shard: flags.shard ? parseShard(flags.shard) : null,
    seed: flags.seed,
    horizonS: flags.horizon,
  });
  if (!flags.quiet) {
    const wallS = (performance.now() - started) / 1000;
    process.stderr.write(
      `${file}: ${count(summary.points, 'point')} x ${count(summary.replications, 'replication')}, ${count(summary.jobsRun, 'simulation')} run in ` +
        `${wallS.toFixed(2)} s; wrote ${summary.wroteFiles.join(', ')} to ${flags.out}/\n`,
    );
  }
}

/** After `run` has written its reports: add summary_ci.csv over R replications. */
export async function runReplications(file: string, flags: SweepFlags): Promise<void> {
  const R = positive(flags.replications, '--replications', 1);
  if (R < 2) return;
  await writeReplicationCi({
    file,
    outDir: flags.out,
    sets: parseSets(flags.set),
    replications: R,
    workers: positive(flags.workers, '--workers', defaultWorkers()),
    seed: flags.seed,
    horizonS: flags.horizon,
  });
}

export function mergeCommand(dirs: string[], flags: { out: string; quiet?: boolean }): void {
  checkOutputDir(flags.out);
  const { plan, results } = readPartials(dirs);
  writeSweepOutputs(flags.out, plan, results, MERGED_FILES);
  if (!flags.quiet) {
    process.stderr.write(`merged ${count(dirs.length, 'partial')}: ${count(plan.points.length, 'point')} x ${count(plan.replications, 'replication')} into ${flags.out}/\n`);
  }
}
