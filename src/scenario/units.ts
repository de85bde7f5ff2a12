/**
 * Parsing and formatting of the human-friendly quantities used in scenario files:
 * durations (`250ms`, `5m`), rates (`1200/min`) and sweep multipliers (`0.5x`).
 *
 * These throw plain `Error`s with a bare message; the scenario loader knows the file, line and
 * field path and wraps the message in an `InputError`.
 */

// Decimal number with optional fraction and exponent; no sign, because a sign is handled
// separately to give "non-negative" errors rather than "not a duration" errors.
const NUMBER = String.raw`(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;

const DURATION_UNIT_S: Readonly<Record<string, number>> = {
  us: 1e-6,
  'µs': 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
};

const DURATION_RE = new RegExp(`^([+-]?)(${NUMBER})\\s*(us|µs|ms|s|m|h|d|w)$`);

const DURATION_HINT = 'expected a duration such as 250ms, 2s, 5m, 1h or 7d';

/**
 * Parse a duration into seconds.
 *
 * Accepts a number (already seconds) or a string `<number><unit>` with units `us`, `ms`, `s`,
 * `m` (minutes), `h`, `d`, `w`, optional whitespace before the unit, and exponents (`1e3ms`).
 * A bare numeric string is rejected because its unit would be a guess.
 *
 * @throws Error on anything else, or on a negative or non-finite value.
 */
export function parseDurationS(value: unknown): number {
  if (typeof value === 'number') return nonNegative(value, 'duration', value);
  if (typeof value !== 'string') throw new Error(`${DURATION_HINT}, got ${describe(value)}`);
  const m = DURATION_RE.exec(value.trim());
  if (!m) throw new Error(`${DURATION_HINT}, got ${describe(value)}`);
  const [, sign, num, unit] = m;
  const durationS = Number(num) * DURATION_UNIT_S[unit];
  return nonNegative(sign === '-' ? -durationS : durationS, 'duration', value);
}

const RATE_UNIT_S: Readonly<Record<string, number>> = {
  ms: 1e-3,
  s: 1,
  sec: 1,
  second: 1,
  min: 60,
  minute: 60,
  h: 3600,
  hr: 3600,
  hour: 3600,
  d: 86_400,
  day: 86_400,
  w: 604_800,
  week: 604_800,
};

// `m` is deliberately not a rate unit: "/m" reads as per-minute to some and per-month to others.
const RATE_RE = new RegExp(`^([+-]?)(${NUMBER})\\s*/\\s*(ms|second|sec|s|minute|min|hour|hr|h|day|d|week|w)$`);

const RATE_HINT = 'expected a rate such as 20/s, 1200/min, 3/h or 2e6/day';

/**
 * Parse an event rate into events per second.
 *
 * Accepts a number (already per second) or a string `<number>/<unit>` with units `ms`, `s`
 * (`sec`, `second`), `min` (`minute`), `h` (`hr`, `hour`), `d` (`day`), `w` (`week`).
 *
 * @throws Error on anything else, or on a negative or non-finite value.
 */
export function parseRatePerS(value: unknown): number {
  if (typeof value === 'number') return nonNegative(value, 'rate', value);
  if (typeof value !== 'string') throw new Error(`${RATE_HINT}, got ${describe(value)}`);
  const m = RATE_RE.exec(value.trim());
  if (!m) throw new Error(`${RATE_HINT}, got ${describe(value)}`);
  const [, sign, num, unit] = m;
  const ratePerS = Number(num) / RATE_UNIT_S[unit];
  return nonNegative(sign === '-' ? -ratePerS : ratePerS, 'rate', value);
}

const MULTIPLIER_RE = new RegExp(`^(${NUMBER})\\s*[xX]$`);

/**
 * Parse a sweep multiplier such as `0.5x` or `2x`.
 *
 * @returns the factor, or `null` when the string is not a multiplier, so callers can try
 *   other interpretations (an absolute value) before reporting an error.
 */
export function parseMultiplier(value: string): number | null {
  const m = MULTIPLIER_RE.exec(value.trim());
  if (!m) return null;
  const factor = Number(m[1]);
  return Number.isFinite(factor) ? factor : null;
}

/**
 * Format seconds for people: `250ms`, `1.5s`, `1m30s`, `2d3h`. Sub-second values use one
 * unit with up to three decimals; longer values are split into d/h/m/s with zero parts left
 * out and seconds rounded to the millisecond.
 */
export function formatDuration(s: number): string {
  if (Number.isNaN(s)) return 'NaN';
  if (s < 0) return `-${formatDuration(-s)}`;
  if (s === Infinity) return 'Infinity';
  if (s === 0) return '0s';
  // Choose the unit from the rounded value so 0.9999996 s prints as 1s, not 1000ms.
  const us = roundTo(s * 1e6, 3);
  if (us < 1000) return `${us}us`;
  const ms = roundTo(s * 1e3, 3);
  if (ms < 1000) return `${ms}ms`;

  let restS = roundTo(s, 3);
  const parts: string[] = [];
  for (const [unit, unitS] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    const n = Math.floor(restS / unitS);
    if (n > 0) {
      parts.push(`${n}${unit}`);
      restS = roundTo(restS - n * unitS, 3);
    }
  }
  if (restS > 0 || parts.length === 0) parts.push(`${restS}s`);
  return parts.join('');
}

function roundTo(x: number, places: number): number {
  return Number(x.toFixed(places));
}

function nonNegative(x: number, what: 'duration' | 'rate', original: unknown): number {
  if (!(x >= 0) || x === Infinity) {
    throw new Error(`expected a non-negative ${what}, got ${describe(original)}`);
  }
  // Normalise -0 (from "-0s") so callers never see it.
  return x + 0;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : String(value);
}

/** `1 deployment`, `3 deployments`: a count with its noun in the number it needs. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
