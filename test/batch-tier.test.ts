/**
 * The batch tier (issue 19 item 3, src/serving/batch-tier.ts): served only from replicas nothing
 * else wants, it never delays another request. The exact guarantee tested: on a fixed fleet
 * without prefix caching, adding a batch workload leaves every other request's fate, deployment,
 * TTFT and end time identical, bit for bit (random platforms: schedulers, routers, priorities,
 * quotas, queue limits, outages). Also: expired requests are counted and fates sum to arrivals,
 * the discount is billed, money adds up with every feature on (autoscaling, quotas, priorities,
 * prefixes, batch tier, whole and partial incidents, random failures), reruns are byte-identical.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { loadScenario, runToDir } from '../src/index.js';
import { simulate } from '../src/simulation/simulate.js';
import type { RequestTable } from '../src/engine/requests.js';
import { mulberry32 } from './helpers/random.js';
import { fleetsim, tempDir } from './helpers/cli.js';

type Row = Record<string, string>;

function randomText(caseSeed: number, withBatch: boolean): string {
  const rnd = mulberry32(caseSeed * 7727 + 5);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const sched = () => pick(['continuous', 'chunked', 'static']);
  const workloads = Array.from({ length: int(1, 3) }, (_, w) => `
  - name: w${w}
    tenant: t${w}
    model: llama-3.1-8b
    priority: ${pick(['interactive', 'standard'])}
    arrival: { process: poisson, rate: ${(0.5 + rnd() * 4).toFixed(2)}/s }
    prompt_tokens: { dist: lognormal, median: ${int(100, 1500)}, p99: 6000 }
    output_tokens: { dist: lognormal, median: ${int(20, 300)}, p99: 1200 }
    timeout: ${int(10, 60)}s${rnd() < 0.4 ? `\n    quota: { requests_per_min: ${int(60, 200)} }` : ''}`).join('');
  const batch = `
  - name: bulk
    tenant: t9
    model: llama-3.1-8b
    arrival: { process: poisson, rate: ${(0.5 + rnd() * 4).toFixed(2)}/s }
    prompt_tokens: { dist: lognormal, median: ${int(200, 3000)}, p99: 8000 }
    output_tokens: { dist: lognormal, median: ${int(50, 500)}, p99: 2000 }
    batch: { window: ${pick(['30s', '5m', '24h'])}, discount: 0.5 }`;
  return `
name: batch-${caseSeed}
horizon: 90s
seed: ${caseSeed}
report_interval: 15s
prefix_caching: false
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: ${int(1, 3)}, scheduler: ${sched()}, kv_fraction: ${(0.2 + rnd() * 0.05).toFixed(3)}, max_batch: ${int(4, 32)} }
  - { name: b, model: llama-3.1-8b, silicon: a100-80gb, replicas: ${int(1, 2)}, scheduler: ${sched()}, kv_fraction: ${(0.21 + rnd() * 0.05).toFixed(3)}, max_batch: ${int(4, 48)}${rnd() < 0.5 ? `, max_queue: ${int(5, 50)}` : ''} }
  - { name: c, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, scheduler: disaggregated, prefill_replicas: 1 }
workloads:${workloads}${withBatch ? batch : ''}
routing: { policy: ${pick(['least-outstanding', 'round-robin', 'prefix-aware', 'power-of-two'])}, failover: on-outage }
incidents:
  - { at: ${int(10, 60)}s, duration: ${int(5, 20)}s, deployment: ${pick(['a', 'b'])}, kind: outage }
`;
}

interface Ended {
  key: string;
  fate: number;
  deployment: number;
  firstTokenS: number;
  endS: number;
}

function file(text: string): string {
  const f = join(tempDir(), 's.yaml');
  writeFileSync(f, text);
  return f;
}

/** Every request of the non-batch workloads as it ended, keyed by (workload, arrival, lengths). */
function others(text: string): { ended: Map<string, Ended>; preemptions: number; batchServed: number } {
  const ended = new Map<string, Ended>();
  let batchServed = 0;
  const scenario = loadScenario(file(text));
  const bulk = scenario.workloads.findIndex((w) => w.name === 'bulk');
  const requestLog = {
    record(rq: RequestTable, q: number, deployment: number, fate: number, endS: number) {
      const w = rq.workload[q];
      if (w === bulk) {
        if (fate <= 1) batchServed++;
        return;
      }
      const key = `${w}/${rq.arrivalS[q]}/${rq.promptTokens[q]}/${rq.outputTokens[q]}`;
      expect(ended.has(key)).toBe(false);
      ended.set(key, { key, fate, deployment, firstTokenS: rq.firstTokenS[q], endS });
    },
  };
  const result = simulate(scenario, { requestLog });
  return { ended, preemptions: result.recorder.preemptions.reduce((a, b) => a + b, 0), batchServed };
}

