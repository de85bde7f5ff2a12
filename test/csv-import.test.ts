/**
 * The CSV contract as a spreadsheet import sees it: every report parses with csv-parse, every
 * numeric cell is a plain finite decimal (no exponent) at its documented precision, empty cells
 * appear only in columns whose documentation says when they are empty, and text that a spreadsheet
 * would run as a formula comes out neutralised.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { loadScenario, runToDir } from '../src/index.js';
import { PNL_COLUMNS, REQUEST_COLUMNS, SUMMARY_COLUMNS, TIMESERIES_COLUMNS, type ColumnDoc } from '../src/report/columns.js';
import { ROOT, tempDir } from './helpers/cli.js';

const TEXT = new Set(['scope', 'key', 'interval_start', 'deployment', 'model', 'silicon', 'period', 'tenant', 'vendor', 'workload', 'fate', 'arrival_time', 'interval_start_utc', 'arrival_time_utc', 'perf_basis']);
const REPORTS: [string, readonly ColumnDoc[]][] = [
  ['summary.csv', SUMMARY_COLUMNS],
  ['timeseries.csv', TIMESERIES_COLUMNS],
  ['pnl.csv', PNL_COLUMNS],
  ['requests.csv', REQUEST_COLUMNS],
];

describe('reports import cleanly', () => {
  const out = join(tempDir(), 'out');
  runToDir(loadScenario(join(ROOT, 'test', 'golden', 'scenario.yaml')), { outDir: out, requests: true });

  for (const [file, columns] of REPORTS) {
    it(`${file}: documented header, finite plain numbers, empties only where documented`, () => {
      const text = readFileSync(join(out, file), 'utf8');
      expect(text.includes('\r')).toBe(false);
      const rows = parse(text, { columns: false }) as string[][];
      expect(rows[0]).toEqual(columns.map((c) => c.name));
      expect(rows.length).toBeGreaterThan(1);
      for (const row of rows.slice(1)) {
        expect(row.length).toBe(columns.length);
        columns.forEach((c, i) => {
          const cell = row[i];
          if (TEXT.has(c.name)) return;
          const where = `${file} ${c.name}=${JSON.stringify(cell)}`;
          if (cell === '') {
            expect(`${c.meaning} ${c.note ?? ''}`, `${where}: empty but not documented as possibly empty`).toMatch(/empty/);
            return;
          }
          expect(cell, where).toMatch(/^-?\d+(\.\d+)?$/);
          expect(Number.isFinite(Number(cell)), where).toBe(true);
          if (c.name.endsWith('_usd')) expect(cell, `${where}: money to cents`).toMatch(/\.\d\d$/);
          if (c.name.endsWith('_pct')) expect(cell, `${where}: percent to 2 places`).toMatch(/\.\d\d$/);
        });
      }
    });
  }

  it('neutralises a tenant named =HYPERLINK("x") in every report that names tenants', () => {
    for (const file of ['summary.csv', 'pnl.csv', 'requests.csv']) {
      const text = readFileSync(join(out, file), 'utf8');
      const cells = (parse(text, { columns: false }) as string[][]).flat();
      expect(cells, file).toContain(`'=HYPERLINK("x")`);
      const numeric = /^-?\d+(\.\d+)?$/;
      expect(cells.filter((c) => !numeric.test(c) && /^[=+\-@\t\r]/.test(c)), `${file}: text cells starting with a formula trigger`).toEqual([]);
    }
  });

  it('writes ISO 8601 UTC timestamps', () => {
    const rows = parse(readFileSync(join(out, 'timeseries.csv')), { columns: true }) as Record<string, string>[];
    for (const r of rows) expect(r.interval_start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
