/**
 * A mergeable, fixed-memory latency histogram with geometric (log-spaced) buckets.
 *
 * Bucket i (1..BUCKETS) covers [MIN_S·r^(i-1), MIN_S·r^i) with r = 1.01; its representative
 * value is the geometric midpoint MIN_S·r^(i-0.5), which is within √r − 1 ≈ 0.499% of every
 * value in the bucket. So every quantile is within 0.5% of the exact order statistic, while
 * memory is at most ~22 KB however many values are recorded (only the buckets their range spans),
 * and partial histograms from shards or worker processes merge exactly by adding counts.
 */

/** Ratio between consecutive bucket bounds. */
const RATIO = 1.01;
/** Values at or below this go to the underflow bucket (1 µs: below any real latency). */
const MIN_S = 1e-6;
/** Upper end of the bucketed range; above it is the overflow bucket. */
const MAX_S = 1e6;
const INV_MIN_S = 1 / MIN_S;
const INV_LN_RATIO = 1 / Math.log(RATIO);
/** Regular buckets between MIN_S and MAX_S. */
const BUCKETS = Math.ceil(Math.log(MAX_S / MIN_S) * INV_LN_RATIO);
/** Index of the overflow bucket; index 0 is underflow. */
const OVERFLOW = BUCKETS + 1;
const JSON_VERSION = 1;
/** Buckets a histogram's window starts with: ±32 around the first value, about ±37% of it. */
const WINDOW_MIN = 64;
/** Indices into LogHistogram.stats. */
const SUM = 0;
const MIN = 1;
const MAX = 2;

/**
 * The bucket of a value by definition: floor(ln(v / MIN_S) / ln r) + 1, clamped to the regular
 * range; 0 for v <= MIN_S. {@link bucketIndex} returns the same index without the logarithm.
 */
export function bucketIndexByLog(valueS: number): number {
  if (valueS <= MIN_S) return 0;
  const i = Math.floor(Math.log(valueS * INV_MIN_S) * INV_LN_RATIO) + 1;
  // Rounding in log() can push a value sitting on a range edge one bucket out.
  return i < 1 ? 1 : i > OVERFLOW ? OVERFLOW : i;
}

// Three latency values per completed request go through bucketIndex, and Math.log was the larger
// part of recording them. Instead: the double's exponent and top 8 mantissa bits name a cell
// spanning a ratio of at most 1 + 1/256 < r, so it meets at most two buckets; a table gives the
// cell's first bucket and one comparison against that bucket's exact lower edge settles it.
// Edges are found from bucketIndexByLog itself (monotone), so both functions agree on every double.
const MANTISSA_BITS = 8;
const bitsF64 = new Float64Array(1);
const bitsU32 = new Uint32Array(bitsF64.buffer);
/** Index of the high (sign, exponent, top mantissa) word of a double in bitsU32. */
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const nextUpF64 = new BigUint64Array(bitsF64.buffer);

function cellOf(valueS: number): number {
  bitsF64[0] = valueS;
  return bitsU32[HI] >>> (20 - MANTISSA_BITS);
}

// The tables are filled on demand, an entry the first time a value needs it: a run's latencies
// touch a few hundred of the 2,780 edges and 10,240 cells, and building them all up front took
// ~12 ms of cold code at the start of every run (a twentieth of a short one).
const firstCell = cellOf(MIN_S);
const lastCell = cellOf(MAX_S);
/** Smallest double v > MIN_S with bucketIndexByLog(v) >= i, for i in 1..OVERFLOW; Infinity past; 0 until computed. */
const lowerEdge = new Float64Array(OVERFLOW + 2);
lowerEdge[OVERFLOW + 1] = Infinity;
/** For each cell from firstCell: the bucket of its smallest value above MIN_S; 0 until computed. */
const cellBucket = new Int32Array(lastCell - firstCell + 1);

function step(valueS: number, up: boolean): number {
  bitsF64[0] = valueS;
  nextUpF64[0] += up ? 1n : -1n;
  return bitsF64[0];
}

