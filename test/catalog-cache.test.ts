/**
 * The build's parsed catalog (dist/catalog-cache.json, src/catalog/cache.ts) is what parsing
 * data/*.csv gives, record for record and in map order, and is ignored once the CSVs differ from
 * those it was made from, so an edit to data/ after the build is never masked by a stale cache.
 */
import { describe, it, expect } from 'vitest';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/cli.js';
import { catalogCacheFile, parseBuiltInCatalog } from '../src/catalog/catalog.js';
import { CATALOG_TABLES, readCatalogCache, writeCatalogCache } from '../src/catalog/cache.js';

const DATA = join(ROOT, 'data');

describe('catalog cache', () => {
  it('the cache the build wrote holds exactly what parsing data/*.csv gives', () => {
    expect(existsSync(catalogCacheFile()), 'npm run build writes dist/catalog-cache.json').toBe(true);
    const cached = readCatalogCache(catalogCacheFile(), DATA);
    expect(cached, 'dist/catalog-cache.json was built from other CSVs: npm run build').not.toBeNull();
    const parsed = parseBuiltInCatalog(DATA);
    for (const t of CATALOG_TABLES) {
      expect([...cached![t].keys()]).toEqual([...parsed[t].keys()]);
      for (const [k, rec] of parsed[t]) {
        // Same fields in the same order, NaN where a figure is empty (toEqual treats NaN as equal).
        expect(Object.keys(cached![t].get(k)!)).toEqual(Object.keys(rec));
        expect(cached![t].get(k)).toEqual(rec);
      }
    }
  });

  it('is ignored when any CSV differs from those it was made from', () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    cpSync(DATA, data, { recursive: true });
    const file = join(dir, 'cache.json');
    writeCatalogCache(file, data, parseBuiltInCatalog(data));
    expect(readCatalogCache(file, data)).not.toBeNull();
    for (const t of CATALOG_TABLES) {
      const csv = join(data, `${t}.csv`);
      const text = readFileSync(csv, 'utf8');
      writeFileSync(csv, text + '\n');
      expect(readCatalogCache(file, data), `${t}.csv edited`).toBeNull();
      writeFileSync(csv, text);
    }
    expect(readCatalogCache(join(dir, 'missing.json'), data)).toBeNull();
  });
});
