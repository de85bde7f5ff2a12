/**
 * Token-length distributions for prompts and outputs. Samplers are built once per workload and
 * drawn from in the simulator's hot loop, so `sample()` allocates nothing.
 */
import { InputError } from '../errors.js';
import { RandomStream } from './rng.js';

/** How a token length (prompt or output) is distributed. All lengths are in tokens. */
export type LengthConfig =
  | { dist: 'constant'; value: number }
  | { dist: 'uniform'; min: number; max: number }
  | { dist: 'lognormal'; median: number; p99: number; max?: number }
  | { dist: 'empirical'; values: Int32Array };

/** Draws token lengths. */
export interface LengthSampler {
  /** An integer number of tokens, >= 1. */
  sample(): number;
}

/** Standard normal quantile at 0.99. */
export const Z_0_99 = 2.3263478740408408;

/**
 * Default lognormal cap as a multiple of p99. Without a cap a single draw from the far tail
 * (a 100x-median prompt) can occupy a whole KV cache and dominate a run; at 10x p99 the cap
 * only touches draws beyond z = 2.33 + ln(10)/sigma (probability < 2e-6 for sigma <= 1), so it
 * does not move any reported percentile.
 */
export const LOGNORMAL_DEFAULT_MAX_P99_MULTIPLE = 10;

class ConstantSampler implements LengthSampler {
  constructor(private readonly tokens: number) {}
  sample(): number {
    return this.tokens;
  }
}

class UniformSampler implements LengthSampler {
  private readonly span: number;
  constructor(
    private readonly minTokens: number,
    maxTokens: number,
    private readonly rng: RandomStream,
  ) {
    this.span = maxTokens - minTokens + 1;
  }
  sample(): number {
    return this.minTokens + Math.floor(this.rng.next() * this.span);
  }
}

class LognormalSampler implements LengthSampler {
  constructor(
    private readonly mu: number,
    private readonly sigma: number,
    private readonly maxTokens: number,
    private readonly rng: RandomStream,
  ) {}
  sample(): number {
    const tokens = Math.round(Math.exp(this.mu + this.sigma * this.rng.normal()));
    return tokens < 1 ? 1 : tokens > this.maxTokens ? this.maxTokens : tokens;
  }
}

/**
 * Each draw's element is read one call early: a trace column is a random read into tens of
 * kilobytes that the simulation's own arrays have pushed out of the nearer caches, and read at
 * the draw it stalled the arrival that needed it (6% of platform-1m's time on one line,
 * docs/performance.md); read ahead, the miss overlaps the event in between. The stream is the
 * sampler's own, so its draws and the values returned are the same, in the same order.
 */
class EmpiricalSampler implements LengthSampler {
  private ahead: number;
  constructor(
    private readonly values: Int32Array,
    private readonly rng: RandomStream,
  ) {
    this.ahead = values[Math.floor(rng.next() * values.length)];
  }
  sample(): number {
    const tokens = this.ahead;
    this.ahead = this.values[Math.floor(this.rng.next() * this.values.length)];
    // Traces may record 0 generated tokens; a request still costs at least one step.
    return tokens > 1 ? tokens : 1;
  }
}

function requireInteger(value: number, min: number, what: string): void {
  if (!Number.isInteger(value) || value < min) {
    throw new InputError(`${what}: expected an integer >= ${min}, got ${value}`, { path: what });
  }
}

function requirePositive(value: number, what: string): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new InputError(`${what}: expected a positive number, got ${value}`, { path: what });
  }
}

/**
 * Builds a sampler for `cfg` drawing from `rng`.
 *
 * - constant: always `value`.
 * - uniform: integer in [min, max], both inclusive.
 * - lognormal: mu = ln(median), sigma = ln(p99/median)/z_0.99; rounded to an integer and
 *   clamped to [1, max], where max defaults to ceil(10 * p99) (see {@link LOGNORMAL_DEFAULT_MAX_P99_MULTIPLE}).
 * - empirical: a uniformly random element of `values` (values below 1 are returned as 1).
 *
 * The scenario loader is expected to validate configs with their file location first; the
 * checks here are a backstop and report only the config field path.
 * @throws InputError when the parameters are out of range.
 */
export function makeLengthSampler(cfg: LengthConfig, rng: RandomStream): LengthSampler {
  switch (cfg.dist) {
    case 'constant':
      requireInteger(cfg.value, 1, 'value');
      return new ConstantSampler(cfg.value);
    case 'uniform':
      requireInteger(cfg.min, 1, 'min');
      requireInteger(cfg.max, cfg.min, 'max');
      return new UniformSampler(cfg.min, cfg.max, rng);
    case 'lognormal': {
      requirePositive(cfg.median, 'median');
      requirePositive(cfg.p99, 'p99');
      if (cfg.p99 < cfg.median) {
        throw new InputError(`p99: must be >= median (${cfg.median}), got ${cfg.p99}`, { path: 'p99' });
      }
      const maxTokens = cfg.max ?? Math.ceil(LOGNORMAL_DEFAULT_MAX_P99_MULTIPLE * cfg.p99);
      requireInteger(maxTokens, 1, 'max');
      const mu = Math.log(cfg.median);
      const sigma = Math.log(cfg.p99 / cfg.median) / Z_0_99;
      return new LognormalSampler(mu, sigma, maxTokens, rng);
    }
    case 'empirical':
      if (cfg.values.length === 0) {
        throw new InputError('values: empirical distribution needs at least one value', { path: 'values' });
      }
      return new EmpiricalSampler(cfg.values, rng);
    default: {
      const unknown: never = cfg;
      throw new InputError(`dist: unknown length distribution ${JSON.stringify((unknown as { dist: unknown }).dist)}`, {
        path: 'dist',
      });
    }
  }
}

/**
 * The mean of a length distribution, estimated from `draws` draws of its own sampler on a stream
 * named `name` (the same every time, so callers print the same figure on every run; a capped,
 * rounded lognormal has no simpler closed form worth keeping in step with the sampler).
 */
export function meanLength(cfg: LengthConfig, name: string, draws = 20000): number {
  if (cfg.dist === 'constant') return cfg.value;
  const sampler = makeLengthSampler(cfg, new RandomStream(1, name));
  const n = draws;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sampler.sample();
  return sum / n;
}

/** The mean of the square of a length distribution, estimated as {@link meanLength} is (same stream, same draws). */
export function meanSquare(cfg: LengthConfig, name: string, draws = 20000): number {
  if (cfg.dist === 'constant') return cfg.value * cfg.value;
  const sampler = makeLengthSampler(cfg, new RandomStream(1, name));
  let sum = 0;
  for (let i = 0; i < draws; i++) {
    const x = sampler.sample();
    sum += x * x;
  }
  return sum / draws;
}