function edgeOf(i: number): number {
  let x = i === 1 ? step(MIN_S, true) : MIN_S * Math.pow(RATIO, i - 1);
  if (i > 1) {
    while (bucketIndexByLog(x) >= i) x = step(x, false);
    while (bucketIndexByLog(x) < i) x = step(x, true);
  }
  lowerEdge[i] = x;
  return x;
}

/**
 * Fills cell c: the bucket of its smallest value above MIN_S (the i with lowerEdge[i] <= it <
 * lowerEdge[i + 1]), and the edge above that bucket, the one bucketIndex compares with.
 */
function fillCell(c: number): number {
  bitsU32[HI] = c << (20 - MANTISSA_BITS);
  bitsU32[1 - HI] = 0;
  const low = bitsF64[0];
  const e1 = lowerEdge[1] === 0 ? edgeOf(1) : lowerEdge[1];
  // bucketIndexByLog is monotone and the edges are where it steps, so its value at `low` is that i.
  const b = bucketIndexByLog(low > e1 ? low : e1);
  if (lowerEdge[b + 1] === 0) edgeOf(b + 1);
  cellBucket[c - firstCell] = b;
  return b;
}

/** Bucket index of a value; equal to {@link bucketIndexByLog} for every double. */
export function bucketIndex(valueS: number): number {
  if (valueS <= MIN_S) return 0;
  const c = cellOf(valueS);
  if (c > lastCell) return bucketIndexByLog(valueS);
  // One branch for the lazy tables, as small as the eager build's was: LogHistogram.record must
  // stay small enough for V8 to inline where latencies are recorded, or each value passed to it
  // is boxed, a heap object per latency.
  let i = cellBucket[c - firstCell];
  if (i === 0) i = fillCell(c);
  return valueS >= lowerEdge[i + 1] ? i + 1 : i;
}

/** record()'s value, handed to recordAt. */
const recordScratch = new Float64Array(1);

/** Serialised form of a {@link LogHistogram}; bucket counts are sparse `[index, count]` pairs. */
export interface LogHistogramJSON {
  version: number;
  ratio: number;
  minS: number;
  maxS: number;
  count: number;
  sumS: number;
  /** Smallest recorded value; null when empty (JSON has no Infinity). */
  minSeenS: number | null;
  /** Largest recorded value; null when empty. */
  maxSeenS: number | null;
  buckets: [number, number][];
}

/**
 * The 1-based rank whose order statistic is the q-quantile: `max(1, ceil(q·count))`.
 *
 * q·count is computed in floating point, which can land a few ulps above an integer
 * (0.07·100 = 7.000000000000001); such noise is discounted so that rank is 7, not 8.
 */
export function quantileRank(q: number, count: number): number {
  const exact = q * count;
  const nearest = Math.round(exact);
  const rank = Math.abs(exact - nearest) <= 4 * Number.EPSILON * count ? nearest : Math.ceil(exact);
  return Math.max(1, rank);
}

/**
 * Log-bucketed latency histogram (seconds). Values in (1e-6 s, 1e6 s] are bucketed with
 * ratio 1.01; values at or below 1e-6 s fall in an underflow bucket represented by the exact
 * minimum seen, and values above the range in an overflow bucket represented by the exact
 * maximum. Exact min, max and sum are kept alongside.
 */
export class LogHistogram {
  /**
   * Counts of buckets `base` .. `base + counts.length − 1`, a window that grows to span the values
   * recorded (null until the first): buckets are monotone in the value, so none outside the
   * minimum's and the maximum's holds a count. A latency distribution spans a few hundred of the
   * 2,780 buckets, and a platform of many tenants keeps three histograms per (workload,
   * deployment) pair, most of them empty or nearly: with every histogram's 22 KB allocated up
   * front, 300 tenants on 12 deployments held 240 MB of buckets.
   */
  private counts: Float64Array | null = null;
  private base = 0;
  private total = 0;
  /**
   * [SUM], [MIN] and [MAX] of the values, in a typed array rather than three number fields: V8
   * keeps a double field in a heap box, and the recorder's hot path wrote a fresh one per value
   * (about 47 bytes of garbage per simulated request, `bench --child alloc`).
   */
  private readonly stats = Float64Array.of(0, Infinity, -Infinity);

