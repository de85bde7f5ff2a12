/**
 * Typed errors thrown by the library. Only `cli/` turns them into messages and exit codes:
 * an InputError is the user's to fix (exit 2); anything else is our bug.
 */

/** Where in an input file a problem was found. Every field is optional; more is better. */
export interface InputLocation {
  /** File the problem is in (as the user named it, or resolved). */
  file?: string;
  /** 1-based line. */
  line?: number;
  /** 1-based column. */
  col?: number;
  /** Dotted field path inside a structured file, e.g. `workloads[0].arrival.rate`. */
  path?: string;
}

/** Bad input: a scenario, catalog or trace the user can fix. Carries a location for the message. */
export class InputError extends Error {
  readonly location: InputLocation;
  constructor(message: string, location: InputLocation = {}) {
    super(message);
    this.name = 'InputError';
    this.location = location;
  }

  /** One line: `file:line:col: path: message`, leaving out the parts we do not know. */
  format(): string {
    const { file, line, col, path } = this.location;
    let where = file ?? '';
    if (line !== undefined) where += `:${line}` + (col !== undefined ? `:${col}` : '');
    const parts: string[] = [];
    if (where) parts.push(where);
    if (path) parts.push(path);
    parts.push(this.message);
    return parts.join(': ');
  }
}

/** Levenshtein distance: insertions, deletions and substitutions to turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/**
 * Up to three known ids closest to `id` (case ignored): one containing the other (`h100` →
 * `h100-sxm`), or within a third of its length in edits (at least 2); nearest first.
 */
export function closestIds(id: string, known: Iterable<string>): string[] {
  const want = id.toLowerCase();
  const prefix = (k: string) => {
    let n = 0;
    while (n < k.length && n < want.length && k[n] === want[n]) n++;
    return n;
  };
  const near = [...known]
    .map((k) => {
      const low = k.toLowerCase();
      return { k, d: editDistance(want, low), within: want !== '' && (low.includes(want) || want.includes(low)), prefix: prefix(low) };
    })
    .filter((c) => c.within || c.d <= Math.max(2, Math.floor(want.length / 3)))
    // One containing the other first (h100 → h100-sxm), then fewest edits, then the longest shared start.
    .sort((a, b) => Number(b.within) - Number(a.within) || a.d - b.d || b.prefix - a.prefix || a.k.localeCompare(b.k));
  return near.slice(0, 3).map((c) => c.k);
}

/**
 * What follows `unknown silicon "h100"` in a message: the closest known ids, then every known one,
 * ` (did you mean "h100-sxm"? known: a100-80gb, h100-sxm, …)`. The one wording for an unknown id
 * in a scenario, a measurement file or a command-line flag; `more` goes inside the brackets.
 */
export function unknownIdHint(id: string, known: Iterable<string>, more = ''): string {
  const all = [...known];
  const close = closestIds(id, all);
  const mean = close.length === 0 ? '' : `did you mean ${close.map((c) => `"${c}"`).join(' or ')}? `;
  return ` (${mean}known: ${all.join(', ')}${more})`;
}
