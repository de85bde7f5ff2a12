/**
 * Student t quantiles for confidence intervals. simple-statistics has no t quantile, so this
 * inverts the exact CDF: for integer degrees of freedom P(|T| < t) is a finite trigonometric sum
 * (Abramowitz & Stegun 26.7.3–26.7.4), and bisection on it is exact to double precision.
 */

/** P(|T| < t) for T ~ Student t with integer `df` ≥ 1 and t ≥ 0 (A&S 26.7.3/26.7.4). */
export function studentTCentral(t: number, df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`studentTCentral: df must be a positive integer, got ${df}`);
  if (t === Infinity) return 1;
  const theta = Math.atan(t / Math.sqrt(df));
  const s = Math.sin(theta);
  const c2 = Math.cos(theta) ** 2;
  if (df % 2 === 1) {
    if (df === 1) return (2 * theta) / Math.PI;
    // θ + sinθ cosθ (1 + 2/3 cos²θ + 2·4/(3·5) cos⁴θ + …), terms up to cos^(df−2)θ.
    let term = Math.cos(theta);
    let sum = term;
    for (let k = 2; k <= df - 2; k += 2) {
      term *= (c2 * k) / (k + 1);
      sum += term;
    }
    return (2 / Math.PI) * (theta + s * sum);
  }
  // sinθ (1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ + …), terms up to cos^(df−2)θ.
  let term = 1;
  let sum = 1;
  for (let k = 2; k <= df - 2; k += 2) {
    term *= (c2 * (k - 1)) / k;
    sum += term;
  }
  return s * sum;
}

/** The p-quantile (p in (0.5, 1)) of Student t with integer `df`: e.g. p = 0.975 for a 95% two-sided interval. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0.5 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0.5, 1), got ${p}`);
  const central = 2 * p - 1;
  let lo = 0;
  let hi = 1;
  while (studentTCentral(hi, df) < central) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCentral(mid, df) < central) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mean and 95% confidence half-width (Student t, n−1 df) of independent replications; NaN half-width for n < 2. */
export function meanCi95(values: readonly number[]): { mean: number; halfWidth: number; n: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, halfWidth: NaN, n };
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  if (n < 2) return { mean, halfWidth: NaN, n };
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  return { mean, halfWidth: (studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n), n };
}
