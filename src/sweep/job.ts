/**
 * One (point, replication) job: resolve the edited scenario, simulate it, and keep what the sweep
 * outputs need as plain JSON (summary rows as text, per-scope latency histograms), so a job's
 * result is the same whether it ran in this thread, a worker or another machine's shard.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { simulate } from '../simulation/simulate.js';
import { buildLedger } from '../economics/ledger.js';
import type { LogHistogramJSON } from '../metrics/histogram.js';
import { scopes, writeSummary } from '../report/reports.js';
import { readScenarioSource, type Scenario, type ScenarioSource } from '../scenario/load.js';
import { deriveSeed } from '../workload/rng.js';
import { resolveEdited, type Edit } from './paths.js';

/** What every job of a sweep shares; small and plain so it can be posted to workers. */
export interface SweepConfig {
  file: string;
  /** `--set` edits, applied before the point's own edits. */
  sets: Edit[];
  horizonS?: number;
  /** Overrides the scenario's seed (`--seed`). */
  seed?: number;
}

export interface JobSpec {
  point: number;
  replication: number;
  edits: Edit[];
}

export interface ScopeLatency {
  ttft: LogHistogramJSON;
  tpot: LogHistogramJSON;
  e2e: LogHistogramJSON;
}

export interface JobResult {
  point: number;
  replication: number;
  seed: number;
  /** summary.csv header, then one row per scope, exactly as `run` writes them. */
  columns: string[];
  rows: string[][];
  latency: ScopeLatency[];
}

/**
 * Replication 0 runs the scenario's own seed, so a one-replication sweep point equals `fleetsim run`;
 * replication r > 0 derives its seed from (seed, r) alone: every point sees the same streams
 * (common random numbers), and the seed never depends on how jobs were split among workers or shards.
 */
export function replicationSeed(scenarioSeed: number, replication: number): number {
  return replication === 0 ? scenarioSeed : deriveSeed(scenarioSeed, 'replication', replication);
}

const sources = new Map<string, ScenarioSource>();

export function runJob(config: SweepConfig, job: JobSpec): JobResult {
  let source = sources.get(config.file);
  if (!source) {
    source = readScenarioSource(config.file);
    sources.set(config.file, source);
  }
  const edits = [...config.sets, ...job.edits];
  const base = resolveEdited(source, edits, { seed: config.seed, horizonS: config.horizonS });
  const seed = replicationSeed(base.seed, job.replication);
  const scenario = seed === base.seed ? base : { ...base, seed };
  const result = simulate(scenario);
  const ledger = buildLedger(result);
  const dir = mkdtempSync(join(tmpdir(), 'fleetsim-job-'));
  let text: string;
  try {
    writeSummary(join(dir, 'summary.csv'), result, ledger);
    text = readFileSync(join(dir, 'summary.csv'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const table = parseCsv(text, { relax_column_count: false }) as string[][];
  const [columns, ...rows] = table;
  const sIdx = columns.indexOf('scope');
  // The same scopes writeSummary wrote, in the same order: merge their atoms' histograms.
  const scopeList = scopes(scenario);
  if (scopeList.length !== rows.length) throw new Error('sweep: summary rows and scopes disagree');
  const latency = scopeList.map((s, i) => {
    if (s.scope !== rows[i][sIdx]) throw new Error(`sweep: summary row ${i} is ${rows[i][sIdx]}, expected ${s.scope}`);
    const { ttft, tpot, e2e } = result.recorder.latencyOf(s.atoms);
    return { ttft: ttft.toJSON(), tpot: tpot.toJSON(), e2e: e2e.toJSON() };
  });
  return { point: job.point, replication: job.replication, seed, columns, rows, latency };
}

/** `loadScenario` with `--set` edits applied to the raw input first. */
export function loadScenarioWithEdits(file: string, edits: readonly Edit[], overrides: { seed?: number; horizonS?: number } = {}): Scenario {
  return resolveEdited(readScenarioSource(file), edits, overrides);
}
