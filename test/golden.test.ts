/**
 * Golden files: a small deterministic scenario's reports compared byte for byte with committed
 * fixtures, so any change to a header, a column's order, a number format or a figure fails here and
 * is reviewed. After an intended change: UPDATE_GOLDEN=1 npx vitest run test/golden.test.ts
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, runToDir } from '../src/index.js';
import { ROOT, tempDir } from './helpers/cli.js';

const GOLDEN = join(ROOT, 'test', 'golden');
const FILES = ['summary.csv', 'pnl.csv', 'timeseries.csv'];

describe('golden reports', () => {
  const out = join(tempDir(), 'out');
  runToDir(loadScenario(join(GOLDEN, 'scenario.yaml')), { outDir: out });
  for (const f of FILES) {
    it(`${f} matches test/golden/${f}`, () => {
      const actual = readFileSync(join(out, f), 'utf8');
      if (process.env.UPDATE_GOLDEN) writeFileSync(join(GOLDEN, f), actual);
      const expected = readFileSync(join(GOLDEN, f), 'utf8');
      // Header first, so a contract change reads as one line rather than a wall of diffs.
      expect(actual.slice(0, actual.indexOf('\n'))).toBe(expected.slice(0, expected.indexOf('\n')));
      expect(actual).toBe(expected);
    });
  }
});
