/**
 * The built-in tables (data/*.csv) as parsed JSON, so a process need not parse CSV: `fleetsim
 * validate` spent about 40 ms of its start-up in csv-parse and the column checks (before V8 has
 * compiled them), against about 3 ms to read this. The build writes the cache
 * (dist/catalog-cache.json, scripts/bundle.mjs) from the CSVs, with the sha256 of each CSV's bytes:
 * a table whose CSV on disk differs (data/ edited after the build) is parsed from the CSV as
 * before, so the cache cannot drift from the files.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The tables cached, by CSV file name (without `.csv`). */
export const CACHED_TABLES = ['silicon', 'models', 'prices', 'efficiency', 'stacks', 'facility'] as const;
export type CachedTable = (typeof CACHED_TABLES)[number];

type Entries = [string, Record<string, string | number | null>][];

/** Per table: the sha256 of the CSV it was parsed from, and the map's entries in order (NaN stored as null). */
type CacheFile = Partial<Record<CachedTable, { sha256: string; entries: Entries }>>;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Writes the cache of `tables` (each the parsed map of data/NAME.csv). */
export function writeTableCache(file: string, dataDir: string, tables: Record<CachedTable, Map<string, object>>): void {
  const cache: CacheFile = {};
  // JSON.stringify writes NaN (an empty optional figure) as null; cachedTable turns it back.
  for (const t of CACHED_TABLES) cache[t] = { sha256: sha256(join(dataDir, `${t}.csv`)), entries: [...tables[t]] as Entries };
  writeFileSync(file, JSON.stringify(cache) + '\n');
}

const loaded = new Map<string, CacheFile | null>();

/**
 * data/NAME.csv's map from the cache `file` when it holds that table parsed from these very bytes;
 * else null (no cache, or another CSV), and the caller parses the CSV.
 */
export function cachedTable<T>(file: string, dataDir: string, table: CachedTable): Map<string, T> | null {
  if (!loaded.has(file)) {
    let cache: CacheFile | null = null;
    try {
      cache = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    } catch {
      // No cache (a build without it, or running from sources): parse the CSVs.
    }
    loaded.set(file, cache);
  }
  const entry = loaded.get(file)?.[table];
  if (!entry || entry.sha256 !== sha256(join(dataDir, `${table}.csv`))) return null;
  // Each call gets fresh records, as parsing would give.
  const entries = structuredClone(entry.entries);
  for (const [, rec] of entries) {
    for (const k in rec) if (rec[k] === null) rec[k] = NaN;
  }
  return new Map(entries) as unknown as Map<string, T>;
}
