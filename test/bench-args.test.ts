/**
 * bench/run.js --against=DIR compares end-to-end runs with another built checkout. Arguments it
 * cannot honour are refused before any benchmark runs: one line naming the problem, exit code 2.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers/cli.js';
import { againstNote } from '../bench/against.js';
import { loadScenario } from '../src/scenario/load.js';

const BENCH = join(ROOT, 'dist', 'bench', 'run.js');

function bench(args: string[]) {
  const r = spawnSync(process.execPath, [BENCH, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}

describe('bench --against', () => {
  it('refuses an empty directory', () => {
    const r = bench(['--against=']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('bench --against: needs a directory: --against=DIR');
  });

  it('refuses runs without end-to-end benches, and --ci', () => {
    for (const args of [['--against=.', '--only=hold'], ['--against=.', '--ci']]) {
      const r = bench(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^bench --against: compares end-to-end, start-up and counted runs only/);
    }
  });

  it('refuses a directory without a built bench, naming the file it looked for', () => {
    const dir = tempDir();
    const r = bench([`--against=${dir}`, '--only=e2e']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`bench --against: ${join(dir, 'dist/bench/run.js')} not found (build that checkout first: npx tsc -p tsconfig.build.json)`);
    expect(r.stdout).toBe('');
  });

  it('gives a bench the other build cannot run our row alone, with the first line of its error', () => {
    // An older build refuses a bench scenario with keys added since (exit 2, one line): that bench
    // loses its ratio, the others keep theirs.
    const dir = tempDir();
    mkdirSync(join(dir, 'dist', 'bench'), { recursive: true });
    writeFileSync(
      join(dir, 'dist', 'bench', 'run.js'),
      "if (process.argv.some((a) => a.endsWith('week-27m.yaml'))) { process.stderr.write('week-27m.yaml:3: unknown key \"x\"\\nmore\\n'); process.exit(2); }\n" +
        "process.stdout.write(JSON.stringify({ requests: 1, events: 1, wallS: 1, cpuS: 1, peakRssMb: 1 }) + '\\n');\n",
    );
    const r = bench(['--quick', '--only=e2e', '--runs=1', '--json', `--against=${dir}`]);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((x) => x.name)).toEqual(['e2e/platform-1m@10m', 'e2e/platform-1m@10m@against', 'e2e/week-27m@6h']);
    expect(rows[2].note).toBe(`median of 2, ${dir} could not run this bench, so no ratio: week-27m.yaml:3: unknown key "x"`);
    expect(rows[2].against_ratio).toBeUndefined();
    expect(rows[0].against_ratio).toBe(Number((1 / (rows[0].wall_s as number)).toFixed(3)));
  });

  it('runs each end-to-end bench on both builds, a row each, with the ratio of their median wall times', () => {
    // This checkout against itself, small versions of the benches: a few seconds. --runs=1 becomes
    // 2, so that each build goes first once.
    const r = bench(['--quick', '--only=e2e', '--runs=1', '--json', `--against=${ROOT}`]);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((x) => x.name)).toEqual([
      'e2e/platform-1m@10m', 'e2e/platform-1m@10m@against', 'e2e/week-27m@6h', 'e2e/week-27m@6h@against',
    ]);
    for (const [ours, theirs] of [[rows[0], rows[1]], [rows[2], rows[3]]]) {
      expect(theirs.requests).toBe(ours.requests);
      expect(theirs.events).toBe(ours.events);
      expect(ours.against_ratio).toBe(Number(((theirs.wall_s as number) / (ours.wall_s as number)).toFixed(3)));
      expect(ours.note).toBe(`median of 2, ${ROOT} took ${ours.against_ratio}x our median wall`);
      expect(theirs.note).toBe('median of 2');
    }
  });

  it('notes which counts differ: events for the same requests, or the requests themselves', () => {
    const same = { requests: 100, events: 300 };
    expect(againstNote('../old', 1.2, same, same)).toBe('../old took 1.2x our median wall');
    expect(againstNote('../old', 1.2, same, { requests: 100, events: 390 })).toBe('../old took 1.2x our median wall (390 events there)');
    expect(againstNote('../old', 1.2, same, { requests: 99, events: 390 })).toBe(
      '../old took 1.2x our median wall (requests differ: 99 there, so not the same work)',
    );
  });
});

describe('bench --only=alloc', () => {
  it('reports the heap bytes a simulated request allocates, as one JSON row', () => {
    const r = bench(['--quick', '--only=alloc', '--json']);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((x) => x.name)).toEqual(['alloc/platform-1m@10m']);
    expect(rows[0].requests).toBeGreaterThan(50_000);
    // A 10-minute run is mostly JIT warm-up, whose baseline code boxes freely: some bytes per
    // request, but nowhere near a request table or list growing per request.
    expect(rows[0].alloc_bytes_per_request).toBeGreaterThan(0);
    expect(rows[0].alloc_bytes_per_request).toBeLessThan(2_000);
    expect(rows[0].peak_rss_mb).toBeGreaterThan(0);
  });
});

describe('bench --only=startup', () => {
  it('times the built CLI as whole processes and says whether each target is met', () => {
    const r = bench(['--quick', '--only=startup', '--json']);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((x) => x.name)).toEqual(['startup/node -e 0', 'startup/--help', 'startup/validate quick-start']);
    for (const row of rows) expect(row.wall_s).toBeGreaterThan(0);
    expect(rows[1].note).toMatch(/^median of 5; target <= 150 ms: (met|NOT met)$/);
    expect(rows[2].note).toMatch(/^median of 5; target <= 300 ms: (met|NOT met)$/);
  });
});

describe('bench --ci', () => {
  it('prints the collapsed-vs-step row with the fields every speed row carries', () => {
    const r = bench(['--ci', '--json']);
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((x) => x.name)).toEqual(['collapsed-vs-step/week-30m']);
    expect(rows[0].identical).toBe(true);
    for (const field of ['requests_per_s', 'events_per_s', 'peak_rss_mb', 'speedup']) expect(rows[0][field]).toBeGreaterThan(0);
  });
});

describe('bench scenarios', () => {
  it('every file in bench/scenarios loads and validates', () => {
    const dir = join(ROOT, 'bench', 'scenarios');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['platform-1k-replicas.yaml', 'platform-60-tenants.yaml']));
    for (const f of files) expect(loadScenario(join(dir, f)).deployments.length).toBeGreaterThan(0);
  });
});
