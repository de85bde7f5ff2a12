import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { InputError, loadScenario, runToDir } from '../src/index.js';
import { apportionCents } from '../src/economics/ledger.js';
import { COMMITMENT_DISCOUNT, DEFAULT_OVERHEAD_FRACTION, busyUsdPerChipHour, idleUsdPerChipHour } from '../src/economics/cost.js';
import { tempDir } from './helpers/cli.js';

type Row = Record<string, string>;
const num = (r: Row, c: string) => Number(r[c]);
const cents = (x: number) => Math.round(x * 100);

function run(yaml: string) {
  const dir = tempDir();
  const file = join(dir, 's.yaml');
  writeFileSync(file, yaml);
  const scenario = loadScenario(file);
  const result = runToDir(scenario, { outDir: join(dir, 'out'), requests: true });
  const read = (f: string) => parse(readFileSync(join(dir, 'out', f)), { columns: true }) as Row[];
  return { scenario, result, summary: read('summary.csv'), pnl: read('pnl.csv'), requests: read('requests.csv') };
}

/** Random platforms with random cost models, prices, fees, cached prompts, and horizons crossing midnight. */
function randomEconomics(seed: number): string {
  let s = (seed * 2654435761) % 2 ** 32;
  const rand = () => (s = (s * 1664525 + 1013904223) % 2 ** 32) / 2 ** 32;
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const pool = [
    { model: 'llama-3.1-8b', silicon: 'h100-sxm', tp: 1 },
    { model: 'mixtral-8x7b', silicon: 'mi300x', tp: 1 },
    { model: 'gpt-4o', silicon: 'maia-200', tp: 2 },
    { model: 'mistral-7b', silicon: 'cobalt-100', tp: 1 },
  ];
  const deps = pool.filter(() => rand() < 0.7);
  if (deps.length === 0) deps.push(pool[0]);
  const models = deps.map((d) => d.model);
  const cost = () =>
    pick([
      `{ model: rental }`,
      `{ model: rental, commitment: ${pick(['1y', '3y'])}, discount: 0.1 }`,
      `{ model: rental, usd_per_chip_hour: ${(1 + rand() * 10).toFixed(3)} }`,
      `{ model: tco }`,
      `{ model: tco, capex_usd: 30000, lifetime_years: 4, overhead_fraction: 0.5 }`,
    ]);
  const lines = [
    `name: econ-${seed}`,
    // Start shortly before midnight so every run spans two or more calendar days.
    `start: 2026-01-31T23:5${6 + Math.floor(rand() * 3)}:00Z`,
    `horizon: ${pick([5, 8])}m`,
    `seed: ${seed}`,
    `report_interval: 1m`,
    `facility: { region: ${pick(['eastus', 'centralus', 'westus2', 'industry-average'])} }`,
    'deployments:',
    ...deps.map(
      (d, i) =>
        `  - { name: d${i}, model: ${d.model}, silicon: ${d.silicon}, replicas: ${1 + Math.floor(rand() * 3)}, tensor_parallel: ${d.tp}, dtype: ${d.silicon === 'cobalt-100' ? 'int8' : 'fp8'}, max_batch: ${pick([8, 64])}, max_queue: ${pick([5, 1000])}, cost: ${cost()} }`,
    ),
    'workloads:',
  ];
  const nw = 1 + Math.floor(rand() * 3);
  for (let w = 0; w < nw; w++) {
    const model = pick(models);
    lines.push(
      `  - name: w${w}`,
      `    tenant: t${Math.floor(rand() * 2)}`,
      `    model: ${model}`,
      `    fallback: [${models.filter((m) => m !== model).slice(0, 1).join(', ')}]`,
      `    arrival: { process: poisson, rate: ${(1 + rand() * 15).toFixed(2)}/s }`,
      `    prompt_tokens: { dist: lognormal, median: ${pick([200, 1000])}, p99: 5000 }`,
      `    output_tokens: { dist: lognormal, median: ${pick([20, 200])}, p99: 1000 }`,
      `    timeout: ${pick(['3s', '60s'])}`,
      `    cached_prompt_fraction: ${pick([0, 0.5])}`,
    );
  }
  lines.push('pricing:');
  for (const m of models) {
    lines.push(
      `  - { model: ${m}, input_usd_per_mtok: ${(rand() * 5).toFixed(2)}, output_usd_per_mtok: ${(rand() * 15).toFixed(2)}, cached_input_usd_per_mtok: 0.1, vendor_share: ${pick([0, 0.2, 0.5])}, fee_usd_per_request: ${pick([0, 0.001])} }`,
    );
    if (rand() < 0.5) lines.push(`  - { model: ${m}, tenant: t1, input_usd_per_mtok: 0.5, output_usd_per_mtok: 1.5, vendor_share: 0.3 }`);
  }
  if (rand() < 0.6) lines.push('incidents:', `  - { at: 1m, duration: 1m, deployment: d0 }`);
  return lines.join('\n') + '\n';
}

