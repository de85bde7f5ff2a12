/**
 * One measurement row, simulated with the engine `run` uses: the row becomes a one-deployment,
 * one-workload scenario (closed loop for a concurrency, Poisson for a rate, a saturating closed
 * loop for offline), and the metrics are computed from every request the way benchmarks compute
 * them (docs/fidelity.md). Rows sharing a setup (all but metric, value, source) share one run.
 */
import { grown } from '../engine/grow.js';
import type { RequestTable } from '../engine/requests.js';
import type { RequestLog } from '../metrics/recorder.js';
import { parseScenarioRaw, resolveFromInput, type Scenario } from '../scenario/load.js';
import { simulate } from '../simulation/simulate.js';
import { packageRoot } from '../version.js';
import { formatLength, formatLoad, rowName, type Measurement, type MetricName } from './measurements.js';

/** Requests a closed-loop or rate row sends when the measurement does not say. */
export const DEFAULT_REQUESTS = 400;
/** Offline: users per replica slot, so the queue never runs dry (batch limited by max_batch or KV). */
const OFFLINE_USERS_PER_SLOT = 1.5;
/** Offline: requests per user, and the share of completions, by rank, that the steady-state window spans. */
const OFFLINE_REQUESTS_PER_USER = 3;
const OFFLINE_WINDOW = [0.25, 0.85] as const;
/** The scenario's default max_batch (src/scenario/schema.ts), used to size the offline loop. */
const DEFAULT_MAX_BATCH = 256;

export interface SimulateOptions {
  /** Catalog rows the scenario adds or overrides (`catalog:` in a scenario), e.g. efficiency rows being fitted. */
  catalog?: { silicon?: Record<string, string | number>[]; models?: Record<string, string | number>[]; efficiency?: Record<string, string | number>[] };
  seed?: number;
  /**
   * Offline rows: requests per user of the saturating loop (default 3). `calibrate` fits with 2,
   * which keeps a steady-state window of whole waves at two thirds of the cost.
   */
  offlineRequestsPerUser?: number;
}

export interface RowSimulation {
  metrics: Record<MetricName, number>;
  /** Requests simulated and the simulated seconds the metrics span. */
  requests: number;
  spanS: number;
}

/** The setup a row was measured under: rows with the same key are one benchmark run. */
export function setupKey(m: Measurement): string {
  return [m.model, m.silicon, m.tensorParallel, m.replicas, m.dtype, m.kvDtype ?? '', m.stack, m.maxBatch ?? '', m.scheduler ?? '', m.chunkTokens ?? '', m.kvReserve ?? '', m.kvFraction ?? '', formatLength(m.promptTokens), formatLength(m.outputTokens), formatLoad(m.load), m.requests ?? ''].join('|');
}

/** How the row is simulated: users and requests of the closed loop, or the rate and its requests. */
export function loadPlan(
  m: Measurement,
  options: SimulateOptions = {},
  kvSeqsPerReplica = Infinity,
): { arrival: Record<string, unknown>; requests: number; horizonS: number; steadyState: boolean } {
  const maxBatch = m.maxBatch ?? DEFAULT_MAX_BATCH;
  // An offline benchmark that says how many requests it sent (trtllm-bench: every request queued
  // at once, output tokens over the whole run, ramp and tail included) is simulated as it ran.
  if (m.load.kind === 'offline' && m.requests !== null) {
    return { arrival: { process: 'closed', concurrency: m.requests, requests: m.requests }, requests: m.requests, horizonS: 30 * 86400, steadyState: false };
  }
  if (m.load.kind === 'offline') {
    // Slots per replica: max_batch, or fewer where the KV cache holds fewer whole sequences (an
    // engine with max_batch 2048 runs a few hundred at long lengths); more users only queue.
    const slots = Math.max(1, Math.min(maxBatch, kvSeqsPerReplica));
    const users = Math.ceil(OFFLINE_USERS_PER_SLOT * slots * m.replicas);
    const requests = (options.offlineRequestsPerUser ?? OFFLINE_REQUESTS_PER_USER) * users;
    return { arrival: { process: 'closed', concurrency: users, requests }, requests, horizonS: 30 * 86400, steadyState: true };
  }
  const requests = m.requests ?? DEFAULT_REQUESTS;
  if (m.load.kind === 'concurrency') {
    return { arrival: { process: 'closed', concurrency: Math.min(m.load.users, requests), requests }, requests, horizonS: 30 * 86400, steadyState: false };
  }
  // An infinite rate sends every request at t = 0: a closed loop with one user per request.
  if (m.load.perS === Infinity) return { arrival: { process: 'closed', concurrency: requests, requests }, requests, horizonS: 30 * 86400, steadyState: false };
  return { arrival: { process: 'poisson', rate: m.load.perS, requests }, requests, horizonS: 30 * 86400, steadyState: false };
}

