import { describe, it, expect } from 'vitest';
import { bucketIndex, LogHistogram, quantileRank } from '../src/metrics/histogram.js';
import { mulberry32 as rng } from './helpers/random.js';


function lognormal(n: number, seed: number): number[] {
  const u = rng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    return Math.exp(Math.log(0.2) + 1.0 * z);
  });
}

function exponential(n: number, seed: number): number[] {
  const u = rng(seed);
  return Array.from({ length: n }, () => -Math.log(1 - u()) * 0.5);
}

function uniform(n: number, seed: number): number[] {
  const u = rng(seed);
  return Array.from({ length: n }, () => 0.01 + u() * 10);
}

function exactQuantile(sorted: number[], q: number): number {
  return sorted[quantileRank(q, sorted.length) - 1];
}

const N = 100_000;
const distributions: [string, number[]][] = [
  ['lognormal', lognormal(N, 1)],
  ['exponential', exponential(N, 2)],
  ['uniform', uniform(N, 3)],
];

describe('LogHistogram', () => {
  for (const [name, values] of distributions) {
    it(`estimates p50, p90 and p99 of ${name} samples within 0.5%`, () => {
      const h = new LogHistogram();
      for (const v of values) h.record(v);
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of [0.5, 0.9, 0.99]) {
        const exact = exactQuantile(sorted, q);
        expect(Math.abs(h.quantile(q) - exact) / exact).toBeLessThanOrEqual(0.005);
      }
    });
  }

  it('returns the exact min and max at q = 0 and q = 1', () => {
    const h = new LogHistogram();
    for (const v of [0.0123, 0.5, 7.77]) h.record(v);
    expect(h.quantile(0)).toBe(0.0123);
    expect(h.quantile(1)).toBe(7.77);
  });

  it('computes the exact mean, count, min and max', () => {
    const h = new LogHistogram();
    for (const v of [1, 2, 6]) h.record(v);
    expect(h.count).toBe(3);
    expect(h.mean()).toBe(3);
    expect(h.min()).toBe(1);
    expect(h.max()).toBe(6);
  });

  it('represents values at or below 1 µs by the exact minimum', () => {
    const h = new LogHistogram();
    h.record(0);
    h.record(5e-7);
    h.record(1);
    expect(h.quantile(0.5)).toBe(0);
  });

  it('represents values above 1e6 s by the exact maximum', () => {
    const h = new LogHistogram();
    h.record(1);
    h.record(5e7);
    expect(h.quantile(1)).toBe(5e7);
    expect(h.quantile(0.6)).toBe(5e7);
  });

  it('gives merged histograms the same state as one fed all values', () => {
    const values = lognormal(20_000, 7);
    const whole = new LogHistogram();
    const parts = [new LogHistogram(), new LogHistogram(), new LogHistogram()];
    values.forEach((v, i) => {
      whole.record(v);
      parts[i % 3].record(v);
    });
    const merged = new LogHistogram();
    for (const p of parts) merged.merge(p);
    const { sumS: mergedSum, ...mergedRest } = merged.toJSON();
    const { sumS: wholeSum, ...wholeRest } = whole.toJSON();
    expect(mergedRest).toEqual(wholeRest);
    expect(mergedSum).toBeCloseTo(wholeSum, 6);
    for (const q of [0, 0.5, 0.9, 0.99, 0.999, 1]) expect(merged.quantile(q)).toBe(whole.quantile(q));
  });

  it('merges empty histograms either way round, and into an empty one', () => {
    const h = new LogHistogram();
    h.record(0.25);
    h.merge(new LogHistogram());
    const into = new LogHistogram();
    into.merge(new LogHistogram());
    expect(into.toJSON()).toEqual(new LogHistogram().toJSON());
    into.merge(h);
    expect(into.toJSON()).toEqual(h.toJSON());
  });

  it('holds no buckets until its first value (memory grows with the histograms in use)', () => {
    const before = process.memoryUsage().arrayBuffers;
    const empty = Array.from({ length: 5000 }, () => new LogHistogram());
    // 5,000 histograms with their 22 KB of buckets would be 110 MB; empty, they hold none.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(5e6);
    empty[0].record(1);
    expect(empty[0].quantile(0.5)).toBe(1);
  });

  it('clears every bucket it used: after clear and one value, one bucket', () => {
    const h = new LogHistogram();
    for (const v of [1e-7, 2e-6, 0.01, 0.5, 3, 700, 2e6]) h.record(v);
    h.clear();
    h.record(0.2);
    expect(h.toJSON().buckets).toHaveLength(1);
    expect(h.toJSON().count).toBe(1);
  });

  it('rejects JSON whose buckets lie outside its min and max (merge reads only that range)', () => {
    const h = new LogHistogram();
    h.record(0.5);
    h.record(2);
    const json = h.toJSON();
    expect(() => LogHistogram.fromJSON({ ...json, maxSeenS: 1 })).toThrow(/outside min\/max/);
  });

  it('matches a histogram over all buckets however its window grows (random values, merges, clears, JSON)', () => {
    const rnd = rng(2027);
    // Values over 14 decades, from below the underflow edge to above the overflow one, so windows
    // grow in both directions and reach both ends of the bucket range.
    const value = () => (rnd() < 0.05 ? 0 : 10 ** (-8 + 15 * rnd()));
    for (let trial = 0; trial < 200; trial++) {
      const parts = [new LogHistogram(), new LogHistogram()];
      const reference = new Float64Array(3000);
      const all: number[] = [];
      for (let n = Math.floor(rnd() * 60); n > 0; n--) {
        const v = trial % 2 === 0 ? value() : 0.5 * (1 + rnd()); // narrow or wide spans
        parts[n % 2].record(v);
        all.push(v);
        reference[bucketIndex(v)]++;
      }
      const merged = LogHistogram.fromJSON(JSON.parse(JSON.stringify(parts[0])));
      merged.merge(parts[1]);
      const expected = Array.from(reference).flatMap((count, i) => (count > 0 ? [[i, count]] : []));
      expect(merged.toJSON().buckets).toEqual(expected);
      expect(merged.count).toBe(all.length);
      if (all.length > 0) {
        const sorted = [...all].sort((a, b) => a - b);
        for (const q of [0.01, 0.5, 0.9, 0.99]) {
          const exact = sorted[quantileRank(q, sorted.length) - 1];
          expect(bucketIndex(merged.quantile(q))).toBe(bucketIndex(exact));
        }
      }
      merged.clear();
      merged.record(1);
      expect(merged.toJSON().buckets).toEqual([[bucketIndex(1), 1]]);
    }
  });

  it('keeps only the buckets its values span', () => {
    const before = process.memoryUsage().arrayBuffers;
    const narrow = Array.from({ length: 2000 }, () => new LogHistogram());
    const rnd = rng(5);
    // Latencies within one decade span 232 buckets: a window of 2-4 KB per histogram (plus the
    // outgrown ones not yet collected), where all buckets would take 22 KB: 44 MB for these.
    for (const h of narrow) for (let i = 0; i < 100; i++) h.record(0.1 + 0.9 * rnd());
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(22e6);
  });

  it('merges into itself: every count doubles', () => {
    const h = new LogHistogram();
    for (const v of [0.001, 0.5, 0.5, 40]) h.record(v);
    const once = h.toJSON();
    h.merge(h);
    expect(h.toJSON().buckets).toEqual(once.buckets.map(([i, n]) => [i, 2 * n]));
    expect(h.count).toBe(8);
  });

  it('rejects JSON whose min or max is not a finite value with min <= max', () => {
    const h = new LogHistogram();
    h.record(1);
    const json = h.toJSON();
    for (const bad of [{ minSeenS: NaN }, { maxSeenS: NaN }, { maxSeenS: Infinity }, { minSeenS: -1 }, { minSeenS: 2 }]) {
      expect(() => LogHistogram.fromJSON({ ...json, ...bad })).toThrow(/finite min <= max/);
    }
  });

  it('returns NaN quantiles and mean when empty', () => {
    const h = new LogHistogram();
    expect(h.count).toBe(0);
    expect(h.quantile(0.5)).toBeNaN();
    expect(h.mean()).toBeNaN();
    expect(h.min()).toBeNaN();
  });

  it('forgets everything on clear', () => {
    const h = new LogHistogram();
    h.record(3);
    h.clear();
    expect(h.count).toBe(0);
    expect(h.quantile(0.5)).toBeNaN();
    h.record(2);
    expect(h.max()).toBe(2);
  });

  it('survives a JSON round trip unchanged', () => {
    const h = new LogHistogram();
    for (const v of exponential(5_000, 9)) h.record(v);
    const back = LogHistogram.fromJSON(JSON.parse(JSON.stringify(h)));
    expect(back.toJSON()).toEqual(h.toJSON());
    expect(back.quantile(0.99)).toBe(h.quantile(0.99));
    expect(back.mean()).toBe(h.mean());
  });

  it('round-trips an empty histogram through JSON', () => {
    const back = LogHistogram.fromJSON(JSON.parse(JSON.stringify(new LogHistogram())));
    expect(back.count).toBe(0);
    expect(back.quantile(0.5)).toBeNaN();
  });

  it('rejects JSON with a different bucket layout', () => {
    const json = new LogHistogram().toJSON();
    expect(() => LogHistogram.fromJSON({ ...json, ratio: 1.02 })).toThrow(/incompatible/);
  });

  it('rejects negative and non-finite values', () => {
    const h = new LogHistogram();
    expect(() => h.record(-1)).toThrow(RangeError);
    expect(() => h.record(NaN)).toThrow(RangeError);
    expect(() => h.record(Infinity)).toThrow(RangeError);
  });
});

describe('quantileRank', () => {
  it('is max(1, ceil(q * count))', () => {
    expect(quantileRank(0, 10)).toBe(1);
    expect(quantileRank(0.5, 10)).toBe(5);
    expect(quantileRank(0.55, 10)).toBe(6);
    expect(quantileRank(1, 10)).toBe(10);
  });

  it('ignores floating-point noise just above an integer', () => {
    expect(0.07 * 100).toBeGreaterThan(7);
    expect(quantileRank(0.07, 100)).toBe(7);
  });
});
