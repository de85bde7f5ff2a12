/**
 * summary.csv's latency means (ttft_mean_s, tpot_mean_s, e2e_mean_s, itl_mean_s) against the
 * same means recomputed from requests.csv, per workload and in total, with a warmup and varying
 * output lengths (so mean TPOT and token-weighted ITL differ) and some one-token answers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../src/catalog/catalog.js';
import { loadScenario } from '../src/scenario/load.js';
import { runToDir } from '../src/index.js';
import { tempDir, withFiles } from './helpers/cli.js';

const SCENARIO = `
name: means
horizon: 10m
warmup: 1m
seed: 3
deployments:
  - { name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, max_batch: 32 }
workloads:
  - name: chat
    tenant: a
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 6/s }
    prompt_tokens: { dist: lognormal, median: 600, p99: 4000 }
    output_tokens: { dist: uniform, min: 1, max: 600 }
  - name: batch
    tenant: b
    model: llama-3.1-8b
    arrival: { process: closed, concurrency: 8, think_time: 1s }
    prompt_tokens: { dist: constant, value: 2000 }
    output_tokens: { dist: lognormal, median: 50, p99: 800 }
`;

type Row = Record<string, string>;

function means(rows: Row[]) {
  // The warmup is by the engine's clock: a request is measured when the engine sees it at 60 s or
  // later, frontend_ms after the client sent it (requests.csv arrival_s is the client's send time).
  const frontendS = [...loadCatalog().efficiency.values()].find((e) => e.silicon === 'h100-sxm' && e.stack === 'generic')!.frontendMs / 1000;
  const done = rows.filter((r) => (r.fate === 'completed' || r.fate === 'failed_over') && Number(r.arrival_s) >= 60 - frontendS);
  const decode = done.filter((r) => Number(r.output_tokens) > 1);
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  const decodeS = decode.map((r) => Number(r.e2e_s) - Number(r.ttft_s));
  return {
    n: done.length,
    ttft: mean(done.map((r) => Number(r.ttft_s))),
    e2e: mean(done.map((r) => Number(r.e2e_s))),
    tpot: mean(decode.map((r, i) => decodeS[i] / (Number(r.output_tokens) - 1))),
    itl: decodeS.reduce((a, x) => a + x, 0) / decode.reduce((a, r) => a + Number(r.output_tokens) - 1, 0),
  };
}

describe('latency means in summary.csv', () => {
  it('equal the means recomputed from requests.csv', () => {
    const dir = withFiles({ 's.yaml': SCENARIO });
    const out = tempDir();
    runToDir(loadScenario(join(dir, 's.yaml')), { outDir: out, requests: true });
    const requests = parse(readFileSync(join(out, 'requests.csv'), 'utf8'), { columns: true }) as Row[];
    const summary = parse(readFileSync(join(out, 'summary.csv'), 'utf8'), { columns: true }) as Row[];
    const check = (scope: string, key: string, rows: Row[]) => {
      const s = summary.find((r) => r.scope === scope && r.key === key)!;
      const m = means(rows);
      expect(m.n).toBeGreaterThan(300);
      // requests.csv rounds each time to 6 decimals, so the means agree to about 1e-6 s.
      expect(Number(s.ttft_mean_s)).toBeCloseTo(m.ttft, 5);
      expect(Number(s.e2e_mean_s)).toBeCloseTo(m.e2e, 5);
      expect(Number(s.tpot_mean_s)).toBeCloseTo(m.tpot, 5);
      expect(Number(s.itl_mean_s)).toBeCloseTo(m.itl, 5);
      return m;
    };
    check('total', 'all', requests);
    check('workload', 'chat', requests.filter((r) => r.workload === 'chat'));
    const batch = check('workload', 'batch', requests.filter((r) => r.workload === 'batch'));
    // Lognormal outputs: long answers (more tokens, batched with more others) pull the
    // token-weighted ITL away from the per-request mean, so the two columns are not one quantity.
    expect(Math.abs(batch.itl - batch.tpot) / batch.tpot).toBeGreaterThan(0.005);
    // A scope with no measured request has empty means, like its percentiles.
    const idle = summary.find((r) => r.key === '(idle capacity)');
    if (idle) expect([idle.ttft_mean_s, idle.itl_mean_s]).toEqual(['', '']);
  });
});

describe('frontend_ms and warmup', () => {
  it('a request sent at t = 0 is measured although its client-side arrival is frontend_ms before the start', () => {
    // The fitted profiles carry frontend_ms > 0: the recorded arrival is when the client sent the
    // request, frontend_ms before the engine saw it. With warmup 0 that put a trace's first row
    // (and a closed loop's first wave) before t = 0 and out of every latency figure.
    const dir = withFiles({
      's.yaml': `name: f
horizon: 1m
deployments: [{ name: d, model: mistral-7b, silicon: h100-sxm, replicas: 1 }]
workloads: [{ name: w, tenant: t, model: mistral-7b, arrival: { process: closed, concurrency: 1, requests: 1 }, prompt_tokens: { dist: constant, value: 500 }, output_tokens: { dist: constant, value: 100 } }]
catalog:
  efficiency: [{ silicon: h100-sxm, frontend_ms: 5 }]
`,
    });
    const out = tempDir();
    runToDir(loadScenario(join(dir, 's.yaml')), { outDir: out, requests: true });
    const total = (parse(readFileSync(join(out, 'summary.csv'), 'utf8'), { columns: true }) as Row[])[0];
    const req = (parse(readFileSync(join(out, 'requests.csv'), 'utf8'), { columns: true }) as Row[])[0];
    expect(Number(req.arrival_s)).toBeCloseTo(-0.005, 9);
    expect(total.ttft_p50_s).not.toBe('');
    expect(Number(total.ttft_mean_s)).toBeCloseTo(Number(req.ttft_s), 6);
    expect(total.slo_attainment_pct).toBe('100.00');
  });
});
