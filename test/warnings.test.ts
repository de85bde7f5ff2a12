/** Scenario warnings (issue 21 item 6): valid input that probably does not mean what it says. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/index.js';
import { fleetsim, withFiles } from './helpers/cli.js';

const scenario = (deployment: string, workload: string, extra = '') => `name: warns
horizon: 60s
deployments:
  - ${deployment}
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: ${workload} }
    prompt_tokens: { dist: constant, value: 1000 }
    output_tokens: { dist: constant, value: 200 }
${extra}`;

const H100 = '{ name: h100, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2 }';

describe('scenario warnings', () => {
  it('an outage lasting past the horizon warns at its duration, on stderr, even with --quiet', () => {
    const dir = withFiles({ 's.yaml': scenario(H100, '5/s', 'incidents:\n  - { at: 50s, duration: 30s, deployment: h100 }\n') });
    const r = fleetsim(['run', join(dir, 's.yaml'), '--out', join(dir, 'out'), '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^fleetsim: warning: .*s\.yaml:13:\d+: incidents\[0\]\.duration: the outage of h100 \(50s \+ 30s\) lasts past the horizon \(1m\)/m);
    expect(r.stdout).toBe('');
    const v = fleetsim(['validate', join(dir, 's.yaml')]);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/ok \(.*; 1 warning on stderr\)/);
    expect(v.stderr).toMatch(/lasts past the horizon/);
  });

  it('an SLO in milliseconds written without a unit (read as seconds) warns at the key; one with units does not', () => {
    const withSlo = (slo: string) => scenario(H100, '1/s').replace('    output_tokens: { dist: constant, value: 200 }\n', `    output_tokens: { dist: constant, value: 200 }\n    slo: ${slo}\n`);
    const dir = withFiles({ 'bare.yaml': withSlo('{ ttft: 1000, tpot: 50 }'), 'ok.yaml': withSlo('{ ttft: 1000ms, tpot: 50ms }') });
    const s = loadScenario(join(dir, 'bare.yaml'));
    expect(s.warnings).toHaveLength(2);
    expect(s.warnings[0]).toMatch(/bare\.yaml:12:\d+: workloads\[0\]\.slo\.ttft: a target of 16m40s is unusually long; a number without a unit is seconds \(write 1000ms for milliseconds\)/);
    expect(s.warnings[1]).toMatch(/workloads\[0\]\.slo\.tpot: a target of 50s/);
    expect(loadScenario(join(dir, 'ok.yaml')).warnings).toEqual([]);
    expect(fleetsim(['validate', '--strict', join(dir, 'bare.yaml')]).status).toBe(2);
  });

  it('a dtype the silicon has no hardware for warns: FP8 on Cobalt', () => {
    const dir = withFiles({ 's.yaml': scenario('{ name: cpu, model: llama-3.1-8b, silicon: cobalt-100, replicas: 4, dtype: fp8 }', '0.1/s') });
    const s = loadScenario(join(dir, 's.yaml'));
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/s\.yaml:4:\d+: deployments\[0\]\.dtype: cobalt-100 has no fp8 hardware \(fp8_tflops empty/);
    // int8 has a datapath there (int8_tops), and FP8 on H100 is native: no warning.
    expect(loadScenario(join(withFiles({ 's.yaml': scenario('{ name: cpu, model: llama-3.1-8b, silicon: cobalt-100, replicas: 4, dtype: int8 }', '0.1/s') }), 's.yaml')).warnings).toEqual([]);
    expect(loadScenario(join(withFiles({ 's.yaml': scenario('{ name: g, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, dtype: fp8 }', '1/s') }), 's.yaml')).warnings).toEqual([]);
  });

  it('demand above what the deployments serve saturated warns with both rates, from the same step-time model as explain', () => {
    const dir = withFiles({ 's.yaml': scenario(H100, '100/s') });
    const s = loadScenario(join(dir, 's.yaml'));
    expect(s.warnings).toHaveLength(1);
    const m = /send 100 requests\/s on average, but its deployments \(h100\) complete at most ([\d.]+) requests\/s \(([\d.]+) output tokens\/s\) when saturated, by the step-time model at the mean 1000 prompt and 200 output tokens: ([\d.]+)% more than they can serve/.exec(s.warnings[0]);
    expect(m, s.warnings[0]).not.toBeNull();
    // explain's full-load throughput per chip at the same lengths, times the 2 chips.
    const e = fleetsim(['explain', join(dir, 's.yaml'), '--format', 'csv']);
    const [head, row] = e.stdout.trim().split('\n').map((l) => l.split(','));
    const perChip = Number(row[head.indexOf('max_output_tokens_per_s_per_chip')]);
    expect(Number(m![2])).toBeCloseTo(2 * perChip, -1);
    expect(Number(m![1])).toBeCloseTo((2 * perChip) / 200, 0);
    expect(Number(m![3])).toBeCloseTo((100 / Number(m![1]) - 1) * 100, -1);
    // At a tenth of that capacity there is nothing to say.
    expect(loadScenario(join(withFiles({ 's.yaml': scenario(H100, `${(Number(m![1]) / 10).toFixed(2)}/s`) }), 's.yaml')).warnings).toEqual([]);
  });

  it('--strict turns warnings into exit 2 before anything is simulated or written', () => {
    const plan = 'plan:\n  targets: { ttft_p99: 1s }\n  candidates:\n    - { model: llama-3.1-8b, silicon: [h100-sxm] }\n';
    const dir = withFiles({ 's.yaml': scenario(H100, '100/s', `incidents:\n  - { at: 50s, duration: 30s, deployment: h100 }\n${plan}`) });
    for (const cmd of [['run'], ['sweep'], ['plan']]) {
      const out = join(dir, `out-${cmd[0]}`);
      const r = fleetsim([...cmd, join(dir, 's.yaml'), '--out', out, '--strict', '-q']);
      expect(r.status, `${cmd[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr.match(/^fleetsim: warning: /gm)).toHaveLength(2);
      expect(r.stderr).toMatch(/^fleetsim: error: --strict: the 2 warnings above: nothing simulated or written$/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    }
    expect(fleetsim(['validate', join(dir, 's.yaml'), '--strict']).status).toBe(2);
  });

  it('the quick-start scenario raises none', () => {
    expect(loadScenario(join(import.meta.dirname, '..', 'scenarios', 'multi-model-platform.yaml')).warnings).toEqual([]);
  });
});
