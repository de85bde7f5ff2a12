import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { loadScenario } from '../src/scenario/load.js';
import { readTraceColumns, TRACE_CHUNK_BYTES, TraceReader, validateTrace } from '../src/workload/trace.js';

const CONV = 'data/traces/AzureLLMInferenceTrace_conv.csv';
const CODE = 'data/traces/AzureLLMInferenceTrace_code.csv';
const HEADER = 'TIMESTAMP,ContextTokens,GeneratedTokens';

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetsim-trace-'));
afterAll(() => fs.rmSync(tmpDir, { recursive: true, force: true }));
let fileCounter = 0;
function writeTrace(text: string): string {
  const file = path.join(tmpDir, `t${fileCounter++}.csv`);
  fs.writeFileSync(file, text);
  return file;
}

/** Reference parse of a whole trace with string operations, to compare the streaming reader against. */
function naiveRows(file: string): { timeS: number; prompt: number; output: number }[] {
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).slice(1).filter((l) => l.length > 0);
  const toMs = (ts: string) => Date.parse(ts.slice(0, 23).replace(' ', 'T') + 'Z') + Number('0.' + ts.slice(23)) ;
  const first = toMs(lines[0].split(',')[0]);
  return lines.map((l) => {
    const [ts, p, o] = l.split(',');
    return { timeS: (toMs(ts) - first) / 1000, prompt: Number(p), output: Number(o) };
  });
}

function catchInputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('TraceReader on the Azure traces', () => {
  for (const file of [CONV, CODE]) {
    it(`streams every row of ${path.basename(file)} like a naive parse`, () => {
      const expected = naiveRows(file);
      const reader = new TraceReader(file);
      let i = 0;
      while (reader.next()) {
        const want = expected[i];
        expect(reader.promptTokens).toBe(want.prompt);
        expect(reader.outputTokens).toBe(want.output);
        expect(Math.abs(reader.timeS - want.timeS)).toBeLessThan(2e-6);
        expect(reader.line).toBe(i + 2);
        i++;
      }
      expect(i).toBe(expected.length);
    });
  }

  it('first rows of the conversation trace', () => {
    const reader = new TraceReader(CONV);
    expect(reader.next()).toBe(true);
    expect([reader.timeS, reader.promptTokens, reader.outputTokens, reader.line]).toEqual([0, 374, 44, 2]);
    expect(reader.next()).toBe(true);
    expect(reader.timeS).toBeCloseTo(50.995169 - 46.68059, 6);
    expect([reader.promptTokens, reader.outputTokens]).toEqual([396, 109]);
    reader.close();
  });

  it('validateTrace counts rows and span', () => {
    const conv = validateTrace(CONV);
    expect(conv.rows).toBe(19366);
    expect(conv.spanS).toBeGreaterThan(3000);
    expect(validateTrace(CODE).rows).toBe(8819);
  });

  it('readTraceColumns returns exactly the columns', () => {
    const { prompt: prompts, output: outputs } = readTraceColumns(CODE);
    expect(prompts.length).toBe(8819);
    expect(outputs.length).toBe(8819);
    expect(prompts[0]).toBe(4808);
    expect(outputs[1]).toBe(8);
  });
});

describe('TraceReader edge cases', () => {
  it('accepts LF endings, a missing final newline, blank lines, spaces and a BOM', () => {
    const file = writeTrace(
      `\uFEFF${HEADER}\n2024-02-29 23:59:59.5,10,1\n\n 2024-03-01 00:00:00 , 20 ,2`,
    );
    const reader = new TraceReader(file);
    expect(reader.next()).toBe(true);
    expect(reader.next()).toBe(true);
    expect([reader.timeS, reader.promptTokens, reader.outputTokens, reader.line]).toEqual([0.5, 20, 2, 4]);
    expect(reader.next()).toBe(false);
    expect(reader.next()).toBe(false);
  });

  it('handles rows straddling 64 KB chunk boundaries', () => {
    const rows: string[] = [];
    for (let i = 0; rows.join('\n').length < 3 * TRACE_CHUNK_BYTES; i++) {
      rows.push(`2023-11-16 18:${String(Math.floor(i / 6000)).padStart(2, '0')}:${String(Math.floor(i / 100) % 60).padStart(2, '0')}.${String(i % 100).padStart(2, '0')},${i},${i % 7}`);
    }
    const file = writeTrace(`${HEADER}\r\n${rows.join('\r\n')}`);
    const prompts = readTraceColumns(file).prompt;
    expect(prompts.length).toBe(rows.length);
    expect(prompts.every((v, i) => v === i)).toBe(true);
  });

  it('rewind() replays from the first row', () => {
    const reader = new TraceReader(CODE);
    while (reader.next());
    reader.rewind();
    expect(reader.next()).toBe(true);
    expect([reader.timeS, reader.promptTokens, reader.line]).toEqual([0, 4808, 2]);
    reader.close();
  });
});

