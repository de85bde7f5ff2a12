/**
 * The bundled exclusive-vs-neutral comparison, run with and without its GPT-4o outage (the outage is
 * dropped from the loaded scenario). Checks what docs/economics.md says it shows: the exclusive platform
 * turns the outage into rejected demand and lost revenue, the neutral one fails over and keeps it.
 * `PRINT_PNL=1` prints the four P&L totals.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadScenario, runToDir } from '../src/index.js';
import { ROOT, tempDir } from './helpers/cli.js';

type Row = Record<string, string>;

function totals(side: 'exclusive' | 'neutral', outage: boolean): Row {
  const scenario = loadScenario(join(ROOT, 'scenarios', `exclusive-vs-neutral-${side}.yaml`));
  if (!outage) scenario.incidents = [];
  const out = join(tempDir(), 'out');
  runToDir(scenario, { outDir: out });
  const summary = parse(readFileSync(join(out, 'summary.csv')), { columns: true }) as Row[];
  return summary.find((r) => r.scope === 'total')!;
}

describe('exclusive vs neutral platform', () => {
  const runs = {
    exclusive: { outage: totals('exclusive', true), normal: totals('exclusive', false) },
    neutral: { outage: totals('neutral', true), normal: totals('neutral', false) },
  };
  if (process.env.PRINT_PNL) {
    const cols = ['requests_arrived', 'requests_rejected', 'requests_failed_over', 'revenue_usd', 'vendor_payout_usd', 'cost_usd', 'gross_margin_usd', 'gross_margin_pct', 'slo_attainment_pct'];
    console.log(['platform', 'outage', ...cols].join(','));
    for (const [side, r] of Object.entries(runs)) {
      for (const [k, row] of Object.entries(r)) console.log([side, k === 'outage' ? 'yes' : 'no', ...cols.map((c) => row[c])].join(','));
    }
  }
  const n = (r: Row, c: string) => Number(r[c]);

  it('without the outage both platforms serve everything', () => {
    for (const side of ['exclusive', 'neutral'] as const) {
      expect(n(runs[side].normal, 'requests_rejected') + n(runs[side].normal, 'requests_lost')).toBe(0);
    }
  });

  it('the outage costs the exclusive platform about a quarter of its revenue, the neutral one almost none', () => {
    const lost = (side: 'exclusive' | 'neutral') => 1 - n(runs[side].outage, 'revenue_usd') / n(runs[side].normal, 'revenue_usd');
    expect(n(runs.exclusive.outage, 'requests_rejected')).toBeGreaterThan(0.15 * n(runs.exclusive.outage, 'requests_arrived'));
    expect(lost('exclusive')).toBeGreaterThan(0.15);
    expect(n(runs.neutral.outage, 'requests_rejected')).toBe(0);
    expect(n(runs.neutral.outage, 'requests_failed_over')).toBeGreaterThan(0);
    expect(Math.abs(lost('neutral'))).toBeLessThan(0.05);
  });

  it('rented capacity costs the same per billed hour whether or not it is down', () => {
    // The runs may end a few seconds apart (the drain after the horizon), so compare the hourly rate.
    const perHour = (r: Row) => n(r, 'cost_usd') / n(r, 'chip_hours');
    for (const side of ['exclusive', 'neutral'] as const) {
      expect(perHour(runs[side].outage)).toBeCloseTo(perHour(runs[side].normal), 2);
    }
  });
});
