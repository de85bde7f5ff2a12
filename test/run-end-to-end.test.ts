import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { fleetsim, listDir, ROOT, SMALL_SCENARIO, tempDir, withFiles } from './helpers/cli.js';
import { SUMMARY_COLUMNS, names } from '../src/report/columns.js';

type Row = Record<string, string>;
const readCsv = (path: string): Row[] => parse(readFileSync(path), { columns: true }) as Row[];

describe('fleetsim run on the bundled multi-model platform', () => {
  let out: string;
  let summary: Row[];
  beforeAll(() => {
    out = join(tempDir(), 'out');
    const r = fleetsim(['run', 'scenarios/multi-model-platform.yaml', '--out', out, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    summary = readCsv(join(out, 'summary.csv'));
  });

  it('writes the four reports and nothing else', () => {
    expect(listDir(out).sort()).toEqual(['pnl.csv', 'run.json', 'summary.csv', 'timeseries.csv']);
  });

  it('has every summary column DESIGN §4 lists, in the documented order', () => {
    const header = readFileSync(join(out, 'summary.csv'), 'utf8').split('\n')[0].split(',');
    expect(header).toEqual(names(SUMMARY_COLUMNS));
    for (const c of ['requests_arrived', 'requests_failed_over', 'ttft_p99_s', 'tpot_p99_s', 'e2e_p99_s', 'slo_attainment_pct',
      'chip_hours', 'busy_pct', 'capacity_used_pct', 'energy_kwh', 'cost_usd', 'revenue_usd', 'vendor_payout_usd', 'gross_margin_pct', 'cost_usd_per_mtok_output']) {
      expect(header).toContain(c);
    }
  });

  it('has a total row and rows for each deployment, model, silicon, tenant and workload', () => {
    const scopes = (s: string) => summary.filter((r) => r.scope === s).map((r) => r.key);
    expect(scopes('total')).toEqual(['all']);
    expect(scopes('deployment')).toHaveLength(5);
    expect(scopes('model')).toEqual(['gpt-4o', 'llama-3.1-70b', 'mixtral-8x7b', 'claude-sonnet', 'mistral-7b']);
    expect(scopes('silicon')).toEqual(['maia-200', 'h100-sxm', 'mi300x', 'h200', 'cobalt-100']);
    expect(scopes('tenant')).toEqual(['contoso-bank', 'fabrikam-retail', 'northwind-health', '(idle capacity)']);
    expect(scopes('workload')).toHaveLength(7);
  });

  it('fails requests over during the GPT-4o outage, onto the fallback models', () => {
    const total = summary.find((r) => r.scope === 'total')!;
    expect(Number(total.requests_failed_over)).toBeGreaterThan(1000);
    const gpt = summary.find((r) => r.scope === 'model' && r.key === 'gpt-4o')!;
    expect(Number(gpt.requests_failed_over)).toBe(0);
    const llama = summary.find((r) => r.scope === 'model' && r.key === 'llama-3.1-70b')!;
    expect(Number(llama.requests_failed_over)).toBeGreaterThan(0);
    // During the outage minutes the GPT-4o fleet completes nothing.
    const ts = readCsv(join(out, 'timeseries.csv')).filter((r) => r.deployment === 'gpt4o-maia200');
    const during = ts.filter((r) => Number(r.interval_start_s) >= 1260 && Number(r.interval_start_s) < 1800);
    expect(during.length).toBe(9);
    for (const r of during) expect(Number(r.requests_served)).toBe(0);
  });

  it('records the run in run.json', () => {
    const info = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(info.seed).toBe(42);
    expect(info.requests_arrived).toBe(Number(summary[0].requests_arrived));
    expect(info.scenario_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(info.assumptions.length).toBeGreaterThan(0);
  });
});

describe('determinism', () => {
  const run = (seed?: string) => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO });
    const out = join(dir, 'out');
    const args = ['run', join(dir, 'scenario.yaml'), '--out', out, '--quiet', '--requests'];
    if (seed) args.push('--seed', seed);
    expect(fleetsim(args).status).toBe(0);
    const files = ['summary.csv', 'timeseries.csv', 'pnl.csv', 'requests.csv'];
    return Object.fromEntries(files.map((f) => [f, readFileSync(join(out, f), 'utf8')]));
  };

  it('gives byte-identical CSVs for the same scenario and seed', () => {
    expect(run()).toEqual(run());
  });

  it('gives the same run.json but for the two fields that time the run itself', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO });
    const info = (out: string) => {
      expect(fleetsim(['run', 'scenario.yaml', '--out', out, '--quiet'], dir).status).toBe(0);
      const json = JSON.parse(readFileSync(join(dir, out, 'run.json'), 'utf8')) as Record<string, unknown>;
      expect(json.wall_time_s).toBeGreaterThan(0);
      expect(json.requests_per_wall_s).toBeGreaterThan(0);
      delete json.wall_time_s;
      delete json.requests_per_wall_s;
      return json;
    };
    expect(info('a')).toEqual(info('b'));
  });

  it('gives different CSVs for another --seed', () => {
    const a = run();
    const b = run('4');
    expect(a['summary.csv']).not.toEqual(b['summary.csv']);
    expect(a['requests.csv']).not.toEqual(b['requests.csv']);
  });
});

