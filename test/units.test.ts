import { describe, it, expect } from 'vitest';
import { formatDuration, parseDurationS, parseMultiplier, parseRatePerS } from '../src/scenario/units.js';

describe('parseDurationS', () => {
  it('returns a number as seconds unchanged', () => {
    expect(parseDurationS(2.5)).toBe(2.5);
  });

  it('converts every unit to seconds', () => {
    expect(parseDurationS('100us')).toBeCloseTo(1e-4, 15);
    expect(parseDurationS('250ms')).toBeCloseTo(0.25, 15);
    expect(parseDurationS('2s')).toBe(2);
    expect(parseDurationS('1.5s')).toBe(1.5);
    expect(parseDurationS('5m')).toBe(300);
    expect(parseDurationS('1h')).toBe(3600);
    expect(parseDurationS('7d')).toBe(604_800);
    expect(parseDurationS('2w')).toBe(1_209_600);
  });

  it('allows whitespace between the number and the unit', () => {
    expect(parseDurationS('5 m')).toBe(300);
    expect(parseDurationS(' 250 ms ')).toBeCloseTo(0.25, 15);
  });

  it('accepts exponent notation', () => {
    expect(parseDurationS('1e3ms')).toBe(1);
    expect(parseDurationS('2.5E-1s')).toBe(0.25);
  });

  it('rejects prose with a message showing the expected forms and the input', () => {
    expect(() => parseDurationS('5 minutes')).toThrow(
      'expected a duration such as 250ms, 2s, 5m, 1h or 7d, got "5 minutes"',
    );
  });

  it('rejects a bare numeric string because its unit would be a guess', () => {
    expect(() => parseDurationS('30')).toThrow(/expected a duration/);
  });

  it('rejects non-string, non-number values', () => {
    expect(() => parseDurationS(null)).toThrow(/expected a duration.*got null/);
    expect(() => parseDurationS({})).toThrow(/got an object/);
  });

  it('rejects negative durations as numbers and strings', () => {
    expect(() => parseDurationS(-1)).toThrow('expected a non-negative duration');
    expect(() => parseDurationS('-5s')).toThrow('expected a non-negative duration');
  });

  it('rejects non-finite durations', () => {
    expect(() => parseDurationS(NaN)).toThrow('expected a non-negative duration');
    expect(() => parseDurationS(Infinity)).toThrow('expected a non-negative duration');
    expect(() => parseDurationS('1e400s')).toThrow('expected a non-negative duration');
  });

  it('turns negative zero into zero', () => {
    expect(Object.is(parseDurationS('-0s'), 0)).toBe(true);
  });
});

describe('parseRatePerS', () => {
  it('returns a number as a per-second rate unchanged', () => {
    expect(parseRatePerS(20)).toBe(20);
  });

  it('converts every unit to a per-second rate', () => {
    expect(parseRatePerS('20/s')).toBe(20);
    expect(parseRatePerS('1200/min')).toBe(20);
    expect(parseRatePerS('3/h')).toBeCloseTo(3 / 3600, 15);
    expect(parseRatePerS('2e6/day')).toBeCloseTo(2e6 / 86_400, 12);
    expect(parseRatePerS('50/ms')).toBe(50_000);
  });

  it('reads the long spellings of the units: 60/minute, 2/second', () => {
    expect(parseRatePerS('60/minute')).toBe(1);
    expect(parseRatePerS('2/second')).toBe(2);
  });

  it('allows whitespace around the slash', () => {
    expect(parseRatePerS('1200 / min')).toBe(20);
  });

  it('rejects the "per" spelling and ambiguous /m', () => {
    expect(() => parseRatePerS('20 per s')).toThrow(/expected a rate such as 20\/s/);
    expect(() => parseRatePerS('20/m')).toThrow(/expected a rate/);
  });

  it('rejects negative rates', () => {
    expect(() => parseRatePerS(-1)).toThrow('expected a non-negative rate');
    expect(() => parseRatePerS('-3/s')).toThrow('expected a non-negative rate');
  });
});

describe('parseMultiplier', () => {
  it('parses factors written with an x suffix', () => {
    expect(parseMultiplier('0.5x')).toBe(0.5);
    expect(parseMultiplier('2x')).toBe(2);
    expect(parseMultiplier('1.5 X')).toBe(1.5);
  });

  it('returns null for anything that is not a multiplier', () => {
    expect(parseMultiplier('2')).toBeNull();
    expect(parseMultiplier('x2')).toBeNull();
    expect(parseMultiplier('-2x')).toBeNull();
    expect(parseMultiplier('20/s')).toBeNull();
  });
});

describe('formatDuration', () => {
  it('splits minutes and seconds', () => {
    expect(formatDuration(90)).toBe('1m30s');
  });

  it('uses milliseconds below one second', () => {
    expect(formatDuration(0.25)).toBe('250ms');
  });

  it('uses microseconds below one millisecond', () => {
    expect(formatDuration(0.0001)).toBe('100us');
  });

  it('leaves out zero parts of long durations', () => {
    expect(formatDuration(3600)).toBe('1h');
    expect(formatDuration(2 * 86_400 + 3 * 3600 + 5)).toBe('2d3h5s');
  });

  it('keeps fractional seconds', () => {
    expect(formatDuration(1.5)).toBe('1.5s');
  });

  it('rounds into the next unit instead of printing 1000ms', () => {
    expect(formatDuration(0.9999999)).toBe('1s');
  });

  it('prints zero as 0s', () => {
    expect(formatDuration(0)).toBe('0s');
  });

  it('round-trips through parseDurationS for whole units', () => {
    for (const s of [0.25, 1.5, 300, 3600, 86_400]) {
      expect(parseDurationS(formatDuration(s))).toBeCloseTo(s, 9);
    }
  });
});
