/**
 * The error a deployment's step-time predictions carry (issue 16 item 8, docs/fidelity.md#error-on-every-prediction).
 *
 * Every throughput, chip count and cost per million tokens fleetsim prints rests on the step-time
 * model; its cross-validated error is a property of the efficiency profile the deployment resolved
 * to (data/efficiency.csv `cv_*`, written by `fleetsim calibrate`):
 *
 * - `calibrated`: the silicon's own fitted row; its band is that chip's throughput rows predicted by
 *   fits that left their model or their length pair out;
 * - `kind-default` from a fitted kind row (a GPU with no measurement, e.g. H200): the kind row's band,
 *   leave-one-chip-out (each measured chip predicted by a fit without it, as this chip is);
 * - `kind-default` from an assumed row (Maia, Cobalt: no public measurement), or a row the scenario
 *   overrode: no band, the error is unknown, and the reports say so;
 * - `measured-profile`: the user's measured step times; no band from our cross-validation;
 * - a stack the silicon's vendor cannot run (TensorRT-LLM on an AMD MI300X, data/stacks.csv
 *   silicon_vendors): no band either, whatever the profile's basis: the profile was fitted to
 *   measurements of that stack on other vendors' chips, so its held-out error says nothing of a
 *   deployment no real engine could serve;
 * - a stack with no profile of its own on the silicon (its family's or `generic` stands in: vllm
 *   where only trtllm is fitted): no band, for the same reason: the stand-in was measured on
 *   another stack.
 *
 * The band is the 10th to 90th percentile of the signed error (predicted − measured) / measured of
 * held-out throughput predictions: 80% of them fell inside it.
 */
import type { Catalog, ResolvedEfficiency, Silicon } from '../catalog/catalog.js';
import { foreignStack } from './warnings.js';

export type PerfBasis = 'measured-profile' | 'calibrated' | 'kind-default';

export interface PerfError {
  basis: PerfBasis;
  /** The efficiency row used: `h100-sxm`, `h100-sxm@trtllm`, `gpu`, … */
  profile: string;
  /** Whether a cross-validated band applies (false: error unknown). */
  hasBand: boolean;
  /** Held-out throughput rows behind the band; NaN without one. */
  cvRows: number;
  /** Mean |error| of those predictions, %. */
  cvMapePct: number;
  /** 10th and 90th percentile of the signed throughput error, %: predicted = actual × (1 + err). */
  errP10Pct: number;
  errP90Pct: number;
  /** Non-null: the stack does not run on the silicon's vendor (why there is no band, whatever the profile). */
  foreignStack: string | null;
  /** Whether the silicon itself is measured (a fitted row of its own in the catalog, any stack). */
  siliconMeasured: boolean;
  /** One sentence for run.json, stdout and plan: what the prediction rests on and how wrong it may be. */
  note: string;
}

const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}%`;

/**
 * `resolved` is the profile the deployment's stack (`resolved.stackRequested`) resolved to on
 * `silicon`; the catalog says which chips are measured and which vendors the stack runs on.
 */
export function perfErrorOf(catalog: Catalog, silicon: Silicon, resolved: ResolvedEfficiency, profileFile: string | undefined): PerfError {
  const e = resolved.efficiency;
  const profile = e.stack === 'generic' ? e.silicon : `${e.silicon}@${e.stack}`;
  let siliconMeasured = false;
  for (const r of catalog.efficiency.values()) if (r.silicon === silicon.id && r.basis === 'fitted') siliconMeasured = true;
  const foreign = foreignStack(catalog, silicon, resolved.stackRequested);
  const base = { profile, siliconMeasured, foreignStack: foreign };
  const none = { hasBand: false, cvRows: NaN, cvMapePct: NaN, errP10Pct: NaN, errP90Pct: NaN };
  if (profileFile !== undefined) {
    return {
      ...base,
      ...none,
      basis: 'measured-profile',
      note: `step times from the measured profile ${profileFile}: as accurate as those measurements (not cross-validated by fleetsim)`,
    };
  }
  if (foreign !== null) {
    // The band measured how well the profile predicts chips that run the stack; this one cannot.
    return {
      ...base,
      ...none,
      basis: resolved.basis,
      note: e.basis === 'fitted'
        ? `${foreign}: the ${profile} profile's cross-validated band was measured on chips that run the stack and does not apply to a deployment no real engine could serve: error unknown (no cross-validated band)`
        : `${foreign}: the ${profile} profile is assumed, and no real engine could serve this deployment: error unknown (no cross-validated band)`,
    };
  }
  if (resolved.stackFallback) {
    // The stand-in's band measured how well it predicts its own stack's servers, not this one's.
    return {
      ...base,
      ...none,
      basis: resolved.basis,
      note: `stack ${resolved.stackRequested} has no profile for ${silicon.id}: the ${profile} profile stands in, and its ${e.basis === 'fitted' ? 'cross-validated band was measured on another stack' : 'factors are assumed'}: error unknown (no cross-validated band; fit the stack with fleetsim calibrate)`,
    };
  }
  const hasBand = e.basis === 'fitted' && Number.isFinite(e.cvErrP10Pct) && Number.isFinite(e.cvErrP90Pct);
  const band = hasBand
    ? { hasBand, cvRows: e.cvRows, cvMapePct: e.cvMapePct, errP10Pct: e.cvErrP10Pct, errP90Pct: e.cvErrP90Pct }
    : none;
  const bandText = hasBand
    ? `cross-validated throughput error ${pct(e.cvErrP10Pct)} to ${pct(e.cvErrP90Pct)} (10th-90th percentile, MAPE ${e.cvMapePct.toFixed(1)}%, ${e.cvRows} held-out rows)`
    : '';
  if (resolved.basis === 'calibrated') {
    return { ...base, ...band, basis: 'calibrated', note: `${silicon.id} profile ${profile} fitted to measurements of ${silicon.id}; ${bandText || 'not cross-validated: error unknown'}` };
  }
  if (e.silicon === silicon.id) {
    // Its own row, but not a fitted one: assumed in the catalog, or edited in the scenario.
    const why = e.assumption === 'overridden in the scenario file' ? 'overridden in the scenario' : 'assumed, not fitted';
    return { ...base, ...band, basis: 'kind-default', note: `${silicon.id} profile ${profile} is ${why}: error unknown (no cross-validated band)` };
  }
  const what = siliconMeasured
    ? `${silicon.id} is measured with another stack; stack ${resolved.stackRequested} falls back to the ${profile} profile`
    : `no measurement of ${silicon.id}: performance predicted from its datasheet specs with the ${profile} profile`;
  const how =
    e.basis === 'fitted'
      ? hasBand
        ? `${bandText}, each measured chip predicted by a fit without it`
        : 'fitted to other chips, not cross-validated: error unknown'
      : 'whose factors are assumed, not fitted: error unknown (no cross-validated band)';
  return { ...base, ...band, basis: 'kind-default', note: `${what}, ${how}` };
}

/** Multiplier of a cost per token at the low and high end of the band: predicted throughput = actual × (1 + err), so chips (and cost) needed = predicted × (1 + err). */
export function costBandFactors(p: PerfError): [number, number] | null {
  if (!p.hasBand) return null;
  return [1 + p.errP10Pct / 100, 1 + p.errP90Pct / 100];
}
