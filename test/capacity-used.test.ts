/**
 * Issue 21 item 4, "utilisation that finance can read": busy time (busy_pct) and capacity used
 * (output tokens served / the output tokens the fleet could have served at its saturated rate,
 * src/perf/saturation.ts) are both reported, and idle cost is cost × (1 − capacity used).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { explainRows } from '../src/cli/explain.js';
import { loadScenario, runToDir } from '../src/index.js';
import { tempDir, withFiles } from './helpers/cli.js';

type Row = Record<string, string>;
const csv = (path: string) => parseCsv(readFileSync(path, 'utf8'), { columns: true }) as Row[];

/** One H100 replica kept busy by a trickle: ~6 requests in flight of the hundreds it could batch. */
const TRICKLE = `name: trickle
start: 2026-03-01T00:00:00Z
horizon: 20m
report_interval: 5m
seed: 7
deployments:
  - { name: solo, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, dtype: fp8 }
workloads:
  - name: chat
    tenant: acme
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 2/s }
    prompt_tokens: { dist: constant, value: 200 }
    output_tokens: { dist: constant, value: 400 }
`;

describe('busy time and capacity used (issue 21 item 4)', () => {
  it('a fleet at a small fraction of its saturated rate: busy ~100%, capacity used ~that fraction, idle cost = cost x (1 - capacity used)', () => {
    const dir = withFiles({ 's.yaml': TRICKLE });
    const out = join(tempDir(), 'out');
    runToDir(loadScenario(join(dir, 's.yaml')), { outDir: out });
    const summary = csv(join(out, 'summary.csv'));
    const dep = summary.find((r) => r.scope === 'deployment')!;
    const billedS = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).billed_run_s as number;

    // The saturated rate explain reports for the same deployment and lengths.
    const rows = explainRows(join(dir, 's.yaml'), { format: 'csv' });
    const saturatedTokS = Number(rows[1][rows[0].indexOf('max_output_tokens_per_s_per_chip')]);
    const expectedPct = (100 * Number(dep.output_tokens)) / (saturatedTokS * billedS);

    expect(Number(dep.busy_pct)).toBeGreaterThan(90);
    expect(expectedPct).toBeLessThan(20);
    expect(Number(dep.capacity_used_pct)).toBeCloseTo(expectedPct, 1);
    // Offered load: 2/s x 400 tokens.
    expect(Number(dep.capacity_used_pct)).toBeCloseTo((100 * 800) / saturatedTokS, 0);

    const cost = Number(dep.cost_usd);
    const used = Number(dep.capacity_used_pct) / 100;
    const idle = Number(dep.idle_cost_usd);
    expect(cost).toBeGreaterThan(1);
    expect(Math.abs(idle - cost * (1 - used))).toBeLessThanOrEqual(0.01 + cost * 5e-5);
    // The tenant carries the used capacity's cost; the idle row the rest; pnl agrees.
    const tenant = summary.find((r) => r.scope === 'tenant' && r.key === 'acme')!;
    const idleRow = summary.find((r) => r.scope === 'tenant' && r.key === '(idle capacity)')!;
    expect(Number(idleRow.cost_usd)).toBe(idle);
    expect(Math.round(100 * (Number(tenant.cost_usd) + idle))).toBe(Math.round(100 * cost));
    const pnl = csv(join(out, 'pnl.csv'));
    expect(pnl.filter((r) => r.tenant === '(idle capacity)').reduce((s, r) => s + Number(r.idle_cost_usd), 0)).toBeCloseTo(idle, 2);

    // timeseries: the same ratio per interval.
    for (const r of csv(join(out, 'timeseries.csv'))) {
      const pct = (100 * Number(r.output_tokens)) / (saturatedTokS * Number(r.interval_s));
      expect(Math.abs(Number(r.capacity_used_pct) - pct)).toBeLessThan(0.05);
      expect(Number(r.busy_pct)).toBeGreaterThan(80);
    }
  });
});

