import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadScenario, runToDir } from '../src/index.js';
import { tempDir } from './helpers/cli.js';

type Row = Record<string, string>;

/** A random small platform: models, silicon, rates, KV pressure and incidents drawn from `seed`. */
function randomScenario(seed: number): string {
  let s = seed * 2654435761 % 2 ** 32;
  const rand = () => ((s = (s * 1664525 + 1013904223) % 2 ** 32) / 2 ** 32);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const pool = [
    { model: 'llama-3.1-8b', silicon: 'h100-sxm', tp: 1 },
    { model: 'mistral-7b', silicon: 'cobalt-100', tp: 1 },
    { model: 'mixtral-8x7b', silicon: 'mi300x', tp: 1 },
    { model: 'llama-3.1-70b', silicon: 'h200', tp: 2 },
    { model: 'phi-3-mini', silicon: 'maia-100', tp: 1 },
  ];
  const deps = pool.filter(() => rand() < 0.7);
  if (deps.length === 0) deps.push(pool[0]);
  const models = deps.map((d) => d.model);
  const lines = [
    `name: random-${seed}`,
    `horizon: ${pick([2, 3, 5])}m`,
    `warmup: 10s`,
    `seed: ${seed}`,
    `report_interval: 30s`,
    `routing: { policy: ${pick(['least-outstanding', 'round-robin'])}, failover: ${pick(['on-outage', 'never', 'on-outage-or-overload'])} }`,
    'deployments:',
    ...deps.map(
      (d, i) =>
        `  - { name: d${i}, model: ${d.model}, silicon: ${d.silicon}, replicas: ${1 + Math.floor(rand() * 3)}, tensor_parallel: ${d.tp}, dtype: fp8, max_batch: ${pick([4, 16, 64])}, kv_fraction: ${pick([0.9, 0.6])}, max_queue: ${pick([5, 50, 1000])} }`,
    ),
    'workloads:',
  ];
  const nw = 1 + Math.floor(rand() * 3);
  for (let w = 0; w < nw; w++) {
    const model = pick(models);
    const fallback = models.filter((m) => m !== model).slice(0, Math.floor(rand() * 2));
    lines.push(
      `  - name: w${w}`,
      `    tenant: t${Math.floor(rand() * 2)}`,
      `    model: ${model}`,
      `    fallback: [${fallback.join(', ')}]`,
      `    arrival: { process: poisson, rate: ${(1 + rand() * 20).toFixed(2)}/s }`,
      `    prompt_tokens: { dist: lognormal, median: ${pick([100, 500, 2000])}, p99: 6000 }`,
      `    output_tokens: { dist: lognormal, median: ${pick([20, 200])}, p99: 1500 }`,
      `    slo: { ttft: 1s, tpot: 100ms }`,
      `    timeout: ${pick(['5s', '60s'])}`,
      // Quotas and priority classes (issue 19), drawn last so the draws above stay as they were.
      `    priority: ${pick(['interactive', 'standard', 'batch'])}`,
      ...(rand() < 0.4 ? [`    quota: { requests_per_min: ${60 + Math.floor(rand() * 600)} }`] : []),
    );
  }
  if (rand() < 0.5) {
    lines.push(
      `  - name: bulk`,
      `    tenant: t9`,
      `    model: ${pick(models)}`,
      `    arrival: { process: poisson, rate: ${(0.5 + rand() * 5).toFixed(2)}/s }`,
      `    prompt_tokens: { dist: lognormal, median: ${pick([500, 2000])}, p99: 6000 }`,
      `    output_tokens: { dist: lognormal, median: ${pick([50, 300])}, p99: 1500 }`,
      `    batch: { window: ${pick(['20s', '1h'])}, discount: ${pick([0.5, 0.25])} }`,
    );
  }
  if (rand() < 0.7) lines.push('incidents:', `  - { at: 40s, duration: 30s, deployment: d0 }`);
  return lines.join('\n') + '\n';
}

const BASE_FATES = ['requests_completed', 'requests_failed_over', 'requests_rejected', 'requests_timed_out', 'requests_lost'];
const num = (r: Row, c: string) => Number(r[c]);
const cents = (x: number) => Math.round(x * 100);

describe('invariants over random scenarios', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`every request has exactly one fate, and tokens and money add up across scopes (seed ${seed})`, () => {
      const dir = tempDir();
      const file = join(dir, 's.yaml');
      writeFileSync(file, randomScenario(seed));
      const result = runToDir(loadScenario(file), { outDir: join(dir, 'out'), requests: true });
      const summary = parse(readFileSync(join(dir, 'out', 'summary.csv')), { columns: true }) as Row[];
      const pnl = parse(readFileSync(join(dir, 'out', 'pnl.csv')), { columns: true }) as Row[];
      const requests = parse(readFileSync(join(dir, 'out', 'requests.csv')), { columns: true }) as Row[];
      const total = summary.find((r) => r.scope === 'total')!;
      // Throttled and expired are fates too where a quota or a batch tier appends them.
      const FATES = [...BASE_FATES, ...['requests_throttled', 'requests_expired'].filter((c) => c in total)];

      expect(num(total, 'requests_arrived')).toBe(result.arrivals);
      expect(requests.length).toBe(result.arrivals);
      for (const r of summary) expect(FATES.reduce((n, c) => n + num(r, c), 0)).toBe(num(r, 'requests_arrived'));

      for (const scope of ['deployment', 'model', 'silicon', 'tenant', 'workload']) {
        const rows = summary.filter((r) => r.scope === scope);
        for (const c of ['requests_arrived', ...FATES, 'input_tokens', 'output_tokens']) {
          expect(rows.reduce((n, r) => n + num(r, c), 0), `${scope}.${c}`).toBe(num(total, c));
        }
        for (const c of ['cost_usd', 'revenue_usd', 'vendor_payout_usd', 'gross_margin_usd']) {
          expect(rows.reduce((n, r) => n + cents(num(r, c)), 0), `${scope}.${c}`).toBe(cents(num(total, c)));
        }
      }
      const pnlSum = (c: string) => pnl.reduce((n, r) => n + cents(num(r, c)), 0);
      expect(pnlSum('revenue_usd')).toBe(cents(num(total, 'revenue_usd')));
      expect(pnlSum('vendor_payout_usd')).toBe(cents(num(total, 'vendor_payout_usd')));
      expect(pnlSum('cost_usd')).toBe(cents(num(total, 'cost_usd')));
      expect(pnlSum('gross_margin_usd')).toBe(cents(num(total, 'gross_margin_usd')));

      // Billed tokens are exactly those of the completed requests in requests.csv.
      const done = requests.filter((r) => r.fate === 'completed' || r.fate === 'failed_over');
      expect(done.reduce((n, r) => n + num(r, 'output_tokens'), 0)).toBe(num(total, 'output_tokens'));
      expect(done.length).toBe(num(total, 'requests_completed') + num(total, 'requests_failed_over'));
    });
  }
});
