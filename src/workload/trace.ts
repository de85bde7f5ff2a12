/**
 * Streaming reader for the Azure LLM inference trace CSV format:
 *
 *     TIMESTAMP,ContextTokens,GeneratedTokens
 *     2023-11-16 18:15:46.6805900,374,44
 *
 * Traces can be many gigabytes, so rows are parsed straight from a fixed 64 KB byte buffer:
 * memory stays flat and the per-row path creates no strings, regexes or Dates. Strings are only
 * built when reporting an error.
 */
import * as fs from 'node:fs';
import { grown } from '../engine/grow.js';
import { InputError } from '../errors.js';

/** Bytes read per `readSync`; also the longest line accepted. */
export const TRACE_CHUNK_BYTES = 64 * 1024;

/** Column names the header must carry, in order. */
export const TRACE_COLUMNS = ['TIMESTAMP', 'ContextTokens', 'GeneratedTokens'] as const;
const EXPECTED_HEADER = TRACE_COLUMNS.join(',');
const TIMESTAMP_FORMAT = 'YYYY-MM-DD HH:MM:SS[.fffffff]';

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const COMMA = 44;
const DOT = 46;
const ZERO = 48;
const MAX_TOKENS = 0x7fffffff; // token columns are stored in Int32Array
const SECONDS_PER_DAY = 86_400;
const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);
const MAX_FRACTION_DIGITS = 15;

/** Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** A field as an error message quotes it: cut to 60 characters, so a corrupt row stays one line. */
export function clipped(text: string): string {
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
}

function describeValue(text: string): string {
  return JSON.stringify(clipped(text));
}

/**
 * Reads an Azure trace one row at a time. After `next()` returns true, `timeS`, `promptTokens`,
 * `outputTokens` and `line` describe the current row.
 *
 * Blank lines are skipped, CRLF and LF line endings are both accepted, spaces around fields are
 * ignored, and the final row may lack a newline. The file is closed when `next()` returns false
 * or throws; call `close()` when abandoning a reader early.
 *
 * @throws InputError (from the constructor and `next()`) for an unreadable file, a wrong header,
 * or a malformed or out-of-order row, naming the file, line, column and field.
 */
export class TraceReader {
  /** Path as given by the caller; used in error messages. */
  readonly file: string;
  /** Seconds from the first row's timestamp to the current row's. */
  timeS = 0;
  /** ContextTokens of the current row. */
  promptTokens = 0;
  /** GeneratedTokens of the current row. */
  outputTokens = 0;
  /** 1-based file line of the current row. */
  line = 0;
  /** Data rows returned so far in this pass. */
  rows = 0;
  /** Whether the format starts with a header line (Azure's CSV does; JSON lines do not). */
  get hasHeader(): boolean {
    return true;
  }

  protected fd = -1;
  protected readonly buf = Buffer.allocUnsafe(TRACE_CHUNK_BYTES);
  protected filePosBytes = 0;
  /** Unconsumed bytes are buf[bufStart, bufEnd). */
  protected bufStart = 0;
  protected bufEnd = 0;
  protected atEof = false;
  /** Current line is buf[lineStart, lineEnd), line ending removed. */
  protected lineStart = 0;
  protected lineEnd = 0;
  protected linesRead = 0;
  // Timestamps are kept as (day number, second of day) so differences keep sub-microsecond
  // precision; seconds since 1970 as one double would only resolve ~0.2 µs.
  private parsedDays = 0;
  private parsedSecOfDay = 0;
  private firstDays = 0;
  private firstSecOfDay = 0;
  private prevTimeLine = 0;

  /** Opens `file` and checks its header. */
  constructor(file: string) {
    this.file = file;
    try {
      this.fd = fs.openSync(file, 'r');
    } catch (err) {
      throw this.ioError(err);
    }
    this.readHeader();
  }

  /** Starts again from the first row (reusing the buffer); used to loop a trace. */
  rewind(): void {
    if (this.fd < 0) {
      try {
        this.fd = fs.openSync(this.file, 'r');
      } catch (err) {
        throw this.ioError(err);
      }
    }
    this.filePosBytes = 0;
    this.bufStart = 0;
    this.bufEnd = 0;
    this.atEof = false;
    this.linesRead = 0;
    this.rows = 0;
    this.line = 0;
    this.timeS = 0;
    this.readHeader();
  }

