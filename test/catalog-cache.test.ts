/**
 * The build's parsed tables (dist/catalog-cache.json, src/catalog/cache.ts) are what parsing
 * data/*.csv gives, record for record and in map order, and a table is ignored once its CSV differs
 * from the one it was made from, so an edit to data/ after the build is never masked by the cache.
 */
import { describe, it, expect } from 'vitest';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/cli.js';
import { parseBuiltInCatalog, tableCacheFile } from '../src/catalog/catalog.js';
import { loadFacilities } from '../src/economics/facility.js';
import { CACHED_TABLES, cachedTable, writeTableCache, type CachedTable } from '../src/catalog/cache.js';

const DATA = join(ROOT, 'data');
const parsed = (dataDir: string): Record<CachedTable, Map<string, object>> => ({
  ...parseBuiltInCatalog(dataDir, true),
  facility: loadFacilities(join(dataDir, 'facility.csv')),
});

describe('built-in table cache', () => {
  it('the cache the build wrote holds exactly what parsing data/*.csv gives', () => {
    expect(existsSync(tableCacheFile()), 'npm run build writes dist/catalog-cache.json').toBe(true);
    const fromCsv = parsed(DATA);
    for (const t of CACHED_TABLES) {
      const cached = cachedTable<object>(tableCacheFile(), DATA, t);
      expect(cached, `dist/catalog-cache.json holds ${t} from another ${t}.csv: npm run build`).not.toBeNull();
      expect([...cached!.keys()]).toEqual([...fromCsv[t].keys()]);
      for (const [k, rec] of fromCsv[t]) {
        // Same fields in the same order, NaN where a figure is empty (toEqual treats NaN as equal).
        expect(Object.keys(cached!.get(k)!)).toEqual(Object.keys(rec));
        expect(cached!.get(k)).toEqual(rec);
      }
    }
  });

  it('a table is not used once its CSV differs from the one it was made from', () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    cpSync(DATA, data, { recursive: true });
    const file = join(dir, 'cache.json');
    writeTableCache(file, data, parsed(data));
    for (const t of CACHED_TABLES) {
      expect(cachedTable(file, data, t)).not.toBeNull();
      const csv = join(data, `${t}.csv`);
      const text = readFileSync(csv, 'utf8');
      writeFileSync(csv, text + '\n');
      expect(cachedTable(file, data, t), `${t}.csv edited`).toBeNull();
      writeFileSync(csv, text);
    }
    expect(cachedTable(join(dir, 'missing.json'), data, 'silicon')).toBeNull();
  });

  it('hands out fresh records: editing one does not change the next', () => {
    const a = cachedTable<{ id: string }>(tableCacheFile(), DATA, 'silicon')!;
    const [key, rec] = [...a][0]!;
    rec.id = 'edited';
    expect(cachedTable<{ id: string }>(tableCacheFile(), DATA, 'silicon')!.get(key)!.id).toBe(key);
  });
});
