import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { makeLengthSampler, type LengthConfig } from '../src/workload/lengths.js';
import { RandomStream } from '../src/workload/rng.js';

function drawMany(cfg: LengthConfig, n: number, name = 'lengths'): Int32Array {
  const sampler = makeLengthSampler(cfg, new RandomStream(11, name));
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = sampler.sample();
  return out;
}

function quantile(sorted: Int32Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

describe('makeLengthSampler', () => {
  it('constant returns the value', () => {
    expect([...drawMany({ dist: 'constant', value: 128 }, 10)]).toEqual(Array(10).fill(128));
  });

  it('uniform covers [min, max] inclusive and nothing else', () => {
    const values = drawMany({ dist: 'uniform', min: 5, max: 9 }, 50_000);
    const seen = new Set(values);
    expect([...seen].sort()).toEqual([5, 6, 7, 8, 9]);
    for (const v of seen) {
      const count = values.filter((x) => x === v).length;
      expect(Math.abs(count - 10_000)).toBeLessThan(500); // sd ~ 89
    }
  });

  it('lognormal matches the configured median and p99', () => {
    const values = drawMany({ dist: 'lognormal', median: 400, p99: 4000 }, 200_000).sort();
    expect(Math.abs(quantile(values, 0.5) / 400 - 1)).toBeLessThan(0.03);
    expect(Math.abs(quantile(values, 0.99) / 4000 - 1)).toBeLessThan(0.05);
    expect(values[0]).toBeGreaterThanOrEqual(1);
    expect(values[values.length - 1]).toBeLessThanOrEqual(40_000);
  });

  it('lognormal respects an explicit max', () => {
    const values = drawMany({ dist: 'lognormal', median: 100, p99: 1000, max: 300 }, 20_000);
    expect(Math.max(...values)).toBe(300);
  });

  it('lognormal with p99 == median is constant', () => {
    expect(new Set(drawMany({ dist: 'lognormal', median: 50, p99: 50 }, 100))).toEqual(new Set([50]));
  });

  it('empirical only returns values from the set, all of them eventually', () => {
    const set = Int32Array.from([3, 17, 256, 1024]);
    const values = drawMany({ dist: 'empirical', values: set }, 10_000);
    expect(new Set(values)).toEqual(new Set(set));
  });

  it('is deterministic per stream and differs across stream names', () => {
    const cfg: LengthConfig = { dist: 'lognormal', median: 200, p99: 2000 };
    expect(drawMany(cfg, 100, 'a')).toEqual(drawMany(cfg, 100, 'a'));
    expect(drawMany(cfg, 100, 'a')).not.toEqual(drawMany(cfg, 100, 'b'));
  });

  it('rejects bad parameters with InputError', () => {
    const rng = new RandomStream(1, 'x');
    expect(() => makeLengthSampler({ dist: 'constant', value: 0 }, rng)).toThrow(InputError);
    expect(() => makeLengthSampler({ dist: 'uniform', min: 10, max: 5 }, rng)).toThrow(InputError);
    expect(() => makeLengthSampler({ dist: 'lognormal', median: 100, p99: 50 }, rng)).toThrow(/p99/);
    expect(() => makeLengthSampler({ dist: 'empirical', values: new Int32Array(0) }, rng)).toThrow(InputError);
  });
});