  /** Releases the file descriptor. Safe to call more than once. */
  close(): void {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      fs.closeSync(fd);
    }
  }

  /** Advances to the next row. Returns false (and closes the file) at the end of the trace. */
  next(): boolean {
    const buf = this.buf;
    for (;;) {
      if (!this.readLine()) {
        this.close();
        return false;
      }
      let start = this.lineStart;
      let end = this.lineEnd;
      while (start < end && (buf[start] === SPACE || buf[start] === TAB)) start++;
      while (end > start && (buf[end - 1] === SPACE || buf[end - 1] === TAB)) end--;
      if (start === end) continue;

      let comma1 = start;
      while (comma1 < end && buf[comma1] !== COMMA) comma1++;
      if (comma1 === end) this.failFieldCount(1, end);
      let comma2 = comma1 + 1;
      while (comma2 < end && buf[comma2] !== COMMA) comma2++;
      if (comma2 === end) this.failFieldCount(2, end);
      let extra = comma2 + 1;
      while (extra < end && buf[extra] !== COMMA) extra++;
      if (extra !== end) this.failFieldCount(4, extra + 1);

      this.parseTimestamp(start, comma1);
      this.promptTokens = this.parseTokens(comma1 + 1, comma2, 1);
      this.outputTokens = this.parseTokens(comma2 + 1, end, 2);

      if (this.rows === 0) {
        this.firstDays = this.parsedDays;
        this.firstSecOfDay = this.parsedSecOfDay;
        this.timeS = 0;
      } else {
        const timeS =
          (this.parsedDays - this.firstDays) * SECONDS_PER_DAY + (this.parsedSecOfDay - this.firstSecOfDay);
        if (timeS < this.timeS) {
          this.fail(
            `${TRACE_COLUMNS[0]}: timestamps must be non-decreasing; ${describeValue(this.text(start, comma1))} ` +
              `is earlier than the row on line ${this.prevTimeLine}`,
            start,
          );
        }
        this.timeS = timeS;
      }
      this.prevTimeLine = this.linesRead;
      this.line = this.linesRead;
      this.rows++;
      return true;
    }
  }

  /** What a row looks like, for the error about an over-long line. */
  protected rowForm(): string {
    return EXPECTED_HEADER;
  }

  /** Sets lineStart/lineEnd to the next line (without its CR/LF); false at end of file. */
  protected readLine(): boolean {
    const buf = this.buf;
    for (;;) {
      // indexOf scans to buf.length, so a hit at or past bufEnd is stale data from an earlier chunk.
      const newline = this.bufStart < this.bufEnd ? buf.indexOf(LF, this.bufStart) : -1;
      if (newline >= 0 && newline < this.bufEnd) {
        this.setLine(this.bufStart, newline);
        this.bufStart = newline + 1;
        return true;
      }
      if (this.atEof) {
        if (this.bufStart === this.bufEnd) return false;
        this.setLine(this.bufStart, this.bufEnd);
        this.bufStart = this.bufEnd;
        return true;
      }
      this.fill();
    }
  }

  private setLine(start: number, newline: number): void {
    const buf = this.buf;
    // A UTF-8 byte-order mark before the first line (spreadsheet exports, Notepad) is not part of
    // it, in either format (src/csv-read.ts does the same for the CSV tables).
    if (this.linesRead === 0 && newline - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
    this.lineStart = start;
    this.lineEnd = newline > start && buf[newline - 1] === CR ? newline - 1 : newline;
    this.linesRead++;
  }

  /** Moves the partial line to the front of the buffer and reads more after it. */
  protected fill(): void {
    if (this.bufStart > 0) {
      this.buf.copy(this.buf, 0, this.bufStart, this.bufEnd);
      this.bufEnd -= this.bufStart;
      this.bufStart = 0;
    }
    if (this.bufEnd === this.buf.length) {
      this.close();
      throw new InputError(
        `line is longer than ${TRACE_CHUNK_BYTES} bytes; expected ${this.rowForm()} rows`,
        { file: this.file, line: this.linesRead + 1 },
      );
    }
    let bytesRead: number;
    try {
      bytesRead = fs.readSync(this.fd, this.buf, this.bufEnd, this.buf.length - this.bufEnd, this.filePosBytes);
    } catch (err) {
      this.close();
      throw this.ioError(err);
    }
    if (bytesRead === 0) this.atEof = true;
    this.filePosBytes += bytesRead;
    this.bufEnd += bytesRead;
  }

  protected readHeader(): void {
    if (!this.readLine()) {
      this.close();
      throw new InputError(`trace file is empty; expected the header ${EXPECTED_HEADER}`, {
        file: this.file,
        line: 1,
        col: 1,
      });
    }
    const start = this.lineStart;
    const buf = this.buf;
    const header = buf.toString('utf8', start, this.lineEnd);
    // Spaces around names are tolerated, as they are around row fields.
    const names = header.split(',');
    let col = 1;
    let field = 0;
    while (field < TRACE_COLUMNS.length && names[field]?.trim() === TRACE_COLUMNS[field]) {
      col += names[field].length + 1;
      field++;
    }
    if (field === TRACE_COLUMNS.length && names.length === TRACE_COLUMNS.length) return;
    const hint = /^\s*\d/.test(header) ? ' (the header line seems to be missing)' : '';
    this.close();
    throw new InputError(`trace header: expected "${EXPECTED_HEADER}", got ${describeValue(header.trim())}${hint}`, {
      file: this.file,
      line: 1,
      col,
    });
  }

  /** Parses `YYYY-MM-DD HH:MM:SS[.f+]` (UTC) in buf[start, end) into parsedDays/parsedSecOfDay. */
  private parseTimestamp(start: number, end: number): void {
    const buf = this.buf;
    let s = start;
    let e = end;
    while (s < e && (buf[s] === SPACE || buf[s] === TAB)) s++;
    while (e > s && (buf[e - 1] === SPACE || buf[e - 1] === TAB)) e--;
    const length = e - s;
    if (
      length < 19 ||
      buf[s + 4] !== 45 || // '-'
      buf[s + 7] !== 45 ||
      (buf[s + 10] !== SPACE && buf[s + 10] !== 84) || // ' ' or 'T'
      buf[s + 13] !== 58 || // ':'
      buf[s + 16] !== 58 ||
      (length > 19 && (buf[s + 19] !== DOT || length === 20))
    ) {
      this.failTimestamp(s, e);
    }
    const year = this.digits(s, 4);
    const month = this.digits(s + 5, 2);
    const day = this.digits(s + 8, 2);
    const hour = this.digits(s + 11, 2);
    const minute = this.digits(s + 14, 2);
    const second = this.digits(s + 17, 2);
    if (
      year < 0 ||
      month < 1 ||
      month > 12 ||
      day < 1 ||
      day > DAYS_IN_MONTH[month] ||
      (month === 2 && day === 29 && !isLeapYear(year)) ||
      hour < 0 ||
      hour > 23 ||
      minute < 0 ||
      minute > 59 ||
      second < 0 ||
      second > 59
    ) {
      this.failTimestamp(s, e);
    }
    let fraction = 0;
    if (length > 20) {
      let digitsUsed = 0;
      let numerator = 0;
      for (let i = s + 20; i < e; i++) {
        const digit = buf[i] - ZERO;
        if (digit < 0 || digit > 9) this.failTimestamp(s, e);
        // Digits past 1e-15 s cannot change a double second-of-day; they are checked, not used.
        if (digitsUsed < MAX_FRACTION_DIGITS) {
          numerator = numerator * 10 + digit;
          digitsUsed++;
        }
      }
      fraction = numerator / POW10[digitsUsed];
    }
    this.parsedDays = daysFromCivil(year, month, day);
    this.parsedSecOfDay = hour * 3600 + minute * 60 + second + fraction;
  }

  /** Reads `count` ASCII digits at `at`; -1 if any is not a digit. */
  private digits(at: number, count: number): number {
    let value = 0;
    for (let i = at; i < at + count; i++) {
      const digit = this.buf[i] - ZERO;
      if (digit < 0 || digit > 9) return -1;
      value = value * 10 + digit;
    }
    return value;
  }

  /** Parses a non-negative integer token count in buf[start, end); `field` indexes TRACE_COLUMNS. */
  private parseTokens(start: number, end: number, field: number): number {
    const buf = this.buf;
    let s = start;
    let e = end;
    while (s < e && (buf[s] === SPACE || buf[s] === TAB)) s++;
    while (e > s && (buf[e - 1] === SPACE || buf[e - 1] === TAB)) e--;
    if (s === e) this.failTokens(start, s, e, field);
    let value = 0;
    for (let i = s; i < e; i++) {
      const digit = buf[i] - ZERO;
      if (digit < 0 || digit > 9) this.failTokens(start, s, e, field);
      value = value * 10 + digit;
    }
    if (value > MAX_TOKENS) {
      this.fail(`${TRACE_COLUMNS[field]}: ${this.text(s, e)} is too large (max ${MAX_TOKENS})`, s);
    }
    return value;
  }

  private failTokens(fieldStart: number, s: number, e: number, field: number): never {
    this.fail(
      `${TRACE_COLUMNS[field]}: expected a non-negative integer, got ${describeValue(this.text(s, e))}`,
      s === e ? fieldStart : s,
    );
  }

  private failTimestamp(s: number, e: number): never {
    this.fail(
      `${TRACE_COLUMNS[0]}: expected a UTC time like ${TIMESTAMP_FORMAT}, got ${describeValue(this.text(s, e))}`,
      s,
    );
  }

  private failFieldCount(fieldsSeen: number, at: number): never {
    const message =
      fieldsSeen > TRACE_COLUMNS.length
        ? `expected ${TRACE_COLUMNS.length} fields (${EXPECTED_HEADER}), got more`
        : `expected ${TRACE_COLUMNS.length} fields (${EXPECTED_HEADER}), got ${fieldsSeen}; ` +
          `${TRACE_COLUMNS[fieldsSeen]} is missing`;
    this.fail(message, at);
  }

  protected text(start: number, end: number): string {
    return this.buf.toString('utf8', start, end);
  }

  /** Throws an InputError at byte `at` of the current line (column counted in characters). */
  protected fail(message: string, at: number): never {
    const col = this.buf.toString('utf8', this.lineStart, at).length + 1;
    const line = this.linesRead;
    this.close();
    throw new InputError(message, { file: this.file, line, col });
  }

  protected ioError(err: unknown): InputError {
    const reason = err instanceof Error ? err.message : String(err);
    return new InputError(`cannot read trace file: ${this.file} (${reason})`, { file: this.file });
  }
}