const CASES = Array.from({ length: 12 }, (_, i) => i + 1);

describe('the batch tier never delays other requests', () => {
  let served = 0;
  it.each(CASES)('random platform %i: every other request ends exactly as without the batch workload', (caseSeed) => {
    const without = others(randomText(caseSeed, false));
    const withBatch = others(randomText(caseSeed, true));
    expect(without.ended.size).toBeGreaterThan(30);
    expect(withBatch.ended.size).toBe(without.ended.size);
    for (const [key, a] of without.ended) {
      const b = withBatch.ended.get(key);
      if (b === undefined || a.fate !== b.fate || a.deployment !== b.deployment || a.firstTokenS !== b.firstTokenS || a.endS !== b.endS) {
        expect(b, `request ${key}`).toEqual(a);
      }
    }
    served += withBatch.batchServed;
  });

  it('the random platforms served batch work (the property was exercised)', () => {
    expect(served).toBeGreaterThan(200);
  });
});

/** A trace of requests at the given times (seconds), 500-token prompts, 50-token answers. */
function trace(dir: string, name: string, timesS: number[]): string {
  const rows = ['TIMESTAMP,ContextTokens,GeneratedTokens'];
  for (const t of timesS) {
    const mm = String(Math.floor(t / 60)).padStart(2, '0');
    const ss = String(Math.floor(t % 60)).padStart(2, '0');
    rows.push(`2024-01-01 00:${mm}:${ss}.0000000,500,50`);
  }
  writeFileSync(join(dir, name), rows.join('\n') + '\n');
  return name;
}

function runDir(text: string, dir = tempDir()): { summary: Row[]; pnl: Row[]; requests: Row[]; out: string } {
  const f = join(dir, 's.yaml');
  writeFileSync(f, text);
  const out = join(dir, 'out');
  runToDir(loadScenario(f), { outDir: out, requests: true });
  const read = (x: string) => parse(readFileSync(join(out, x)), { columns: true }) as Row[];
  return { summary: read('summary.csv'), pnl: read('pnl.csv'), requests: read('requests.csv'), out };
}

const row = (rows: Row[], scope: string, key: string) => rows.find((r) => r.scope === scope && r.key === key)!;