describe('economics invariants over random scenarios', () => {
  for (const seed of [11, 12, 13, 14, 15, 16]) {
    it(`money, tokens and energy add up across scopes and periods; no negative cost (seed ${seed})`, () => {
      const { scenario, result, summary, pnl } = run(randomEconomics(seed));
      const total = summary.find((r) => r.scope === 'total')!;
      const periods = new Set(pnl.map((r) => r.period));
      expect(periods.size).toBeGreaterThanOrEqual(2);
      for (const p of periods) expect(p).toMatch(/^2026-0[12]-\d\d$/);

      for (const r of pnl) {
        for (const c of ['revenue_usd', 'vendor_payout_usd', 'cost_usd', 'idle_cost_usd', 'energy_kwh']) {
          expect(num(r, c), `${c} >= 0`).toBeGreaterThanOrEqual(0);
        }
        expect(cents(num(r, 'vendor_payout_usd')) + cents(num(r, 'platform_revenue_usd'))).toBe(cents(num(r, 'revenue_usd')));
        expect(cents(num(r, 'platform_revenue_usd')) - cents(num(r, 'cost_usd'))).toBe(cents(num(r, 'gross_margin_usd')));
      }
      const pnlCents = (c: string) => pnl.reduce((n, r) => n + cents(num(r, c)), 0);
      expect(pnlCents('revenue_usd')).toBe(cents(num(total, 'revenue_usd')));
      expect(pnlCents('vendor_payout_usd')).toBe(cents(num(total, 'vendor_payout_usd')));
      expect(pnlCents('cost_usd')).toBe(cents(num(total, 'cost_usd')));
      expect(pnlCents('idle_cost_usd')).toBe(cents(num(total, 'idle_cost_usd')));
      expect(pnlCents('gross_margin_usd')).toBe(cents(num(total, 'gross_margin_usd')));
      for (const c of ['input_tokens', 'output_tokens']) expect(pnl.reduce((n, r) => n + num(r, c), 0)).toBe(num(total, c));
      expect(pnl.reduce((n, r) => n + num(r, 'energy_kwh'), 0)).toBeCloseTo(num(total, 'energy_kwh'), 2);

      for (const scope of ['deployment', 'model', 'silicon', 'model_silicon', 'tenant', 'workload']) {
        const rows = summary.filter((r) => r.scope === scope);
        for (const c of ['cost_usd', 'revenue_usd', 'vendor_payout_usd', 'gross_margin_usd', 'idle_cost_usd']) {
          expect(rows.reduce((n, r) => n + cents(num(r, c)), 0), `${scope}.${c}`).toBe(cents(num(total, c)));
        }
        expect(rows.reduce((n, r) => n + num(r, 'energy_kwh'), 0), `${scope}.energy`).toBeCloseTo(num(total, 'energy_kwh'), 2);
      }
      for (const r of summary) expect(num(r, 'cost_usd')).toBeGreaterThanOrEqual(0);

      // Fleet cost is the closed form: every replica-hour at its rate, busy or idle (to a cent per period and deployment).
      let expectedUsd = 0;
      let slackCents = 0;
      for (const d of scenario.deployments) {
        const replicaH = (d.replicas * result.endS) / 3600;
        const busyH = result.busyS[d.index] / 3600;
        expectedUsd += d.tensorParallel * (busyH * busyUsdPerChipHour(d.cost) + (replicaH - busyH) * idleUsdPerChipHour(d.cost));
        slackCents += periods.size;
      }
      expect(Math.abs(cents(num(total, 'cost_usd')) - expectedUsd * 100)).toBeLessThanOrEqual(slackCents);
    });
  }

  it('runs longer than 62 days get one P&L row set per calendar month', () => {
    const { pnl } = run(`name: months
start: 2026-01-15T00:00:00Z
horizon: 70d
report_interval: 1d
deployments:
  - { name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, dtype: fp8 }
workloads:
  - { name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 0.002/s }, prompt_tokens: { dist: constant, value: 100 }, output_tokens: { dist: constant, value: 10 } }
`);
    expect([...new Set(pnl.map((r) => r.period))]).toEqual(['2026-01', '2026-02', '2026-03']);
  });
});