  /** Record one value in seconds. Throws on negative or non-finite input. */
  record(valueS: number): void {
    recordScratch[0] = valueS;
    this.recordAt(recordScratch, 0);
  }

  /**
   * Records values[i]. The recorder's hot path calls this rather than record(): a double passed to
   * a call V8 does not inline is boxed, a heap object per value, and whether record is inlined
   * there depends on what V8 inlined into record itself; an array and an index are never boxed.
   */
  recordAt(values: Float64Array, index: number): void {
    const valueS = values[index];
    if (!(valueS >= 0 && valueS < Infinity)) {
      throw new RangeError(`LogHistogram.record: expected a finite non-negative value, got ${valueS}`);
    }
    const i = bucketIndex(valueS);
    let counts = this.counts;
    if (counts === null || i < this.base || i >= this.base + counts.length) counts = this.cover(i, i);
    counts[i - this.base] += 1;
    this.total += 1;
    const stats = this.stats;
    stats[SUM] += valueS;
    if (valueS < stats[MIN]) stats[MIN] = valueS;
    if (valueS > stats[MAX]) stats[MAX] = valueS;
  }

  /** Add another histogram's values into this one. Counts add exactly. */
  merge(other: LogHistogram): void {
    if (other.total > 0) {
      const first = bucketIndex(other.stats[MIN]);
      const last = bucketIndex(other.stats[MAX]);
      let dst = this.counts;
      if (dst === null || first < this.base || last >= this.base + dst.length) dst = this.cover(first, last);
      // Read after cover: `other` may be this histogram, whose window cover may have replaced.
      const src = other.counts!;
      const srcBase = other.base;
      for (let i = first; i <= last; i++) dst[i - this.base] += src[i - srcBase];
    }
    this.total += other.total;
    this.stats[SUM] += other.stats[SUM];
    if (other.stats[MIN] < this.stats[MIN]) this.stats[MIN] = other.stats[MIN];
    if (other.stats[MAX] > this.stats[MAX]) this.stats[MAX] = other.stats[MAX];
  }

  /**
   * Widens the window to hold buckets first..last, at least doubling it so that growth costs
   * amortised O(1) per value; the slack goes to both sides, within the bucket range.
   */
  private cover(first: number, last: number): Float64Array {
    const old = this.counts;
    if (old !== null) {
      first = Math.min(first, this.base);
      last = Math.max(last, this.base + old.length - 1);
    }
    const want = last - first + 1;
    const length = Math.min(OVERFLOW + 1, Math.max(want, old === null ? WINDOW_MIN : 2 * old.length));
    const base = Math.max(0, Math.min(first - ((length - want) >> 1), OVERFLOW + 1 - length));
    const counts = new Float64Array(length);
    if (old !== null) counts.set(old, this.base - base);
    this.counts = counts;
    this.base = base;
    return counts;
  }

  /** Number of values recorded. */
  get count(): number {
    return this.total;
  }

  /**
   * The q-quantile (0 ≤ q ≤ 1) in seconds: the representative value of the bucket holding
   * the value of rank `max(1, ceil(q·count))` in ascending order (see {@link quantileRank}),
   * clamped to [min, max]. Ranks 1 and count return the exact min and max, so q = 0 and
   * q = 1 are exact.
   * NaN when empty.
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`LogHistogram.quantile: q must be in [0, 1], got ${q}`);
    if (this.total === 0) return NaN;
    const rank = quantileRank(q, this.total);
    // The extreme ranks are known exactly, so don't approximate them.
    if (rank === 1) return this.stats[MIN];
    if (rank === this.total) return this.stats[MAX];
    const counts = this.counts!; // non-empty, so allocated
    let cumulative = 0;
    let k = 0;
    // The window holds every count, so the rank is reached inside it.
    for (; k < counts.length - 1; k++) {
      cumulative += counts[k];
      if (cumulative >= rank) break;
    }
    const i = this.base + k;
    if (i === 0) return this.stats[MIN];
    if (i === OVERFLOW) return this.stats[MAX];
    const representativeS = MIN_S * Math.pow(RATIO, i - 0.5);
    return Math.min(this.stats[MAX], Math.max(this.stats[MIN], representativeS));
  }

  /** Exact arithmetic mean in seconds; NaN when empty. */
  mean(): number {
    return this.total === 0 ? NaN : this.stats[SUM] / this.total;
  }

