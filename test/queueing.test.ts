/**
 * Queueing-theory validation (issue 3, item 6a): with exponential service times the engine
 * reproduces the M/M/1 and M/M/c (Erlang C) mean waiting times within a 95% confidence interval
 * over 10^6 customers.
 *
 * How the engine gets exponential service without a test-only hook: a measured profile
 * (src/perf/profile.ts) makes every decode step take exactly 1 ms whatever the batch and context,
 * and prefill take 0 ms; the output length is drawn from an empirical file holding 100,000
 * quantiles of an exponential with mean 1,000 steps. A request's service time is then
 * (output − 1) ms, independent of the other requests in the batch, so
 *   - max_batch 1  is a single FCFS server: M/M/1;
 *   - max_batch c  on one replica is c servers sharing one FCFS queue: M/M/c. An arrival to a
 *     busy-but-not-full replica starts at the next step boundary (< 1 ms, 0.1% of a mean wait).
 * The quantile grid is a discretised exponential (CV² = 1.0004); the M/M/1 check uses the exact
 * Pollaczek–Khinchine mean for the file's own first two moments, the M/M/c check Erlang C with the
 * file's mean. The CI comes from 40 batch means of 25,000 customers each (arrival order), after
 * discarding the first batch as warm-up.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { simulate } from '../src/simulation/simulate.js';
import type { RequestTable } from '../src/engine/requests.js';
import type { RequestLog } from '../src/metrics/recorder.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-queueing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CUSTOMERS = 1_000_000;
const BATCHES = 40;
const MEAN_STEPS = 1000;
const STEP_S = 0.001;

// Output lengths: 1 + exponential quantiles (the first token comes from the 0 ms prefill).
const N = 100_000;
const outputs = new Int32Array(N);
let m1 = 0;
let m2 = 0;
{
  const lines = ['TIMESTAMP,ContextTokens,GeneratedTokens'];
  for (let i = 0; i < N; i++) {
    const steps = Math.round(-MEAN_STEPS * Math.log(1 - (i + 0.5) / N));
    outputs[i] = steps + 1;
    const s = steps * STEP_S;
    m1 += s / N;
    m2 += (s * s) / N;
    lines.push(`2024-01-01 00:00:00.0000000,1,${steps + 1}`);
  }
  writeFileSync(join(dir, 'exp.csv'), lines.join('\n') + '\n');
  writeFileSync(
    join(dir, 'flat.csv'),
    'kind,batch,context_tokens,prefill_tokens,ms\ndecode,1,0,,1\ndecode,1,100000,,1\nprefill,,,1,0\n',
  );
}

class Waits implements RequestLog {
  readonly waitS = new Float64Array(CUSTOMERS + 100_000);
  record(rq: RequestTable, q: number): void {
    const seq = rq.seq[q];
    if (seq < this.waitS.length) this.waitS[seq] = rq.firstTokenS[q] - rq.arrivalS[q];
  }
}

function simulateQueue(servers: number, ratePerS: number): { mean: number; half: number } {
  // Run long enough for CUSTOMERS arrivals, then use the first CUSTOMERS (all completed by then).
  const horizonS = Math.ceil((CUSTOMERS * 1.02) / ratePerS) + 200;
  const path = join(dir, `mmc-${servers}.yaml`);
  writeFileSync(
    path,
    `
name: mmc
horizon: ${horizonS}s
seed: 11
deployments:
  - { name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, max_batch: ${servers}, profile: flat.csv }
workloads:
  - name: w
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: ${ratePerS}/s }
    prompt_tokens: { dist: constant, value: 1 }
    output_tokens: { dist: empirical, file: exp.csv }
`,
  );
  const log = new Waits();
  const result = simulate(loadScenario(path), { requestLog: log });
  expect(result.arrivals).toBeGreaterThan(CUSTOMERS);
  const size = CUSTOMERS / BATCHES;
  const means: number[] = [];
  for (let b = 1; b < BATCHES; b++) {
    let sum = 0;
    for (let i = b * size; i < (b + 1) * size; i++) sum += log.waitS[i];
    means.push(sum / size);
  }
  const k = means.length;
  const mean = means.reduce((a, x) => a + x, 0) / k;
  const variance = means.reduce((a, x) => a + (x - mean) ** 2, 0) / (k - 1);
  const T_975_38 = 2.024;
  return { mean, half: T_975_38 * Math.sqrt(variance / k) };
}

/** Erlang C: probability that an arrival waits, c servers, offered load a = λ/μ. */
function erlangC(c: number, a: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < c; k++) {
    term *= a / k;
    sum += term;
  }
  const last = (term * a) / c;
  const rho = a / c;
  const top = last / (1 - rho);
  return top / (sum + top);
}

describe('queueing validation', () => {
  it('reproduces the M/M/1 mean wait (Pollaczek-Khinchine for the discretised exponential)', () => {
    const lambda = 0.8 / m1;
    const rho = lambda * m1;
    const expected = (lambda * m2) / (2 * (1 - rho));
    const { mean, half } = simulateQueue(1, lambda);
    expect(Math.abs(mean - expected)).toBeLessThanOrEqual(half);
    // The interval is informative: a few percent of the mean, not a free pass.
    expect(half).toBeLessThan(0.06 * expected);
  });

  it('reproduces the M/M/c mean wait (Erlang C) with c = 4 servers sharing a queue', () => {
    const c = 4;
    const lambda = 3.2 / m1;
    const a = lambda * m1;
    const expected = erlangC(c, a) * m1 / (c - a);
    const { mean, half } = simulateQueue(c, lambda);
    expect(Math.abs(mean - expected)).toBeLessThanOrEqual(half);
    expect(half).toBeLessThan(0.06 * expected);
  });
});
