import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { makeArrivalSource, type ArrivalConfig, type ArrivalSource } from '../src/workload/arrivals.js';
import { RandomStream } from '../src/workload/rng.js';
import { TraceReader } from '../src/workload/trace.js';

const CONV = 'data/traces/AzureLLMInferenceTrace_conv.csv';
const HEADER = 'TIMESTAMP,ContextTokens,GeneratedTokens';

const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetsim-arrivals-'));
afterAll(() => fs.rmSync(tmpDir, { recursive: true, force: true }));
let fileCounter = 0;
function writeTrace(text: string): string {
  const file = path.join(tmpDir, `a${fileCounter++}.csv`);
  fs.writeFileSync(file, text);
  return file;
}

function source(cfg: ArrivalConfig, horizonS: number, name = 'arrivals'): ArrivalSource {
  return makeArrivalSource(cfg, new RandomStream(3, name), horizonS);
}

/** All arrival times (and tokens) until exhaustion. */
function drain(src: ArrivalSource): { times: number[]; prompts: number[]; outputs: number[] } {
  const times: number[] = [];
  const prompts: number[] = [];
  const outputs: number[] = [];
  for (let t = src.next(); t !== Infinity; t = src.next()) {
    times.push(t);
    prompts.push(src.promptTokens);
    outputs.push(src.outputTokens);
  }
  return { times, prompts, outputs };
}

function expectNonDecreasing(times: number[]): void {
  let bad = 0;
  for (let i = 1; i < times.length; i++) if (times[i] < times[i - 1]) bad++;
  expect(bad).toBe(0);
}

describe('poisson', () => {
  it('count over a long horizon is within 3 sigma of rate*T', () => {
    const ratePerS = 5;
    const horizonS = 20_000;
    const { times, prompts } = drain(source({ process: 'poisson', ratePerS }, horizonS));
    const expected = ratePerS * horizonS;
    expect(Math.abs(times.length - expected)).toBeLessThan(3 * Math.sqrt(expected));
    expectNonDecreasing(times);
    expect(times[times.length - 1]).toBeLessThan(horizonS);
    expect(prompts[0]).toBe(-1);
  });

  it('keeps returning Infinity after the horizon; rate 0 never arrives', () => {
    const src = source({ process: 'poisson', ratePerS: 1 }, 10);
    drain(src);
    expect(src.next()).toBe(Infinity);
    expect(source({ process: 'poisson', ratePerS: 0 }, 10).next()).toBe(Infinity);
  });

  it('is deterministic per stream', () => {
    const a = drain(source({ process: 'poisson', ratePerS: 2 }, 100, 'x')).times;
    expect(drain(source({ process: 'poisson', ratePerS: 2 }, 100, 'x')).times).toEqual(a);
    expect(drain(source({ process: 'poisson', ratePerS: 2 }, 100, 'y')).times).not.toEqual(a);
  });
});

describe('diurnal', () => {
  const hourly = Array.from({ length: 24 }, (_, h) => (h < 6 ? 0 : h < 12 ? 1 : h < 18 ? 2 : 0.5));

  it('hour counts are proportional to the multipliers, with zero-rate hours empty', () => {
    const ratePerS = 1;
    const days = 10;
    const { times } = drain(source({ process: 'diurnal', ratePerS, hourly }, days * 86_400));
    expectNonDecreasing(times);
    const perHour = new Array(24).fill(0);
    for (const t of times) perHour[Math.floor(t / 3600) % 24]++;
    for (let h = 0; h < 24; h++) {
      const expected = ratePerS * hourly[h] * 3600 * days;
      expect(Math.abs(perHour[h] - expected)).toBeLessThanOrEqual(4 * Math.sqrt(expected) + 1e-9);
    }
  });

  it('startHourOffset shifts the profile (fractional hours allowed)', () => {
    // Starting at 05:30 UTC: the first 30 minutes are in a zero-rate hour.
    const { times } = drain(source({ process: 'diurnal', ratePerS: 2, hourly, startHourOffset: 5.5 }, 3600));
    expect(times.length).toBeGreaterThan(0);
    expect(times[0]).toBeGreaterThanOrEqual(1800);
    expect(Math.abs(times.length - 3600)).toBeLessThan(4 * 60);
  });

  it('all-zero profile never arrives', () => {
    expect(source({ process: 'diurnal', ratePerS: 5, hourly: new Array(24).fill(0) }, 1e6).next()).toBe(Infinity);
  });

  it('rejects a profile without 24 entries', () => {
    expect(() => source({ process: 'diurnal', ratePerS: 1, hourly: [1, 2] }, 10)).toThrow(InputError);
  });
});

