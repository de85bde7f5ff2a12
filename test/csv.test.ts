import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  CsvWriter,
  csvRow,
  formatDecimal,
  formatInt,
  formatRatio,
  formatTimestamp,
  formatUsd,
  neutralizeText,
} from '../src/report/csv.js';

describe('formatDecimal', () => {
  it('pads to the requested number of places', () => {
    expect(formatDecimal(1.5, 3)).toBe('1.500');
  });

  it('writes tiny numbers as zeros instead of exponent notation', () => {
    expect(formatDecimal(1e-7, 4)).toBe('0.0000');
  });

  it('writes huge numbers in full instead of exponent notation', () => {
    expect(formatDecimal(1.5e21, 0)).toBe('1500000000000000000000');
    expect(formatDecimal(-1e25, 2)).toBe('-10000000000000000000000000.00');
  });

  it('rounds exact ties away from zero', () => {
    expect(formatDecimal(0.125, 2)).toBe('0.13');
    expect(formatDecimal(-0.125, 2)).toBe('-0.13');
    expect(formatDecimal(2.5, 0)).toBe('3');
    expect(formatDecimal(-2.5, 0)).toBe('-3');
  });

  it('drops the sign of negative zero and of negatives that round to zero', () => {
    expect(formatDecimal(-0, 2)).toBe('0.00');
    expect(formatDecimal(-0.001, 2)).toBe('0.00');
    expect(formatDecimal(-1e-7, 4)).toBe('0.0000');
  });

  it('writes non-finite numbers as an empty cell', () => {
    expect(formatDecimal(NaN, 2)).toBe('');
    expect(formatDecimal(Infinity, 2)).toBe('');
    expect(formatDecimal(-Infinity, 2)).toBe('');
  });

  it('never uses exponent notation across magnitudes 1e-12 to 1e25', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      const x = (rand() < 0.5 ? -1 : 1) * 10 ** (-12 + rand() * 37);
      const places = Math.floor(rand() * 13);
      const text = formatDecimal(x, places);
      expect(text).toMatch(places === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${places}}$`));
      expect(text).not.toMatch(/[eE]/);
    }
  });

  it('reads back as the same number when given enough places', () => {
    for (const x of [123.456, 1e21, 9.007199254740993e15, 0.1]) {
      expect(Number(formatDecimal(x, 3))).toBeCloseTo(x, 3);
    }
  });

  it('rejects a bad number of places', () => {
    expect(() => formatDecimal(1, -1)).toThrow(RangeError);
    expect(() => formatDecimal(1, 1.5)).toThrow(RangeError);
  });
});

describe('fixed-format helpers', () => {
  it('formatInt rounds to a plain integer', () => {
    expect(formatInt(2.5)).toBe('3');
    expect(formatInt(1e22)).toBe('10000000000000000000000');
  });

  it('formatUsd uses two places', () => {
    expect(formatUsd(1234.5)).toBe('1234.50');
  });

  it('formatRatio uses four places', () => {
    expect(formatRatio(0.8125)).toBe('0.8125');
    expect(formatRatio(2 / 3)).toBe('0.6667');
  });

  it('formatTimestamp writes ISO 8601 UTC with milliseconds from a Date or epoch ms', () => {
    expect(formatTimestamp(new Date(Date.UTC(2026, 0, 1)))).toBe('2026-01-01T00:00:00.000Z');
    expect(formatTimestamp(Date.UTC(2026, 0, 1, 12, 30, 5, 7))).toBe('2026-01-01T12:30:05.007Z');
  });
});

describe('neutralizeText', () => {
  it('prefixes formula-like text cells with a quote', () => {
    expect(neutralizeText('=HYPERLINK("x")')).toBe(`'=HYPERLINK("x")`);
    expect(neutralizeText('+1')).toBe(`'+1`);
    expect(neutralizeText('-x')).toBe(`'-x`);
    expect(neutralizeText('@a')).toBe(`'@a`);
    expect(neutralizeText('\tx')).toBe(`'\tx`);
    expect(neutralizeText('\rx')).toBe(`'\rx`);
  });

  it('leaves ordinary text alone', () => {
    expect(neutralizeText('llama-3-70b')).toBe('llama-3-70b');
    expect(neutralizeText('')).toBe('');
    expect(neutralizeText(' =1')).toBe(' =1');
  });
});

describe('csvRow', () => {
  it('joins plain cells with commas and ends with a newline', () => {
    expect(csvRow(['a', 'b', ''])).toBe('a,b,\n');
  });

  it('quotes cells with commas, quotes, CR or LF and doubles embedded quotes', () => {
    expect(csvRow(['a,b', 'say "hi"', 'x\ny', 'x\ry', 'plain'])).toBe(
      '"a,b","say ""hi""","x\ny","x\ry",plain\n',
    );
  });

  it('parses back with csv-parse to the original text', () => {
    const cells = ['a,b', 'say "hi"', 'multi\nline', 'cr\rhere', neutralizeText('=1+2'), 'ünïcødé', ' spaced ', ''];
    const records = parse(csvRow(cells) + csvRow(['1', '2', '3', '4', '5', '6', '7', '8']), {
      relax_column_count: false,
    }) as string[][];
    expect(records[0]).toEqual(cells);
    expect(records).toHaveLength(2);
  });
});

describe('CsvWriter', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the header and rows to the file', () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetsim-csv-'));
    const file = join(dir, 'out.csv');
    const w = new CsvWriter(file, ['model', 'cost_usd']);
    w.write(['a,b', formatUsd(1.5)]);
    w.close();
    expect(readFileSync(file, 'utf8')).toBe('model,cost_usd\n"a,b",1.50\n');
  });

  it('writes every row when the buffer is flushed many times', () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetsim-csv-'));
    const file = join(dir, 'big.csv');
    const w = new CsvWriter(file, ['i', 'text']);
    for (let i = 0; i < 20_000; i++) w.write([formatInt(i), `row "${i}", ü`]);
    w.close();
    const records = parse(readFileSync(file, 'utf8'), { columns: true }) as { i: string; text: string }[];
    expect(records).toHaveLength(20_000);
    expect(records[19_999]).toEqual({ i: '19999', text: 'row "19999", ü' });
  });

  it('rejects a row whose cell count differs from the header', () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetsim-csv-'));
    const w = new CsvWriter(join(dir, 'x.csv'), ['a', 'b']);
    expect(() => w.write(['1'])).toThrow(/1 cells, header has 2/);
    w.close();
  });

  it('rejects writes after close and tolerates a second close', () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetsim-csv-'));
    const w = new CsvWriter(join(dir, 'x.csv'), ['a']);
    w.close();
    w.close();
    expect(() => w.write(['1'])).toThrow(/closed/);
  });
});