describe('requests.csv', () => {
  it('is written with --requests, one row per arrived request', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO });
    const out = join(dir, 'out');
    expect(fleetsim(['run', join(dir, 'scenario.yaml'), '--out', out, '-q', '--requests']).status).toBe(0);
    const requests = readCsv(join(out, 'requests.csv'));
    const total = readCsv(join(out, 'summary.csv')).find((r) => r.scope === 'total')!;
    expect(requests.length).toBe(Number(total.requests_arrived));
    const ids = new Set(requests.map((r) => r.request_id));
    expect(ids.size).toBe(requests.length);
    // In the order they ended: arrival + e2e never decreases (each printed to 1e-6 s).
    const endsS = requests.map((r) => Number(r.arrival_s) + Number(r.e2e_s));
    for (let i = 1; i < endsS.length; i++) expect(endsS[i]).toBeGreaterThanOrEqual(endsS[i - 1] - 2e-6);
    expect(new Set(endsS).size).toBeGreaterThan(requests.length / 2);
  });

  it('runs from any folder with the scenario path relative to it', () => {
    const r = fleetsim(['validate', 'multi-model-platform.yaml'], join(ROOT, 'scenarios'));
    expect(r.status).toBe(0);
  });
});

describe('requests.csv sampling', () => {
  it('writes about the asked fraction, a subset of the full file, without changing any other report', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO });
    const run = (out: string, extra: string[]) =>
      expect(fleetsim(['run', join(dir, 'scenario.yaml'), '--out', join(dir, out), '-q', ...extra]).status).toBe(0);
    run('all', ['--requests']);
    run('quarter', ['--requests-sample', '0.25']);
    const all = readCsv(join(dir, 'all', 'requests.csv'));
    const quarter = readCsv(join(dir, 'quarter', 'requests.csv'));
    expect(quarter.length / all.length).toBeGreaterThan(0.22);
    expect(quarter.length / all.length).toBeLessThan(0.28);
    const full = new Map(all.map((r) => [r.request_id, JSON.stringify(r)]));
    for (const r of quarter) expect(full.get(r.request_id)).toBe(JSON.stringify(r));
    for (const f of ['summary.csv', 'pnl.csv', 'timeseries.csv']) {
      expect(readFileSync(join(dir, 'quarter', f), 'utf8')).toBe(readFileSync(join(dir, 'all', f), 'utf8'));
    }
  });

  it('refuses a fraction outside (0, 1]', () => {
    const r = fleetsim(['run', 'scenarios/azure-conv-trace.yaml', '--out', join(tempDir(), 'o'), '--requests-sample', '1.5']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/expected a fraction/);
  });
});

describe('an --out directory written again', () => {
  it('holds only the new run: reports the new run does not write are removed, files of the user kept', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO });
    const out = join(dir, 'out');
    const first = fleetsim(['run', 'scenario.yaml', '--out', out, '--requests', '--replications', '2', '--workers', '1', '--quiet'], dir);
    expect(first.status).toBe(0);
    expect(listDir(out).sort()).toEqual(['pnl.csv', 'requests.csv', 'run.json', 'summary.csv', 'summary_ci.csv', 'timeseries.csv']);
    writeFileSync(join(out, 'notes.txt'), 'mine\n');
    const second = fleetsim(['run', 'scenario.yaml', '--out', out, '--seed', '7', '--quiet'], dir);
    expect(second.status).toBe(0);
    expect(listDir(out).sort()).toEqual(['notes.txt', 'pnl.csv', 'run.json', 'summary.csv', 'timeseries.csv']);
    expect((JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { seed: number }).seed).toBe(7);
  });

  it('by a sweep: a shard partial left there goes when the whole sweep is written', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO });
    const out = join(dir, 'out');
    expect(fleetsim(['sweep', 'scenario.yaml', '--out', out, '--shard', '1/2', '--workers', '1', '--quiet'], dir).status).toBe(0);
    expect(listDir(out)).toEqual(['partial.json']);
    expect(fleetsim(['sweep', 'scenario.yaml', '--out', out, '--workers', '1', '--quiet'], dir).status).toBe(0);
    expect(listDir(out)).toEqual(['sweep.csv']);
  });

  it('by a merge into a shard directory: the shard partial stays', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO });
    for (const shard of ['1/2', '2/2']) {
      const out = join(dir, `s${shard[0]}`);
      expect(fleetsim(['sweep', 'scenario.yaml', '--out', out, '--shard', shard, '--workers', '1', '--quiet'], dir).status).toBe(0);
    }
    expect(fleetsim(['merge', 's1', 's2', '--out', 's1', '--quiet'], dir).status).toBe(0);
    expect(listDir(join(dir, 's1')).sort()).toEqual(['partial.json', 'sweep.csv']);
  });
});
