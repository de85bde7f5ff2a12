/**
 * Reading CSV input: the one place the project's CSV readers (data/ catalog tables, the facility
 * table, measurement files, report CSVs read back by `report`) share their csv-parse options, so
 * what one accepts the others do. A UTF-8 byte-order mark, which Excel's "CSV UTF-8" and Windows
 * Notepad write, is dropped before anything else is read (a BOM before a `#` comment line made the
 * comment a record). The trace readers (src/workload/trace.ts) read bytes and skip a BOM there.
 */
import { parse, type Options } from 'csv-parse/sync';

/** U+FEFF, as the first character of a decoded file. */
export const BOM = '\uFEFF';

/** The text without a leading byte-order mark (for readers that also scan the text themselves). */
export function stripBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(BOM.length) : text;
}

/** csv-parse with the project's shared options (a leading BOM skipped) added to `options`. */
export function parseCsv<T>(input: string | Buffer, options: Options = {}): T {
  return parse(stripBom(typeof input === 'string' ? input : input.toString('utf8')), options) as T;
}

/**
 * A number written in decimal (`1800`, `0.05`, `2e-3`), else NaN: `Number` also reads `0x10`, `0b1`
 * and `Infinity`, which in a catalog table or a measurement file are typos, not figures.
 */
export function decimal(text: string): number {
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text.trim()) ? Number(text) : NaN;
}
