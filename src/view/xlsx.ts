/**
 * report.xlsx for finance: one sheet per CSV report, cells typed (money as currency, `_pct`
 * columns as percentages, integers as integers, other numbers with the CSV's decimals), the header
 * row frozen, and run.json's assumptions on a sheet of their own. Written with exceljs's streaming
 * writer, so a requests.csv of a million rows does not have to fit in memory as cell objects.
 *
 * A `_pct` cell holds the fraction (12.5% is 0.125) so spreadsheet formulas multiply by it
 * directly; every other number is the CSV's. The file is deterministic: the same CSVs give the
 * same bytes.
 */
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import { REPORT_CSV_FILES, type ReportDir, type Table } from './read.js';

export type CellKind = 'text' | 'integer' | 'decimal' | 'usd' | 'pct';

export interface ColumnType {
  kind: CellKind;
  /** Fraction digits of decimal, usd and pct columns (as many as the CSV writes). */
  places: number;
}

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?\d+(?:\.(\d+))?$/;

/** A column's cell type, from its name's unit suffix and its cells (a column with any text is text). */
export function columnType(t: Table, c: number): ColumnType {
  let places = 0;
  let integer = true;
  let any = false;
  for (const row of t.rows) {
    const cell = row[c];
    if (cell === '') continue;
    const m = DECIMAL.exec(cell);
    if (!m) return { kind: 'text', places: 0 };
    any = true;
    if (!INTEGER.test(cell)) integer = false;
    places = Math.max(places, m[1]?.length ?? 0);
  }
  if (!any) return { kind: 'text', places: 0 };
  const name = t.header[c];
  // Money is `_usd` (summary, pnl), `usd_per_…` (plan) or `cost_usd_per_mtok_…` (summary, plan).
  if (name.endsWith('_usd') || name.startsWith('usd_') || name.includes('_usd_per_')) return { kind: 'usd', places };
  if (name.endsWith('_pct')) return { kind: 'pct', places };
  return integer ? { kind: 'integer', places: 0 } : { kind: 'decimal', places };
}

const zeros = (n: number) => (n > 0 ? '.' + '0'.repeat(n) : '');

function numFmt(t: ColumnType): string | undefined {
  switch (t.kind) {
    case 'integer':
      return '0';
    case 'decimal':
      return '0' + zeros(t.places);
    case 'usd':
      return '"$"#,##0' + zeros(t.places) + ';-"$"#,##0' + zeros(t.places);
    case 'pct':
      return '0' + zeros(t.places) + '%';
    case 'text':
      return undefined;
  }
}

/** The value a CSV cell becomes in the sheet (null: an empty cell). */
export function cellValue(text: string, type: ColumnType): string | number | null {
  if (text === '') return null;
  if (type.kind === 'text') return text;
  const x = Number(text);
  return type.kind === 'pct' ? x / 100 : x;
}

/** Sheet names: the file name without `.csv` (Excel allows 31 characters, no `[]:*?/\`). */
export const sheetName = (file: string) => file.replace(/\.csv$/, '');

/** The whole workbook as bytes. Fixed creation dates keep the same CSVs giving the same file. */
export async function buildXlsx(r: ReportDir): Promise<Buffer> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (b: Buffer) => chunks.push(b));
  const done = new Promise<void>((resolve, reject) => {
    sink.on('end', () => resolve());
    sink.on('error', reject);
  });
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: sink, useStyles: true, useSharedStrings: false });
  const fixed = new Date(r.runJson?.start ?? '2000-01-01T00:00:00.000Z');
  wb.creator = 'fleetsim';
  wb.created = fixed;
  wb.modified = fixed;
  for (const file of REPORT_CSV_FILES) {
    const t = tableOf(r, file);
    if (!t) continue;
    const types = t.header.map((_, c) => columnType(t, c));
    const ws = wb.addWorksheet(sheetName(file), { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = t.header.map((h, c) => ({
      header: h,
      key: h,
      width: Math.min(40, Math.max(h.length + 2, 12)),
      style: numFmt(types[c]) ? { numFmt: numFmt(types[c]) } : {},
    }));
    ws.getRow(1).font = { bold: true };
    ws.getRow(1).commit();
    for (const row of t.rows) ws.addRow(row.map((cell, c) => cellValue(cell, types[c]))).commit();
    ws.commit();
  }
  const run = r.runJson;
  if (run) {
    const ws = wb.addWorksheet('run', { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = [
      { header: 'key', key: 'key', width: 24 },
      { header: 'value', key: 'value', width: 60 },
    ];
    ws.getRow(1).font = { bold: true };
    ws.getRow(1).commit();
    for (const [k, v] of Object.entries(run)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') ws.addRow([k, v]).commit();
    }
    ws.commit();
    const as = wb.addWorksheet('assumptions', { views: [{ state: 'frozen', ySplit: 1 }] });
    as.columns = [{ header: 'assumption', key: 'assumption', width: 160 }];
    as.getRow(1).font = { bold: true };
    as.getRow(1).commit();
    for (const a of run.assumptions ?? []) as.addRow([a]).commit();
    as.commit();
  }
  await wb.commit();
  await done;
  return fixZipDates(Buffer.concat(chunks), fixed);
}

/**
 * exceljs's archiver stamps every zip entry with the current time (no option sets it), so two
 * writes of the same CSVs would differ in those bytes alone. This sets each entry's DOS time and
 * date, in its local header and its central-directory record, to `date` (UTC), walking the
 * central directory from the end-of-central-directory record. test/report-xlsx.test.ts checks
 * that two writes are byte-identical.
 */
export function fixZipDates(zip: Buffer, date: Date): Buffer {
  const y = Math.min(2107, Math.max(1980, date.getUTCFullYear()));
  const dosDate = ((y - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate();
  const dosTime = (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1);
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('report.xlsx: no end of central directory record');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('report.xlsx: bad central directory record');
    zip.writeUInt16LE(dosTime, at + 12);
    zip.writeUInt16LE(dosDate, at + 14);
    const local = zip.readUInt32LE(at + 42);
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error('report.xlsx: bad local file header');
    zip.writeUInt16LE(dosTime, local + 10);
    zip.writeUInt16LE(dosDate, local + 12);
    at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return zip;
}

function tableOf(r: ReportDir, file: string): Table | undefined {
  const byFile: Record<string, Table | undefined> = {
    'summary.csv': r.summary,
    'pnl.csv': r.pnl,
    'timeseries.csv': r.timeseries,
    'requests.csv': r.requests,
    'sweep.csv': r.sweep,
    'summary_ci.csv': r.summaryCi,
    'plan.csv': r.plan,
  };
  return byFile[file];
}
