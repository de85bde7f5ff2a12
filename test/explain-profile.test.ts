/**
 * What a deployment's step times rest on, where a user looks first: `explain` names the efficiency
 * profile row (silicon or kind, stack), whether it was fitted (to what) or assumed, and its
 * cross-validated band, as run.json perf[] records; and a `stack:` that has no profile of its own
 * for the silicon, that no data file knows, or that does not run on the silicon's vendor is said on
 * stderr (as run's other warnings) instead of falling back silently.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadCatalog } from '../src/catalog/catalog.js';
import { loadScenario } from '../src/index.js';
import { fleetsim, ROOT, withFiles } from './helpers/cli.js';

const QUICK_START = join(ROOT, 'scenarios', 'multi-model-platform.yaml');
type Row = Record<string, string>;
const csv = (text: string) => parse(text, { columns: true }) as Row[];

describe('explain: the efficiency profile behind each deployment', () => {
  it('csv: profile, perf_basis, fitted or assumed (to what), the band and the note, as the loaded scenario (run.json perf[]) has them', () => {
    const r = fleetsim(['explain', QUICK_START, '--format', 'csv']);
    expect(r.status, r.stderr).toBe(0);
    const rows = csv(r.stdout);
    const scenario = loadScenario(QUICK_START);
    expect(rows.map((x) => x.deployment)).toEqual(scenario.deployments.map((d) => d.name));
    const cell = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '');
    for (const [i, d] of scenario.deployments.entries()) {
      const row = rows[i];
      expect(row.stack).toBe(d.stack);
      expect(row.profile).toBe(d.perfError.profile);
      expect(row.perf_basis).toBe(d.perfError.basis);
      expect(row.profile_basis).toBe(d.efficiency.basis);
      expect(row.fitted_to).toBe(d.efficiency.fittedTo);
      expect(row.perf_note).toBe(d.perfError.note);
      expect([row.cv_mape_pct, row.cv_err_p10_pct, row.cv_err_p90_pct]).toEqual(
        d.perfError.hasBand ? [d.perfError.cvMapePct, d.perfError.errP10Pct, d.perfError.errP90Pct].map(cell) : ['', '', ''],
      );
    }
    // The quick start's measured chip and its unmeasured ones, both ways.
    const h100 = rows.find((x) => x.silicon === 'h100-sxm')!;
    expect([h100.profile, h100.perf_basis, h100.profile_basis]).toEqual(['h100-sxm', 'calibrated', 'fitted']);
    expect(h100.fitted_to).toMatch(/data\/measurements\/.*lines/);
    expect(Number(h100.cv_rows)).toBeGreaterThan(0);
    const cobalt = rows.find((x) => x.silicon === 'cobalt-100')!;
    expect([cobalt.profile, cobalt.perf_basis, cobalt.profile_basis, cobalt.fitted_to, cobalt.cv_rows]).toEqual(['cpu', 'kind-default', 'assumed', '', '']);
    expect(cobalt.perf_note).toMatch(/error unknown/);
  });

  it('table: the profile columns, and the notes and fitted_to below it, every line within 100 columns', () => {
    const r = fleetsim(['explain', QUICK_START]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^profile +accelerator +h100-sxm +gpu +gpu$/m);
    expect(r.stdout).toMatch(/^profile_basis +assumed +fitted +fitted +fitted$/m);
    expect(r.stdout).toMatch(/^what the step times rest on \(as run\.json perf\[\] records/m);
    expect(r.stdout).toMatch(/^ {2}- no measurement of cobalt-100: /m);
    expect(r.stdout).toMatch(/^ {2}- profile h100-sxm fitted to data\/measurements\//m);
    expect(r.stdout).not.toMatch(/^(fitted_to|perf_note)\b/m);
    for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
  });

  it('--model/--silicon with --stack names the stack\'s own row', () => {
    const r = fleetsim(['explain', '--model', 'llama-3.1-8b', '--silicon', 'h100-sxm', '--stack', 'trtllm', '--format', 'csv']);
    expect(r.status).toBe(0);
    const [row] = csv(r.stdout);
    const e = loadCatalog().efficiency.get('h100-sxm@trtllm')!;
    expect([row.stack, row.profile, row.profile_basis, row.fitted_to]).toEqual(['trtllm', 'h100-sxm@trtllm', e.basis, e.fittedTo]);
    expect(r.stderr).toBe('');
  });
});

describe('a stack the silicon has no profile for, or does not run', () => {
  const scenario = (deployments: string) => `name: stacks
horizon: 1m
deployments:
${deployments}
workloads:
  - { name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 1/s }, prompt_tokens: { dist: constant, value: 200 }, output_tokens: { dist: constant, value: 50 } }
`;

  it('warns at the deployment\'s stack, naming the profile that stands in; none for a stack with a row', () => {
    const dir = withFiles({
      's.yaml': scenario(
        [
          '  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, stack: vllm, replicas: 1 }',
          '  - { name: b, model: llama-3.1-8b, silicon: maia-200, stack: trtllm-0.17, replicas: 1 }',
          '  - { name: c, model: llama-3.1-8b, silicon: h100-sxm, stack: trtlm, replicas: 1 }',
          '  - { name: d, model: llama-3.1-8b, silicon: h200, stack: trtllm, replicas: 1 }',
          '  - { name: e, model: llama-3.1-8b, silicon: h100-sxm, stack: trtllm-0.17, replicas: 1 }',
          '  - { name: f, model: llama-3.1-8b, silicon: mi300x, replicas: 1 }',
        ].join('\n'),
      ),
    });
    const warnings = loadScenario(join(dir, 's.yaml')).warnings;
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/s\.yaml:4:\d+: deployments\[0\]\.stack: no efficiency profile for stack vllm on h100-sxm or its kind gpu in data\/efficiency\.csv: the h100-sxm profile \(stack generic\) is used instead/);
    expect(warnings[1]).toMatch(/deployments\[1\]\.stack: no efficiency profile for stack trtllm-0\.17 \(or trtllm\) on maia-200 or its kind accelerator/);
    expect(warnings[2]).toMatch(/deployments\[1\]\.stack: stack trtllm-0\.17 runs on NVIDIA silicon only \(data\/stacks\.csv silicon_vendors\), not on maia-200 \(a Microsoft accelerator\)/);
    expect(warnings[3]).toMatch(/deployments\[2\]\.stack: unknown stack "trtlm": neither data\/efficiency\.csv nor data\/stacks\.csv names it, .*\(did you mean "trtllm"\?\)/);
    // validate prints them as run's other warnings; --strict refuses.
    const v = fleetsim(['validate', join(dir, 's.yaml')]);
    expect(v.status).toBe(0);
    expect(v.stderr.split('\n').filter((l) => l.startsWith('fleetsim: warning: '))).toHaveLength(4);
    expect(fleetsim(['validate', join(dir, 's.yaml'), '--strict']).status).toBe(2);
    // explain says so too.
    expect(fleetsim(['explain', join(dir, 's.yaml'), '--format', 'csv']).stderr).toMatch(/^fleetsim: warning: .*deployments\[0\]\.stack: no efficiency profile for stack vllm/m);
  });

  it('a CPU with a TensorRT-LLM stack, from explain --stack', () => {
    const r = fleetsim(['explain', '--model', 'mistral-7b', '--silicon', 'cobalt-100', '--stack', 'trtllm', '--format', 'csv']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^fleetsim: warning: --stack trtllm: no efficiency profile for stack trtllm on cobalt-100 or its kind cpu/m);
    expect(r.stderr).toMatch(/^fleetsim: warning: --stack trtllm: stack trtllm runs on NVIDIA silicon only .*not on cobalt-100 \(a Microsoft cpu\)/m);
  });

  it('a measurement row whose stack does not run on its silicon: fidelity and calibrate warn at the row', () => {
    const header = 'model,silicon,tensor_parallel,dtype,stack,prompt_tokens,output_tokens,concurrency,rate_per_s,requests,metric,value,source';
    const dir = withFiles({ 'm.csv': `${header}\nllama-3.1-8b,h100-sxm,1,fp8,trtllm-0.17,256,32,1,,4,itl_mean_s,0.01,x\nllama-3.1-8b,mi300x,1,fp8,trtllm-0.17,256,32,1,,4,itl_mean_s,0.01,x\n` });
    const r = fleetsim(['fidelity', join(dir, 'm.csv'), '-q']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^fleetsim: warning: [^\n]*m\.csv:3: stack trtllm-0\.17 runs on NVIDIA silicon only \(data\/stacks\.csv silicon_vendors\), not on mi300x \(an AMD gpu\): check the row's stack or silicon\n$/);
    const c = fleetsim(['calibrate', join(dir, 'm.csv'), '--out', join(dir, 'out'), '--params', 'mem_eff', '--max-evals', '3', '--no-cv', '-q']);
    expect(c.status).toBe(0);
    expect(c.stderr).toMatch(/m\.csv:3: stack trtllm-0\.17 runs on NVIDIA silicon only/);
  });
});
