/**
 * Quotas (issue 19 item 2, src/serving/quota.ts): a token bucket of one minute's allowance, full at
 * the start, refilled at limit / 60 per second; a request over its workload's or tenant's limit is
 * `throttled`: counted, never queued, never billed. The counts below are hand-computed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { loadScenario, runToDir } from '../src/index.js';
import { fleetsim, tempDir } from './helpers/cli.js';

type Row = Record<string, string>;

/** A trace of `n` requests every `everyS` seconds from t = 0 (100-token prompts, 20-token answers). */
function trace(dir: string, n: number, everyS: number): string {
  const rows = ['TIMESTAMP,ContextTokens,GeneratedTokens'];
  for (let i = 0; i < n; i++) {
    const t = i * everyS;
    const ss = String(Math.floor(t % 60)).padStart(2, '0');
    const mm = String(Math.floor(t / 60)).padStart(2, '0');
    const frac = (t % 1).toFixed(7).slice(2);
    rows.push(`2024-01-01 00:${mm}:${ss}.${frac},100,20`);
  }
  writeFileSync(join(dir, 't.csv'), rows.join('\n') + '\n');
  return 't.csv';
}

function scenario(workloads: string, tenants = ''): { dir: string; file: string } {
  const dir = tempDir();
  trace(dir, 240, 0.5);
  trace(dir, 240, 0.5);
  const file = join(dir, 's.yaml');
  writeFileSync(
    file,
    `name: quota
horizon: 3m
seed: 1
deployments:
  - { name: llama, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2 }
workloads:
${workloads}
${tenants}
`,
  );
  return { dir, file };
}

const workload = (name: string, extra: string, file = 't.csv') =>
  `  - { name: ${name}, tenant: acme, model: llama-3.1-8b, arrival: { process: trace, file: ${file} }${extra} }`;

function run(file: string): { summary: Row[]; pnl: Row[]; requests: Row[] } {
  const out = join(tempDir(), 'out');
  runToDir(loadScenario(file), { outDir: out, requests: true });
  const read = (f: string) => parse(readFileSync(join(out, f)), { columns: true }) as Row[];
  return { summary: read('summary.csv'), pnl: read('pnl.csv'), requests: read('requests.csv') };
}

const row = (rows: Row[], scope: string, key: string) => rows.find((r) => r.scope === scope && r.key === key)!;

/**
 * 2 req/s (k = 0..239 at t = k/2) against 60 requests per minute: the bucket holds 60 - k/2 before
 * arrival k, so k = 0..118 pass (119, the burst); from k = 119 the bucket alternates 0.5 and 1:
 * every odd k is throttled, every even k passes. 119 + 60 = 179 pass, 61 are throttled.
 */
const PASSED = 179;
const THROTTLED = 61;

describe('quotas', () => {
  it('requests_per_min 60 at 2 req/s throttles exactly every other request after the burst', () => {
    const { file } = scenario(workload('chat', ', quota: { requests_per_min: 60 }'));
    const { summary, requests } = run(file);
    const total = row(summary, 'total', 'all');
    expect(Number(total.requests_arrived)).toBe(240);
    expect(Number(total.requests_throttled)).toBe(THROTTLED);
    expect(Number(total.requests_completed)).toBe(PASSED);
    const byId = new Map(requests.map((r) => [Number(r.request_id), r.fate]));
    for (let k = 0; k < 240; k++) expect(byId.get(k), `request ${k}`).toBe(k >= 119 && k % 2 === 1 ? 'throttled' : 'completed');
  });

  it('tokens_per_min counts prompt + output tokens: 7,200 a minute is 60 requests of 120 tokens', () => {
    const { file } = scenario(workload('chat', ', quota: { tokens_per_min: 7200 }'));
    const total = row(run(file).summary, 'total', 'all');
    expect(Number(total.requests_throttled)).toBe(THROTTLED);
    expect(Number(total.requests_completed)).toBe(PASSED);
  });

  it('a tenant quota is shared by its workloads: at equal times the earlier workload goes first', () => {
    // Two workloads at 1 req/s each, arriving together at every whole second t = 0..119; the
    // tenant's bucket holds 60 - t before the pair: both pass for t <= 58, then only the first.
    const dir = tempDir();
    trace(dir, 120, 1);
    const file = join(dir, 's.yaml');
    writeFileSync(
      file,
      `name: tenant-quota
horizon: 3m
deployments:
  - { name: llama, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2 }
workloads:
${workload('a', '')}
${workload('b', '')}
tenants:
  - { name: acme, quota: { requests_per_min: 60 } }
`,
    );
    const { summary, pnl } = run(file);
    expect(Number(row(summary, 'workload', 'a').requests_throttled)).toBe(0);
    expect(Number(row(summary, 'workload', 'b').requests_throttled)).toBe(61);
    expect(Number(row(summary, 'workload', 'b').requests_completed)).toBe(59);
    expect(Number(row(summary, 'tenant', 'acme').requests_arrived)).toBe(240);
    // pnl.csv counts them too; throttled requests are never billed.
    expect(pnl.reduce((n, r) => n + Number(r.requests_throttled), 0)).toBe(61);
  });

  it('throttled requests earn nothing: revenue equals that of the requests that passed', () => {
    const limited = run(scenario(workload('chat', ', quota: { requests_per_min: 60 }')).file).summary;
    const total = row(limited, 'total', 'all');
    // 179 requests of 100 + 20 tokens at the catalog price: revenue follows the served tokens only.
    expect(Number(total.input_tokens)).toBe(PASSED * 100);
    expect(Number(total.output_tokens)).toBe(PASSED * 20);
    for (const r of limited) {
      const fates = ['completed', 'failed_over', 'rejected', 'timed_out', 'lost', 'throttled'];
      expect(fates.reduce((n, f) => n + Number(r[`requests_${f}`]), 0)).toBe(Number(r.requests_arrived));
    }
  });

  it('a scenario without quotas has no requests_throttled column', () => {
    const { summary, pnl } = run(scenario(workload('chat', '')).file);
    expect(Object.keys(summary[0])).not.toContain('requests_throttled');
    expect(Object.keys(pnl[0])).not.toContain('requests_throttled');
  });

  it.each([
    [', quota: {}', 'workloads[0].quota', 'expected requests_per_min, tokens_per_min or both'],
    [', quota: { requests_per_min: -1 }', 'workloads[0].quota.requests_per_min', ''],
    [', quota: { request_per_min: 5 }', 'workloads[0].quota', 'request_per_min'],
  ])('bad quota %s exits 2 naming the field', (extra, path, message) => {
    const { file } = scenario(workload('chat', extra));
    const r = fleetsim(['validate', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a tenants[] entry naming no workload\'s tenant exits 2', () => {
    const { file } = scenario(workload('chat', ''), 'tenants:\n  - { name: acmee, quota: { requests_per_min: 5 } }');
    const r = fleetsim(['validate', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('tenants[0].name');
    expect(r.stderr).toContain('no workload has tenant "acmee"');
  });
});