describe('batch tier', () => {
  it('requests waiting past their window while the only deployment is down expire; later ones are served', () => {
    // The deployment is down from 0 to 60 s; 20 batch requests arrive at 1..20 s with a 30 s window,
    // so at 60 s all of them are past it. 10 more at 70..79 s are served.
    const dir = tempDir();
    trace(dir, 'b.csv', [...Array.from({ length: 20 }, (_, i) => i + 1), ...Array.from({ length: 10 }, (_, i) => 70 + i)]);
    const { summary, pnl, requests } = runDir(`
name: expire
horizon: 2m
report_interval: 10s
deployments:
  - { name: llama, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }
workloads:
  - { name: bulk, tenant: acme, model: llama-3.1-8b, arrival: { process: trace, file: b.csv }, batch: { window: 30s } }
incidents:
  - { at: 0s, duration: 60s, deployment: llama }
`, dir);
    const total = row(summary, 'total', 'all');
    expect(Number(total.requests_arrived)).toBe(30);
    expect(Number(total.requests_expired)).toBe(20);
    expect(Number(total.requests_completed)).toBe(10);
    // Trace times count from its first row: the expired are the 20 that arrived in the first 20 s.
    const expired = requests.filter((r) => r.fate === 'expired').map((r) => Number(r.arrival_s));
    expect(expired.length).toBe(20);
    expect(Math.max(...expired)).toBeLessThan(20);
    // Each expires at its deadline, arrival + window, not when the replica comes back at 60 s.
    for (const r of requests.filter((x) => x.fate === 'expired')) expect(Number(r.e2e_s)).toBeCloseTo(30, 6);
    expect(pnl.reduce((n, r) => n + Number(r.requests_expired), 0)).toBe(20);
    // Never billed: revenue is that of the 10 served at half the list price (checked below).
    expect(Number(total.input_tokens)).toBe(10 * 500);
  });

  it('is billed at (1 - discount) x price, and its revenue is the (idle capacity) row\'s batch_revenue_usd', () => {
    const dir = tempDir();
    trace(dir, 'b.csv', Array.from({ length: 100 }, (_, i) => i));
    const text = (discount: number) => `
name: discount
horizon: 2m
deployments:
  - { name: llama, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }
workloads:
  - { name: bulk, tenant: acme, model: llama-3.1-8b, arrival: { process: trace, file: b.csv }, batch: { window: 1h, discount: ${discount} } }
pricing:
  - { model: llama-3.1-8b, input_usd_per_mtok: 20, output_usd_per_mtok: 60 }
`;
    const full = row(runDir(text(0), dir).summary, 'total', 'all');
    const half = runDir(text(0.5), dir).summary;
    // 100 x (500 x 20 + 50 x 60) / 1e6 = 1.30 USD at list price; 0.65 at half.
    expect(full.revenue_usd).toBe('1.30');
    expect(row(half, 'total', 'all').revenue_usd).toBe('0.65');
    expect(row(half, 'total', 'all').batch_revenue_usd).toBe('0.65');
    expect(row(half, 'workload', '(idle capacity)').batch_revenue_usd).toBe('0.65');
    expect(row(half, 'workload', 'bulk').batch_revenue_usd).toBe('0.65');
  });

  it('with every feature on: fates sum to arrivals in every scope, money adds up, reruns are byte-identical', () => {
    const text = `
name: all-on
horizon: 3m
seed: 7
report_interval: 30s
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, kv_fraction: 0.25, autoscale: { min: 1, max: 3, target: 4, interval: 15s, scale_up_delay: 20s, scale_down_delay: 30s }, failures: { mtbf: 40s, mttr: 10s } }
  - { name: b, model: llama-3.1-8b, silicon: a100-80gb, replicas: 1, scheduler: chunked, max_queue: 20 }
workloads:
  - { name: chat, tenant: t1, model: llama-3.1-8b, priority: interactive, arrival: { process: poisson, rate: 4/s }, prompt_tokens: { dist: lognormal, median: 600, p99: 4000 }, output_tokens: { dist: lognormal, median: 150, p99: 800 }, quota: { requests_per_min: 180 }, prefix: { tokens: 800, groups: 3 } }
  - { name: api, tenant: t2, model: llama-3.1-8b, arrival: { process: poisson, rate: 2/s }, prompt_tokens: { dist: lognormal, median: 900, p99: 5000 }, output_tokens: { dist: lognormal, median: 200, p99: 900 }, timeout: 20s }
  - { name: bulk, tenant: t2, model: llama-3.1-8b, arrival: { process: poisson, rate: 3/s }, prompt_tokens: { dist: lognormal, median: 1500, p99: 6000 }, output_tokens: { dist: lognormal, median: 300, p99: 1500 }, batch: { window: 40s, discount: 0.5 } }
tenants:
  - { name: t2, quota: { tokens_per_min: 400000 } }
incidents:
  - { at: 60s, duration: 20s, deployment: b }
  - { at: 100s, duration: 30s, deployment: a, replicas: 1 }
`;
    const a = runDir(text);
    const b = runDir(text);
    for (const f of readdirSync(a.out)) {
      if (f === 'run.json') continue;
      expect(readFileSync(join(b.out, f), 'utf8'), f).toBe(readFileSync(join(a.out, f), 'utf8'));
    }
    const fates = ['completed', 'failed_over', 'rejected', 'timed_out', 'lost', 'throttled', 'expired'];
    for (const r of a.summary) expect(fates.reduce((n, x) => n + Number(r[`requests_${x}`]), 0), `${r.scope} ${r.key}`).toBe(Number(r.requests_arrived));
    const total = row(a.summary, 'total', 'all');
    expect(Number(total.requests_throttled)).toBeGreaterThan(0);
    expect(Number(total.requests_expired)).toBeGreaterThan(0);
    expect(Number(total.requests_completed)).toBeGreaterThan(0);
    expect(Number(total.replica_failures)).toBeGreaterThan(0);
    expect(Number(total.replica_hours_down)).toBeGreaterThan(0);
    expect(a.requests.length).toBe(Number(total.requests_arrived));
    const cents = (x: string) => Math.round(Number(x) * 100);
    const sum = (rows: Row[], c: string) => rows.reduce((n, r) => n + cents(r[c]), 0);
    for (const c of ['revenue_usd', 'vendor_payout_usd', 'cost_usd', 'gross_margin_usd', 'idle_cost_usd', 'batch_revenue_usd']) {
      // pnl's (idle capacity) rows repeat the batch revenue its tenant rows carry.
      const pnlRows = c === 'batch_revenue_usd' ? a.pnl.filter((r) => r.tenant !== '(idle capacity)') : a.pnl;
      expect(sum(pnlRows, c), c).toBe(cents(total[c]));
    }
    for (const scope of ['tenant', 'workload']) {
      const rows = a.summary.filter((r) => r.scope === scope);
      for (const c of ['revenue_usd', 'cost_usd', 'requests_arrived', 'requests_expired', 'requests_throttled']) {
        expect(rows.reduce((n, r) => n + Number(r[c]) * (c.endsWith('usd') ? 100 : 1), 0), `${scope} ${c}`).toBeCloseTo(Number(total[c]) * (c.endsWith('usd') ? 100 : 1), 6);
      }
    }
    expect(cents(total.revenue_usd) - cents(total.vendor_payout_usd) - cents(total.cost_usd)).toBe(cents(total.gross_margin_usd));
    expect(row(a.summary, 'workload', '(idle capacity)').batch_revenue_usd).toBe(total.batch_revenue_usd);
  });

  it('a scenario without a batch tier has no requests_expired or batch_revenue_usd column', () => {
    const dir = tempDir();
    trace(dir, 'b.csv', [1, 2, 3]);
    const { summary, pnl } = runDir(`
name: plain
horizon: 1m
deployments:
  - { name: llama, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }
workloads:
  - { name: chat, tenant: acme, model: llama-3.1-8b, arrival: { process: trace, file: b.csv } }
`, dir);
    for (const rows of [summary, pnl]) {
      expect(Object.keys(rows[0])).not.toContain('requests_expired');
      expect(Object.keys(rows[0])).not.toContain('batch_revenue_usd');
    }
  });

  it.each([
    ['priority: interactive, ', 'workloads[0].priority', 'cannot set priority interactive'],
    ['fallback: [mixtral-8x7b], ', 'workloads[0].fallback', 'cannot set fallback'],
    ['timeout: 10s, ', 'workloads[0].timeout', 'batch.window is how long'],
    ['', 'workloads[0].batch.discount', '', '{ discount: 1.5 }'],
    ['', 'workloads[0].batch.window', 'expected a positive duration', '{ window: 0s }'],
  ])('bad batch input (%s) exits 2 naming %s', (extra, path, message, batch = '{ window: 1h }') => {
    const dir = tempDir();
    trace(dir, 'b.csv', [1]);
    const f = join(dir, 's.yaml');
    writeFileSync(f, `
name: bad
horizon: 1m
deployments:
  - { name: llama, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }
  - { name: mix, model: mixtral-8x7b, silicon: mi300x, replicas: 1 }
workloads:
  - { name: bulk, tenant: acme, model: llama-3.1-8b, ${extra}arrival: { process: trace, file: b.csv }, batch: ${batch} }
`);
    const r = fleetsim(['validate', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a batch workload whose model only a disaggregated deployment serves exits 2', () => {
    const dir = tempDir();
    trace(dir, 'b.csv', [1]);
    const f = join(dir, 's.yaml');
    writeFileSync(f, `
name: bad
horizon: 1m
deployments:
  - { name: llama, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, scheduler: disaggregated, prefill_replicas: 1 }
workloads:
  - { name: bulk, tenant: acme, model: llama-3.1-8b, arrival: { process: trace, file: b.csv }, batch: {} }
`);
    const r = fleetsim(['validate', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('workloads[0].batch');
    expect(r.stderr).toContain('disaggregated');
  });
});
