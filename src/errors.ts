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
