/**
 * Measured step-time profiles: a deployment's `profile: file.csv` replaces the roofline's step times
 * with the user's measurements (README "How fleetsim computes time", "Measured profiles").
 *
 * File format (CSV with a header; `#` lines are comments):
 *
 *   kind,batch,context_tokens,prefill_tokens,ms
 *   decode,1,512,,14.1          one decode step of `batch` requests, each holding `context_tokens`
 *   decode,64,512,,22.8
 *   decode,64,4096,,41.0
 *   prefill,,,512,38.5          one prefill iteration over `prefill_tokens` prompt tokens
 *   prefill,,,4096,301
 *
 * Decode: for each measured batch size the step time is fitted, by least squares, as a line in the
 * per-request context (exact when there are one or two contexts; decode cost does grow linearly
 * with the KV it reads). Between batch sizes the line's intercept and slope are interpolated
 * linearly; below the smallest batch the smallest batch's line is used; above the largest the
 * last two batch sizes are extrapolated linearly. Because a run of decode steps with a fixed batch
 * is then one line in the step index, the engine's collapsed decode stays exact.
 * Prefill: piecewise linear in prompt tokens, the first point's time below it, the last
 * segment extrapolated above it (a single point scales in proportion).
 * Memory (weights, KV capacity) still comes from the model, silicon and dtype.
 */
import { readFileSync } from 'node:fs';
import { parseCsv, stripBom } from '../csv-read.js';
import { InputError } from '../errors.js';
import { RooflinePerf, type PerfInputs } from './roofline.js';

export interface StepProfile {
  /** Measured batch sizes, ascending. */
  batches: Float64Array;
  /** Per batch size: decode step seconds at zero context, and seconds per context token per request. */
  interceptS: Float64Array;
  slopeS: Float64Array;
  /** Prefill points, ascending in tokens. */
  prefillTokens: Float64Array;
  prefillS: Float64Array;
}

const COLUMNS = ['kind', 'batch', 'context_tokens', 'prefill_tokens', 'ms'];

/** Reads and checks a profile CSV; errors carry the file and line. */
export function loadProfile(file: string): StepProfile {
  let text: string;
  try {
    text = stripBom(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`cannot read profile: ${(err as Error).message}`, { file });
  }
  let records: string[][];
  try {
    records = parseCsv<string[][]>(text, { comment: '#', skip_empty_lines: true, trim: true, relax_column_count: false });
  } catch (err) {
    const e = err as { message: string; lines?: number };
    throw new InputError(`profile is not valid CSV: ${e.message}`, { file, line: e.lines });
  }
  // Line numbers for messages: count physical lines of data rows (comments and blanks skipped).
  const lines: number[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    const t = l.trim();
    if (t !== '' && !t.startsWith('#')) lines.push(i + 1);
  });
  if (records.length === 0) throw new InputError('profile is empty', { file, line: 1 });
  const header = records[0].map((h) => h.trim());
  if (header.join(',') !== COLUMNS.join(',')) {
    throw new InputError(`profile header must be "${COLUMNS.join(',')}", got "${header.join(',')}"`, { file, line: lines[0] });
  }
  const decode = new Map<number, { ctx: number[]; s: number[] }>();
  const prefill = new Map<number, number>();
  for (let i = 1; i < records.length; i++) {
    const [kind, batchText, ctxText, tokText, msText] = records[i];
    const line = lines[i];
    const num = (v: string, name: string, min: number): number => {
      const x = Number(v);
      if (v === '' || !Number.isFinite(x) || x < min) {
        throw new InputError(`${name}: expected a number >= ${min}, got "${v}"`, { file, line });
      }
      return x;
    };
    const seconds = num(msText, 'ms', 0) / 1000;
    if (kind === 'decode') {
      const b = num(batchText, 'batch', 1);
      if (!Number.isInteger(b)) throw new InputError(`batch: expected an integer, got "${batchText}"`, { file, line });
      const ctx = num(ctxText, 'context_tokens', 0);
      let row = decode.get(b);
      if (!row) decode.set(b, (row = { ctx: [], s: [] }));
      if (row.ctx.includes(ctx)) throw new InputError(`duplicate decode point batch ${b}, context ${ctx}`, { file, line });
      row.ctx.push(ctx);
      row.s.push(seconds);
    } else if (kind === 'prefill') {
      const t = num(tokText, 'prefill_tokens', 1);
      if (prefill.has(t)) throw new InputError(`duplicate prefill point ${t} tokens`, { file, line });
      prefill.set(t, seconds);
    } else {
      throw new InputError(`kind: expected decode or prefill, got "${kind}"`, { file, line });
    }
  }
  if (decode.size === 0) throw new InputError('profile has no decode rows', { file });
  if (prefill.size === 0) throw new InputError('profile has no prefill rows', { file });

  const batches = [...decode.keys()].sort((a, b) => a - b);
  const interceptS = new Float64Array(batches.length);
  const slopeS = new Float64Array(batches.length);
  batches.forEach((b, i) => {
    const { ctx, s } = decode.get(b)!;
    const n = ctx.length;
    const mx = ctx.reduce((a, x) => a + x, 0) / n;
    const my = s.reduce((a, y) => a + y, 0) / n;
    let sxx = 0, sxy = 0;
    for (let j = 0; j < n; j++) {
      sxx += (ctx[j] - mx) * (ctx[j] - mx);
      sxy += (ctx[j] - mx) * (s[j] - my);
    }
    // Step time never falls as context grows; a noisy negative fit is flattened.
    const slope = sxx > 0 ? Math.max(0, sxy / sxx) : 0;
    slopeS[i] = slope;
    interceptS[i] = my - slope * mx;
  });
  const tokens = [...prefill.keys()].sort((a, b) => a - b);
  return {
    batches: Float64Array.from(batches),
    interceptS,
    slopeS,
    prefillTokens: Float64Array.from(tokens),
    prefillS: Float64Array.from(tokens.map((t) => prefill.get(t)!)),
  };
}

