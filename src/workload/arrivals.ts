/**
 * Request arrival processes. Each source is pulled one arrival at a time by the simulator's hot
 * loop, so `next()` allocates nothing (trace sources reuse one 64 KB read buffer).
 */
import { InputError } from '../errors.js';
import type { RandomStream } from './rng.js';
import type { TraceReader } from './trace.js';
import { hashesOf, MOONCAKE_HASH_BLOCK_TOKENS, openTrace, type MooncakeReader } from './mooncake.js';

/** How requests arrive. Rates are requests per second of simulated time. */
export type ArrivalConfig =
  | { process: 'poisson'; ratePerS: number; /** Arrivals in all; default Infinity (until the horizon). */ requests?: number }
  | {
      process: 'diurnal';
      ratePerS: number;
      /** 24 rate multipliers; hour h of the day runs at ratePerS * hourly[h]. */
      hourly: number[];
      /** UTC hour of day (may be fractional) at simulation t=0; default 0. */
      startHourOffset?: number;
    }
  | {
      process: 'trace';
      file: string;
      /** azure (CSV, the default) or mooncake (JSON lines with hash_ids; workload/mooncake.ts). */
      format?: 'azure' | 'mooncake';
      /** mooncake: prompt tokens per hash id; default 512. */
      hashBlockTokens?: number;
      /** Divides inter-arrival times; default 1. */
      speedup?: number;
      /** Rate multiplier: <1 thins rows randomly, >1 replays each row floor(scale) times plus one more with probability frac(scale); default 1. */
      scale?: number;
      /** Restart the trace after its end; default false. */
      loop?: boolean;
      /** Skip this many seconds of the trace at the start; default 0. */
      offsetS?: number;
    }
  | {
      process: 'closed';
      /** Users; each has at most one request outstanding. */
      concurrency: number;
      /** Seconds from a user's request ending to its next request. */
      thinkTimeS: number;
      /** Requests sent in all; Infinity: until the horizon. */
      requests: number;
    };

/** A stream of arrival times. */
export interface ArrivalSource {
  /** Advances to the next arrival and returns its time in seconds from t=0 (non-decreasing), or Infinity when exhausted. */
  next(): number;
  /** Token counts of the arrival just returned when the process carries them (trace), else -1. */
  readonly promptTokens: number;
  readonly outputTokens: number;
}

const SECONDS_PER_HOUR = 3600;
const HOURS_PER_DAY = 24;

class PoissonArrivals implements ArrivalSource {
  readonly promptTokens = -1;
  readonly outputTokens = -1;
  private timeS = 0;
  private left: number;
  constructor(
    private readonly ratePerS: number,
    private readonly rng: RandomStream,
    private readonly horizonS: number,
    requests: number,
  ) {
    this.left = requests;
    if (ratePerS === 0) this.timeS = Infinity;
  }
  next(): number {
    // Every exit returns the field, and Infinity is stored, never merged into a value: V8 keeps a
    // time merged with an `Infinity` that had not yet run when it optimised the event loop boxed,
    // a new heap object per arrival.
    if (this.timeS !== Infinity) {
      const timeS = this.timeS + this.rng.exponential(this.ratePerS);
      if (timeS < this.horizonS && this.left > 0) this.timeS = timeS;
      else this.timeS = Infinity;
      this.left--;
    }
    return this.timeS;
  }
}

/**
 * Non-homogeneous Poisson process with a piecewise-constant hourly rate, sampled exactly by
 * inverting the integrated rate: draw E ~ Exp(1) and walk forward consuming rate * duration
 * hour by hour until E is used up. Zero-rate hours are crossed without drawing.
 */
class DiurnalArrivals implements ArrivalSource {
  readonly promptTokens = -1;
  readonly outputTokens = -1;
  private readonly ratesPerS = new Float64Array(HOURS_PER_DAY);
  private timeS = 0;
  // The hour is tracked as an integer rather than recomputed from timeS, so landing exactly on
  // a boundary can never be rounded back into the hour just finished (which would loop forever).
  private hourIndex: number;
  private hourEndS: number;
  private readonly startHourOffset: number;

  constructor(
    ratePerS: number,
    hourly: number[],
    startHourOffset: number,
    private readonly rng: RandomStream,
    private readonly horizonS: number,
  ) {
    let anyPositive = false;
    for (let h = 0; h < HOURS_PER_DAY; h++) {
      this.ratesPerS[h] = ratePerS * hourly[h];
      if (this.ratesPerS[h] > 0) anyPositive = true;
    }
    this.startHourOffset = startHourOffset;
    this.hourIndex = Math.floor(startHourOffset);
    this.hourEndS = (this.hourIndex + 1 - startHourOffset) * SECONDS_PER_HOUR;
    if (!anyPositive) this.timeS = Infinity;
  }