/** The scenario a row is simulated as (exported so a user can see, and `calibrate` can reuse, exactly what runs). */
export function rowScenarioInput(m: Measurement, options: SimulateOptions = {}, kvSeqsPerReplica = Infinity): Record<string, unknown> {
  const plan = loadPlan(m, options, kvSeqsPerReplica);
  const deployment: Record<string, unknown> = {
    name: 'measured',
    model: m.model,
    silicon: m.silicon,
    replicas: m.replicas,
    tensor_parallel: m.tensorParallel,
    dtype: m.dtype,
    stack: m.stack,
  };
  if (m.kvDtype !== null) deployment.kv_dtype = m.kvDtype;
  if (m.maxBatch !== null) deployment.max_batch = m.maxBatch;
  if (m.kvFraction !== null) deployment.kv_fraction = m.kvFraction;
  // kv_reserve full: the engine admits a request only when the KV cache can hold it to its last
  // token, so it never preempts; at the row's lengths that is a batch of the whole sequences the
  // cache holds (exact for fixed lengths; at the median lengths for a distribution).
  if (m.kvReserve === 'full' && kvSeqsPerReplica < Infinity) deployment.max_batch = Math.max(1, Math.min(m.maxBatch ?? DEFAULT_MAX_BATCH, kvSeqsPerReplica));
  if (m.scheduler !== null) deployment.scheduler = m.scheduler;
  if (m.chunkTokens !== null) deployment.chunk_tokens = m.chunkTokens;
  const input: Record<string, unknown> = {
    name: 'fidelity-row',
    start: '2026-01-01T00:00:00Z',
    horizon: plan.horizonS,
    seed: options.seed ?? 1,
    // Ticks only cut the timeseries, which is not written; a coarse one costs few events.
    report_interval: Math.max(1, Math.min(3600, plan.horizonS)),
    deployments: [deployment],
    workloads: [
      {
        name: 'benchmark',
        tenant: 'benchmark',
        model: m.model,
        arrival: plan.arrival,
        prompt_tokens: m.promptTokens,
        output_tokens: m.outputTokens,
      },
    ],
  };
  if (options.catalog) input.catalog = options.catalog;
  return input;
}

/** Mean tokens a sequence holds at its end (lognormal: its median, so the estimate errs towards more users). */
function sequenceTokens(m: Measurement): number {
  const mean = (l: Measurement['promptTokens']) => (l.dist === 'constant' ? l.value : l.dist === 'uniform' ? (l.min + l.max) / 2 : l.median);
  return mean(m.promptTokens) + mean(m.outputTokens);
}

function resolveRow(m: Measurement, options: SimulateOptions, kvSeqsPerReplica: number): Scenario {
  const input = rowScenarioInput(m, options, kvSeqsPerReplica);
  const text = JSON.stringify(input);
  const file = `${rowName(m)} (as a scenario)`;
  const { raw, loc } = parseScenarioRaw(text, `${file}.json`);
  return resolveFromInput({ file, text, baseDir: packageRoot(), raw, loc }, raw);
}

/** Whole sequences of the row's lengths one replica's KV cache holds. */
export function kvSequences(m: Measurement, scenario: Scenario): number {
  return Math.floor(scenario.deployments[0].perf.kvCapacityTokens / sequenceTokens(m));
}

export function rowScenario(m: Measurement, options: SimulateOptions = {}): Scenario {
  const first = resolveRow(m, options, Infinity);
  if (m.load.kind !== 'offline' && m.kvReserve !== 'full') return first;
  const kvSeqs = kvSequences(m, first);
  return kvSeqs < (m.maxBatch ?? DEFAULT_MAX_BATCH) ? resolveRow(m, options, kvSeqs) : first;
}

/** Every request's times and lengths, in typed arrays grown as needed (outside the hot loop's concern: a few hundred rows). */
class Requests implements RequestLog {
  n = 0;
  arrivalS = new Float64Array(1024);
  firstS = new Float64Array(1024);
  endS = new Float64Array(1024);
  prompt = new Float64Array(1024);
  output = new Float64Array(1024);
  completed = new Uint8Array(1024);
  record(rq: RequestTable, q: number, _deployment: number, fate: number, endS: number): void {
    if (this.n === this.endS.length) this.grow();
    const i = this.n++;
    this.arrivalS[i] = rq.arrivalS[q];
    this.firstS[i] = rq.firstTokenS[q];
    this.endS[i] = endS;
    this.prompt[i] = rq.promptTokens[q];
    this.output[i] = rq.outputTokens[q];
    this.completed[i] = fate === 0 || fate === 1 ? 1 : 0;
  }
  private grow(): void {
    const g = <T extends Float64Array | Uint8Array>(a: T): T => grown(a, a.length * 2);
    this.arrivalS = g(this.arrivalS);
    this.firstS = g(this.firstS);
    this.endS = g(this.endS);
    this.prompt = g(this.prompt);
    this.output = g(this.output);
    this.completed = g(this.completed);
  }
}

