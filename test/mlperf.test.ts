// The calibration point of the GPU efficiency factors (data/efficiency.csv): the bundled MLPerf
// scenario must reproduce MLPerf v4.1 llama2-70b Offline on H100 (3,017 generated tok/s per GPU,
// ../shared/reference/mlperf_calibration.csv) within ±10%.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadScenario, simulate } from '../src/index.js';
import { FATE_COMPLETED, FATE_COUNT, FATE_REJECTED } from '../src/metrics/recorder.js';
import { fleetsim } from './helpers/cli.js';

const scenarioPath = fileURLToPath(new URL('../scenarios/mlperf-llama2-70b-h100.yaml', import.meta.url));
const MLPERF_OFFLINE_TOK_S_PER_GPU = 3017;

describe('MLPerf llama2-70b H100 calibration', () => {
  const scenario = loadScenario(scenarioPath);
  const result = simulate(scenario);
  const rec = result.recorder;
  const sum = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0);
  let completed = 0;
  for (let a = 0; a < rec.outputTokens.length; a++) completed += rec.fates[a * FATE_COUNT + FATE_COMPLETED];

  it('lands within ±10% of 3,017 generated tok/s per GPU', () => {
    const chips = scenario.deployments.reduce((n, d) => n + d.replicas * d.tensorParallel, 0);
    const perGpu = sum(rec.outputTokens) / result.endS / chips;
    expect(perGpu).toBeGreaterThan(MLPERF_OFFLINE_TOK_S_PER_GPU * 0.9);
    expect(perGpu).toBeLessThan(MLPERF_OFFLINE_TOK_S_PER_GPU * 1.1);
  });

  it('is saturated (Offline-style) by a closed loop: the horizon ends the run, nothing is turned away', () => {
    let rejected = 0;
    for (let a = 0; a < rec.outputTokens.length; a++) rejected += rec.fates[a * FATE_COUNT + FATE_REJECTED];
    expect(rejected).toBe(0);
    // 200,000 requests to send; the 20 minutes complete about 98,000, so users were still waiting.
    expect(completed).toBeGreaterThan(80_000);
    expect(completed).toBeLessThan(150_000);
  });

  it('uses MLPerf-like lengths: about 290 generated tokens per sample, prompts under 1,024', () => {
    const meanOut = sum(rec.outputTokens) / completed;
    const meanIn = sum(rec.inputTokens) / completed;
    expect(meanOut).toBeGreaterThan(260);
    expect(meanOut).toBeLessThan(320);
    expect(meanIn).toBeLessThan(1024);
  });

  it('validates without a warning: a closed loop saturates without queues that grow for the whole run', () => {
    const r = fleetsim(['validate', scenarioPath]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
});
