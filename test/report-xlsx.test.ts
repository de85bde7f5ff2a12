/**
 * report.xlsx read back with exceljs: one sheet per CSV, every cell equal to the CSV's (typed:
 * integers, decimals, currency, percentages as fractions), the header row frozen, run.json's
 * assumptions on their own sheet, and the same CSVs giving the same bytes.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { fleetsim, SMALL_SCENARIO, tempDir } from './helpers/cli.js';

const readRows = (path: string): string[][] => parse(readFileSync(path)) as string[][];

async function readBook(path: string): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(path);
  return wb;
}

/** Checks every cell of `file` against sheet `name`; returns the number formats seen per column. */
function expectSheetEqualsCsv(wb: ExcelJS.Workbook, name: string, file: string): Map<string, string> {
  const ws = wb.getWorksheet(name);
  expect(ws, name).toBeDefined();
  const [header, ...rows] = readRows(file);
  expect(ws!.rowCount, name).toBe(rows.length + 1);
  expect(ws!.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
  expect((ws!.getRow(1).values as unknown[]).slice(1)).toEqual(header);
  const formats = new Map<string, string>();
  for (const [i, row] of rows.entries()) {
    const xr = ws!.getRow(i + 2);
    for (const [c, text] of row.entries()) {
      const cell = xr.getCell(c + 1);
      const where = `${name}!${cell.address} (${header[c]})`;
      if (text === '') {
        expect(cell.value, where).toBeNull();
        continue;
      }
      const fmt = cell.numFmt ?? '';
      if (typeof cell.value === 'number') {
        formats.set(header[c], fmt);
        const places = /\.(\d+)$/.exec(text)?.[1].length ?? 0;
        if (fmt.endsWith('%')) {
          expect(header[c], where).toMatch(/_pct$/);
          expect((cell.value * 100).toFixed(places), where).toBe(text);
        } else {
          expect(cell.value, where).toBe(Number(text));
          if (places === 0) expect(Number.isInteger(cell.value), where).toBe(true);
        }
      } else {
        expect(cell.value, where).toBe(text);
        expect(Number.isFinite(Number(text)) && /^-?\d/.test(text) && !/[^\d.-]/.test(text), `${where} is a number stored as text`).toBe(false);
      }
    }
  }
  return formats;
}

describe('report.xlsx', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    writeFileSync(join(dir, 'small.yaml'), SMALL_SCENARIO + 'sweep:\n  "workloads[0].arrival.rate": [0.5x, 2x]\n');
    for (const args of [
      ['run', join(dir, 'small.yaml'), '--out', join(dir, 'run'), '--requests', '--xlsx', '-q'],
      ['sweep', join(dir, 'small.yaml'), '--out', join(dir, 'sweep'), '--replications', '2', '--horizon', '2m', '--xlsx', '-q'],
      ['plan', 'scenarios/silicon-mix-plan.yaml', '--out', join(dir, 'plan'), '--horizon', '2m', '--xlsx', '-q'],
    ]) {
      const r = fleetsim(args);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  }, 120_000);

  it('holds every cell of every run report, typed, with the header frozen', async () => {
    const wb = await readBook(join(dir, 'run', 'report.xlsx'));
    expect(wb.worksheets.map((w) => w.name)).toEqual(['summary', 'pnl', 'timeseries', 'requests', 'run', 'assumptions']);
    const summary = expectSheetEqualsCsv(wb, 'summary', join(dir, 'run', 'summary.csv'));
    expect(summary.get('revenue_usd')).toContain('$');
    expect(summary.get('slo_attainment_pct')).toBe('0.00%');
    expect(summary.get('requests_arrived')).toBe('0');
    const pnl = expectSheetEqualsCsv(wb, 'pnl', join(dir, 'run', 'pnl.csv'));
    expect(pnl.get('gross_margin_usd')).toContain('$');
    expectSheetEqualsCsv(wb, 'timeseries', join(dir, 'run', 'timeseries.csv'));
    expectSheetEqualsCsv(wb, 'requests', join(dir, 'run', 'requests.csv'));
  });

  it('puts run.json\'s assumptions on their own sheet', async () => {
    const wb = await readBook(join(dir, 'run', 'report.xlsx'));
    const run = JSON.parse(readFileSync(join(dir, 'run', 'run.json'), 'utf8')) as { assumptions: string[]; seed: number };
    expect(run.assumptions.length).toBeGreaterThan(0);
    const ws = wb.getWorksheet('assumptions')!;
    const values: unknown[] = [];
    ws.eachRow((row, i) => {
      if (i > 1) values.push(row.getCell(1).value);
    });
    expect(values).toEqual(run.assumptions);
    const kv = new Map<unknown, unknown>();
    wb.getWorksheet('run')!.eachRow((row) => kv.set(row.getCell(1).value, row.getCell(2).value));
    expect(kv.get('seed')).toBe(run.seed);
  });

  it('holds sweep and plan reports the same way', async () => {
    const sw = await readBook(join(dir, 'sweep', 'report.xlsx'));
    expect(sw.worksheets.map((w) => w.name)).toEqual(['sweep', 'summary_ci']);
    expectSheetEqualsCsv(sw, 'sweep', join(dir, 'sweep', 'sweep.csv'));
    expectSheetEqualsCsv(sw, 'summary_ci', join(dir, 'sweep', 'summary_ci.csv'));
    const pl = await readBook(join(dir, 'plan', 'report.xlsx'));
    const formats = expectSheetEqualsCsv(pl, 'plan', join(dir, 'plan', 'plan.csv'));
    expect(formats.get('usd_per_hour')).toContain('$');
  });

  it('is deterministic: the same CSVs give the same bytes', () => {
    const path = join(dir, 'run', 'report.xlsx');
    const before = readFileSync(path);
    const r = fleetsim(['report', join(dir, 'run'), '--xlsx', '-q']);
    expect(r.status).toBe(0);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});