/** numpy.percentile's default (linear between order statistics), as vLLM's benchmark computes. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const x = (p / 100) * (n - 1);
  const lo = Math.floor(x);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}

function mean(xs: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i];
  return xs.length === 0 ? NaN : sum / xs.length;
}

/**
 * Simulates the row's setup and returns every metric (the row's own is `metrics[m.metric]`).
 * Throughput is the benchmark's: tokens of completed requests over first arrival to last
 * completion; offline rows use the steady-state window between the completions ranked
 * OFFLINE_WINDOW, where every batch is full (an offline benchmark's ramp and tail are a small
 * share of its far larger request count). Latencies are over all completed requests.
 */
export function simulateMeasurement(m: Measurement, options: SimulateOptions = {}): RowSimulation {
  // A finite rate's throughput is set by when its Poisson arrivals happen to fall (500 requests at
  // 2/s span 250 s ± 11 s): one draw would put that draw's error into every such row, so the
  // prediction is the mean over RATE_SEEDS draws, the expected value of the benchmark.
  if (m.load.kind !== 'rate' || m.load.perS === Infinity || options.seed !== undefined) return simulateOnce(m, options);
  const runs = Array.from({ length: RATE_SEEDS }, (_, i) => simulateOnce(m, { ...options, seed: i + 1 }));
  const metrics = { ...runs[0].metrics };
  for (const k of Object.keys(metrics) as MetricName[]) metrics[k] = runs.reduce((a, r) => a + r.metrics[k], 0) / runs.length;
  return { metrics, requests: runs[0].requests, spanS: runs.reduce((a, r) => a + r.spanS, 0) / runs.length };
}

/** Seeds a finite-rate row is simulated with (its metrics are their mean). */
export const RATE_SEEDS = 5;

function simulateOnce(m: Measurement, options: SimulateOptions): RowSimulation {
  const scenario = rowScenario(m, options);
  const plan = loadPlan(m, options, m.load.kind === 'offline' || m.kvReserve === 'full' ? kvSequences(m, scenario) : Infinity);
  const log = new Requests();
  simulate(scenario, { requestLog: log });
  const chips = m.tensorParallel * m.replicas;
  const idx: number[] = [];
  for (let i = 0; i < log.n; i++) if (log.completed[i] === 1) idx.push(i);
  // Completion order: requests.csv order is already by end time, ties in event order.
  let spanS = 0;
  let window = idx;
  if (plan.steadyState && idx.length >= 10) {
    const lo = Math.floor(OFFLINE_WINDOW[0] * idx.length);
    const hi = Math.floor(OFFLINE_WINDOW[1] * idx.length);
    // By time, not rank: with fixed lengths requests finish in waves at one instant, and a window
    // (t0, t1] between two completion times spans whole waves whatever the ranks cut.
    const t0 = log.endS[idx[lo]];
    const t1 = log.endS[idx[hi]];
    spanS = t1 - t0;
    window = idx.filter((i) => log.endS[i] > t0 && log.endS[i] <= t1);
  }
  if (!(spanS > 0)) {
    window = idx;
    let first = Infinity;
    let last = 0;
    for (let i = 0; i < log.n; i++) {
      first = Math.min(first, log.arrivalS[i]);
      last = Math.max(last, log.endS[i]);
    }
    spanS = last - first;
  }
  let outTok = 0;
  let inTok = 0;
  for (const i of window) {
    outTok += log.output[i];
    inTok += log.prompt[i];
  }
  const ttft = Float64Array.from(idx, (i) => log.firstS[i] - log.arrivalS[i]).sort();
  const e2e = Float64Array.from(idx, (i) => log.endS[i] - log.arrivalS[i]).sort();
  const decoding = idx.filter((i) => log.output[i] > 1);
  const tpot = Float64Array.from(decoding, (i) => (log.endS[i] - log.firstS[i]) / (log.output[i] - 1)).sort();
  let decodeS = 0;
  let decodeTok = 0;
  for (const i of decoding) {
    decodeS += log.endS[i] - log.firstS[i];
    decodeTok += log.output[i] - 1;
  }
  const perS = (x: number) => (spanS > 0 ? x / spanS : NaN);
  return {
    requests: log.n,
    spanS,
    metrics: {
      output_tok_s_per_chip: perS(outTok) / chips,
      total_tok_s_per_chip: perS(outTok + inTok) / chips,
      output_tok_s: perS(outTok),
      total_tok_s: perS(outTok + inTok),
      requests_per_s: perS(window.length),
      ttft_mean_s: mean(ttft),
      ttft_p50_s: percentile(ttft, 50),
      ttft_p99_s: percentile(ttft, 99),
      tpot_mean_s: mean(tpot),
      tpot_p50_s: percentile(tpot, 50),
      tpot_p99_s: percentile(tpot, 99),
      itl_mean_s: decodeTok > 0 ? decodeS / decodeTok : NaN,
      e2e_mean_s: mean(e2e),
      e2e_p50_s: percentile(e2e, 50),
      e2e_p99_s: percentile(e2e, 99),
    },
  };
}
