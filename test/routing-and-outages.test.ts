import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadScenario, runToDir } from '../src/index.js';
import { tempDir } from './helpers/cli.js';

type Row = Record<string, string>;

function run(yaml: string, overrides: { seed?: number } = {}) {
  const dir = tempDir();
  writeFileSync(join(dir, 's.yaml'), yaml);
  runToDir(loadScenario(join(dir, 's.yaml'), overrides), { outDir: join(dir, 'out'), requests: true });
  const read = (f: string) => parse(readFileSync(join(dir, 'out', f)), { columns: true }) as Row[];
  return {
    summary: read('summary.csv'),
    requests: read('requests.csv'),
    pnl: read('pnl.csv'),
    text: readFileSync(join(dir, 'out', 'summary.csv'), 'utf8'),
  };
}
const row = (rows: Row[], scope: string, key: string) => rows.find((r) => r.scope === scope && r.key === key)!;

const base = (deployments: string, workloads: string, extra = '') => `name: t
horizon: 10m
seed: 5
report_interval: 1m
deployments:
${deployments}
workloads:
${workloads}
${extra}`;

describe('routing, queues and outages', () => {
  it('moves requests off a failed deployment to the healthy fallback, never to a sibling replica that is failing too', () => {
    const { summary } = run(
      base(
        `  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 3, dtype: fp8, max_queue: 4 }
  - { name: b, model: mistral-7b, silicon: h100-sxm, replicas: 8, dtype: fp8 }`,
        `  - { name: w, tenant: t, model: llama-3.1-8b, fallback: [mistral-7b], arrival: { process: poisson, rate: 60/s },
      prompt_tokens: { dist: constant, value: 2000 }, output_tokens: { dist: constant, value: 400 } }`,
        'incidents:\n  - { at: 5m, duration: 2m, deployment: a }',
      ),
    );
    const total = row(summary, 'total', 'all');
    expect(Number(total.requests_failed_over)).toBeGreaterThan(0);
    expect(Number(total.requests_lost)).toBe(0);
  });

  it('sends an arrival to a replica with room before turning it away because another replica\'s queue is full', () => {
    const { summary } = run(
      base(
        `  - { name: fast, model: mistral-7b, silicon: h100-sxm, replicas: 1, dtype: fp8, max_batch: 4, max_queue: 2 }
  - { name: slow, model: mistral-7b, silicon: cobalt-100, replicas: 1, dtype: int8, max_batch: 4, max_queue: 2 }`,
        `  - { name: w, tenant: t, model: mistral-7b, arrival: { process: poisson, rate: 2/s },
      prompt_tokens: { dist: constant, value: 200 }, output_tokens: { dist: constant, value: 50 } }`,
        'routing: { policy: round-robin }',
      ),
    );
    expect(Number(row(summary, 'total', 'all').requests_rejected)).toBe(0);
  });

  it('books a request lost on a fallback deployment at that deployment, not at its primary', () => {
    const { requests } = run(
      base(
        `  - { name: A, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, dtype: fp8 }
  - { name: C, model: mistral-7b, silicon: h100-sxm, replicas: 1, dtype: fp8 }`,
        `  - { name: w, tenant: t, model: llama-3.1-8b, fallback: [mistral-7b], arrival: { process: poisson, rate: 20/s },
      prompt_tokens: { dist: constant, value: 500 }, output_tokens: { dist: constant, value: 300 } }`,
        'incidents:\n  - { at: 1m, duration: 8m, deployment: A }\n  - { at: 3m, duration: 1m, deployment: C }',
      ),
    );
    const lost = requests.filter((r) => r.fate === 'lost');
    expect(lost.length).toBeGreaterThan(0);
    for (const r of lost) expect(r.deployment).toBe('C');
  });

  // Least-outstanding routing rules whole deployments in or out before it compares replicas, so
  // two deployments of one model with adjacent replica ids must still be judged each on its own.
  it('least-outstanding judges adjacent deployments of one model separately: outages, KV size, queue limits', () => {
    const { requests } = run(
      base(
        `  - { name: small, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, kv_fraction: 0.2, max_queue: 1 }
  - { name: down, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, dtype: fp8 }
  - { name: big, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, dtype: fp8 }`,
        `  - { name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 8/s },
      prompt_tokens: { dist: uniform, min: 100, max: 20000 }, output_tokens: { dist: constant, value: 100 } }`,
        'incidents:\n  - { at: 2m, duration: 6m, deployment: down }',
      ),
    );
    const startS = (r: Row) => Number(r.arrival_s);
    // KV of 20% of 80 GiB less 16 GB of bf16 weights holds under 10k tokens: long prompts never go there.
    const onSmall = requests.filter((r) => r.deployment === 'small');
    expect(onSmall.length).toBeGreaterThan(0);
    for (const r of onSmall) expect(Number(r.prompt_tokens)).toBeLessThan(10_000);
    // Nothing that arrives while a deployment is down ends there.
    expect(requests.filter((r) => r.deployment === 'down' && startS(r) > 120 && startS(r) < 480)).toEqual([]);
    expect(requests.filter((r) => r.deployment === 'down' && startS(r) > 480).length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.deployment === 'big' && Number(r.prompt_tokens) > 10_000).length).toBeGreaterThan(0);
  });
});

describe('billing', () => {
  const scenario = (interval: string) =>
    base(
      `  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, dtype: fp8 }`,
      `  - { name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 10/s },
      prompt_tokens: { dist: lognormal, median: 500, p99: 3000 }, output_tokens: { dist: lognormal, median: 200, p99: 900 } }`,
    ).replace('report_interval: 1m', `report_interval: ${interval}`);

  it('does not depend on the report interval', () => {
    const money = (text: string) =>
      (parse(text, { columns: true }) as Row[]).map((r) => [r.scope, r.key, r.cost_usd, r.chip_hours, r.busy_pct, r.capacity_used_pct, r.revenue_usd]);
    const reference = money(run(scenario('1s')).text);
    for (const interval of ['7m', '1h']) expect(money(run(scenario(interval)).text)).toEqual(reference);
  });

  it('books a drain that crosses midnight to the day it happens in', () => {
    // Overloaded on purpose, so requests are still in flight at the horizon (midnight).
    const yaml = base(
      `  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, dtype: fp8 }`,
      `  - { name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 40/s },
      prompt_tokens: { dist: constant, value: 1000 }, output_tokens: { dist: constant, value: 500 } }`,
    ).replace('name: t\n', 'name: t\nstart: 2026-01-01T23:50:00Z\n');
    const { pnl, summary } = run(yaml);
    const days = [...new Set(pnl.map((r) => r.period))];
    expect(days).toEqual(['2026-01-01', '2026-01-02']);
    const revenue = (day: string) => pnl.filter((r) => r.period === day).reduce((n, r) => n + Number(r.revenue_usd), 0);
    expect(revenue('2026-01-02')).toBeGreaterThan(0);
    const cents = (x: number) => Math.round(x * 100);
    expect(cents(revenue('2026-01-01') + revenue('2026-01-02'))).toBe(cents(Number(row(summary, 'total', 'all').revenue_usd)));
  });
});
