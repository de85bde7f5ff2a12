import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { studentTQuantile, meanCi95 } from '../src/sweep/tdist.js';
import { applyEdits, parsePath, parseSetFlag } from '../src/sweep/paths.js';
import { expandGrid } from '../src/sweep/grid.js';
import { runSweep } from '../src/sweep/sweep.js';
import { InputError } from '../src/errors.js';
import { fleetsim, tempDir, withFiles } from './helpers/cli.js';

const SCENARIO = (extra = '') => `name: sweep-test
horizon: 2m
warmup: 10s
seed: 7
deployments:
  - { name: m7-h100, model: mistral-7b, silicon: h100-sxm, replicas: 2 }
workloads:
  - name: chat
    tenant: t
    model: mistral-7b
    arrival: { process: poisson, rate: 12/s }
    prompt_tokens: { dist: lognormal, median: 800, p99: 4000 }
    output_tokens: { dist: lognormal, median: 150, p99: 600 }
    slo: { ttft: 2s, tpot: 200ms }
${extra}`;

const readRows = (file: string) => parseCsv(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];

describe('Student t quantiles', () => {
  it('match tables for df = 1, 2, 5, 10, 30', () => {
    const known: [number, number][] = [[1, 12.7062047362], [2, 4.3026527297], [5, 2.5705818366], [10, 2.2281388520], [30, 2.0422724563]];
    for (const [df, t] of known) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 8);
    expect(studentTQuantile(0.95, 10)).toBeCloseTo(1.8124611228, 8);
  });

  it('half-width of a fixed spread shrinks like t/sqrt(n)', () => {
    const a = meanCi95([1, 3]);
    expect(a.mean).toBe(2);
    expect(a.halfWidth).toBeCloseTo((12.7062047362 * Math.SQRT2) / Math.SQRT2, 8);
    expect(meanCi95([5]).halfWidth).toBeNaN();
  });
});

