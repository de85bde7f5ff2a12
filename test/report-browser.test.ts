/**
 * report.html in a real browser: Debian's headless Chromium renders the run, sweep and plan
 * reports; any console error or network request fails, every chart must have drawn (painted
 * canvas pixels) with the series its spec names, and the tables must read without JavaScript.
 * A screenshot of each is saved (UPDATE_SCREENSHOT=1 also refreshes docs/report-screenshot.png).
 * Without Chromium the test is skipped outside CI; .ci/run sets FLEETSIM_REQUIRE_BROWSER=1 so
 * there it fails instead.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleetsim, ROOT, SMALL_SCENARIO, tempDir } from './helpers/cli.js';
import { chromiumPresent, CHROMIUM, renderReport } from './helpers/browser.js';

const required = process.env.FLEETSIM_REQUIRE_BROWSER === '1';
const present = chromiumPresent();
if (!present && !required) {
  console.warn(`report-browser: skipped, no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`);
}

interface Spec {
  id: string;
  datasets: { label: string; band?: unknown }[];
}
const specsOf = (html: string): Spec[] =>
  JSON.parse(/<script type="application\/json" id="fleetsim-charts">([\s\S]*?)<\/script>/.exec(html)![1]) as Spec[];

/** The legend labels Chart.js should hold for a spec: a band adds its low and high edges first. */
const expectedSeries = (s: Spec) => s.datasets.flatMap((d) => (d.band ? [`${d.label} 95% low`, `${d.label} 95% high`, d.label] : [d.label]));

describe.skipIf(!present && !required)('report.html in headless Chromium', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    writeFileSync(join(dir, 'small.yaml'), SMALL_SCENARIO + 'sweep:\n  "workloads[0].arrival.rate": [0.5x, 1x, 2x]\n');
    const steps = [
      ['run', join(dir, 'small.yaml'), '--out', join(dir, 'run'), '--requests', '--html', '-q'],
      ['sweep', join(dir, 'small.yaml'), '--out', join(dir, 'sweep'), '--replications', '2', '--horizon', '2m', '--html', '-q'],
      ['plan', 'scenarios/silicon-mix-plan.yaml', '--out', join(dir, 'plan'), '--horizon', '2m', '--html', '-q'],
      // An autoscaling run adds the replicas-over-time chart.
      ['run', 'scenarios/diurnal-autoscale.yaml', '--out', join(dir, 'autoscale'), '--horizon', '3h', '--html', '-q'],
    ];
    for (const args of steps) {
      const r = fleetsim(args);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  }, 120_000);

  for (const kind of ['run', 'sweep', 'plan', 'autoscale']) {
    it(`draws every chart of the ${kind} report without an error or a fetch`, async () => {
      const html = join(dir, kind, 'report.html');
      const shot = join(dir, `${kind}.png`);
      const r = await renderReport(html, shot);
      expect(r.errors).toEqual([]);
      expect(r.requests).toEqual([]);
      const specs = specsOf(readFileSync(html, 'utf8'));
      expect(specs.length).toBeGreaterThan(0);
      expect(r.chartsDrawn).toBe(specs.length);
      expect(r.charts.map((c) => c.id)).toEqual(specs.map((s) => s.id));
      for (const [i, s] of specs.entries()) {
        const drawn = r.charts[i];
        expect(drawn.series, s.id).toEqual(expectedSeries(s));
        // Axes and labels alone paint a few per cent of the canvas; data adds more, but any chart
        // that drew nothing at all (a script error, a zero-size canvas) paints none.
        expect(drawn.width * drawn.height, s.id).toBeGreaterThan(0);
        expect(drawn.paintedPixels, s.id).toBeGreaterThan(1000);
      }
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
      if (kind === 'run' && process.env.UPDATE_SCREENSHOT === '1') copyFileSync(shot, join(ROOT, 'docs', 'report-screenshot.png'));
    }, 60_000);
  }

  it('shows every table cell without JavaScript', async () => {
    const r = await renderReport(join(dir, 'run', 'report.html'), undefined, false);
    expect(r.errors).toEqual([]);
    for (const file of ['summary.csv', 'pnl.csv', 'timeseries.csv']) {
      const lines = readFileSync(join(dir, 'run', file), 'utf8').trimEnd().split('\n').slice(1);
      // These files quote no cell (no commas in the small scenario's names), so split is exact.
      expect(r.tables[file], file).toEqual(lines.map((l) => l.split(',')));
    }
  }, 60_000);
});
