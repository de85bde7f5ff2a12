/**
 * Sweep outputs from job results in (point, replication) order: sweep.csv, summary_ci.csv, and the
 * partial result a shard writes. The unsharded run and `merge` both end in {@link writeSweepOutputs}
 * with the same results in the same order, which is what makes them byte-identical.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { LogHistogram } from '../metrics/histogram.js';
import { OutputDir } from '../report/atomic.js';
import { VIEW_FILES } from '../report/views.js';
import { CsvWriter, formatDecimal, formatInt, neutralizeText } from '../report/csv.js';
import type { Edit } from './paths.js';
import type { JobResult, ScopeLatency } from './job.js';
import { meanCi95 } from './tdist.js';

export const PARTIAL_FILE = 'partial.json';
const PARTIAL_FORMAT = 'fleetsim-sweep-partial/1';

/** Everything that defines a sweep's jobs; shards must agree on it to be merged. */
export interface SweepPlan {
  scenarioFile: string;
  scenarioSha256: string;
  sets: Edit[];
  paths: string[];
  points: Edit[][];
  replications: number;
}

export interface Partial {
  format: string;
  plan: SweepPlan;
  shard: { index: number; count: number };
  results: JobResult[];
}

/** Job j is (point ⌊j/R⌋, replication j mod R); shard i of n takes the jobs with j mod n = i − 1. */
export function shardJobs(totalJobs: number, shard: { index: number; count: number } | null): number[] {
  const out: number[] = [];
  for (let j = 0; j < totalJobs; j++) if (!shard || j % shard.count === shard.index - 1) out.push(j);
  return out;
}

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new InputError(`--shard expects i/n with 1 ≤ i ≤ n (1-based, e.g. 1/4), got "${text}"`, { path: '--shard' });
  }
  return { index, count };
}

/** Every file a sweep can write: a sweep (or a shard of one) into a directory removes the others' leftovers. */
export const SWEEP_FILES = ['sweep.csv', 'summary_ci.csv', PARTIAL_FILE, ...VIEW_FILES];
/** What a merge replaces: its --out may be one of the shards' own directories, whose partial stays. */
export const MERGED_FILES = SWEEP_FILES.filter((f) => f !== PARTIAL_FILE);