function noRows(reader: TraceReader): InputError {
  return reader.hasHeader ? new InputError('trace has a header but no rows', { file: reader.file, line: 2 }) : new InputError('trace has no rows', { file: reader.file, line: 1 });
}

/**
 * Streams through a whole trace, checking every row. Used by `fleetsim validate`.
 * @returns the number of data rows, the seconds from the first to the last timestamp, and the token sums.
 * @throws InputError for any problem, including a trace with a header but no rows.
 */
export function validateTrace(
  file: string,
  open: (file: string) => TraceReader = (f) => new TraceReader(f),
): { rows: number; spanS: number; promptTokens: number; outputTokens: number } {
  const reader = open(file);
  // next() validates each row; the token sums give the trace's mean lengths (the loader's demand check).
  let promptTokens = 0;
  let outputTokens = 0;
  while (reader.next()) {
    promptTokens += reader.promptTokens;
    outputTokens += reader.outputTokens;
  }
  if (reader.rows === 0) throw noRows(reader);
  return { rows: reader.rows, spanS: reader.timeS, promptTokens, outputTokens };
}

/**
 * Reads both token columns of a trace, e.g. to feed empirical length distributions, in one pass
 * that checks every row as {@link validateTrace} does. Streams the file; the results are sized
 * exactly to the row count.
 * @throws InputError for any problem, including a trace with a header but no rows.
 */
export function readTraceColumns(
  file: string,
  open: (file: string) => TraceReader = (f) => new TraceReader(f),
): { prompt: Int32Array; output: Int32Array } {
  const reader = open(file);
  let prompt = new Int32Array(4096);
  let output = new Int32Array(4096);
  let count = 0;
  while (reader.next()) {
    if (count === prompt.length) {
      prompt = grown(prompt, 2 * count);
      output = grown(output, 2 * count);
    }
    prompt[count] = reader.promptTokens;
    output[count] = reader.outputTokens;
    count++;
  }
  if (count === 0) throw noRows(reader);
  return { prompt: prompt.slice(0, count), output: output.slice(0, count) };
}
