/**
 * A bounded Nelder–Mead minimiser (Nelder & Mead 1965; the usual coefficients: reflect 1, expand
 * 2, contract 0.5, shrink 0.5), for `calibrate`. Hand-written because the objective is a simulation:
 * derivative-free methods suit it (discrete batches and KV blocks make it piecewise, so finite
 * differences, which ml-levenberg-marquardt would take, are unreliable), and the npm minimisers
 * that are derivative-free (fmin 0.0.4) are unbounded and unmaintained since 2017. Bounds are
 * handled by working in the unit cube and clamping each trial point onto it. Deterministic: no
 * random restarts; ties keep the earlier vertex.
 */

export interface MinimiseOptions {
  /** Starting point, each coordinate in [0, 1]. */
  start: readonly number[];
  /** Initial simplex edge along each axis, in unit-cube coordinates. */
  step: number;
  maxEvals: number;
  /** Stop when the simplex's objective values span less than this. */
  fTol: number;
  onEval?: (evals: number, best: number) => void;
}

export interface MinimiseResult {
  x: number[];
  f: number;
  evals: number;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

export function minimise(f: (u: readonly number[]) => number, o: MinimiseOptions): MinimiseResult {
  const d = o.start.length;
  let evals = 0;
  let best = Infinity;
  const cache = new Map<string, number>();
  const evaluate = (u: number[]): number => {
    const key = u.map((v) => v.toFixed(6)).join(',');
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const y = f(u);
    const v = Number.isFinite(y) ? y : Infinity;
    cache.set(key, v);
    evals++;
    if (v < best) best = v;
    o.onEval?.(evals, best);
    return v;
  };
  const simplex: number[][] = [o.start.map(clamp01)];
  for (let i = 0; i < d; i++) {
    const p = simplex[0].slice();
    // Step inwards from a bound, so every vertex differs from the start.
    p[i] = p[i] + o.step <= 1 ? p[i] + o.step : p[i] - o.step;
    simplex.push(p.map(clamp01));
  }
  let values = simplex.map(evaluate);
  while (evals < o.maxEvals) {
    const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
    const s = order.map((i) => simplex[i]);
    const v = order.map((i) => values[i]);
    simplex.splice(0, simplex.length, ...s);
    values = v;
    if (values[d] - values[0] < o.fTol) break;
    const centroid = new Array<number>(d).fill(0);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) centroid[j] += simplex[i][j] / d;
    const along = (t: number) => centroid.map((c, j) => clamp01(c + t * (simplex[d][j] - c)));
    const xr = along(-1);
    const fr = evaluate(xr);
    if (fr < values[0]) {
      const xe = along(-2);
      const fe = evaluate(xe);
      if (fe < fr) {
        simplex[d] = xe;
        values[d] = fe;
      } else {
        simplex[d] = xr;
        values[d] = fr;
      }
      continue;
    }
    if (fr < values[d - 1]) {
      simplex[d] = xr;
      values[d] = fr;
      continue;
    }
    const xc = fr < values[d] ? along(-0.5) : along(0.5);
    const fc = evaluate(xc);
    if (fc < Math.min(fr, values[d])) {
      simplex[d] = xc;
      values[d] = fc;
      continue;
    }
    for (let i = 1; i <= d; i++) {
      simplex[i] = simplex[i].map((x, j) => clamp01(simplex[0][j] + 0.5 * (x - simplex[0][j])));
      values[i] = evaluate(simplex[i]);
    }
  }
  let bi = 0;
  for (let i = 1; i < values.length; i++) if (values[i] < values[bi]) bi = i;
  return { x: simplex[bi].slice(), f: values[bi], evals };
}