describe('TraceReader errors', () => {
  const row = (i: number) => `2023-11-16 18:15:4${i}.0000000,${100 + i},${10 + i}`;

  it('missing file', () => {
    const err = catchInputError(() => new TraceReader(path.join(tmpDir, 'nope.csv')));
    expect(err.message).toContain('cannot read trace file: ');
    expect(err.message).toContain('nope.csv');
    expect(err.location.file).toContain('nope.csv');
  });

  it('wrong header names the file, line 1 and what was expected', () => {
    const file = writeTrace(`TIMESTAMP,contextTokens,GeneratedTokens\n${row(0)}\n`);
    const err = catchInputError(() => new TraceReader(file));
    expect(err.location).toEqual({ file, line: 1, col: 11 });
    expect(err.message).toContain(HEADER);
    expect(err.format()).toMatch(new RegExp(`^${file.replace(/[.\\]/g, '\\$&')}:1:11: `));
  });

  it('missing header', () => {
    const err = catchInputError(() => new TraceReader(writeTrace(`${row(0)}\n`)));
    expect(err.message).toMatch(/header line seems to be missing/);
  });

  it('empty file', () => {
    expect(catchInputError(() => new TraceReader(writeTrace(''))).location.line).toBe(1);
  });

  it('non-numeric token count on line 5', () => {
    const file = writeTrace(`${HEADER}\n${row(0)}\n${row(1)}\n${row(2)}\n2023-11-16 18:15:43.0,abc,13\n`);
    const err = catchInputError(() => validateTrace(file));
    expect(err.location).toEqual({ file, line: 5, col: 23 });
    expect(err.message).toBe('ContextTokens: expected a non-negative integer, got "abc"');
    expect(err.format()).toContain(':5:23: ContextTokens');
  });

  it.each([
    ['negative output', `${row(0)}\n2023-11-16 18:15:41.0,5,-3`, 3, 25, /GeneratedTokens: expected a non-negative integer, got "-3"/],
    ['fractional output', `2023-11-16 18:15:41.0,5,3.5`, 2, 25, /GeneratedTokens.*"3\.5"/],
    ['empty field', `2023-11-16 18:15:41.0,,3`, 2, 23, /ContextTokens.*got ""/],
    ['too few fields', `2023-11-16 18:15:41.0,5`, 2, 24, /expected 3 fields.*got 2; GeneratedTokens is missing/],
    ['too many fields', `2023-11-16 18:15:41.0,5,6,7`, 2, 27, /expected 3 fields/],
    ['bad timestamp', `${row(0)}\n2023-13-16 18:15:41.0,5,6`, 3, 1, /TIMESTAMP: expected a UTC time like YYYY-MM-DD HH:MM:SS/],
    ['non-leap Feb 29', `2023-02-29 00:00:00,5,6`, 2, 1, /TIMESTAMP/],
    ['garbage timestamp', `yesterday,5,6`, 2, 1, /TIMESTAMP.*"yesterday"/],
    ['decreasing time', `${row(2)}\n${row(1)}`, 3, 1, /non-decreasing.*line 2/],
    ['huge count', `2023-11-16 18:15:41.0,99999999999,6`, 2, 23, /ContextTokens: 99999999999 is too large/],
  ])('%s', (_name, body, line, col, message) => {
    const file = writeTrace(`${HEADER}\n${body}\n`);
    const err = catchInputError(() => validateTrace(file));
    expect(err.location).toEqual({ file, line, col });
    expect(err.message).toMatch(message);
  });

  it('header only', () => {
    const file = writeTrace(`${HEADER}\n`);
    expect(catchInputError(() => validateTrace(file)).message).toMatch(/no rows/);
  });

  it('a line longer than a chunk', () => {
    const file = writeTrace(`${HEADER}\n${row(0)}\n${'9'.repeat(TRACE_CHUNK_BYTES + 10)}\n`);
    expect(catchInputError(() => validateTrace(file)).location.line).toBe(3);
  });
});

describe('traces in a scenario', () => {
  it('are read once per load, however many workloads draw lengths from them', () => {
    const scenario = loadScenario('bench/scenarios/platform-1m.yaml');
    const [chat, assist] = scenario.workloads;
    if (chat.promptTokens?.dist !== 'empirical' || assist.promptTokens?.dist !== 'empirical') throw new Error('expected empirical lengths');
    if (chat.outputTokens?.dist !== 'empirical') throw new Error('expected empirical lengths');
    // The same column of the same file is the same array: it was read once.
    expect(assist.promptTokens.values).toBe(chat.promptTokens.values);
    expect(chat.promptTokens.values).toEqual(readTraceColumns(CONV).prompt);
    expect(chat.outputTokens.values).toEqual(readTraceColumns(CONV).output);
  });
});
