/** `fleetsim sweep` and `run --replications`: expand the grid, cut it into jobs, run them, write outputs. */
import { InputError } from '../errors.js';
import { OutputDir } from '../report/atomic.js';
import { readScenarioSource, validateShape } from '../scenario/load.js';
import { expandGrid } from './grid.js';
import { applyEdits, blameEdits, editValueText, resolveEdited, type Edit } from './paths.js';
import type { JobSpec, SweepConfig } from './job.js';
import { runJobs } from './pool.js';
import { PARTIAL_FILE, SWEEP_FILES, shardJobs, writePartial, writeSweepFiles, writeSweepOutputs, type SweepPlan } from './output.js';

export interface SweepOptions {
  file: string;
  outDir: string;
  sets?: Edit[];
  replications?: number;
  workers: number;
  shard?: { index: number; count: number } | null;
  seed?: number;
  horizonS?: number;
  /** Ignore the file's sweep: section (run --replications). */
  noGrid?: boolean;
  onDone?: (done: number, total: number) => void;
}

export interface SweepSummary {
  points: number;
  replications: number;
  jobsRun: number;
  wroteFiles: string[];
}

function prepare(opts: SweepOptions): { config: SweepConfig; plan: SweepPlan } {
  const sets = opts.sets ?? [];
  const R = opts.replications ?? 1;
  if (!Number.isInteger(R) || R < 1) throw new InputError(`--replications expects a positive integer, got ${R}`, { path: '--replications' });
  const source = readScenarioSource(opts.file);
  const input = blameEdits(sets, '--set', () =>
    validateShape(sets.length > 0 ? applyEdits(source.raw, sets, '--set') : source.raw, source.loc),
  );
  // Resolving the base scenario here reports input errors once, before any worker starts.
  const base = resolveEdited(source, sets, { seed: opts.seed, horizonS: opts.horizonS });
  const grid = expandGrid(opts.noGrid ? undefined : input.sweep);
  // Every point's shape is checked here, so a bad value fails fast, naming its point, before any worker starts.
  for (const p of grid.points) {
    try {
      validateShape(applyEdits(source.raw, [...sets, ...p.edits], 'sweep'), source.loc);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      const values = p.edits.map((e) => `${e.path}=${editValueText(e.value)}`).join(', ');
      throw new InputError(`sweep point ${p.index} (${values}): ${err.message}`, err.location);
    }
  }
  const config: SweepConfig = { file: opts.file, sets, seed: opts.seed, horizonS: opts.horizonS };
  const plan: SweepPlan = {
    scenarioFile: opts.file,
    scenarioSha256: base.hash,
    sets,
    paths: grid.paths,
    points: grid.points.map((p) => p.edits),
    replications: R,
  };
  return { config, plan };
}

export async function runSweep(opts: SweepOptions): Promise<SweepSummary> {
  const { config, plan } = prepare(opts);
  const R = plan.replications;
  const total = plan.points.length * R;
  const indices = shardJobs(total, opts.shard ?? null);
  const jobs: JobSpec[] = indices.map((j) => ({ point: Math.floor(j / R), replication: j % R, edits: plan.points[Math.floor(j / R)] }));
  const results = await runJobs(config, jobs, opts.workers, opts.onDone);
  if (opts.shard) {
    writePartial(opts.outDir, { format: 'fleetsim-sweep-partial/1', plan, shard: opts.shard, results });
    return { points: plan.points.length, replications: R, jobsRun: jobs.length, wroteFiles: [PARTIAL_FILE] };
  }
  writeSweepOutputs(opts.outDir, plan, results, SWEEP_FILES);
  return { points: plan.points.length, replications: R, jobsRun: jobs.length, wroteFiles: R >= 2 ? ['sweep.csv', 'summary_ci.csv'] : ['sweep.csv'] };
}

/** `run --replications R`: adds summary_ci.csv (mean and 95% CI of every summary metric) to a run's reports. */
export async function writeReplicationCi(opts: Omit<SweepOptions, 'noGrid' | 'shard'>): Promise<void> {
  const { config, plan } = prepare({ ...opts, noGrid: true });
  const R = plan.replications;
  const jobs: JobSpec[] = Array.from({ length: R }, (_, r) => ({ point: 0, replication: r, edits: [] }));
  const results = await runJobs(config, jobs, opts.workers, opts.onDone);
  const out = new OutputDir(opts.outDir);
  try {
    writeSweepFiles(out, plan, results, 'ci');
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
}
