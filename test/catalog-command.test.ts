/** `fleetsim catalog`: every built-in figure with where it comes from, in full in the CSV. */
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { fleetsim } from './helpers/cli.js';
import { loadCatalog } from '../src/index.js';

describe('fleetsim catalog', () => {
  it('--format csv gives each row its source and assumption text, and says which it leans on', () => {
    const r = fleetsim(['catalog', '--format', 'csv']);
    expect(r.status).toBe(0);
    const rows = parse(r.stdout, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual(['kind', 'id', 'name', 'vendor', 'detail', 'provenance', 'source', 'assumption']);
    const c = loadCatalog();
    expect(rows).toHaveLength(c.silicon.size + c.models.size + c.prices.size);
    for (const row of rows) {
      expect(row.source !== '' || row.assumption !== '', `${row.kind} ${row.id}`).toBe(true);
      expect(row.provenance).toBe(row.source === '' ? 'assumption' : row.assumption !== '' ? 'sourced+assumed' : 'sourced');
    }
    const cobalt = rows.find((x) => x.kind === 'silicon' && x.id === 'cobalt-100')!;
    expect(cobalt.assumption).toBe(c.silicon.get('cobalt-100')!.assumption);
  });

  it('prints a table without the long provenance texts', () => {
    const r = fleetsim(['catalog']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['kind', 'id', 'name', 'vendor', 'detail', 'provenance']);
    expect(lines.length).toBeGreaterThan(10);
  });
});
