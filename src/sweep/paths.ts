/**
 * Dotted scenario paths (`workloads[0].arrival.rate`) and edits to the raw scenario object, made
 * before validation so an edited value is checked exactly like one typed into the file.
 */
import { parse as parseYamlScalar } from 'yaml';
import { InputError } from '../errors.js';
import { resolveFromInput, type Scenario, type ScenarioSource } from '../scenario/load.js';
import { parseMultiplier } from '../scenario/units.js';

export type PathPart = string | number;
export type SweepValue = number | string | boolean;
/**
 * A `--set` value: a scalar, or a YAML flow list or map (`incidents=[]`, `slo={ttft: 1s}`) that
 * replaces the value at the path, or null (`autoscale=null`, `workloads[2]=null`), which removes the key or list entry.
 */
export type EditValue = SweepValue | unknown[] | { [key: string]: unknown } | null;

/** An edit's value as the user would type it: scalars as they are, lists and maps as JSON. */
export const editValueText = (v: EditValue): string => (typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * Removes what `parts` names: a map key, or a list entry (later entries move up one). There must
 * be one: a mistyped path is an error, not a no-op.
 */
function removeAt(obj: Record<string, unknown>, parts: PathPart[], text: string, where: string): void {
  const key = parts[parts.length - 1];
  const container = getAt(obj, parts.slice(0, -1));
  if (typeof key === 'number' && Array.isArray(container) && key < container.length) {
    container.splice(key, 1);
    return;
  }
  if (typeof key === 'string' && container !== null && typeof container === 'object' && !Array.isArray(container) && key in container) {
    delete (container as Record<string, unknown>)[key];
    return;
  }
  throw new InputError(`scenario path "${text}": the scenario has nothing there to remove (null removes a key or a list entry)`, { path: where });
}

export function parsePath(path: string, where: string): PathPart[] {
  const parts: PathPart[] = [];
  const re = /([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|(\.)/gy;
  let expectKey = true;
  let m: RegExpExecArray | null;
  let last = 0;
  while (last < path.length && (m = re.exec(path)) !== null) {
    last = re.lastIndex;
    if (m[1] !== undefined) {
      if (!expectKey) throw badPath(path, where);
      parts.push(m[1]);
      expectKey = false;
    } else if (m[2] !== undefined) {
      if (expectKey) throw badPath(path, where);
      parts.push(Number(m[2]));
    } else {
      if (expectKey) throw badPath(path, where);
      expectKey = true;
    }
  }
  if (last !== path.length || expectKey || parts.length === 0) throw badPath(path, where);
  return parts;
}

function badPath(path: string, where: string): InputError {
  return new InputError(`bad scenario path "${path}": expected keys joined by dots, with [i] list indices, e.g. workloads[0].arrival.rate`, {
    path: where,
  });
}

function getAt(obj: unknown, parts: PathPart[]): unknown {
  let v = obj;
  for (const p of parts) v = v == null || typeof v !== 'object' ? undefined : (v as Record<PathPart, unknown>)[p];
  return v;
}

/**
 * Sets `parts` in `obj` (mutating it). Intermediate maps are created for a missing key, but a list
 * index must already exist, so a typo'd index is an error instead of a silently padded list.
 */
function setAt(obj: Record<string, unknown>, parts: PathPart[], value: unknown, text: string, where: string): void {
  let v: unknown = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i];
    const container = v as Record<PathPart, unknown>;
    let next = container[p];
    if (next === undefined && typeof p === 'string' && !Array.isArray(container)) {
      next = {};
      container[p] = next;
    }
    if (next === null || typeof next !== 'object') {
      throw new InputError(`scenario path "${text}": ${describePrefix(parts, i + 1)} is not a list or map in the scenario`, { path: where });
    }
    if (typeof parts[i + 1] === 'number' && !Array.isArray(next)) {
      throw new InputError(`scenario path "${text}": ${describePrefix(parts, i + 1)} is not a list`, { path: where });
    }
    if (typeof parts[i + 1] === 'number' && (parts[i + 1] as number) >= (next as unknown[]).length) {
      throw new InputError(
        `scenario path "${text}": ${describePrefix(parts, i + 1)} has ${(next as unknown[]).length} entries, no index ${parts[i + 1]}`,
        { path: where },
      );
    }
    v = next;
  }
  (v as Record<PathPart, unknown>)[parts[parts.length - 1]] = value;
}

function describePrefix(parts: PathPart[], n: number): string {
  let out = '';
  for (const p of parts.slice(0, n)) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

const NUMBER_WITH_UNIT = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(.*)$/i;

/**
 * The value a sweep or `--set` entry gives a path. `Nx` multiplies the file's value at that path,
 * keeping its unit: `2x` of `12/s` is `24/s`, of `4` is `8`.
 */
export function resolveValue(raw: Record<string, unknown>, parts: PathPart[], value: Exclude<EditValue, null>, text: string, where: string): unknown {
  if (typeof value !== 'string') return value;
  const factor = parseMultiplier(value);
  if (factor === null) return value;
  const base = getAt(raw, parts);
  // A fraction to 15 significant digits: `0.3x` of 6 is the 1.8 the analyst meant, not
  // 1.7999999999999998. Integers stay exact (toPrecision would round those above 1e15).
  const scaled = (x: number) => {
    const y = x * factor;
    return Number.isInteger(y) ? y : Number(y.toPrecision(15));
  };
  if (typeof base === 'number') return scaled(base);
  if (typeof base === 'string') {
    const m = NUMBER_WITH_UNIT.exec(base);
    if (m) return `${scaled(Number(m[1]))}${m[2]}`;
  }
  throw new InputError(`"${value}" multiplies the value at "${text}", but the scenario has ${base === undefined ? 'no value' : JSON.stringify(base)} there`, {
    path: where,
  });
}

/** One edit: a path and the value it takes (a YAML scalar as typed on the command line, or from the sweep list). */
export interface Edit {
  path: string;
  value: EditValue;
}

/**
 * Parses `--set path=value`; the value is read as YAML: a scalar (`4` → 4, `20/s` → "20/s", `true` → true)
 * or a flow list or map (`[]`, `[{at: 2m, duration: 1m, deployment: d}]`), which replaces the whole value.
 */
export function parseSetFlag(flag: string): Edit {
  const eq = flag.indexOf('=');
  if (eq <= 0) throw new InputError(`--set expects path=value, got "${flag}"`, { path: '--set' });
  const path = flag.slice(0, eq).trim();
  const text = flag.slice(eq + 1).trim();
  let value: unknown;
  try {
    value = parseYamlScalar(text);
  } catch {
    value = text;
  }
  const isListOrMap = typeof value === 'object' && value !== null;
  if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean' && !isListOrMap && !(value === null && text !== '')) {
    throw new InputError(`--set ${path}: expected a number, string, boolean, null (to remove the key) or a YAML flow list or map such as [] or {a: 1}, got "${text}"`, {
      path: '--set',
    });
  }
  parsePath(path, '--set');
  return { path, value: value as EditValue };
}

/** Applies edits in order to a deep copy of `raw`; a multiplier refers to the value before this edit. */
export function applyEdits(raw: Record<string, unknown>, edits: readonly Edit[], where: string): Record<string, unknown> {
  const copy = structuredClone(raw);
  for (const e of edits) {
    const parts = parsePath(e.path, where);
    if (e.value === null) removeAt(copy, parts, e.path, where);
    else setAt(copy, parts, resolveValue(copy, parts, e.value, e.path, where), e.path, where);
  }
  return copy;
}

/** A canonical text of edits, hashed into the scenario hash. */
export const describeEdits = (edits: readonly Edit[]) => edits.map((e) => `${e.path}=${JSON.stringify(e.value)}`).join('\n');

/** True when one dotted path lies on the other's (a key, its parent or its child). */
function onPath(a: string, b: string): boolean {
  const under = (x: string, y: string) => x === y || x.startsWith(`${y}.`) || x.startsWith(`${y}[`);
  return under(a, b) || under(b, a);
}

/**
 * Runs `fn`; an input error at a field that an edit changed is reported against that edit
 * (`--set workloads[0].rate=…`), not against a line of the file the value never came from.
 */
export function blameEdits<T>(edits: readonly Edit[], where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const path = err instanceof InputError ? err.location.path : undefined;
    const edit = path === undefined ? undefined : edits.find((e) => onPath(e.path, path));
    if (!edit) throw err;
    throw new InputError((err as InputError).message, { file: `${where} ${edit.path}=${editValueText(edit.value)}`, path });
  }
}

/** Resolves a scenario with `--set` and point edits applied to the raw input. */
export function resolveEdited(source: ScenarioSource, edits: readonly Edit[], overrides: { seed?: number; horizonS?: number } = {}): Scenario {
  if (edits.length === 0) return resolveFromInput(source, source.raw, overrides);
  const raw = applyEdits(source.raw, edits, '--set/sweep');
  return blameEdits(edits, '--set', () => resolveFromInput(source, raw, { ...overrides, edits: describeEdits(edits) }));
}
