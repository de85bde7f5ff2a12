/**
 * Every prediction carries its error (issue 16 item 8): run.json `perf` per deployment (perf_basis,
 * the cross-validated band of its efficiency profile), summary.csv's cost-per-Mtok band and
 * perf_basis, the unmeasured chips (Maia, Cobalt) said so in run.json, on stderr and in plan.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { loadCatalog, resolveEfficiency } from '../src/catalog/catalog.js';
import { explainRows } from '../src/cli/explain.js';
import { perfErrorOf } from '../src/scenario/perf-error.js';
import { fleetsim, tempDir, withFiles } from './helpers/cli.js';

const catalog = loadCatalog();
const bandOf = (silicon: string) => resolveEfficiency(catalog, catalog.silicon.get(silicon)!)!.efficiency;

const PROFILE = `kind,batch,context_tokens,prefill_tokens,ms
decode,1,512,,8
decode,64,512,,20
prefill,,,512,30
`;

const SCENARIO = `
name: perf-error
horizon: 2m
seed: 1
deployments:
  - { name: on-h100, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }
  - { name: on-h200, model: llama-3.1-8b, silicon: h200, replicas: 1 }
  - { name: on-maia, model: llama-3.1-8b, silicon: maia-200, replicas: 1, dtype: fp8 }
  - { name: on-cobalt, model: mistral-7b, silicon: cobalt-100, replicas: 1, dtype: int8, max_batch: 16 }
  - { name: measured, model: mistral-7b, silicon: h100-sxm, replicas: 1, profile: p.csv }
routing: { policy: round-robin }
workloads:
  - name: chat
    tenant: a
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 3/s }
    prompt_tokens: { dist: constant, value: 300 }
    output_tokens: { dist: constant, value: 100 }
  - name: small
    tenant: b
    model: mistral-7b
    arrival: { process: poisson, rate: 1/s }
    prompt_tokens: { dist: constant, value: 200 }
    output_tokens: { dist: constant, value: 50 }
`;

type Row = Record<string, string>;

describe('every prediction carries its error', () => {
  const dir = withFiles({ 's.yaml': SCENARIO, 'p.csv': PROFILE });
  const out = tempDir();
  const r = fleetsim(['run', join(dir, 's.yaml'), '--out', out]);
  it('runs', () => expect(r.status, r.stderr).toBe(0));

  it('run.json lists perf_basis and the cross-validated band per deployment', () => {
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    const perf = new Map<string, Record<string, unknown>>(run.perf.map((p: Record<string, unknown>) => [p.deployment, p]));
    const h100 = perf.get('on-h100')!;
    const e = bandOf('h100-sxm');
    expect(e.basis).toBe('fitted');
    expect(h100).toMatchObject({ silicon: 'h100-sxm', perf_basis: 'calibrated', silicon_measured: true, cv_err_p10_pct: e.cvErrP10Pct, cv_err_p90_pct: e.cvErrP90Pct, cv_rows: e.cvRows });
    expect(Number.isFinite(e.cvErrP10Pct) && e.cvErrP10Pct < e.cvErrP90Pct).toBe(true);
    // A GPU with no measurement: its kind's fitted profile, whose band is leave-one-chip-out.
    const gpu = bandOf('h200');
    expect(gpu.silicon).toBe('gpu');
    expect(perf.get('on-h200')).toMatchObject({ perf_basis: 'kind-default', profile: 'gpu', silicon_measured: false, cv_err_p10_pct: gpu.cvErrP10Pct });
    expect(perf.get('on-h200')!.note).toMatch(/no measurement of h200/);
    for (const d of ['on-maia', 'on-cobalt']) {
      expect(perf.get(d)).toMatchObject({ perf_basis: 'kind-default', silicon_measured: false, cv_rows: null, cv_err_p10_pct: null, cv_err_p90_pct: null });
      expect(perf.get(d)!.note).toMatch(/no measurement of (maia-200|cobalt-100).*error unknown/);
    }
    expect(perf.get('measured')).toMatchObject({ perf_basis: 'measured-profile', cv_rows: null });
    // The unmeasured chips are in the assumptions too (report.html and report.xlsx show those).
    const assumptions = run.assumptions.join('\n');
    expect(assumptions).toMatch(/deployment on-maia performance: no measurement of maia-200/);
    expect(assumptions).toMatch(/deployment on-cobalt performance: no measurement of cobalt-100/);
    expect(assumptions).toMatch(/deployment on-h200 performance: no measurement of h200/);
    expect(assumptions).not.toMatch(/deployment on-h100 performance/);
  });

  it('says so on stderr', () => {
    expect(r.stderr).toMatch(/note: deployment on-maia: no measurement of maia-200/);
    expect(r.stderr).toMatch(/note: deployment on-cobalt: no measurement of cobalt-100/);
    expect(r.stderr).not.toMatch(/note: deployment on-h100/);
  });

  it('summary.csv gives the cost per Mtok band and perf_basis', () => {
    const rows = parse(readFileSync(join(out, 'summary.csv'), 'utf8'), { columns: true }) as Row[];
    const dep = (k: string) => rows.find((x) => x.scope === 'deployment' && x.key === k)!;
    const h = dep('on-h100');
    const e = bandOf('h100-sxm');
    const cost = Number(h.cost_usd_per_mtok_output);
    expect(cost).toBeGreaterThan(0);
    expect(Number(h.cost_usd_per_mtok_output_low)).toBeCloseTo(cost * (1 + e.cvErrP10Pct / 100), 1);
    expect(Number(h.cost_usd_per_mtok_output_high)).toBeCloseTo(cost * (1 + e.cvErrP90Pct / 100), 1);
    expect(Number(h.cost_usd_per_mtok_output_low)).toBeLessThan(Number(h.cost_usd_per_mtok_output_high));
    expect(h.perf_basis).toBe('calibrated');
    expect(dep('on-h200').perf_basis).toBe('kind-default');
    expect(dep('on-h200').cost_usd_per_mtok_output_low).not.toBe('');
    for (const k of ['on-maia', 'on-cobalt', 'measured']) {
      expect(dep(k).cost_usd_per_mtok_output).not.toBe('');
      expect(dep(k).cost_usd_per_mtok_output_low).toBe('');
      expect(dep(k).cost_usd_per_mtok_output_high).toBe('');
    }
    expect(dep('measured').perf_basis).toBe('measured-profile');
    // A scope with an unbanded deployment has no band; one whose deployments all have one sums them.
    const total = rows.find((x) => x.scope === 'total')!;
    expect(total.cost_usd_per_mtok_output_low).toBe('');
    expect(total.perf_basis).toBe('calibrated+kind-default+measured-profile');
    const h100Silicon = rows.find((x) => x.scope === 'model_silicon' && x.key === 'llama-3.1-8b/h100-sxm')!;
    expect(h100Silicon.cost_usd_per_mtok_output_low).toBe(h.cost_usd_per_mtok_output_low);
  });

  it('an efficiency row overridden in the scenario has no band', () => {
    const d2 = withFiles({
      's.yaml': `name: o
horizon: 1m
catalog:
  efficiency: [{ silicon: h100-sxm, stack: generic, gemm_eff: 0.5 }]
deployments: [{ name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }]
workloads: [{ name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 2/s }, prompt_tokens: { dist: constant, value: 100 }, output_tokens: { dist: constant, value: 20 } }]
`,
    });
    const o2 = tempDir();
    const r2 = fleetsim(['run', join(d2, 's.yaml'), '--out', o2]);
    expect(r2.status, r2.stderr).toBe(0);
    const run = JSON.parse(readFileSync(join(o2, 'run.json'), 'utf8'));
    expect(run.perf[0]).toMatchObject({ perf_basis: 'kind-default', cv_rows: null });
    expect(run.perf[0].note).toMatch(/error unknown/);
    const total = (parse(readFileSync(join(o2, 'summary.csv'), 'utf8'), { columns: true }) as Row[])[0];
    expect(total.cost_usd_per_mtok_output_low).toBe('');
  });

  it('plan gives the band of the answer, or says it is unknown', () => {
    const d3 = withFiles({
      's.yaml': `name: p
horizon: 2m
deployments: [{ name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }]
workloads: [{ name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 2/s }, prompt_tokens: { dist: constant, value: 200 }, output_tokens: { dist: constant, value: 50 } }]
plan:
  targets: { ttft_p99: 5s }
  candidates:
    - { model: llama-3.1-8b, silicon: [h100-sxm, maia-200], tensor_parallel: 1, dtype: fp8, max_replicas: 2 }
`,
    });
    const o3 = tempDir();
    const r3 = fleetsim(['plan', join(d3, 's.yaml'), '--out', o3]);
    expect(r3.status, r3.stderr).toBe(0);
    const rows = parse(readFileSync(join(o3, 'plan.csv'), 'utf8'), { columns: true }) as Row[];
    const h = rows.find((x) => x.fleet.startsWith('h100-sxm'))!;
    const e = bandOf('h100-sxm');
    expect(Number(h.cost_usd_per_mtok_output_low)).toBeCloseTo(Number(h.cost_usd_per_mtok_output) * (1 + e.cvErrP10Pct / 100), 1);
    expect(Number(h.cost_usd_per_mtok_output_high)).toBeCloseTo(Number(h.cost_usd_per_mtok_output) * (1 + e.cvErrP90Pct / 100), 1);
    expect(h.perf_basis).toBe('calibrated');
    const m = rows.find((x) => x.fleet.startsWith('maia-200'))!;
    expect(m.cost_usd_per_mtok_output_low).toBe('');
    expect(m.assumptions).toMatch(/maia-200 performance is predicted from datasheet specs: .*error is unknown/);
    expect(r3.stdout).toMatch(/error band: (\$[\d.]+ to \$[\d.]+\/M output tokens|unknown)/);
  });
});

// A stack the silicon's vendor cannot run (data/stacks.csv silicon_vendors): the profile it resolves
// to was cross-validated on chips that run the stack, so its band says nothing of this deployment.
describe('a stack foreign to the silicon has no error band', () => {
  const mi300x = catalog.silicon.get('mi300x')!;

  it('perfErrorOf: trtllm on MI300X has no band, generic on MI300X keeps the gpu band', () => {
    const trtllm = perfErrorOf(catalog, mi300x, resolveEfficiency(catalog, mi300x, 'trtllm')!, undefined);
    // The profile it resolves to does carry a band (the gpu@trtllm kind row): it is not applied.
    expect(resolveEfficiency(catalog, mi300x, 'trtllm')!.efficiency).toMatchObject({ silicon: 'gpu', stack: 'trtllm', basis: 'fitted' });
    expect(Number.isFinite(resolveEfficiency(catalog, mi300x, 'trtllm')!.efficiency.cvErrP10Pct)).toBe(true);
    expect(trtllm).toMatchObject({ hasBand: false, basis: 'kind-default', profile: 'gpu@trtllm' });
    expect(trtllm.cvRows).toBeNaN();
    expect(trtllm.errP10Pct).toBeNaN();
    expect(trtllm.foreignStack).toMatch(/stack trtllm runs on NVIDIA silicon only .*not on mi300x/);
    expect(trtllm.note).toMatch(/stack trtllm runs on NVIDIA silicon only.*band .*does not apply.*error unknown/);
    const generic = perfErrorOf(catalog, mi300x, resolveEfficiency(catalog, mi300x)!, undefined);
    expect(generic).toMatchObject({ hasBand: true, foreignStack: null, profile: 'gpu' });
  });

  it('explain prints no band, and says why', () => {
    const rows = explainRows(undefined, { model: 'llama-3.1-8b', silicon: 'mi300x', stack: 'trtllm', format: 'csv' });
    const cell = (name: string) => rows[1][rows[0].indexOf(name)];
    expect(cell('profile')).toBe('gpu@trtllm');
    for (const c of ['cv_rows', 'cv_mape_pct', 'cv_err_p10_pct', 'cv_err_p90_pct']) expect(cell(c), c).toBe('');
    expect(cell('perf_note')).toMatch(/runs on NVIDIA silicon only.*error unknown/);
  });

  it('run.json perf and assumptions: no band, with the reason; summary.csv has no cost band', () => {
    const d = withFiles({
      's.yaml': `name: foreign
horizon: 1m
deployments: [{ name: amd, model: llama-3.1-8b, silicon: mi300x, stack: trtllm, replicas: 1 }]
workloads: [{ name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 2/s }, prompt_tokens: { dist: constant, value: 100 }, output_tokens: { dist: constant, value: 20 } }]
`,
    });
    const o = tempDir();
    const r = fleetsim(['run', join(d, 's.yaml'), '--out', o]);
    expect(r.status, r.stderr).toBe(0);
    const run = JSON.parse(readFileSync(join(o, 'run.json'), 'utf8'));
    expect(run.perf[0]).toMatchObject({ profile: 'gpu@trtllm', perf_basis: 'kind-default', cv_rows: null, cv_mape_pct: null, cv_err_p10_pct: null, cv_err_p90_pct: null });
    expect(run.perf[0].note).toMatch(/runs on NVIDIA silicon only.*error unknown/);
    expect(run.assumptions.join('\n')).toMatch(/deployment amd performance: stack trtllm runs on NVIDIA silicon only/);
    const total = (parse(readFileSync(join(o, 'summary.csv'), 'utf8'), { columns: true }) as Row[])[0];
    expect(total.cost_usd_per_mtok_output).not.toBe('');
    expect(total.cost_usd_per_mtok_output_low).toBe('');
  });
});

// A stack with no profile of its own (vllm: data/efficiency.csv fits trtllm only): generic stands
// in, fitted to TensorRT-LLM's measurements, so its band says nothing of a vLLM server.
describe('a stack with no profile of its own has no error band', () => {
  it('perfErrorOf: vllm on H100 (its own generic row) and on H200 (the gpu row) have no band; no stack keeps it', () => {
    for (const id of ['h100-sxm', 'h200']) {
      const silicon = catalog.silicon.get(id)!;
      const resolved = resolveEfficiency(catalog, silicon, 'vllm')!;
      expect(resolved.stackFallback, id).toBe(true);
      expect(Number.isFinite(resolved.efficiency.cvErrP10Pct), id).toBe(true);
      const p = perfErrorOf(catalog, silicon, resolved, undefined);
      expect(p, id).toMatchObject({ hasBand: false, foreignStack: null });
      expect(p.cvRows, id).toBeNaN();
      expect(p.note, id).toMatch(new RegExp(`^stack vllm has no profile for ${id}: .*measured on another stack: error unknown`));
      expect(perfErrorOf(catalog, silicon, resolveEfficiency(catalog, silicon)!, undefined).hasBand, id).toBe(true);
    }
  });

  it('run.json and summary.csv: no band for a deployment that names vllm', () => {
    const d = withFiles({
      's.yaml': `name: vllm
horizon: 1m
deployments: [{ name: v, model: llama-3.1-8b, silicon: h100-sxm, stack: vllm, replicas: 1 }]
workloads: [{ name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 2/s }, prompt_tokens: { dist: constant, value: 100 }, output_tokens: { dist: constant, value: 20 } }]
`,
    });
    const o = tempDir();
    const r = fleetsim(['run', join(d, 's.yaml'), '--out', o]);
    expect(r.status, r.stderr).toBe(0);
    const run = JSON.parse(readFileSync(join(o, 'run.json'), 'utf8'));
    expect(run.perf[0]).toMatchObject({ profile: 'h100-sxm', cv_rows: null, cv_err_p10_pct: null, cv_err_p90_pct: null });
    expect(run.perf[0].note).toMatch(/stack vllm has no profile for h100-sxm/);
    const total = (parse(readFileSync(join(o, 'summary.csv'), 'utf8'), { columns: true }) as Row[])[0];
    expect(total.cost_usd_per_mtok_output_low).toBe('');
  });
});
