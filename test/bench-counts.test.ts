import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { countsNote, parseCachegrind } from '../bench/counts.js';

// valgrind 3.19's summary with --cache-sim=yes --branch-sim=yes, as bench/counts.ts reads it.
const SUMMARY = `==4095== I   refs:      5,673,799,537
==4095== I1  misses:        9,123,456
==4095== LLi misses:          123,456
==4095== I1  miss rate:          0.16%
==4095==
==4095== D   refs:      2,435,522,100  (1,773,132,274 rd   + 662,389,826 wr)
==4095== D1  misses:       53,036,943  (   42,359,929 rd   +  10,677,014 wr)
==4095== LLd misses:          718,316  (       65,742 rd   +     652,574 wr)
==4095==
==4095== Branches:        969,802,597  (  942,983,905 cond +  26,818,692 ind)
==4095== Mispredicts:      61,918,180  (   54,257,484 cond +   7,660,696 ind)
==4095== Mispred rate:            6.4% (          5.8%     +        28.6%   )
`;

describe('counted benches (bench/counts.ts)', () => {
  it('reads the totals of a cachegrind summary, not the rd/wr or cond/ind parts', () => {
    expect(parseCachegrind(SUMMARY)).toEqual({
      instructions: 5_673_799_537,
      dataRefs: 2_435_522_100,
      d1Misses: 53_036_943,
      llMisses: 718_316,
      branches: 969_802_597,
      mispredicts: 61_918_180,
    });
  });

  it('gives null when a counter is missing (valgrind run without --branch-sim, or it failed)', () => {
    expect(parseCachegrind(SUMMARY.replace(/.*Mispredicts.*\n/, ''))).toBeNull();
    expect(parseCachegrind('valgrind: command not found')).toBeNull();
  });

  it('states each ratio as theirs over ours', () => {
    const ours = parseCachegrind(SUMMARY)!;
    const theirs = { ...ours, instructions: ours.instructions * 0.9, d1Misses: ours.d1Misses * 0.7, mispredicts: ours.mispredicts };
    expect(countsNote('../old', ours, theirs)).toBe('../old counted 0.900x our instructions, 0.700x our D1 misses, 1.000x our mispredicted branches');
  });
});

describe('--child e2e FILE H N (what the counted benches subtract)', () => {
  it('runs the bench N times in one process and says how many, with the same work each time', () => {
    const bench = join(ROOT, 'dist', 'bench', 'run.js');
    const child = (n: string) => {
      const r = spawnSync(process.execPath, [bench, '--child', 'e2e', join(ROOT, 'bench/scenarios/platform-1m.yaml'), '20', n], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { repeats: number; events: number; requests: number };
    };
    const once = child('1');
    const thrice = child('3');
    expect(once.repeats).toBe(1);
    expect(thrice.repeats).toBe(3);
    expect(thrice.events).toBe(once.events);
    expect(thrice.requests).toBe(once.requests);
  });
});
