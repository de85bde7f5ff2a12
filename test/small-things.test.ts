/** Issue 21 item 10: the small things a careful new user trips on. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseCsv } from 'csv-parse/sync';
import { explainRows, explainTable } from '../src/cli/explain.js';
import { provenanceOf } from '../src/cli/commands.js';
import { ROOT, fleetsim, withFiles } from './helpers/cli.js';

const one = `name: one-of-each
start: 2026-01-01 00:00:00Z
horizon: 3m
report_interval: 1m
deployments:
  - { name: solo, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 2/s }
    prompt_tokens: { dist: constant, value: 100 }
    output_tokens: { dist: constant, value: 20 }
incidents:
  - { at: 1m, duration: 30s, deployment: solo }
sweep:
  "workloads[0].arrival.rate": [2]
plan:
  targets: { ttft_p99: 5s }
  candidates:
    - { model: llama-3.1-8b, silicon: [h100-sxm], tensor_parallel: 1, max_replicas: 1 }
`;

describe('small things (issue 21 item 10)', () => {
  it('counts of one are singular: validate, sweep, plan', () => {
    const dir = withFiles({ 's.yaml': one });
    const v = fleetsim(['validate', join(dir, 's.yaml')]);
    expect(v.stdout).toContain('ok (1 deployment, 1 replica, 1 workload, 1 incident)');
    const s = fleetsim(['sweep', join(dir, 's.yaml'), '--out', join(dir, 'sweep')]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).toContain(': 1 point x 1 replication, 1 simulation run in ');
    const p = fleetsim(['plan', join(dir, 's.yaml'), '--out', join(dir, 'plan')]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toContain('h100-sxm x1 (1 chip) at $');
    expect(p.stderr).toMatch(/^1 simulation in /m);
  });

  it('explain fits 100 columns when piped, says so, and keeps every figure', () => {
    const file = join(import.meta.dirname, '..', 'scenarios', 'multi-model-platform.yaml');
    const r = fleetsim(['explain', file]);
    expect(r.status).toBe(0);
    for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(r.stderr).toMatch(/--format csv gives one row per configuration/);
    const rows = explainRows(file, { format: 'table' });
    // On its side: a line per field, each value of each deployment present on its field's line.
    const lines = r.stdout.split('\n');
    rows[0].forEach((field, i) => {
      const mine = lines.filter((l) => l.startsWith(`${field} `) || l === field);
      const cells = mine.flatMap((l) => l.slice(field.length).trim().split(/\s{2,}/)).filter((c) => c !== '');
      expect(cells).toEqual(rows.slice(1).map((row) => row[i]).filter((c) => c !== ''));
    });
    // Wide enough, it is the one-line-per-deployment table.
    expect(explainTable(rows, 1000).split('\n')).toHaveLength(rows.length + 1);
  });

  it('--help shows examples and that --out is required', () => {
    const top = fleetsim(['--help']);
    expect(top.stdout).toMatch(/Examples:\n {2}\$ fleetsim run scenarios\/multi-model-platform\.yaml --out out\n/);
    for (const cmd of ['run', 'sweep', 'plan']) {
      const h = fleetsim([cmd, '--help']);
      expect(h.stdout).toMatch(new RegExp(`^Usage: fleetsim ${cmd} <scenario> --out <dir> \\[options\\]`));
      expect(h.stdout).toMatch(/--out <dir> +output directory, required/);
      expect(h.stdout).toMatch(/Examples:\n {2}\$ fleetsim /);
    }
  });

  it('timestamps have a spreadsheet-friendly UTC twin', () => {
    const dir = withFiles({ 's.yaml': one });
    expect(fleetsim(['run', join(dir, 's.yaml'), '--out', join(dir, 'out'), '--requests', '-q']).status).toBe(0);
    const read = (f: string) => parseCsv(readFileSync(join(dir, 'out', f), 'utf8'), { columns: true }) as Record<string, string>[];
    const ts = read('timeseries.csv');
    expect(ts.map((r) => r.interval_start_utc)).toEqual(['2026-01-01 00:00:00', '2026-01-01 00:01:00', '2026-01-01 00:02:00']);
    for (const r of read('requests.csv')) {
      expect(r.arrival_time_utc).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})?$/);
      expect(Date.parse(r.arrival_time_utc.replace(' ', 'T') + 'Z')).toBe(Date.parse(r.arrival_time));
    }
  });

  it('catalog provenance says sourced, sourced+assumed or assumption as the row deserves', () => {
    const r = fleetsim(['catalog', '--format', 'csv']);
    const rows = parseCsv(r.stdout, { columns: true }) as Record<string, string>[];
    const h100 = rows.find((x) => x.kind === 'silicon' && x.id === 'h100-sxm')!;
    expect(h100.source).not.toBe('');
    expect(h100.provenance).toBe('sourced+assumed');
    for (const x of rows) expect(x.provenance).toBe(x.source === '' ? 'assumption' : x.assumption === '' ? 'sourced' : 'sourced+assumed');
    expect(rows.some((x) => x.provenance === 'sourced')).toBe(true);
    expect(provenanceOf({ source: '', assumption: 'guessed' })).toBe('assumption');
  });
});

describe('data/README.md on prices', () => {
  it('names every model of models.csv that prices.csv has no row for (and only those)', () => {
    const rows = (file: string) => parseCsv(readFileSync(join(ROOT, 'data', file), 'utf8'), { columns: true, comment: '#' }) as Record<string, string>[];
    const priced = new Set(rows('prices.csv').map((r) => r.model));
    const unpriced = rows('models.csv').map((r) => Object.values(r)[0]).filter((id) => !priced.has(id)).sort();
    const readme = readFileSync(join(ROOT, 'data', 'README.md'), 'utf8');
    const paragraph = readme.slice(readme.indexOf('## prices.csv'), readme.indexOf('| column', readme.indexOf('## prices.csv')));
    const named = [...paragraph.matchAll(/`([a-z0-9.-]+)`/g)].map((m) => m[1]).sort();
    expect(named).toEqual(unpriced);
  });
});
