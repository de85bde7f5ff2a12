/**
 * The CSV output contract: RFC 4180 quoting, UTF-8, `\n` line ends, numbers as plain decimals
 * (never exponent notation, so every spreadsheet and `awk` reads them alike), timestamps as
 * ISO 8601 UTC, and text cells neutralised against formula injection.
 *
 * An empty cell means "not applicable" (e.g. the p99 latency of a model that served no
 * requests); that is how non-finite numbers are written.
 */

import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Format a number as a plain decimal with exactly `places` fraction digits.
 *
 * Rounding is of the exact binary value, ties away from zero (`0.125` → `0.13`,
 * `-2.5` → `-3`); note `1.005` is really 1.00499999… and gives `1.00`. Never uses exponent
 * notation: `1e-7` → `0.0000` (4 places), `1.5e21` → `1500000000000000000000`. Negative
 * zero, and negatives that round to zero, print without a sign. NaN and ±Infinity give the
 * empty string (not applicable).
 */
export function formatDecimal(x: number, places: number): string {
  if (!Number.isInteger(places) || places < 0 || places > 100) {
    throw new RangeError(`formatDecimal: places must be an integer in [0, 100], got ${places}`);
  }
  if (!Number.isFinite(x)) return '';
  // toFixed switches to exponent notation at 1e21; every double that large is an integer,
  // so expanding its shortest round-trip form needs no rounding.
  const text = Math.abs(x) < 1e21 ? x.toFixed(places) : expandLargeInteger(x, places);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

function expandLargeInteger(x: number, places: number): string {
  // String(x) for |x| ≥ 1e21 is always `[-]d[.ddd]e+N`.
  const m = /^(-?)(\d)(?:\.(\d+))?e\+(\d+)$/.exec(String(x));
  if (!m) throw new Error(`formatDecimal: unexpected number form ${String(x)}`);
  const [, sign, lead, fraction = '', exponent] = m;
  const digits = lead + fraction;
  const integer = digits + '0'.repeat(Number(exponent) + 1 - digits.length);
  return sign + integer + (places > 0 ? '.' + '0'.repeat(places) : '');
}

/** A number rounded to an integer (ties away from zero), no exponent; empty if non-finite. */
export function formatInt(x: number): string {
  return formatDecimal(x, 0);
}

/** US dollars with 2 decimals, e.g. `1234.50`; empty if non-finite. */
export function formatUsd(x: number): string {
  return formatDecimal(x, 2);
}

/** A ratio or fraction with 4 decimals, e.g. `0.8125`; empty if non-finite. */
export function formatRatio(x: number): string {
  return formatDecimal(x, 4);
}

/**
 * ISO 8601 UTC with milliseconds, e.g. `2026-01-01T00:00:00.000Z`.
 * @throws RangeError for an invalid date.
 */
export function formatTimestamp(date: Date | number): string {
  return (typeof date === 'number' ? new Date(date) : date).toISOString();
}

/**
 * UTC as spreadsheets read a date-time, e.g. `2026-01-01 00:17:00` (`.250` added when the instant
 * has milliseconds): Excel, LibreOffice and Google Sheets take ISO 8601's `T`…`Z` form as text.
 * @throws RangeError for an invalid date.
 */
export function formatSpreadsheetUtc(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, iso.endsWith('.000Z') ? 19 : 23)}`;
}

/**
 * Make a text cell safe to open in a spreadsheet: a cell starting with `=`, `+`, `-`, `@`,
 * tab or carriage return would be evaluated as a formula, so it gets a leading `'`
 * (OWASP CSV-injection guidance). Apply to text cells only (names, labels, anything from
 * user input); numbers go through {@link formatDecimal} and must keep their minus sign.
 */
export function neutralizeText(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/** Cells needing quotes under RFC 4180. */
const NEEDS_QUOTES = /[",\n\r]/;

/** One RFC 4180 record: cells quoted when they contain `,` `"` CR or LF, joined by `,`, ending in `\n`. */
export function csvRow(cells: readonly string[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (i > 0) line += ',';
    line += NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
  }
  return line + '\n';
}

/** Flush threshold in UTF-16 code units; roughly 64 KB of mostly-ASCII output. */
const FLUSH_AT_CHARS = 64 * 1024;

/**
 * Streams CSV rows to a file. Buffered and synchronous, because it may be called once per
 * simulated request from the engine's hot loop, where awaiting a stream would cost more than
 * the write. The header row is written on construction; call {@link CsvWriter.close} to
 * flush and release the file.
 */
export class CsvWriter {
  private fd: number | null;
  private buffer = '';
  private readonly columns: number;

  /**
   * @param path file to create or truncate.
   * @param header column names, written as the first row; every row must have as many cells.
   */
  constructor(path: string, header: readonly string[]) {
    this.columns = header.length;
    this.fd = openSync(path, 'w');
    this.buffer = csvRow(header);
  }

  /**
   * Append one row of already formatted cells.
   * @throws Error when the cell count differs from the header's or the writer is closed.
   */
  write(cells: readonly string[]): void {
    if (this.fd === null) throw new Error('CsvWriter.write: writer is closed');
    if (cells.length !== this.columns) {
      throw new Error(`CsvWriter.write: row has ${cells.length} cells, header has ${this.columns}`);
    }
    this.buffer += csvRow(cells);
    if (this.buffer.length >= FLUSH_AT_CHARS) this.flush();
  }

  /** Flush buffered rows and close the file. Safe to call more than once. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    try {
      this.flush();
    } finally {
      this.fd = null;
      closeSync(fd);
    }
  }

  private flush(): void {
    if (this.buffer.length === 0 || this.fd === null) return;
    const bytes = Buffer.from(this.buffer, 'utf8');
    this.buffer = '';
    // writeSync may write fewer bytes than asked (e.g. on a full pipe), so loop.
    let offset = 0;
    while (offset < bytes.length) {
      offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    }
  }
}