const BILLING = (extra: { workload?: string; pricing: string; deployment?: string; incidents?: string }) => `name: billing
horizon: 2m
seed: 5
deployments:
  - { name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, dtype: fp8, max_batch: 4, max_queue: 3${extra.deployment ?? ''} }
workloads:
  - name: a
    tenant: acme
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 30/s }
    prompt_tokens: { dist: constant, value: 1000 }
    output_tokens: { dist: constant, value: 100 }
    timeout: 200ms${extra.workload ?? ''}
  - name: b
    tenant: bravo
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 1/s }
    prompt_tokens: { dist: constant, value: 1000 }
    output_tokens: { dist: constant, value: 100 }
routing: { policy: least-outstanding, failover: never }
pricing:
${extra.pricing}
${extra.incidents ?? ''}
`;

describe('billing', () => {
  it('bills only completed requests: rejected, timed-out and lost earn nothing', () => {
    const { summary } = run(
      BILLING({
        pricing: '  - { model: llama-3.1-8b, input_usd_per_mtok: 0, output_usd_per_mtok: 0, vendor_share: 0.5, fee_usd_per_request: 1 }',
        incidents: 'incidents:\n  - { at: 30s, duration: 20s, deployment: d }',
      }),
    );
    const total = summary.find((r) => r.scope === 'total')!;
    expect(num(total, 'requests_rejected')).toBeGreaterThan(0);
    expect(num(total, 'requests_timed_out')).toBeGreaterThan(0);
    expect(num(total, 'requests_lost')).toBeGreaterThan(0);
    // A 1 USD fee per request and free tokens: revenue is exactly the number of served requests.
    expect(num(total, 'revenue_usd')).toBe(num(total, 'requests_completed') + num(total, 'requests_failed_over'));
    // The fee is the platform's: no vendor share of it.
    expect(num(total, 'vendor_payout_usd')).toBe(0);
  });

  it('applies tenant overrides, cached-input prices and vendor share', () => {
    const { summary } = run(
      BILLING({
        workload: '\n    cached_prompt_fraction: 0.25',
        pricing: [
          '  - { model: llama-3.1-8b, input_usd_per_mtok: 2, output_usd_per_mtok: 8, cached_input_usd_per_mtok: 0.5, vendor_share: 0.25 }',
          '  - { model: llama-3.1-8b, tenant: bravo, input_usd_per_mtok: 1, output_usd_per_mtok: 3, vendor_share: 0.1 }',
        ].join('\n'),
      }),
    );
    const tenant = (t: string) => summary.find((r) => r.scope === 'tenant' && r.key === t)!;
    const acme = tenant('acme');
    const bravo = tenant('bravo');
    const acmeUsd = (num(acme, 'input_tokens') * (0.75 * 2 + 0.25 * 0.5) + num(acme, 'output_tokens') * 8) / 1e6;
    const bravoUsd = (num(bravo, 'input_tokens') * 1 + num(bravo, 'output_tokens') * 3) / 1e6;
    expect(num(acme, 'output_tokens')).toBeGreaterThan(0);
    expect(num(bravo, 'output_tokens')).toBeGreaterThan(0);
    // One period and one deployment: one cell per tenant, rounded once.
    expect(num(acme, 'revenue_usd')).toBe(Math.round(acmeUsd * 100) / 100);
    expect(num(bravo, 'revenue_usd')).toBe(Math.round(bravoUsd * 100) / 100);
    expect(num(acme, 'vendor_payout_usd')).toBe(Math.round(Math.round(acmeUsd * 100) * 0.25) / 100);
    expect(num(bravo, 'vendor_payout_usd')).toBe(Math.round(Math.round(bravoUsd * 100) * 0.1) / 100);
  });
});

