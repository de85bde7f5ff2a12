/**
 * The next arrival among many workloads comes from a queue of their streams (simulate's
 * arrivalQueue), among few from a scan. Both must give the very same run, ties included: streams
 * replaying one trace arrive at identical instants, and those must still run in the order their
 * arrivals were drawn.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { simulate } from '../src/simulation/simulate.js';
import { ROOT, tempDir } from './helpers/cli.js';
import { Capture } from './helpers/capture.js';

const dir = tempDir('fleetsim-streams-');

const trace = join(ROOT, 'data', 'traces', 'AzureLLMInferenceTrace_code.csv');

/** `tenants` workloads: every other one replays the same trace (identical arrival times), the rest Poisson. */
function scenarioText(tenants: number): string {
  const workloads = Array.from({ length: tenants }, (_, i) => {
    const arrival =
      i % 2 === 0
        ? `{ process: trace, file: ${trace}, speedup: 4 }`
        : `{ process: poisson, rate: ${(0.5 + i / 4).toFixed(2)}/s }`;
    const lengths =
      i % 2 === 0 ? '' : `\n    prompt_tokens: { dist: lognormal, median: 800, p99: 4000 }\n    output_tokens: { dist: uniform, min: 1, max: 300 }`;
    return `  - name: w${i}\n    tenant: t${i % 5}\n    model: ${(i >> 1) % 2 === 0 ? 'llama-3.1-8b' : 'mistral-7b'}\n    arrival: ${arrival}${lengths}`;
  });
  return `
name: streams-${tenants}
horizon: 120s
warmup: 0s
seed: 11
report_interval: 30s
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 3 }
  - { name: b, model: mistral-7b, silicon: a100-80gb, replicas: 3 }
workloads:
${workloads.join('\n')}
`;
}

function run(tenants: number, streamsScanned: number) {
  const path = join(dir, `streams-${tenants}.yaml`);
  writeFileSync(path, scenarioText(tenants));
  const log = new Capture();
  const result = simulate(loadScenario(path), { requestLog: log, streamsScanned });
  return { result, rows: log.rows };
}

describe('arrival streams: queue against scan', () => {
  it.each([3, 12, 40])('%i workloads: the same requests, in the same order, with identical times', (tenants) => {
    const queued = run(tenants, 0);
    const scanned = run(tenants, Infinity);
    expect(queued.rows.length).toBeGreaterThan(500);
    expect(queued.rows).toEqual(scanned.rows);
    expect(queued.result.events).toBe(scanned.result.events);
    expect(Array.from(queued.result.recorder.fates)).toEqual(Array.from(scanned.result.recorder.fates));
    // Streams on the one trace do arrive together: ties are exercised.
    const arrivals = queued.rows.map((r) => r.arrivalS).sort((x, y) => x - y);
    expect(arrivals.some((t, i) => i > 0 && t === arrivals[i - 1])).toBe(true);
  });

  it('arrivals are numbered in time order whichever way the next stream is found', () => {
    for (const scanned of [0, Infinity]) {
      const rows = [...run(12, scanned).rows].sort((x, y) => x.seq - y.seq);
      for (let i = 1; i < rows.length; i++) expect(rows[i].arrivalS).toBeGreaterThanOrEqual(rows[i - 1].arrivalS);
    }
  });
});
