/**
 * Issue 21 item 3, "one name, one meaning": a column name means the same quantity in every file that
 * has it (summary, pnl, timeseries, plan, sweep, explain), each quantity defined once in
 * src/report/columns.ts; requests served and cost per million tokens agree across files; cost per
 * million input, output and blended tokens; a `vendor` scope in summary.csv.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import * as columns from '../src/report/columns.js';
import { explainRows } from '../src/cli/explain.js';
import { loadScenario, runToDir } from '../src/index.js';
import { fleetsim, SMALL_SCENARIO, tempDir, withFiles } from './helpers/cli.js';

type Row = Record<string, string>;
const csv = (path: string) => parseCsv(readFileSync(path, 'utf8'), { columns: true }) as Row[];
const cents = (x: string) => Math.round(Number(x) * 100);

describe('one name, one meaning (issue 21 item 3)', () => {
  it('a column name has one meaning in every file that writes it', () => {
    const files: Record<string, readonly { name: string; meaning: string }[]> = {
      summary: columns.SUMMARY_COLUMNS,
      timeseries: columns.TIMESERIES_COLUMNS,
      pnl: columns.PNL_COLUMNS,
      requests: columns.REQUEST_COLUMNS,
      plan: columns.PLAN_COLUMNS,
      explain: columns.EXPLAIN_COLUMNS,
    };
    const meaningOf = new Map<string, { file: string; meaning: string }>();
    for (const [file, cols] of Object.entries(files)) {
      for (const c of cols) {
        const seen = meaningOf.get(c.name);
        if (seen) expect(c.meaning, `${c.name} in ${file}.csv and ${seen.file}.csv`).toBe(seen.meaning);
        else meaningOf.set(c.name, { file, meaning: c.meaning });
      }
    }
    // The names the issue found meaning two things, or one thing under three names, are gone.
    const all = Object.values(files).flatMap((cols) => cols.map((c) => c.name));
    for (const old of ['cost_per_mtok_usd', 'usd_per_mtok_out', 'usd_per_mtok_output_full_load', 'compute_cost_usd', 'completions', 'utilization']) {
      expect(all, old).not.toContain(old);
    }
    expect(names(columns.PNL_COLUMNS)).not.toContain('requests_completed');
    for (const c of ['cost_usd_per_mtok_output', 'cost_usd_per_mtok_input', 'cost_usd_per_mtok_blended']) {
      expect(names(columns.SUMMARY_COLUMNS)).toContain(c);
      expect(names(columns.PLAN_COLUMNS)).toContain(c);
      expect(names(columns.EXPLAIN_COLUMNS)).toContain(`${c}_full_load`);
    }
  });

  it('requests served and cost per million tokens agree across summary, pnl and timeseries; vendor scope', () => {
    const dir = withFiles({ 's.yaml': SMALL_SCENARIO });
    const out = join(tempDir(), 'out');
    runToDir(loadScenario(join(dir, 's.yaml')), { outDir: out });
    const summary = csv(join(out, 'summary.csv'));
    const pnl = csv(join(out, 'pnl.csv'));
    const ts = csv(join(out, 'timeseries.csv'));
    const total = summary.find((r) => r.scope === 'total')!;
    const served = Number(total.requests_served);
    // The outage moves requests to a fallback: failed over is not zero, so the two meanings differ.
    expect(Number(total.requests_failed_over)).toBeGreaterThan(0);
    expect(served).toBe(Number(total.requests_completed) + Number(total.requests_failed_over));
    expect(pnl.reduce((s, r) => s + Number(r.requests_served), 0)).toBe(served);
    expect(ts.reduce((s, r) => s + Number(r.requests_served), 0)).toBe(served);
    expect(pnl.reduce((s, r) => s + cents(r.cost_usd), 0)).toBe(cents(total.cost_usd));

    for (const r of summary) {
      const cost = Number(r.cost_usd);
      const inTok = Number(r.input_tokens);
      const outTok = Number(r.output_tokens);
      const per = (tokens: number) => (tokens > 0 ? (cost / (tokens / 1e6)).toFixed(2) : '');
      expect(r.cost_usd_per_mtok_output, `${r.scope} ${r.key}`).toBe(per(outTok));
      expect(r.cost_usd_per_mtok_input, `${r.scope} ${r.key}`).toBe(per(inTok));
      expect(r.cost_usd_per_mtok_blended, `${r.scope} ${r.key}`).toBe(per(inTok + outTok));
    }

    const vendors = summary.filter((r) => r.scope === 'vendor');
    expect(vendors.map((r) => r.key).sort()).toEqual(['Meta', 'Mistral AI']);
    for (const c of ['cost_usd', 'revenue_usd', 'vendor_payout_usd', 'requests_served', 'chips']) {
      expect(vendors.reduce((s, r) => s + cents(r[c]), 0), c).toBe(cents(total[c]));
    }
    // pnl's vendor column sums to the vendor scope's cost and revenue.
    for (const v of vendors) {
      const mine = pnl.filter((r) => r.vendor === v.key);
      expect(mine.reduce((s, r) => s + cents(r.cost_usd), 0)).toBe(cents(v.cost_usd));
      expect(mine.reduce((s, r) => s + cents(r.revenue_usd), 0)).toBe(cents(v.revenue_usd));
    }
  });

  it('plan.csv and explain use the same names for cost per million tokens', () => {
    const scenario = `${SMALL_SCENARIO}plan:
  targets: { ttft_p99: 5s }
  candidates:
    - { model: llama-3.1-8b, silicon: [h100-sxm], tensor_parallel: 1, max_replicas: 2 }
`;
    const dir = withFiles({ 's.yaml': scenario });
    const r = fleetsim(['plan', join(dir, 's.yaml'), '--out', join(dir, 'plan')]);
    expect(r.status, r.stderr).toBe(0);
    const plan = csv(join(dir, 'plan', 'plan.csv'));
    for (const row of plan.filter((p) => p.feasible === 'yes')) {
      const output = Number(row.cost_usd_per_mtok_output);
      const input = Number(row.cost_usd_per_mtok_input);
      const blended = Number(row.cost_usd_per_mtok_blended);
      expect(output).toBeGreaterThan(0);
      // 1/blended = 1/input + 1/output (one cost over input, output and their sum); cells are cents.
      expect(Math.abs(blended - 1 / (1 / input + 1 / output))).toBeLessThanOrEqual(0.01);
    }
    const rows = explainRows(join(dir, 's.yaml'), { format: 'csv' });
    const h = rows[0];
    for (const row of rows.slice(1)) {
      const get = (n: string) => Number(row[h.indexOf(n)]);
      if (row[h.indexOf('cost_usd_per_mtok_output_full_load')] === '') continue;
      const expected = 1 / (1 / get('cost_usd_per_mtok_input_full_load') + 1 / get('cost_usd_per_mtok_output_full_load'));
      expect(Math.abs(get('cost_usd_per_mtok_blended_full_load') - expected)).toBeLessThanOrEqual(1e-4 + 1e-3 * expected);
    }
  });

  it('a report directory with the old column names is refused, naming the file', () => {
    const dir = withFiles({ 's.yaml': SMALL_SCENARIO });
    const out = join(dir, 'out');
    runToDir(loadScenario(join(dir, 's.yaml')), { outDir: out });
    const pnl = readFileSync(join(out, 'pnl.csv'), 'utf8').replace('requests_served', 'requests_completed');
    const old = withFiles({ 'pnl.csv': pnl, 'summary.csv': readFileSync(join(out, 'summary.csv'), 'utf8') });
    const r = fleetsim(['report', old]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('pnl.csv');
    expect(r.stderr).toContain('unknown requests_completed');
  });
});

function names(cols: readonly { name: string }[]): string[] {
  return cols.map((c) => c.name);
}