describe('cost models', () => {
  const scenarioWith = (cost: string, facility = '') => {
    const dir = tempDir();
    const file = join(dir, 's.yaml');
    writeFileSync(
      file,
      `name: c
horizon: 1m
${facility}
deployments:
  - { name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, dtype: fp8, cost: ${cost} }
workloads:
  - { name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 1/s }, prompt_tokens: { dist: constant, value: 10 }, output_tokens: { dist: constant, value: 10 } }
`,
    );
    return loadScenario(file);
  };

  it('rental: on-demand catalog price less commitment and negotiated discounts; utilisation-independent', () => {
    const c = scenarioWith('{ model: rental, commitment: 3y, discount: 0.1 }').deployments[0].cost;
    expect(busyUsdPerChipHour(c)).toBeCloseTo(12.29 * (1 - COMMITMENT_DISCOUNT['3y']) * 0.9, 10);
    expect(idleUsdPerChipHour(c)).toBe(busyUsdPerChipHour(c));
  });

  it('tco: capex straight-line with overhead, plus power between idle and TDP × PUE × USD/kWh', () => {
    const sc = scenarioWith('{ model: tco }', 'facility: { region: eastus, usd_per_kwh: 0.1 }');
    const c = sc.deployments[0].cost;
    const fixed = (27500 * (1 + DEFAULT_OVERHEAD_FRACTION)) / (6 * 8760);
    expect(busyUsdPerChipHour(c)).toBeCloseTo(fixed + 0.7 * 1.12 * 0.1, 10);
    expect(idleUsdPerChipHour(c)).toBeCloseTo(fixed + 0.175 * 1.12 * 0.1, 10);
    expect(sc.assumptions.some((a) => a.includes('overhead_fraction'))).toBe(true);
    expect(sc.assumptions.some((a) => a.includes('overridden in the scenario: usd_per_kwh'))).toBe(true);
  });

  it('rejects keys of the other cost model and unknown regions, with the field path', () => {
    expect(() => scenarioWith('{ model: tco, commitment: 1y }')).toThrow(/commitment applies to model: rental/);
    expect(() => scenarioWith('{ model: rental, capex_usd: 1 }')).toThrow(/capex_usd applies to model: tco/);
    try {
      scenarioWith('{ model: rental }', 'facility: { region: mars }');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).message).toMatch(/unknown facility region "mars"/);
      expect((err as InputError).location.path).toBe('facility.region');
    }
  });

  it('leaves emissions empty where the facility gives no grid intensity', () => {
    const { summary } = run(`name: e
horizon: 1m
facility: { region: centralus }
deployments:
  - { name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, dtype: fp8 }
workloads:
  - { name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 1/s }, prompt_tokens: { dist: constant, value: 10 }, output_tokens: { dist: constant, value: 10 } }
`);
    const total = summary.find((r) => r.scope === 'total')!;
    expect(total.emissions_kg_co2e).toBe('');
    // 1 minute of one H100: between idle (175 W) and TDP (700 W), × PUE 1.12.
    const kwh = num(total, 'energy_kwh');
    expect(kwh).toBeGreaterThanOrEqual((0.175 * 1.12) / 60 - 1e-4);
    expect(kwh).toBeLessThanOrEqual((0.7 * 1.12) / 60 + 1e-4);
  });
});

describe('apportionCents', () => {
  it('rounds pieces to floor or ceiling so they sum to the rounded total', () => {
    const exact = new Float64Array([10.4, 10.4, 10.4, 0.3, 0]);
    const out = new Float64Array(5);
    apportionCents(exact, out);
    expect([...out]).toEqual([11, 11, 10, 0, 0]);
    expect(out.reduce((a, b) => a + b, 0)).toBe(32);
    for (let i = 0; i < 5; i++) expect(Math.abs(out[i] - exact[i])).toBeLessThan(1);
  });
});