  next(): number {
    let timeS = this.timeS;
    if (timeS === Infinity) return timeS; // not a literal: see PoissonArrivals.next
    let remaining = this.rng.exponential(1);
    for (;;) {
      const ratePerS = this.ratesPerS[this.hourIndex % HOURS_PER_DAY];
      const hourEndS = this.hourEndS;
      const available = ratePerS * (hourEndS - timeS);
      if (ratePerS > 0 && available >= remaining) {
        timeS += remaining / ratePerS;
        break;
      }
      remaining -= available;
      timeS = hourEndS;
      this.hourIndex++;
      this.hourEndS = (this.hourIndex + 1 - this.startHourOffset) * SECONDS_PER_HOUR;
      if (timeS >= this.horizonS) break;
    }
    if (timeS < this.horizonS) this.timeS = timeS;
    else this.timeS = Infinity; // two stores: see PoissonArrivals.next
    return this.timeS;
  }
}

/**
 * Replays an Azure trace. Trace time tau maps to simulated time (tau - offsetS) / speedup.
 * With `loop`, the trace repeats with period (span + mean gap), so a looped trace is a
 * circular schedule and offsetS is a phase into it; the mean gap keeps the seam between the
 * last row and the next pass's first row at a typical spacing.
 */
export class TraceArrivals implements ArrivalSource {
  promptTokens = -1;
  outputTokens = -1;
  private readonly reader: TraceReader;
  /** The reader when its rows carry hash ids (Mooncake): the arrival just returned's are its hashIds[0, hashCount). */
  readonly hashes: MooncakeReader | null;
  private readonly copiesWhole: number;
  private readonly copiesFraction: number;
  /** Trace seconds added to each row's timeS in the current pass (the first pass starts at -offsetS). */
  private passStartTraceS: number;
  private pendingCopies = 0;
  private currentS = 0;
  private done = false;

  constructor(
    private readonly file: string,
    private readonly speedup: number,
    scale: number,
    private readonly loop: boolean,
    offsetS: number,
    private readonly rng: RandomStream,
    private readonly horizonS: number,
    format: 'azure' | 'mooncake',
    hashBlockTokens: number,
  ) {
    this.reader = openTrace(file, format, hashBlockTokens);
    this.hashes = hashesOf(this.reader);
    this.copiesWhole = Math.floor(scale);
    this.copiesFraction = scale - this.copiesWhole;
    this.passStartTraceS = -offsetS;
    if (scale === 0) this.finish(); // header still checked above, so a bad file is reported
  }

  next(): number {
    if (this.done) return Infinity;
    if (this.pendingCopies > 0) {
      this.pendingCopies--;
      return this.currentS;
    }
    const reader = this.reader;
    for (;;) {
      if (!reader.next()) {
        if (!this.loop || !this.startNextPass()) return this.finish();
        continue;
      }
      const traceS = this.passStartTraceS + reader.timeS;
      if (traceS < 0) continue; // inside the skipped offset
      const timeS = traceS / this.speedup;
      if (timeS >= this.horizonS) return this.finish();
      let copies = this.copiesWhole;
      if (this.copiesFraction > 0 && this.rng.next() < this.copiesFraction) copies++;
      if (copies === 0) continue;
      this.pendingCopies = copies - 1;
      this.currentS = timeS;
      this.promptTokens = reader.promptTokens;
      this.outputTokens = reader.outputTokens;
      return timeS;
    }
  }

  /** Called at the end of a pass; false when the trace has no rows at all. */
  private startNextPass(): boolean {
    const rows = this.reader.rows;
    if (rows === 0) return false;
    const spanS = this.reader.timeS;
    if (spanS <= 0) {
      // A zero-length period would replay the trace forever at one instant.
      throw new InputError(
        'trace with loop: true needs at least two rows with different timestamps',
        { file: this.file },
      );
    }
    const periodS = spanS + spanS / (rows - 1);
    this.passStartTraceS += periodS;
    // An offset longer than the trace lands in a later pass; skip whole passes without reading them.
    while (this.passStartTraceS + spanS < 0) this.passStartTraceS += periodS;
    this.reader.rewind();
    return true;
  }

  private finish(): number {
    this.done = true;
    this.pendingCopies = 0;
    this.reader.close();
    return Infinity;
  }
}

/**
 * Closed-loop load: `concurrency` users each send a request at t=0, wait for it to end (completed,
 * rejected, timed out or lost), think for `thinkTimeS`, and send the next, until `requests` have
 * been sent or the horizon is reached. The simulation reports each end through `userDone`. With a
 * constant think time, users become ready in the order their requests ended, so the ready users
 * are a FIFO ring of wake times (no heap, no allocation per request).
 */
export class ClosedArrivals implements ArrivalSource {
  readonly promptTokens = -1;
  readonly outputTokens = -1;
  private readonly readyS: Float64Array;
  private head = 0;
  private count = 0;
  private sent = 0;
  private done = false;

