/**
 * The built-in catalog as JSON, so a process need not parse data/*.csv: `fleetsim validate` spent
 * about 30 ms of its start-up there (csv-parse and the column checks, before V8 has compiled them),
 * against about 2 ms to read this. The build writes it (dist/catalog-cache.json, scripts/bundle.mjs)
 * from the CSVs, and it holds the sha256 of the CSVs' bytes: a cache that does not match the
 * files on disk (data/ edited after the build) is ignored and the CSVs parsed, so it cannot drift.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from './catalog.js';

/** The built-in tables, in the order they are hashed and stored. */
export const CATALOG_TABLES = ['silicon', 'models', 'prices', 'efficiency'] as const;

interface CacheFile {
  sha256: string;
  /** Each table's entries in map order; NaN (an empty optional figure) is stored as null. */
  tables: Record<(typeof CATALOG_TABLES)[number], [string, Record<string, string | number | null>][]>;
}

/** The sha256 of data/{silicon,models,prices,efficiency}.csv, each preceded by its length. */
export function catalogSourceHash(dataDir: string): string {
  const h = createHash('sha256');
  for (const t of CATALOG_TABLES) {
    const bytes = readFileSync(join(dataDir, `${t}.csv`));
    h.update(`${bytes.length}\n`).update(bytes);
  }
  return h.digest('hex');
}

export function writeCatalogCache(file: string, dataDir: string, catalog: Catalog): void {
  const tables = {} as CacheFile['tables'];
  for (const t of CATALOG_TABLES) tables[t] = [...(catalog[t] as Map<string, object>)] as CacheFile['tables'][typeof t];
  // JSON.stringify writes NaN as null, which readCatalogCache turns back.
  writeFileSync(file, JSON.stringify({ sha256: catalogSourceHash(dataDir), tables } satisfies CacheFile) + '\n');
}

/** The catalog the cache holds, or null when there is none or it was built from other CSVs. */
export function readCatalogCache(file: string, dataDir: string): Catalog | null {
  let cache: CacheFile;
  try {
    cache = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
  } catch {
    return null;
  }
  if (cache.sha256 !== catalogSourceHash(dataDir)) return null;
  const catalog = {} as Record<(typeof CATALOG_TABLES)[number], Map<string, unknown>>;
  for (const t of CATALOG_TABLES) {
    for (const [, rec] of cache.tables[t]) {
      for (const k in rec) if (rec[k] === null) rec[k] = NaN;
    }
    catalog[t] = new Map(cache.tables[t]);
  }
  return catalog as unknown as Catalog;
}