describe('scenario paths and --set', () => {
  it('parses dotted paths with indices and refuses malformed ones', () => {
    expect(parsePath('workloads[0].arrival.rate', 'x')).toEqual(['workloads', 0, 'arrival', 'rate']);
    for (const bad of ['', 'a..b', 'a[x]', '[0]', 'a.', 'a b']) expect(() => parsePath(bad, 'x')).toThrow(InputError);
  });

  it('multiplies values with units and plain numbers, and reads --set values as YAML scalars', () => {
    const raw = { workloads: [{ arrival: { rate: '12/s' } }], deployments: [{ replicas: 3 }] };
    const out = applyEdits(raw, [
      { path: 'workloads[0].arrival.rate', value: '0.5x' },
      { path: 'deployments[0].replicas', value: '4x' },
    ], 'test') as typeof raw;
    expect(out.workloads[0].arrival.rate).toBe('6/s');
    expect(out.deployments[0].replicas).toBe(12);
    expect(raw.deployments[0].replicas).toBe(3);
    expect(parseSetFlag('deployments[0].replicas=8')).toEqual({ path: 'deployments[0].replicas', value: 8 });
    expect(parseSetFlag('workloads[0].arrival.rate=20/s').value).toBe('20/s');
    expect(() => applyEdits(raw, [{ path: 'deployments[3].replicas', value: 1 }], 'test')).toThrow(/has 1 entries, no index 3/);
  });

  it('gives a multiplied value as the decimal the analyst meant, not the product of two doubles', () => {
    // 6 * 0.3 and 7 * 1.1 are 1.7999999999999998 and 7.700000000000001 in doubles.
    const raw = { workloads: [{ arrival: { rate: '7/s' } }], deployments: [{ replicas: 6 }] };
    const out = applyEdits(raw, [
      { path: 'workloads[0].arrival.rate', value: '1.1x' },
      { path: 'deployments[0].replicas', value: '0.3x' },
    ], 'test') as typeof raw;
    expect(out.workloads[0].arrival.rate).toBe('7.7/s');
    expect(out.deployments[0].replicas).toBe(1.8);
    // Integers stay exact, even past 15 digits.
    const big = applyEdits({ seed: 2 ** 53 }, [{ path: 'seed', value: '1x' }], 'test') as { seed: number };
    expect(big.seed).toBe(2 ** 53);
  });

  it('expands a grid with the last path varying fastest', () => {
    const g = expandGrid({ a: [1, 2], b: ['x', 'y', 'z'] });
    expect(g.points.length).toBe(6);
    expect(g.points[1].edits).toEqual([{ path: 'a', value: 1 }, { path: 'b', value: 'y' }]);
    expect(g.points[3].edits).toEqual([{ path: 'a', value: 2 }, { path: 'b', value: 'x' }]);
  });

  it('run --set changes the scenario and a bad value is refused with its path and exit 2', () => {
    const dir = withFiles({ 's.yaml': SCENARIO() });
    const ok = fleetsim(['run', join(dir, 's.yaml'), '--out', join(dir, 'o'), '-q', '--set', 'deployments[0].replicas=5']);
    expect(ok.status).toBe(0);
    const total = readRows(join(dir, 'o', 'summary.csv')).find((r) => r.scope === 'total')!;
    expect(total.chips).toBe('5');
    const bad = fleetsim(['run', join(dir, 's.yaml'), '--out', join(dir, 'o2'), '--set', 'deployments[0].replicas=-1']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/deployments\[0\]\.replicas/);
  });

  it('--set takes YAML flow lists and maps: incidents=[] runs the scenario without its outage', () => {
    expect(parseSetFlag('incidents=[]')).toEqual({ path: 'incidents', value: [] });
    expect(parseSetFlag('workloads[0].slo={ttft: 1s, tpot: 50ms}').value).toEqual({ ttft: '1s', tpot: '50ms' });
    const outage = 'incidents:\n  - { at: 30s, duration: 1m, deployment: m7-h100 }\n';
    const dir = withFiles({ 'with.yaml': SCENARIO(outage), 'without.yaml': SCENARIO() });
    const run = (file: string, out: string, ...args: string[]) => {
      const r = fleetsim(['run', join(dir, file), '--out', join(dir, out), '-q', ...args]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      return readFileSync(join(dir, out, 'summary.csv'), 'utf8');
    };
    const withOutage = run('with.yaml', 'a');
    const cleared = run('with.yaml', 'b', '--set', 'incidents=[]');
    expect(cleared).toBe(run('without.yaml', 'c'));
    expect(cleared).not.toBe(withOutage);
    expect(run('without.yaml', 'd', '--set', 'incidents=[{at: 30s, duration: 1m, deployment: m7-h100}]')).toBe(withOutage);
    const bad = fleetsim(['run', join(dir, 'with.yaml'), '--out', join(dir, 'e'), '--set', 'incidents=[{at: 30s}]']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/incidents/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('--set PATH=null removes a key', () => {
  it('the file without the key and the file with --set KEY=null run identically', () => {
    expect(parseSetFlag('workloads[0].slo=null')).toEqual({ path: 'workloads[0].slo', value: null });
    expect(parseSetFlag('workloads[0].slo=~').value).toBeNull();
    const dir = withFiles({ 'with.yaml': SCENARIO(), 'without.yaml': SCENARIO().replace('warmup: 10s\n', '') });
    const run = (file: string, out: string, ...args: string[]) => {
      const r = fleetsim(['run', join(dir, file), '--out', join(dir, out), '-q', ...args]);
      expect(r.stderr).toBe('');
      return readFileSync(join(dir, out, 'summary.csv'), 'utf8');
    };
    const removed = run('with.yaml', 'a', '--set', 'warmup=null');
    expect(removed).toBe(run('without.yaml', 'b'));
    expect(removed).not.toBe(run('with.yaml', 'c'));
  });

  it('validate takes --set like run: the edited scenario is checked, a bad edit is exit 2 naming it', () => {
    const dir = withFiles({ 's.yaml': SCENARIO() });
    const ok = fleetsim(['validate', join(dir, 's.yaml'), '--set', 'deployments[0].replicas=5', '--set', 'warmup=null']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/ok \(1 deployment, 5 replicas, 1 workload/);
    const bad = fleetsim(['validate', join(dir, 's.yaml'), '--set', 'deployments[0].replicas=-1']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^fleetsim: error: --set deployments\[0\]\.replicas=-1: deployments\[0\]\.replicas: /);
  });

  it('removes a list entry, later entries moving up', () => {
    const raw = { workloads: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] };
    expect(applyEdits(raw, [parseSetFlag('workloads[1]=null')], '--set').workloads).toEqual([{ name: 'a' }, { name: 'c' }]);
    // Edits apply in order: after removing [0], the old [2] is [1].
    expect(applyEdits(raw, [parseSetFlag('workloads[0]=null'), parseSetFlag('workloads[1]=null')], '--set').workloads).toEqual([{ name: 'b' }]);
  });

  it('refuses a key or entry that is not there and an empty value, naming the edit', () => {
    const raw = { workloads: [{ name: 'chat', slo: { ttft: '2s' } }] };
    const at = (path: string) => () => applyEdits(raw, [parseSetFlag(path)], '--set');
    expect(at('workloads[0].slo.ttft=null')().workloads).toEqual([{ name: 'chat', slo: {} }]);
    expect(raw.workloads[0].slo).toEqual({ ttft: '2s' }); // edits work on a copy
    expect(at('workloads[0].sol=null')).toThrow(/scenario path "workloads\[0\]\.sol": the scenario has nothing there to remove/);
    expect(at('workloads[1]=null')).toThrow(/scenario path "workloads\[1\]": the scenario has nothing there to remove/);
    expect(() => parseSetFlag('workloads[0].slo=')).toThrow(/expected a number, string, boolean, null \(to remove the key\)/);
  });
});

describe('sweeps', () => {
  it('sweep.csv over replications keeps summary.csv precision: counts whole, money in cents (issue 21 item 5)', async () => {
    const dir = withFiles({ 's.yaml': SCENARIO('sweep:\n  "workloads[0].arrival.rate": [1x, 2x]\n') });
    await runSweep({ file: join(dir, 's.yaml'), outDir: join(dir, 'out'), workers: 1, replications: 3 });
    const rows = readRows(join(dir, 'out', 'sweep.csv'));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      for (const c of ['requests_arrived', 'requests_completed', 'input_tokens', 'output_tokens', 'chips']) if (r[c] !== '') expect(r[c]).toMatch(/^-?\d+$/);
      for (const c of ['cost_usd', 'revenue_usd', 'gross_margin_usd', 'idle_cost_usd']) expect(r[c]).toMatch(/^-?\d+\.\d\d$/);
      if (r.ttft_p99_s !== '') expect(r.ttft_p99_s).toMatch(/^\d+\.\d{6}$/);
    }
  });

  it('latency grows monotonically with a rate multiplier (common random numbers)', async () => {
    const dir = withFiles({ 's.yaml': SCENARIO('sweep:\n  "workloads[0].arrival.rate": [0.5x, 1x, 2x, 3x]\n') });
    await runSweep({ file: join(dir, 's.yaml'), outDir: join(dir, 'out'), workers: 1 });
    const rows = readRows(join(dir, 'out', 'sweep.csv')).filter((r) => r.scope === 'total');
    expect(rows.map((r) => r['workloads[0].arrival.rate'])).toEqual(['0.5x', '1x', '2x', '3x']);
    const e2e = rows.map((r) => Number(r.e2e_p50_s));
    const ttft = rows.map((r) => Number(r.ttft_p99_s));
    for (let i = 1; i < rows.length; i++) {
      expect(e2e[i]).toBeGreaterThan(e2e[i - 1]);
      expect(ttft[i]).toBeGreaterThanOrEqual(ttft[i - 1]);
    }
    const arrived = rows.map((r) => Number(r.requests_arrived));
    expect(arrived[3] / arrived[0]).toBeGreaterThan(5);
  });

  it('a one-point, one-replication sweep reproduces run summary rows exactly', async () => {
    const dir = withFiles({ 's.yaml': SCENARIO() });
    expect(fleetsim(['run', join(dir, 's.yaml'), '--out', join(dir, 'run'), '-q']).status).toBe(0);
    await runSweep({ file: join(dir, 's.yaml'), outDir: join(dir, 'sw'), workers: 1 });
    const summary = readFileSync(join(dir, 'run', 'summary.csv'), 'utf8').trim().split('\n').slice(1);
    const sweep = readFileSync(join(dir, 'sw', 'sweep.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.replace(/^0,1,/, ''));
    expect(sweep).toEqual(summary);
  });

  it('CI half-width shrinks like 1/sqrt(R)', async () => {
    const dir = withFiles({ 's.yaml': SCENARIO() });
    const hw = async (R: number) => {
      await runSweep({ file: join(dir, 's.yaml'), outDir: join(dir, `r${R}`), replications: R, workers: 1, horizonS: 60 });
      const rows = readRows(join(dir, `r${R}`, 'summary_ci.csv'));
      const row = rows.find((r) => r.scope === 'total' && r.metric === 'requests_arrived')!;
      expect(Number(row.replications)).toBe(R);
      return Number(row.ci95_half_width);
    };
    const h4 = await hw(4);
    const h36 = await hw(36);
    // Same spread, so h·sqrt(R)/t_{R−1} estimates the standard deviation both times.
    const sd4 = (h4 * 2) / studentTQuantile(0.975, 3);
    const sd36 = (h36 * 6) / studentTQuantile(0.975, 35);
    expect(h36).toBeLessThan(h4 / 2);
    expect(sd36 / sd4).toBeGreaterThan(0.4);
    expect(sd36 / sd4).toBeLessThan(2.5);
    // Poisson arrivals: the count's sd is about sqrt(mean).
    const mean = Number(readRows(join(dir, 'r36', 'summary_ci.csv')).find((r) => r.scope === 'total' && r.metric === 'requests_arrived')!.estimate);
    expect(sd36 / Math.sqrt(mean)).toBeGreaterThan(0.6);
    expect(sd36 / Math.sqrt(mean)).toBeLessThan(1.5);
  });

  it('--workers 1 and --workers 2 write the same bytes', () => {
    const dir = withFiles({ 's.yaml': SCENARIO('sweep:\n  "deployments[0].replicas": [1, 2, 3]\n') });
    const a = fleetsim(['sweep', join(dir, 's.yaml'), '--out', join(dir, 'w1'), '--workers', '1', '--replications', '2', '-q']);
    const b = fleetsim(['sweep', join(dir, 's.yaml'), '--out', join(dir, 'w2'), '--workers', '2', '--replications', '2', '-q']);
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    for (const f of ['sweep.csv', 'summary_ci.csv']) {
      expect(readFileSync(join(dir, 'w2', f), 'utf8')).toBe(readFileSync(join(dir, 'w1', f), 'utf8'));
    }
  });

  it('run --replications adds summary_ci.csv next to the usual reports', () => {
    const dir = withFiles({ 's.yaml': SCENARIO() });
    const r = fleetsim(['run', join(dir, 's.yaml'), '--out', join(dir, 'o'), '-q', '--replications', '3', '--workers', '1']);
    expect(r.status, r.stderr).toBe(0);
    const ci = readRows(join(dir, 'o', 'summary_ci.csv'));
    const arrived = ci.find((x) => x.scope === 'total' && x.metric === 'requests_arrived')!;
    expect(arrived.replications).toBe('3');
    expect(Number(arrived.ci95_half_width)).toBeGreaterThan(0);
    expect(ci.some((x) => x.metric === 'ttft_p99_s')).toBe(true);
    const summary = readRows(join(dir, 'o', 'summary.csv'));
    expect(summary.find((x) => x.scope === 'total')).toBeDefined();
  });

  it('refuses a bad --shard and a sweep path that is not in the scenario', () => {
    const dir = withFiles({ 's.yaml': SCENARIO('sweep:\n  "deployments[4].replicas": [1, 2]\n') });
    const bad = fleetsim(['sweep', join(dir, 's.yaml'), '--out', tempDir(), '--shard', '3/2']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--shard/);
    const path = fleetsim(['sweep', join(dir, 's.yaml'), '--out', tempDir()]);
    expect(path.status).toBe(2);
    expect(path.stderr).toMatch(/no index 4/);
  });
});