describe('each workload pays for the capacity its own tokens took', () => {
  // TRICKLE's chat, then a second tenant's long-prompt, short-answer work on the same replica.
  const DOCS = `  - name: docs
    tenant: globex
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 0.5/s }
    prompt_tokens: { dist: constant, value: 4000 }
    output_tokens: { dist: constant, value: 50 }
`;
  const saturated = (text: string) => {
    const dir = withFiles({ 's.yaml': text });
    const rows = explainRows(join(dir, 's.yaml'), { format: 'csv' });
    return Number(rows[1][rows[0].indexOf('max_output_tokens_per_s_per_chip')]);
  };

  it("a tenant's cost is cost x its tokens / (its saturated rate x replica-time), whoever else shares the replica", () => {
    const both = TRICKLE + DOCS;
    const dir = withFiles({ 's.yaml': both });
    const out = join(tempDir(), 'out');
    runToDir(loadScenario(join(dir, 's.yaml')), { outDir: out });
    const summary = csv(join(out, 'summary.csv'));
    const billedS = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).billed_run_s as number;
    const dep = summary.find((r) => r.scope === 'deployment')!;
    const cost = Number(dep.cost_usd);

    // Each workload's own saturated rate: explain of the deployment serving that workload alone.
    const chatRate = saturated(TRICKLE);
    const docsRate = saturated(TRICKLE.replace(/ {2}- name: chat[\s\S]*$/, DOCS));
    expect(docsRate).toBeLessThan(chatRate / 2); // 4,000-token prompts: far fewer output tokens/s
    // run.json states the rates, so a reader can check the attribution by hand.
    const capacity = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).perf[0].capacity;
    expect(capacity.workloads.map((w: { workload: string }) => w.workload)).toEqual(['chat', 'docs']);
    expect(capacity.workloads[0].output_tokens_per_s_per_replica).toBeCloseTo(chatRate, 0);
    expect(capacity.workloads[1].output_tokens_per_s_per_replica).toBeCloseTo(docsRate, 0);
    expect(capacity.workloads[1]).toMatchObject({ mean_prompt_tokens: 4000, mean_output_tokens: 50 });

    const tenant = (key: string) => summary.find((r) => r.scope === 'tenant' && r.key === key)!;
    const usedChat = Number(tenant('acme').output_tokens) / (chatRate * billedS);
    const usedDocs = Number(tenant('globex').output_tokens) / (docsRate * billedS);
    expect(usedChat + usedDocs).toBeLessThan(1);
    expect(Number(tenant('acme').cost_usd)).toBeCloseTo(cost * usedChat, 1);
    expect(Number(tenant('globex').cost_usd)).toBeCloseTo(cost * usedDocs, 1);
    expect(Number(tenant('(idle capacity)').cost_usd)).toBeCloseTo(cost * (1 - usedChat - usedDocs), 1);
    expect(Number(dep.capacity_used_pct)).toBeCloseTo(100 * (usedChat + usedDocs), 1);
    // chip_hours split as cost is: the chip-time each tenant's tokens took, the idle row the rest.
    expect(Number(tenant('acme').chip_hours)).toBeCloseTo((usedChat * billedS) / 3600, 3);
    expect(Number(tenant('globex').chip_hours)).toBeCloseTo((usedDocs * billedS) / 3600, 3);
    expect(Number(tenant('(idle capacity)').chip_hours)).toBeCloseTo(((1 - usedChat - usedDocs) * billedS) / 3600, 3);

    // Alone on the replica, chat's tokens are charged at the same rate: its cost per token is unchanged
    // by the second tenant (rental prices replica-time, busy or not).
    const aloneDir = withFiles({ 's.yaml': TRICKLE });
    const aloneOut = join(tempDir(), 'out');
    runToDir(loadScenario(join(aloneDir, 's.yaml')), { outDir: aloneOut });
    const alone = csv(join(aloneOut, 'summary.csv')).find((r) => r.scope === 'tenant' && r.key === 'acme')!;
    // Same tokens, and the same cost to the cent: the ledger keeps whole cents and hands the
    // remainders out across the rows of a scope, so the same share of $4.10 (14.69 cents here) can
    // round to 14 or 15 cents depending on who else is billed (a ratio of cent-rounded costs is 7% off).
    expect(tenant('acme').output_tokens).toBe(alone.output_tokens);
    expect(Math.abs(Number(tenant('acme').cost_usd) - Number(alone.cost_usd))).toBeLessThanOrEqual(0.01 + 1e-9);
  });
});
