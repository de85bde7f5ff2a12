import { describe, expect, it } from 'vitest';
import { deriveSeed, RandomStream } from '../src/workload/rng.js';

function draws(stream: RandomStream, n: number): number[] {
  return Array.from({ length: n }, () => stream.next());
}

describe('RandomStream', () => {
  it('is deterministic for the same seed and name', () => {
    expect(draws(new RandomStream(42, 'arrivals'), 100)).toEqual(draws(new RandomStream(42, 'arrivals'), 100));
  });

  it('gives independent sequences for different names and seeds', () => {
    const a = draws(new RandomStream(42, 'arrivals'), 20);
    expect(draws(new RandomStream(42, 'lengths'), 20)).not.toEqual(a);
    expect(draws(new RandomStream(43, 'arrivals'), 20)).not.toEqual(a);
  });

  it('does not depend on other streams being created', () => {
    const alone = draws(new RandomStream(7, 'x'), 10);
    const other = new RandomStream(7, 'y');
    other.next();
    expect(draws(new RandomStream(7, 'x'), 10)).toEqual(alone);
  });

  it('next() is in [0,1) with mean ~0.5', () => {
    const s = new RandomStream(1, 'u');
    let sum = 0;
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = s.next();
      if (!(u >= 0 && u < 1)) outOfRange++;
      sum += u;
    }
    expect(outOfRange).toBe(0);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });

  it('exponential() has mean 1/rate', () => {
    const s = new RandomStream(1, 'exp');
    const n = 200_000;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += s.exponential(4);
    // sd of the mean = 0.25/sqrt(n) ~ 5.6e-4
    expect(Math.abs(sum / n - 0.25)).toBeLessThan(0.003);
  });

  it('normal() has mean 0 and sd 1', () => {
    const s = new RandomStream(1, 'normal');
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const z = s.normal();
      sum += z;
      sumSq += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.015);
    expect(Math.abs(Math.sqrt(sumSq / n - (sum / n) ** 2) - 1)).toBeLessThan(0.01);
  });
});

describe('deriveSeed', () => {
  it('is stable, 32-bit and sensitive to every part', () => {
    const s = deriveSeed(42, 'replication', 3);
    expect(s).toBe(deriveSeed(42, 'replication', 3));
    expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
    expect(deriveSeed(42, 'replication', 4)).not.toBe(s);
    expect(deriveSeed(43, 'replication', 3)).not.toBe(s);
    // FNV-1a of the empty-suffix string "0": reference value computed independently.
    expect(deriveSeed(0)).toBe(0x350ca8af);
  });
});
