import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { loadScenario, simulate } from '../src/index.js';
import { planScenario } from '../src/plan/plan.js';
import { fleetsim, withFiles } from './helpers/cli.js';
import { periodicTrace } from './helpers/trace.js';

const scenario = (horizonS: number, plan = '') => `name: plan-known-answer
horizon: ${horizonS}
seed: 1
deployments:
  - { name: one, model: mistral-7b, silicon: h100-sxm, replicas: 1, max_batch: 1 }
workloads:
  - name: steady
    tenant: t
    model: mistral-7b
    arrival: { process: trace, file: trace.csv }
${plan}`;

describe('plan', () => {
  it('finds the replica count computable by hand: ceil(arrival rate x service time)', () => {
    // One request alone on one replica: its service time S.
    const probe = withFiles({ 's.yaml': scenario(600), 'trace.csv': periodicTrace(1, 1) });
    const alone = simulate(loadScenario(join(probe, 's.yaml')));
    const serviceS = alone.recorder.e2e[0].quantile(0.5);
    const ttftAloneS = alone.recorder.ttft[0].quantile(0.5);
    expect(serviceS).toBeGreaterThan(3 * ttftAloneS);

    // Arrivals every S/5.5: with max_batch 1, five replicas fall ever further behind, six never queue.
    const intervalS = serviceS / 5.5;
    const horizonS = Math.ceil(200 * serviceS);
    const count = Math.floor(horizonS / intervalS);
    const plan = `plan:
  targets: { ttft_p99: ${serviceS}, attainment_pct: 99 }
  candidates:
    - { model: mistral-7b, silicon: [h100-sxm], tensor_parallel: 1, max_batch: 1, max_replicas: 16 }
`;
    const dir = withFiles({ 's.yaml': scenario(horizonS, plan), 'trace.csv': periodicTrace(count, intervalS) });
    const result = planScenario(join(dir, 's.yaml'));
    const rows = result.byModel.get('mistral-7b')!;
    expect(rows[0].rank).toBe(1);
    expect(rows[0].fleet).toEqual([{ silicon: 'h100-sxm', replicas: 6, tensorParallel: 1 }]);
    expect(rows[0].ttftP99S).toBeLessThan(serviceS);
    // Bracketing 1, 2, 4, 8 then bisecting 4..8 visits 5 and 6, and no more.
    expect(result.simulations).toBeLessThanOrEqual(6);

    const capped = withFiles({
      's.yaml': scenario(horizonS, plan.replace('max_replicas: 16', 'max_replicas: 5')),
      'trace.csv': periodicTrace(count, intervalS),
    });
    const r = fleetsim(['plan', join(capped, 's.yaml'), '--out', join(capped, 'out'), '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/mistral-7b: NO fleet within the allowed silicon and max_replicas meets the SLO targets/);
    const csv = parseCsv(readFileSync(join(capped, 'out', 'plan.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(csv).toHaveLength(1);
    expect(csv[0]).toMatchObject({ fleet: 'h100-sxm x5', feasible: 'no', rank: '' });
    expect(csv[0].note).toMatch(/up to 5 replicas/);
  });

  it('bundled silicon-mix-plan: GPUs and Maia serve both models, Cobalt only the 7B one', () => {
    const result = planScenario(join(import.meta.dirname, '..', 'scenarios', 'silicon-mix-plan.yaml'));
    const small = result.byModel.get('mistral-7b')!;
    const large = result.byModel.get('llama-3.1-70b')!;
    const cobalt = (rows: typeof small) => rows.find((r) => r.fleet.length === 1 && r.fleet[0].silicon === 'cobalt-100')!;
    expect(cobalt(small).feasible).toBe(true);
    expect(cobalt(small).usdPerHour).toBeGreaterThan(small[0].usdPerHour);
    expect(cobalt(large).feasible).toBe(false);
    expect(cobalt(large).tpotP99S).toBeGreaterThan(0.2);
    for (const rows of [small, large]) {
      expect(rows[0].rank).toBe(1);
      const feasible = rows.filter((r) => r.feasible);
      for (let i = 1; i < feasible.length; i++) expect(feasible[i].usdPerHour).toBeGreaterThanOrEqual(feasible[i - 1].usdPerHour);
    }
  });

  it('refuses a plan naming a model no workload uses, at its line', () => {
    const dir = withFiles({ 'trace.csv': periodicTrace(10, 1) });
    writeFileSync(
      join(dir, 's.yaml'),
      scenario(60, 'plan:\n  targets: { ttft_p99: 1s }\n  candidates:\n    - { model: llama-3.1-70b, silicon: [h100-sxm] }\n'),
    );
    const r = fleetsim(['plan', join(dir, 's.yaml'), '--out', join(dir, 'out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/s\.yaml:\d+:\d+: plan\.candidates\[0\]\.model: no workload asks for model "llama-3.1-70b"/);
  });

  it('candidates inherit the scenario deployment settings of their model unless the plan overrides them (issue 21 item 1)', () => {
    const inherit = (candidate: string) => `name: plan-inherits
horizon: 2m
seed: 3
deployments:
  - { name: llama-fp8, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, dtype: fp8, scheduler: chunked, chunk_tokens: 256, max_batch: 64 }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 30/s }
    prompt_tokens: { dist: lognormal, median: 2000, p99: 6000 }
    output_tokens: { dist: constant, value: 100 }
plan:
  targets: { ttft_p99: 400ms, attainment_pct: 0 }
  candidates:
    - { model: llama-3.1-8b, silicon: [h100-sxm, maia-200], tensor_parallel: 1, max_replicas: 8${candidate} }
  mixes: false
`;
    const plan = (candidate: string) => {
      const dir = withFiles({ 's.yaml': inherit(candidate) });
      return planScenario(join(dir, 's.yaml')).byModel.get('llama-3.1-8b')!;
    };
    const inherited = plan('');
    const h100 = (rows: typeof inherited) => rows.find((r) => r.fleet[0].silicon === 'h100-sxm')!;
    expect(h100(inherited).settings).toMatchObject({
      dtype: 'fp8', kvDtype: 'fp8', scheduler: 'chunked', maxBatch: 64, other: 'chunk_tokens=256', from: 'deployment llama-fp8',
    });
    // The same fleets and figures as a plan that repeats the deployment's settings...
    const repeated = plan(', dtype: fp8, scheduler: chunked, max_batch: 64');
    expect(h100(repeated).fleet).toEqual(h100(inherited).fleet);
    expect(h100(repeated).ttftP99S).toBe(h100(inherited).ttftP99S);
    // ...and not those of bf16, which the old default silently planned.
    const bf16 = plan(', dtype: bf16');
    expect(h100(bf16).settings).toMatchObject({ dtype: 'bf16', kvDtype: 'bf16', scheduler: 'chunked', from: 'deployment llama-fp8 + plan dtype' });
    expect(h100(bf16).ttftP99S).not.toBe(h100(inherited).ttftP99S);

    // plan.csv and stdout name every setting and the assumptions behind price and performance.
    const dir = withFiles({ 's.yaml': inherit('') });
    const r = fleetsim(['plan', join(dir, 's.yaml'), '--out', join(dir, 'out'), '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\n {2}settings: fp8, kv fp8, chunked, max_batch 64, chunk_tokens=256 \(from deployment llama-fp8\)\n/);
    const csv = parseCsv(readFileSync(join(dir, 'out', 'plan.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    for (const row of csv) {
      expect(row).toMatchObject({ dtype: 'fp8', kv_dtype: 'fp8', scheduler: 'chunked', max_batch: '64', other_settings: 'chunk_tokens=256' });
    }
    const maia = csv.find((row) => row.fleet.startsWith('maia-200'))!;
    expect(maia.assumptions).toMatch(/maia-200 price \$14\.18\/chip-hour is an assumption/);
    expect(maia.assumptions).toMatch(/maia-200 performance is predicted from datasheet specs/);
    // H100 is priced from a source and its factors were fitted to H100 measurements.
    expect(csv.find((row) => row.fleet.startsWith('h100-sxm'))!.assumptions).toBe('');
    const best = csv.find((row) => row.rank === '1')!;
    for (const a of best.assumptions ? best.assumptions.split('; ') : []) expect(r.stdout).toContain(`  assumption: ${a}\n`);
  });
});
