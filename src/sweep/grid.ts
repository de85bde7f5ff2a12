/** A sweep's grid: the cartesian product of each path's values, in a stable order. */
import { InputError } from '../errors.js';
import { parsePath, type Edit, type SweepValue } from './paths.js';

export interface GridPoint {
  index: number;
  edits: Edit[];
}

/**
 * Expands `{ path: [values] }` in the file's key order; the last path varies fastest, so point
 * numbers read like an odometer and adding values to the last path keeps earlier points' order.
 */
export function expandGrid(sweep: Record<string, SweepValue[]> | undefined): { paths: string[]; points: GridPoint[] } {
  const entries = Object.entries(sweep ?? {});
  for (const [path, values] of entries) {
    parsePath(path, `sweep.${path}`);
    if (values.length === 0) throw new InputError('a sweep path needs at least one value', { path: `sweep.${path}` });
  }
  const paths = entries.map(([p]) => p);
  let total = 1;
  for (const [, values] of entries) total *= values.length;
  if (total > 1_000_000) throw new InputError(`the sweep grid has ${total} points; at most 1000000`, { path: 'sweep' });
  const points: GridPoint[] = [];
  for (let i = 0; i < total; i++) {
    const edits: Edit[] = [];
    let rest = i;
    for (let k = entries.length - 1; k >= 0; k--) {
      const values = entries[k][1];
      edits.unshift({ path: entries[k][0], value: values[rest % values.length] });
      rest = Math.floor(rest / values.length);
    }
    points.push({ index: i, edits });
  }
  return { paths, points };
}
