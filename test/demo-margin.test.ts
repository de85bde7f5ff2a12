/**
 * Issue 21 item 8, "the bundled demo loses money": the quick-start platform is sized as an operator
 * would size it (fleetsim plan's answer, its `plan:` section), so it makes a positive gross margin;
 * a deployment below the floor must be named in a `# loss on purpose: NAME: why` comment of the
 * scenario, and README must say why too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { loadScenario, runToDir } from '../src/index.js';
import { ROOT, tempDir } from './helpers/cli.js';

type Row = Record<string, string>;
const FILE = join(ROOT, 'scenarios', 'multi-model-platform.yaml');
/** Lowest gross margin a deployment of the quick start may show without a comment saying why, %. */
const FLOOR_PCT = 0;

describe('the quick-start platform makes money (issue 21 item 8)', () => {
  it('positive total gross margin; every deployment at or above the floor unless the scenario says why', () => {
    const text = readFileSync(FILE, 'utf8');
    const onPurpose = new Map([...text.matchAll(/^# loss on purpose: ([\w.-]+): (.+)$/gm)].map((m) => [m[1], m[2]]));
    const scenario = loadScenario(FILE);
    expect(text, 'the quick start carries the plan that sized it').toMatch(/^plan:/m);
    const out = join(tempDir(), 'out');
    runToDir(scenario, { outDir: out });
    const summary = parseCsv(readFileSync(join(out, 'summary.csv'), 'utf8'), { columns: true }) as Row[];
    const total = summary.find((r) => r.scope === 'total')!;
    expect(Number(total.gross_margin_usd)).toBeGreaterThan(0);
    expect(Number(total.gross_margin_pct)).toBeGreaterThan(20);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const r of summary.filter((x) => x.scope === 'deployment')) {
      const margin = Number(r.gross_margin_pct);
      if (onPurpose.has(r.key)) {
        // The comment must stay true, and README must explain it.
        expect(margin, `${r.key} is commented as a loss on purpose`).toBeLessThan(FLOOR_PCT);
        expect(readme, `README explains ${r.key}'s loss`).toContain(r.key);
      } else {
        expect(margin, `${r.key}: gross margin ${margin}% below the ${FLOOR_PCT}% floor without a '# loss on purpose' comment`).toBeGreaterThanOrEqual(FLOOR_PCT);
      }
    }
  });
});
