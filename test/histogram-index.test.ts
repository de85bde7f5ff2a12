/**
 * LogHistogram finds a value's bucket from the double's bits and a table of exact bucket edges
 * instead of a logarithm; it must agree with the defining formula on every value, edges included.
 */
import { describe, expect, it } from 'vitest';
import { bucketIndex, bucketIndexByLog } from '../src/metrics/histogram.js';
import { ulpStep as ulp } from './helpers/float.js';

describe('bucketIndex', () => {
  it('equals the log formula on log-uniform values from 1e-8 s to 1e8 s', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let mismatches = 0;
    for (let k = 0; k < 500_000; k++) {
      const v = Math.pow(10, -8 + 16 * rand());
      if (bucketIndex(v) !== bucketIndexByLog(v)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('equals the log formula within a few ulps of every bucket edge and at the range ends', () => {
    let mismatches = 0;
    let checked = 0;
    for (let i = 0; i < 2800; i++) {
      const edge = 1e-6 * Math.pow(1.01, i);
      for (let k = -4n; k <= 4n; k++) {
        const v = ulp(edge, k);
        checked++;
        if (bucketIndex(v) !== bucketIndexByLog(v)) mismatches++;
      }
    }
    for (const v of [0, 1e-6, ulp(1e-6, 1n), 1e6, ulp(1e6, 1n), 1e7, 1e300, Number.MIN_VALUE]) {
      checked++;
      if (bucketIndex(v) !== bucketIndexByLog(v)) mismatches++;
    }
    expect(checked).toBeGreaterThan(25_000);
    expect(mismatches).toBe(0);
  });
});
