/**
 * Facility figures for energy and emissions: PUE, electricity price and grid carbon intensity per
 * region, from data/facility.csv (each row with its source or assumption). A scenario's `facility:`
 * section picks a region and may override any figure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../csv-read.js';
import { builtInTable, packageRoot } from '../catalog/catalog.js';
import { InputError } from '../errors.js';

export const DEFAULT_REGION = 'eastus';

export interface Facility {
  region: string;
  pue: number;
  usdPerKwh: number;
  /** NaN when no grid intensity is known: emissions are then left empty, not guessed. */
  kgCo2ePerKwh: number;
  source: string;
  assumption: string;
}

export interface FacilityInput {
  region?: string;
  pue?: number;
  usd_per_kwh?: number;
  kg_co2e_per_kwh?: number;
}

let facilities: Map<string, Facility> | null = null;

/**
 * data/facility.csv (from the build's parsed cache when it matches the file; src/catalog/cache.ts),
 * read once per process: every point of a sweep or plan resolves its facility, and the table is only read.
 */
export function builtInFacilities(): Map<string, Facility> {
  return (facilities ??= builtInTable(join(packageRoot(), 'data'), 'facility', loadFacilities));
}

export function loadFacilities(file = join(packageRoot(), 'data', 'facility.csv')): Map<string, Facility> {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv<Record<string, string>[]>(readFileSync(file), { columns: true, skip_empty_lines: true });
  } catch (err) {
    throw new InputError(`cannot read facility table: ${(err as Error).message}`, { file });
  }
  const out = new Map<string, Facility>();
  rows.forEach((r, i) => {
    const where = { file, line: i + 2 };
    const num = (k: string, optional: boolean) => {
      const cell = (r[k] ?? '').trim();
      if (cell === '' && optional) return NaN;
      const v = Number(cell);
      if (cell === '' || !Number.isFinite(v) || v < 0) throw new InputError(`${k}: expected a non-negative number, got "${cell}"`, where);
      return v;
    };
    if (!r.source && !r.assumption) throw new InputError('every facility row needs a source or an assumption', where);
    out.set(r.region, {
      region: r.region,
      pue: num('pue', false),
      usdPerKwh: num('usd_per_kwh', false),
      kgCo2ePerKwh: num('kg_co2e_per_kwh', true),
      source: r.source ?? '',
      assumption: r.assumption ?? '',
    });
  });
  return out;
}

/**
 * The facility a scenario runs in: the region's catalog row with the scenario's overrides on top.
 * `fail(key, message)` builds the located input error for a bad key.
 */
export function resolveFacility(input: FacilityInput | undefined, fail: (key: string, message: string) => Error): Facility {
  const table = builtInFacilities();
  const region = input?.region ?? DEFAULT_REGION;
  const base = table.get(region);
  if (!base) throw fail('region', `unknown facility region "${region}" (known: ${[...table.keys()].join(', ')})`);
  const overridden = ['pue', 'usd_per_kwh', 'kg_co2e_per_kwh'].filter((k) => input?.[k as keyof FacilityInput] !== undefined);
  if (input?.pue !== undefined && input.pue < 1) throw fail('pue', `PUE is total facility power / IT power, so at least 1; got ${input.pue}`);
  return {
    region,
    pue: input?.pue ?? base.pue,
    usdPerKwh: input?.usd_per_kwh ?? base.usdPerKwh,
    kgCo2ePerKwh: input?.kg_co2e_per_kwh ?? base.kgCo2ePerKwh,
    source: base.source,
    assumption: [base.assumption, overridden.length ? `overridden in the scenario: ${overridden.join(', ')}` : '']
      .filter(Boolean)
      .join('; '),
  };
}