  constructor(
    concurrency: number,
    private readonly thinkTimeS: number,
    private readonly requests: number,
    private readonly horizonS: number,
  ) {
    const users = Math.min(concurrency, requests);
    this.readyS = new Float64Array(users);
    this.count = users; // every user is ready at t=0 (readyS is zero-filled)
  }

  /** The next ready user's send time, or Infinity when no user is ready now or the run's requests are all sent. */
  next(): number {
    if (this.done || this.count === 0) return Infinity;
    const timeS = this.readyS[this.head];
    if (timeS >= this.horizonS || this.sent >= this.requests) {
      this.done = true;
      return Infinity;
    }
    this.head = this.head + 1 === this.readyS.length ? 0 : this.head + 1;
    this.count--;
    this.sent++;
    return timeS;
  }

  /** A user's request ended at `nowS`: the user sends again after its think time. */
  userDone(nowS: number): void {
    if (this.done) return;
    let tail = this.head + this.count;
    if (tail >= this.readyS.length) tail -= this.readyS.length;
    this.readyS[tail] = nowS + this.thinkTimeS;
    this.count++;
  }
}

function requireFinite(value: number, min: number, exclusive: boolean, path: string): void {
  if (!Number.isFinite(value) || value < min || (exclusive && value === min)) {
    throw new InputError(`expected a finite number ${exclusive ? '>' : '>='} ${min}, got ${value}`, { path });
  }
}

/**
 * Builds an arrival source. All processes return Infinity for arrivals at or after `horizonS`
 * and on every call after that.
 *
 * - poisson: exponential gaps at `ratePerS`.
 * - diurnal: exact non-homogeneous Poisson at ratePerS * hourly[(UTC hour) mod 24], where the
 *   UTC hour at t=0 is `startHourOffset`.
 * - trace: rows of an Azure trace, first kept row at t=0, times divided by `speedup`, thinned or
 *   replicated by `scale`, optionally looped; carries each row's token counts.
 * - closed: `concurrency` users in a closed loop (ClosedArrivals); the simulation reports each
 *   request's end to it.
 *
 * The scenario loader is expected to validate configs with their file location first; the
 * checks here are a backstop and report only the config field path.
 * @throws InputError for out-of-range parameters or an unreadable / malformed trace (trace
 * rows are validated lazily, as they are reached).
 */
export function makeArrivalSource(cfg: ArrivalConfig, rng: RandomStream, horizonS: number): ArrivalSource {
  switch (cfg.process) {
    case 'poisson':
      requireFinite(cfg.ratePerS, 0, false, 'ratePerS');
      if (cfg.requests !== undefined && !(cfg.requests >= 1)) throw new InputError(`expected requests >= 1, got ${cfg.requests}`, { path: 'requests' });
      return new PoissonArrivals(cfg.ratePerS, rng, horizonS, cfg.requests ?? Infinity);
    case 'diurnal': {
      requireFinite(cfg.ratePerS, 0, false, 'ratePerS');
      if (!Array.isArray(cfg.hourly) || cfg.hourly.length !== HOURS_PER_DAY) {
        throw new InputError(`expected ${HOURS_PER_DAY} hourly multipliers, got ${cfg.hourly?.length}`, {
          path: 'hourly',
        });
      }
      cfg.hourly.forEach((multiplier, h) => requireFinite(multiplier, 0, false, `hourly[${h}]`));
      const startHourOffset = cfg.startHourOffset ?? 0;
      requireFinite(startHourOffset, 0, false, 'startHourOffset');
      return new DiurnalArrivals(cfg.ratePerS, cfg.hourly, startHourOffset, rng, horizonS);
    }
    case 'trace': {
      const speedup = cfg.speedup ?? 1;
      const scale = cfg.scale ?? 1;
      const offsetS = cfg.offsetS ?? 0;
      requireFinite(speedup, 0, true, 'speedup');
      requireFinite(scale, 0, false, 'scale');
      requireFinite(offsetS, 0, false, 'offsetS');
      return new TraceArrivals(cfg.file, speedup, scale, cfg.loop ?? false, offsetS, rng, horizonS, cfg.format ?? 'azure', cfg.hashBlockTokens ?? MOONCAKE_HASH_BLOCK_TOKENS);
    }
    case 'closed': {
      requireFinite(cfg.concurrency, 1, false, 'concurrency');
      requireFinite(cfg.thinkTimeS, 0, false, 'thinkTimeS');
      if (!(cfg.requests >= 1)) throw new InputError(`expected requests >= 1, got ${cfg.requests}`, { path: 'requests' });
      return new ClosedArrivals(cfg.concurrency, cfg.thinkTimeS, cfg.requests, horizonS);
    }
    default: {
      const unknown: never = cfg;
      throw new InputError(
        `unknown arrival process ${JSON.stringify((unknown as { process: unknown }).process)}`,
        { path: 'process' },
      );
    }
  }
}