  /** Exact smallest value recorded; NaN when empty. */
  min(): number {
    return this.total === 0 ? NaN : this.stats[MIN];
  }

  /** Exact largest value recorded; NaN when empty. */
  max(): number {
    return this.total === 0 ? NaN : this.stats[MAX];
  }

  /** Forget every value, keeping the allocated buckets. */
  clear(): void {
    this.counts?.fill(0);
    this.total = 0;
    this.stats[SUM] = 0;
    this.stats[MIN] = Infinity;
    this.stats[MAX] = -Infinity;
  }

  /** Compact JSON (non-empty buckets only) for shipping partial results between processes. */
  toJSON(): LogHistogramJSON {
    const buckets: [number, number][] = [];
    const counts = this.counts;
    if (counts !== null) {
      for (let k = 0; k < counts.length; k++) if (counts[k] !== 0) buckets.push([this.base + k, counts[k]]);
    }
    const empty = this.total === 0;
    return {
      version: JSON_VERSION,
      ratio: RATIO,
      minS: MIN_S,
      maxS: MAX_S,
      count: this.total,
      sumS: this.stats[SUM],
      minSeenS: empty ? null : this.stats[MIN],
      maxSeenS: empty ? null : this.stats[MAX],
      buckets,
    };
  }

  /**
   * Rebuild a histogram from {@link LogHistogram.toJSON} output.
   * @throws Error when the data was written with a different bucket layout or is malformed.
   */
  static fromJSON(json: LogHistogramJSON): LogHistogram {
    if (json?.version !== JSON_VERSION || json.ratio !== RATIO || json.minS !== MIN_S || json.maxS !== MAX_S) {
      throw new Error('LogHistogram.fromJSON: incompatible histogram layout or version');
    }
    if (!Array.isArray(json.buckets)) throw new Error('LogHistogram.fromJSON: buckets must be an array');
    const h = new LogHistogram();
    let total = 0;
    for (const entry of json.buckets) {
      const [i, n] = Array.isArray(entry) ? entry : [NaN, NaN];
      if (!Number.isInteger(i) || i < 0 || i > OVERFLOW || !Number.isInteger(n) || n < 0) {
        throw new Error(`LogHistogram.fromJSON: bad bucket ${JSON.stringify(entry)}`);
      }
      total += n;
    }
    if (total !== json.count) {
      throw new Error(`LogHistogram.fromJSON: bucket counts sum to ${total}, expected ${json.count}`);
    }
    h.total = total;
    h.stats[SUM] = json.sumS;
    if (total > 0) {
      const { minSeenS, maxSeenS } = json;
      // Recorded values are finite and non-negative, so min and max are too.
      const ordered = typeof minSeenS === 'number' && typeof maxSeenS === 'number' && minSeenS >= 0 && minSeenS <= maxSeenS;
      if (!ordered || !(maxSeenS < Infinity)) {
        throw new Error('LogHistogram.fromJSON: non-empty histogram without a finite min <= max');
      }
      h.stats[MIN] = minSeenS;
      h.stats[MAX] = maxSeenS;
      // The window (and merge) rely on every count lying between the minimum's bucket and the maximum's.
      const first = bucketIndex(h.stats[MIN]);
      const last = bucketIndex(h.stats[MAX]);
      const counts = h.cover(first, last);
      for (const [i, n] of json.buckets) {
        if (n === 0) continue;
        if (i < first || i > last) throw new Error(`LogHistogram.fromJSON: bucket ${i} lies outside min/max`);
        counts[i - h.base] += n;
      }
    }
    return h;
  }
}