/**
 * The roofline's memory figures with the profile's step times. Extends RooflinePerf so the engine
 * and reports use one type; only the time methods differ.
 */
export class ProfilePerf extends RooflinePerf {
  constructor(inputs: PerfInputs, readonly profile: StepProfile) {
    super(inputs);
  }

  /** Decode step line at batch b: [seconds at zero context, seconds per context token per request]. */
  private lineAt(batch: number, out: Float64Array, offset: number): void {
    const p = this.profile;
    const bs = p.batches;
    const n = bs.length;
    let i: number;
    if (n === 1 || batch <= bs[0]) {
      out[offset] = p.interceptS[0];
      out[offset + 1] = p.slopeS[0];
      return;
    }
    if (batch >= bs[n - 1]) i = n - 2;
    else {
      i = 0;
      while (bs[i + 1] < batch) i++;
    }
    const f = (batch - bs[i]) / (bs[i + 1] - bs[i]);
    out[offset] = Math.max(0, p.interceptS[i] + f * (p.interceptS[i + 1] - p.interceptS[i]));
    out[offset + 1] = Math.max(0, p.slopeS[i] + f * (p.slopeS[i + 1] - p.slopeS[i]));
  }

  private readonly scratch = new Float64Array(2);

  override decodeStepS(batch: number, contextTokens: number): number {
    this.lineAt(batch, this.scratch, 0);
    return this.scratch[0] + (this.scratch[1] * contextTokens) / batch;
  }

  override prefillS(tokens: number, _sumSquares: number): number {
    const p = this.profile;
    const xs = p.prefillTokens;
    const ys = p.prefillS;
    const n = xs.length;
    if (n === 1) return tokens <= xs[0] ? ys[0] : (ys[0] * tokens) / xs[0];
    if (tokens <= xs[0]) return ys[0];
    let i = n - 2;
    if (tokens < xs[n - 1]) {
      i = 0;
      while (xs[i + 1] < tokens) i++;
    }
    return Math.max(0, ys[i] + ((tokens - xs[i]) * (ys[i + 1] - ys[i])) / (xs[i + 1] - xs[i]));
  }

  /** A mixed (chunked) iteration: the decode step plus the prefill chunk, as if run back to back. */
  override mixedS(decodeBatch: number, decodeContext: number, prefillTokens: number, prefillPairs: number, _prefillKvRead: number): number {
    const decode = decodeBatch > 0 ? this.decodeStepS(decodeBatch, decodeContext) : 0;
    return decode + (prefillTokens > 0 ? this.prefillS(prefillTokens, 2 * prefillPairs) : 0);
  }

  override decodeLines(batch: number, contextTokens: number, out: Float64Array): void {
    this.lineAt(batch, this.scratch, 0);
    // Each step adds one context token per request: t(k) = a + s·(C/b + k).
    const start = this.scratch[0] + (this.scratch[1] * contextTokens) / batch;
    out[0] = start;
    out[1] = this.scratch[1];
    out[2] = start;
    out[3] = this.scratch[1];
    out[4] = 0;
  }
}
