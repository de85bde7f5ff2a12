/**
 * Seeded random streams. Every consumer of randomness (an arrival process, a length sampler,
 * a router) owns its own named stream, derived from (scenario seed, stream name), so adding or
 * removing one stream never shifts the numbers another stream sees: results stay comparable
 * across scenario edits.
 */
import seedrandom from 'seedrandom';

/** 2^-32: maps a 32-bit unsigned integer onto [0, 1). */
const INV_2_32 = 2.3283064365386963e-10;

/**
 * A deterministic stream of random numbers identified by (seed, name).
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG, 128-bit state, passes
 * PractRand and BigCrush), written inline over an Int32Array so a draw is a handful of integer ops
 * with no closure call and no boxed state. Its 128-bit state is seeded from `seedrandom.alea`
 * keyed by the string `${seed}:${name}`: four 32-bit words from Alea, then 12 discarded rounds.
 * So streams stay independent by name, and adding a stream never shifts another's numbers.
 * (Before, draws came from Alea itself; in the simulator loop sfc32 is measurably cheaper, see
 * README "Performance".) Draw methods allocate nothing, so they are safe in the hot loop.
 */
export class RandomStream {
  /** Scenario seed this stream was derived from. */
  readonly seed: number;
  /** Stream name, e.g. `arrivals/chat`. */
  readonly name: string;
  /** sfc32 state words a, b, c, d. */
  private readonly state = new Int32Array(4);
  // The polar method yields two independent normals per accepted pair of uniforms; keeping the
  // second halves the cost of normal() without allocating a pair.
  private spareNormal = 0;
  private hasSpareNormal = false;

  /** @param seed scenario seed (any finite number; its decimal form is hashed). @param name stream name. */
  constructor(seed: number, name: string) {
    this.seed = seed;
    this.name = name;
    const alea = seedrandom.alea(`${seed}:${name}`);
    const st = this.state;
    for (let i = 0; i < 4; i++) st[i] = alea.int32();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform draw in [0, 1), at 32-bit resolution. */
  next(): number {
    const st = this.state;
    const a = st[0];
    const b = st[1];
    const c = st[2];
    const d = st[3];
    const t = (((a + b) | 0) + d) | 0;
    st[3] = (d + 1) | 0;
    st[0] = b ^ (b >>> 9);
    st[1] = (c + (c << 3)) | 0;
    st[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    return (t >>> 0) * INV_2_32;
  }

  /** Exponential draw with the given rate (events per second); the mean is 1/ratePerS seconds. */
  exponential(ratePerS: number): number {
    // 1 - u lies in (0, 1], so the log is finite.
    return -Math.log(1 - this.next()) / ratePerS;
  }

  /** Standard normal draw (mean 0, standard deviation 1), by Marsaglia's polar method (no sin/cos). */
  normal(): number {
    if (this.hasSpareNormal) {
      this.hasSpareNormal = false;
      return this.spareNormal;
    }
    let x: number;
    let y: number;
    let r2: number;
    do {
      x = 2 * this.next() - 1;
      y = 2 * this.next() - 1;
      r2 = x * x + y * y;
    } while (r2 >= 1 || r2 === 0);
    const scale = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.spareNormal = y * scale;
    this.hasSpareNormal = true;
    return x * scale;
  }
}

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * Stable 32-bit seed derived from a seed and any number of parts (e.g. replication index),
 * via FNV-1a over the UTF-16 code units of `seed:part1:part2...`. Same inputs give the same
 * output on every platform and Node version.
 *
 * @returns an unsigned 32-bit integer.
 */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  let text = String(seed);
  for (const part of parts) text += ':' + String(part);
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}