describe('trace', () => {
  function traceRows(n: number): { timeS: number; prompt: number; output: number }[] {
    const reader = new TraceReader(CONV);
    const rows = [];
    while (rows.length < n && reader.next()) {
      rows.push({ timeS: reader.timeS, prompt: reader.promptTokens, output: reader.outputTokens });
    }
    reader.close();
    return rows;
  }

  it('reproduces the first rows, times and tokens of the file', () => {
    const src = source({ process: 'trace', file: CONV }, Infinity);
    for (const row of traceRows(50)) {
      expect(src.next()).toBe(row.timeS);
      expect([src.promptTokens, src.outputTokens]).toEqual([row.prompt, row.output]);
    }
  });

  it('replays the whole file and stops', () => {
    const { times } = drain(source({ process: 'trace', file: CONV }, Infinity));
    expect(times.length).toBe(19366);
    expectNonDecreasing(times);
  });

  it('speedup 2 halves the times', () => {
    const src = source({ process: 'trace', file: CONV, speedup: 2 }, Infinity);
    for (const row of traceRows(50)) expect(src.next()).toBeCloseTo(row.timeS / 2, 9);
  });

  it('stops at the horizon', () => {
    const { times } = drain(source({ process: 'trace', file: CONV }, 60));
    const expected = traceRows(20_000).filter((r) => r.timeS < 60).length;
    expect(times.length).toBe(expected);
  });

  it('offsetS skips the start and shifts times to 0', () => {
    const rows = traceRows(20_000).filter((r) => r.timeS >= 100);
    const src = source({ process: 'trace', file: CONV, offsetS: 100 }, Infinity);
    expect(src.next()).toBeCloseTo(rows[0].timeS - 100, 9);
    expect(src.promptTokens).toBe(rows[0].prompt);
  });

  it('scale 2 doubles and 0.5 halves the count', () => {
    const n = 19366;
    const doubled = drain(source({ process: 'trace', file: CONV, scale: 2 }, Infinity));
    expect(doubled.times.length).toBe(2 * n);
    expect(doubled.times[0]).toBe(doubled.times[1]);
    expect(doubled.prompts[0]).toBe(doubled.prompts[1]);
    const halved = drain(source({ process: 'trace', file: CONV, scale: 0.5 }, Infinity)).times.length;
    expect(Math.abs(halved - n / 2)).toBeLessThan(3 * Math.sqrt(n * 0.25));
    const scaled = drain(source({ process: 'trace', file: CONV, scale: 1.5 }, Infinity)).times.length;
    expect(Math.abs(scaled - 1.5 * n)).toBeLessThan(3 * Math.sqrt(n * 0.25));
    expect(source({ process: 'trace', file: CONV, scale: 0 }, Infinity).next()).toBe(Infinity);
  });

  it('loop restarts after span + mean gap', () => {
    const file = writeTrace(`${HEADER}\n2024-01-01 00:00:00,1,1\n2024-01-01 00:00:01,2,2\n2024-01-01 00:00:04,3,3\n`);
    // span 4 s, mean gap 2 s: period 6 s.
    const { times, prompts } = drain(source({ process: 'trace', file, loop: true }, 13));
    expect(times).toEqual([0, 1, 4, 6, 7, 10, 12]);
    expect(prompts).toEqual([1, 2, 3, 1, 2, 3, 1]);
    // offset is a phase into the looped schedule, even past the first pass.
    expect(drain(source({ process: 'trace', file, loop: true, offsetS: 8 }, 6)).times).toEqual([2, 4, 5]);
  });

  it('loop over a zero-span trace is an InputError', () => {
    const file = writeTrace(`${HEADER}\n2024-01-01 00:00:00,1,1\n`);
    expect(() => drain(source({ process: 'trace', file, loop: true }, 100))).toThrow(/at least two rows/);
  });

  it('missing file names the file', () => {
    const file = path.join(tmpDir, 'missing.csv');
    const err = (() => {
      try {
        source({ process: 'trace', file }, 10);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toContain(`cannot read trace file: ${file}`);
  });

  it('bad row on line 5 is reported when reached, with line, column and field', () => {
    const rows = [0, 1, 2].map((i) => `2023-11-16 18:15:4${i}.0,${10 + i},5`);
    const file = writeTrace(`${HEADER}\n${rows.join('\n')}\n2023-11-16 18:15:43.0,abc,5\n`);
    const src = source({ process: 'trace', file }, Infinity);
    for (let i = 0; i < 3; i++) src.next();
    try {
      src.next();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      const e = err as InputError;
      expect(e.location).toMatchObject({ file, line: 5, col: 23 });
      expect(e.format()).toContain(':5:23: ContextTokens: expected a non-negative integer, got "abc"');
    }
  });
});