export function writePartial(outDir: string, partial: Partial): void {
  const out = new OutputDir(outDir, SWEEP_FILES);
  try {
    writeFileSync(out.path(PARTIAL_FILE), JSON.stringify(partial) + '\n');
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
}

/** Reads the partials in `dirs` and returns the complete, ordered results, checking that they fit together. */
export function readPartials(dirs: readonly string[]): { plan: SweepPlan; results: JobResult[] } {
  let plan: SweepPlan | null = null;
  let planText = '';
  const byJob = new Map<number, JobResult>();
  for (const dir of dirs) {
    const file = join(dir, PARTIAL_FILE);
    let p: Partial;
    try {
      p = JSON.parse(readFileSync(file, 'utf8')) as Partial;
    } catch (err) {
      throw new InputError(`cannot read sweep partial: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file });
    }
    if (p?.format !== PARTIAL_FORMAT) throw new InputError(`not a fleetsim sweep partial (format ${PARTIAL_FORMAT})`, { file });
    // The file's path may differ between machines; its content hash may not.
    const text = JSON.stringify({ ...p.plan, scenarioFile: '' });
    if (plan === null) {
      plan = p.plan;
      planText = text;
    } else if (text !== planText) {
      throw new InputError('this partial comes from a different sweep (scenario, --set, grid or replications differ)', { file });
    }
    for (const r of p.results) {
      const j = r.point * p.plan.replications + r.replication;
      if (byJob.has(j)) throw new InputError(`point ${r.point} replication ${r.replication} appears in more than one partial`, { file });
      byJob.set(j, r);
    }
  }
  if (!plan) throw new InputError('merge needs at least one partial directory');
  const total = plan.points.length * plan.replications;
  const results: JobResult[] = [];
  for (let j = 0; j < total; j++) {
    const r = byJob.get(j);
    if (!r) {
      throw new InputError(
        `point ${Math.floor(j / plan.replications)} replication ${j % plan.replications} is in none of the partials: a shard is missing`,
      );
    }
    results.push(r);
  }
  return { plan, results };
}

const LATENCY_COLUMN = /^(ttft|tpot|e2e)_p(\d+)_s$/;

/**
 * Writes sweep.csv (and summary_ci.csv when there are ≥ 2 replications) for complete, ordered
 * results, removing the `replaces` files not written (see OutputDir).
 */
export function writeSweepOutputs(outDir: string, plan: SweepPlan, results: readonly JobResult[], replaces: readonly string[]): void {
  const out = new OutputDir(outDir, replaces);
  try {
    writeSweepFiles(out, plan, results);
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
}

/** Same files, into an already open OutputDir (run --replications adds summary_ci.csv to its reports). */
export function writeSweepFiles(out: OutputDir, plan: SweepPlan, results: readonly JobResult[], only: 'all' | 'ci' = 'all'): void {
  const R = plan.replications;
  const columns = results[0].columns;
  const pointCells = (p: number) => plan.points[p].map((e) => neutralizeText(String(e.value)));
  const sweep = only === 'all' ? new CsvWriter(out.path('sweep.csv'), ['point', ...plan.paths, 'replications', ...columns]) : null;
  const ci =
    R >= 2
      ? new CsvWriter(out.path('summary_ci.csv'), ['point', ...plan.paths, 'scope', 'key', 'metric', 'replications', 'estimate', 'ci95_half_width'])
      : null;
  const sIdx = columns.indexOf('scope');
  const kIdx = columns.indexOf('key');
  for (let p = 0; p < plan.points.length; p++) {
    const reps = results.slice(p * R, p * R + R);
    for (const r of reps) {
      if (r.columns.join(',') !== columns.join(',') || r.rows.length !== reps[0].rows.length) {
        throw new Error('sweep: replications of a point disagree on summary shape');
      }
    }
    for (let row = 0; row < reps[0].rows.length; row++) {
      const merged = R > 1 ? mergeLatency(reps.map((r) => r.latency[row])) : null;
      const cells: string[] = [];
      for (let c = 0; c < columns.length; c++) {
        const texts = reps.map((r) => r.rows[row][c]);
        if (c === sIdx || c === kIdx || R === 1) {
          cells.push(texts[0]);
          continue;
        }
        const lat = LATENCY_COLUMN.exec(columns[c]);
        const values = texts.filter((t) => t !== '').map(Number);
        let estimate: number;
        if (lat && merged) estimate = merged[lat[1] as keyof ScopeLatency].quantile(Number(lat[2]) / 100);
        else estimate = values.length > 0 ? meanCi95(values).mean : NaN;
        const cell = formatDecimal(estimate, 6);
        // sweep.csv keeps each column's own precision (counts whole, money in cents, as summary.csv);
        // summary_ci.csv keeps 6 decimals beside its half-width.
        cells.push(formatDecimal(estimate, decimalsOf(texts)));
        if (ci) {
          const { halfWidth } = meanCi95(values);
          ci.write([formatInt(p), ...pointCells(p), reps[0].rows[row][sIdx], reps[0].rows[row][kIdx], columns[c], formatInt(values.length), cell, formatDecimal(halfWidth, 6)]);
        }
      }
      sweep?.write([formatInt(p), ...pointCells(p), formatInt(R), ...cells]);
    }
  }
  sweep?.close();
  ci?.close();
}

function mergeLatency(list: readonly ScopeLatency[]): Record<keyof ScopeLatency, LogHistogram> {
  const out = { ttft: new LogHistogram(), tpot: new LogHistogram(), e2e: new LogHistogram() };
  for (const l of list) {
    out.ttft.merge(LogHistogram.fromJSON(l.ttft));
    out.tpot.merge(LogHistogram.fromJSON(l.tpot));
    out.e2e.merge(LogHistogram.fromJSON(l.e2e));
  }
  return out;
}

/** The decimal places summary.csv wrote a column with (the most among the replications' cells). */
function decimalsOf(texts: readonly string[]): number {
  let places = 0;
  for (const t of texts) {
    const dot = t.indexOf('.');
    if (dot >= 0) places = Math.max(places, t.length - dot - 1);
  }
  return places;
}
