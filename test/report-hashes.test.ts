/**
 * Pins the sha256 of the reports of every bundled scenario (scenarios/*.yaml) and every bench
 * scenario (bench/scenarios/*.yaml), run through the library with a short horizon so the file stays
 * fast. A refactor that must not change behaviour (issue 17: engine/simulation split, the cut of
 * fleet.ts, the busy-replica speed-up) keeps these identical; golden.test.ts pins one small
 * scenario's bytes, this pins all the shipped ones by hash.
 *
 * After an intended output change (a new or renamed column, a physics change), regenerate the pins
 * from main's code (not from a refactor's), then check the refactor matches:
 *   UPDATE_HASHES=1 npx vitest run test/report-hashes.test.ts
 */
import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, runToDir } from '../src/index.js';
import { ROOT, tempDir } from './helpers/cli.js';

const PINS = join(ROOT, 'test', 'golden', 'report-hashes.json');
/** Short horizon, stretched to pass a scenario's warmup by two minutes where that is longer. */
const HORIZON_S = 360;
/** run.json carries wall time, so it is not pinned; requests.csv pins every request's timings. */
const FILES = ['summary.csv', 'pnl.csv', 'timeseries.csv', 'requests.csv'];

const scenarioFiles = [
  ...readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.yaml')).map((f) => `scenarios/${f}`),
  ...readdirSync(join(ROOT, 'bench', 'scenarios')).filter((f) => f.endsWith('.yaml')).map((f) => `bench/scenarios/${f}`),
].sort();

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('report hashes of bundled and bench scenarios', () => {
  const pinned = JSON.parse(readFileSync(PINS, 'utf8')) as Record<string, string>;
  const actual: Record<string, string> = {};
  for (const file of scenarioFiles) {
    it(`${file} (short horizon) gives the pinned reports`, () => {
      const full = loadScenario(join(ROOT, file));
      const horizonS = Math.min(full.horizonS, Math.max(HORIZON_S, full.warmupS + 120));
      const short = loadScenario(join(ROOT, file), { horizonS });
      const out = join(tempDir(), 'out');
      runToDir(short, { outDir: out, requests: true });
      for (const f of FILES) actual[`${file} ${f}`] = sha256(readFileSync(join(out, f), 'utf8'));
      if (process.env.UPDATE_HASHES) {
        const all = { ...(JSON.parse(readFileSync(PINS, 'utf8')) as Record<string, string>), ...actual };
        const sorted = Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
        writeFileSync(PINS, JSON.stringify(sorted, null, 2) + '\n');
        return;
      }
      for (const f of FILES) expect(actual[`${file} ${f}`], `${file} ${f}`).toBe(pinned[`${file} ${f}`]);
    });
  }
  it.skipIf(process.env.UPDATE_HASHES)('pins exactly the scenarios that ship', () => {
    const names = new Set(Object.keys(pinned).map((k) => k.slice(0, k.indexOf(' '))));
    expect([...names].sort()).toEqual(scenarioFiles);
  });
});
