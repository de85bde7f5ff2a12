/**
 * Capacity planning by simulation: per model, the cheapest fleet (replicas per silicon kind) whose
 * every workload meets the plan's SLO targets at the scenario's demand. For each silicon kind the
 * replica count is bracketed by doubling, then bisected (latency falls as replicas rise, so the
 * feasible counts form an upper interval); then mixes of the cheapest fleet with one replica of
 * another kind are tried, bisecting the cheap kind's count down.
 *
 * A candidate is served as the scenario serves its model: it takes the settings of the scenario's
 * first deployment of the model (dtype, kv_dtype, scheduler, max_batch and the rest) unless the
 * plan overrides them, so planning an fp8 fleet does not silently plan a bf16 one.
 */
import { simulate } from '../simulation/simulate.js';
import { InputError } from '../errors.js';
import { LogHistogram } from '../metrics/histogram.js';
import { readScenarioSource, resolveFromInput, validateShape, type Scenario, type ScenarioSource } from '../scenario/load.js';
import type { PlanInput } from '../scenario/schema.js';
import { applyEdits, blameEdits, describeEdits, type Edit } from '../sweep/paths.js';
import { costBandFactors } from '../scenario/perf-error.js';
import { buildLedger } from '../economics/ledger.js';

/** plan.csv's columns, defined with every other report's (src/report/columns.ts). */
export { PLAN_COLUMNS } from '../report/columns.js';

/** How every replica of a candidate's fleets is configured. */
export interface FleetSettings {
  dtype: string;
  kvDtype: string;
  scheduler: string;
  maxBatch: number;
  /** Other inherited deployment keys, `key=value; ...`. */
  other: string;
  /** `deployment NAME`, and `+ plan KEY,...` for the candidate's overrides. */
  from: string;
  /** Deployment keys (as written) the fleet's deployments carry. */
  raw: Record<string, unknown>;
}

/**
 * Keys not taken from the scenario's deployment: what the plan searches (replicas, tensor_parallel),
 * what names it, and what belongs to one silicon kind (a chip-hour price or TCO inputs under `cost`,
 * a measured `profile`, a disaggregated split of a replica count) and `autoscale` (the plan sizes
 * fixed fleets, for the peak).
 */
const NOT_INHERITED = new Set(['name', 'model', 'silicon', 'replicas', 'tensor_parallel', 'cost', 'profile', 'prefill_replicas', 'autoscale']);
const SHOWN = new Set(['dtype', 'kv_dtype', 'scheduler', 'max_batch']);

/** The settings a candidate's fleets use: the scenario's first deployment of the model, then the candidate's overrides. */
export function candidateSettings(raw: Record<string, unknown>, candidate: PlanInput['candidates'][number]): FleetSettings {
  const deployments = (Array.isArray(raw.deployments) ? raw.deployments : []) as Record<string, unknown>[];
  const base = deployments.find((d) => d && d.model === candidate.model);
  const keys: Record<string, unknown> = {};
  if (base) for (const [k, v] of Object.entries(base)) if (!NOT_INHERITED.has(k)) keys[k] = v;
  const overridden: string[] = [];
  for (const k of ['dtype', 'kv_dtype', 'scheduler', 'max_batch'] as const) {
    if (candidate[k] !== undefined) {
      keys[k] = candidate[k];
      overridden.push(k);
    }
  }
  const dtype = typeof keys.dtype === 'string' ? keys.dtype : 'bf16';
  // As the loader does: a 16-bit model keeps a 16-bit cache, anything narrower an fp8 one.
  const kvDtype = typeof keys.kv_dtype === 'string' ? keys.kv_dtype : dtype === 'bf16' || dtype === 'fp16' ? dtype : 'fp8';
  const other = Object.entries(keys)
    .filter(([k]) => !SHOWN.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('; ');
  const from = [base ? `deployment ${String(base.name)}` : 'defaults', ...(overridden.length ? [`plan ${overridden.join(',')}`] : [])].join(' + ');
  return {
    dtype,
    kvDtype,
    scheduler: typeof keys.scheduler === 'string' ? keys.scheduler : 'continuous',
    maxBatch: typeof keys.max_batch === 'number' ? keys.max_batch : 256,
    other,
    from,
    raw: keys,
  };
}

/** `fp8, kv fp8, continuous, max_batch 256` and any other setting: how stdout names a fleet's settings. */
export const settingsText = (s: FleetSettings) =>
  [`${s.dtype}`, `kv ${s.kvDtype}`, s.scheduler, `max_batch ${s.maxBatch}`, ...(s.other ? [s.other] : [])].join(', ');

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}%`;

/**
 * The run's cost at the ends of its deployments' cross-validated throughput error bands
 * (docs/fidelity.md#error-on-every-prediction), in cents; null when a deployment with cost has none.
 */
function costBandCents(scenario: Scenario, costCents: Float64Array | number[]): [number, number] | null {
  let low = 0;
  let high = 0;
  for (const d of scenario.deployments) {
    const c = costCents[d.index];
    if (c === 0) continue;
    const f = costBandFactors(d.perfError);
    if (f === null) return null;
    low += c * f[0];
    high += c * f[1];
  }
  return [low, high];
}

/** What a resolved fleet's price and performance rest on that is an assumption rather than a source. */
function fleetAssumptions(scenario: Scenario): string[] {
  const out = new Set<string>();
  for (const d of scenario.deployments) {
    const s = d.silicon;
    // The catalog's provenance rule: the assumption cell names each assumed field.
    const priceClause = s.assumption.split(/;\s*/).find((c) => /usd_per_chip_hour/.test(c));
    if (d.priceProvenance === s.source && priceClause) {
      out.add(`${s.id} price $${d.usdPerChipHour.toFixed(2)}/chip-hour is an assumption (${priceClause.trim()})`);
    }
    // From the profile the deployment resolved to (src/scenario/perf-error.ts): a chip with no fitted row of its own is unmeasured.
    if (!d.perfError.siliconMeasured) {
      const err = d.perfError.hasBand
        ? `cross-validated throughput error ${signed(d.perfError.errP10Pct)} to ${signed(d.perfError.errP90Pct)} (the ${d.perfError.profile} profile, leave-one-chip-out)`
        : d.perfError.foreignStack !== null
          ? `${d.perfError.foreignStack}, so its ${d.perfError.profile} profile's band does not apply and its error is unknown`
          : `its ${d.perfError.profile} profile is assumed, so its error is unknown`;
      out.add(`${s.id} performance is predicted from datasheet specs: no measurement of ${s.id} in data/measurements/ (${err})`);
    }
  }
  return [...out];
}

export interface FleetPart {
  silicon: string;
  replicas: number;
  tensorParallel: number;
}

export interface Evaluation {
  model: string;
  fleet: FleetPart[];
  chips: number;
  usdPerHour: number;
  settings: FleetSettings;
  /** Cost of the simulated run (as summary.csv's cost_usd) per million output, input, and input + output tokens. */
  usdPerMtokOut: number;
  usdPerMtokIn: number;
  usdPerMtokBlended: number;
  /** usdPerMtokOut at the ends of the cross-validated error band; NaN when a deployment has none. */
  usdPerMtokOutLow: number;
  usdPerMtokOutHigh: number;
  /** The deployments' perf_basis, `+`-joined. */
  perfBasis: string;
  ttftP99S: number;
  tpotP99S: number;
  attainmentPct: number;
  feasible: boolean;
  note: string;
  assumptions: string[];
  rank?: number;
}

const perMtok = (usd: number, tokens: number) => (tokens > 0 ? usd / (tokens / 1e6) : NaN);

export interface PlanResult {
  byModel: Map<string, Evaluation[]>;
  simulations: number;
}

export interface PlanOptions {
  sets?: Edit[];
  seed?: number;
  horizonS?: number;
  onEvaluation?: (e: Evaluation) => void;
  /** The scenario's own warnings (as written, before any candidate replaces its fleet); may throw to stop. */
  onWarnings?: (warnings: string[]) => void;
}

export const fleetText = (f: readonly FleetPart[]) =>
  f
    .filter((p) => p.replicas > 0)
    .map((p) => `${p.silicon}${p.tensorParallel > 1 ? ` tp${p.tensorParallel}` : ''} x${p.replicas}`)
    .join(' + ');

class Planner {
  private readonly cache = new Map<string, Evaluation>();
  simulations = 0;

  constructor(
    private readonly source: ScenarioSource,
    private readonly raw: Record<string, unknown>,
    private readonly plan: PlanInput,
    private readonly opts: PlanOptions,
  ) {}

  /** The scenario reduced to one model's workloads, served only by `fleet`. */
  private readonly settings = new Map<PlanInput['candidates'][number], FleetSettings>();

  settingsOf(candidate: PlanInput['candidates'][number]): FleetSettings {
    let s = this.settings.get(candidate);
    if (!s) {
      s = candidateSettings(this.raw, candidate);
      this.settings.set(candidate, s);
    }
    return s;
  }

  private variant(candidate: PlanInput['candidates'][number], fleet: readonly FleetPart[]): Scenario {
    const settings = this.settingsOf(candidate);
    const raw = structuredClone(this.raw) as Record<string, unknown> & { workloads: Record<string, unknown>[] };
    const workloads = raw.workloads.filter((w) => w.model === candidate.model).map((w) => ({ ...w, fallback: [] }));
    raw.workloads = workloads;
    raw.deployments = fleet
      .filter((p) => p.replicas > 0)
      .map((p) => ({
        ...structuredClone(settings.raw),
        name: `${candidate.model}-${p.silicon}`,
        model: candidate.model,
        silicon: p.silicon,
        replicas: p.replicas,
        tensor_parallel: p.tensorParallel,
      }));
    raw.incidents = [];
    delete raw.sweep;
    const edits = `plan:${candidate.model}:${fleetText(fleet)}:${settingsText(settings)}:${describeEdits(this.opts.sets ?? [])}`;
    return resolveFromInput(this.source, raw, { seed: this.opts.seed, horizonS: this.opts.horizonS, edits });
  }

  /**
   * Tensor-parallel degrees worth trying: the smallest power of two whose chips hold the weights
   * with room for KV cache, and up to two doublings of it (more chips per replica buy KV room and
   * bandwidth, which can be cheaper than more replicas), capped by the silicon's max_tp.
   */
  tensorParallelOptions(candidate: PlanInput['candidates'][number], silicon: string): { tps: number[]; note: string } {
    if (candidate.tensor_parallel !== undefined) return { tps: [candidate.tensor_parallel], note: '' };
    let lastError = '';
    for (let tp = 1; tp <= 64; tp *= 2) {
      try {
        const sc = this.variant(candidate, [{ silicon, replicas: 1, tensorParallel: tp }]);
        const maxTp = sc.deployments[0].silicon.maxTp;
        const tps = [tp];
        for (let t = tp * 2; t <= Math.min(maxTp, tp * 4); t *= 2) tps.push(t);
        return { tps, note: '' };
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        lastError = err.message;
        if (!/do not fit/.test(err.message)) break;
      }
    }
    return { tps: [], note: lastError };
  }

  evaluate(candidate: PlanInput['candidates'][number], fleet: FleetPart[]): Evaluation {
    const settings = this.settingsOf(candidate);
    const key = `${candidate.model}|${fleetText(fleet)}|${settingsText(settings)}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const scenario = this.variant(candidate, fleet);
    const result = simulate(scenario);
    this.simulations++;
    const { recorder } = result;
    const D = scenario.deployments.length;
    let ttftWorst = 0;
    let tpotWorst = 0;
    let attainmentWorst = 100;
    let outTok = 0;
    let inTok = 0;
    for (let w = 0; w < scenario.workloads.length; w++) {
      const ttft = new LogHistogram();
      const tpot = new LogHistogram();
      let met = 0;
      let measured = 0;
      for (let d = 0; d < D; d++) {
        const a = w * D + d;
        ttft.merge(recorder.ttft[a]);
        tpot.merge(recorder.tpot[a]);
        met += recorder.sloMet[a];
        measured += recorder.measured[a];
        outTok += recorder.outputTokens[a];
        inTok += recorder.inputTokens[a];
      }
      // No completed request means no latency to speak of: treat as failing.
      ttftWorst = Math.max(ttftWorst, ttft.count > 0 ? ttft.quantile(0.99) : Infinity);
      tpotWorst = Math.max(tpotWorst, tpot.count > 0 ? tpot.quantile(0.99) : 0);
      attainmentWorst = Math.min(attainmentWorst, measured > 0 ? (100 * met) / measured : 0);
    }
    const t = this.plan.targets;
    const feasible =
      (t.ttft_p99 === undefined || ttftWorst <= t.ttft_p99) &&
      (t.tpot_p99 === undefined || tpotWorst <= t.tpot_p99) &&
      attainmentWorst >= t.attainment_pct;
    const usdPerHour = scenario.deployments.reduce((c, d) => c + d.replicas * d.tensorParallel * d.usdPerChipHour, 0);
    const chips = scenario.deployments.reduce((c, d) => c + d.replicas * d.tensorParallel, 0);
    // The run's cost as summary.csv's cost_usd has it (the ledger: busy and idle rates), so
    // cost_usd_per_mtok_* mean the same in plan.csv as there.
    const depCostCents = buildLedger(result).deploymentCostCents;
    const costUsd = depCostCents.reduce((c, x) => c + x, 0) / 100;
    const band = costBandCents(scenario, depCostCents);
    const e: Evaluation = {
      model: candidate.model,
      fleet: fleet.filter((p) => p.replicas > 0),
      chips,
      usdPerHour,
      settings,
      usdPerMtokOut: perMtok(costUsd, outTok),
      usdPerMtokIn: perMtok(costUsd, inTok),
      usdPerMtokBlended: perMtok(costUsd, inTok + outTok),
      usdPerMtokOutLow: band ? perMtok(band[0] / 100, outTok) : NaN,
      usdPerMtokOutHigh: band ? perMtok(band[1] / 100, outTok) : NaN,
      perfBasis: [...new Set(scenario.deployments.map((d) => d.perfError.basis))].join('+'),
      ttftP99S: ttftWorst,
      tpotP99S: tpotWorst,
      attainmentPct: attainmentWorst,
      feasible,
      note: '',
      assumptions: fleetAssumptions(scenario),
    };
    this.cache.set(key, e);
    this.opts.onEvaluation?.(e);
    return e;
  }

  /**
   * `evaluate`, and with `n_plus: 1` the fleet meets the targets only if it still does with any one
   * replica down: each of its deployments is simulated one replica short for the whole run (the
   * worst case of a single failure), and every such fleet must meet them too. The row keeps the
   * whole fleet's cost and latencies; its note gives the worst one-down attainment.
   */
  check(candidate: PlanInput['candidates'][number], fleet: FleetPart[]): Evaluation {
    const e = this.evaluate(candidate, fleet);
    if (this.plan.n_plus === 0 || !e.feasible) return e;
    const key = `n+1|${candidate.model}|${fleetText(fleet)}|${settingsText(this.settingsOf(candidate))}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    let feasible = true;
    let worst: { part: FleetPart; e: Evaluation | null } | null = null;
    for (let i = 0; i < fleet.length; i++) {
      if (fleet[i].replicas === 0) continue;
      const reduced = fleet.map((p, j) => (j === i ? { ...p, replicas: p.replicas - 1 } : p));
      // One replica down leaving none serves nothing.
      const down = reduced.some((p) => p.replicas > 0) ? this.evaluate(candidate, reduced) : null;
      if (down === null || !down.feasible) feasible = false;
      if (worst === null || down === null || (worst.e !== null && down.attainmentPct < worst.e.attainmentPct)) worst = { part: fleet[i], e: down };
    }
    const label = worst === null ? '' : `${worst.part.silicon}${worst.part.tensorParallel > 1 ? ` tp${worst.part.tensorParallel}` : ''}`;
    const note =
      worst === null ? '' : worst.e === null
        ? `n_plus 1: one ${label} replica down leaves no replica`
        : `n_plus 1: with one ${label} replica down, attainment ${worst.e.attainmentPct.toFixed(2)}%, ttft_p99 ${worst.e.ttftP99S.toFixed(3)} s`;
    const checked: Evaluation = { ...e, feasible, note };
    this.cache.set(key, checked);
    return checked;
  }

  /** Fewest replicas of one kind meeting the targets, or the evaluation at max_replicas marked infeasible. */
  single(candidate: PlanInput['candidates'][number], silicon: string, tp: number): Evaluation {
    const max = candidate.max_replicas;
    const at = (n: number) => this.check(candidate, [{ silicon, replicas: n, tensorParallel: tp }]);
    let lo = 0;
    let n = 1;
    for (;;) {
      if (at(n).feasible) break;
      lo = n;
      if (n >= max) return { ...at(max), note: `no fleet of up to ${max} replicas meets the targets` };
      n = Math.min(2 * n, max);
    }
    let hi = n;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (at(mid).feasible) hi = mid;
      else lo = mid;
    }
    return at(hi);
  }

  /** The cheapest fleet with one replica of `extra` added: bisect the base kind's count down. */
  mix(candidate: PlanInput['candidates'][number], base: FleetPart, extra: FleetPart): Evaluation | null {
    const at = (k: number) => this.check(candidate, [{ ...base, replicas: k }, extra]);
    let hi = base.replicas;
    if (!at(hi).feasible) return null;
    let lo = -1;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (at(mid).feasible) hi = mid;
      else lo = mid;
    }
    return at(hi);
  }
}

/** Runs the plan section of a scenario file. */
export function planScenario(file: string, opts: PlanOptions = {}): PlanResult {
  const source = readScenarioSource(file);
  const raw = opts.sets?.length ? applyEdits(source.raw, opts.sets, '--set') : source.raw;
  const input = blameEdits(opts.sets ?? [], '--set', () => validateShape(raw, source.loc));
  if (!input.plan) throw new InputError('the scenario has no plan: section (targets and candidates)', { file, path: 'plan' });
  const plan = input.plan;
  // Resolve the scenario once as written, so its own errors surface with their locations.
  const asWritten = resolveFromInput(source, raw, { seed: opts.seed, horizonS: opts.horizonS, edits: describeEdits(opts.sets ?? []) });
  opts.onWarnings?.(asWritten.warnings);
  const planner = new Planner(source, raw, plan, opts);
  const byModel = new Map<string, Evaluation[]>();
  plan.candidates.forEach((c, i) => {
    if (!input.workloads.some((w) => w.model === c.model)) {
      throw source.loc.at(['plan', 'candidates', i, 'model'], `no workload asks for model "${c.model}"`);
    }
    const rows: Evaluation[] = byModel.get(c.model) ?? [];
    const singles: { part: FleetPart; e: Evaluation }[] = [];
    const kinds: FleetPart[] = [];
    for (const silicon of c.silicon) {
      const { tps, note } = planner.tensorParallelOptions(c, silicon);
      if (tps.length === 0) {
        rows.push({
          model: c.model, fleet: [{ silicon, replicas: 0, tensorParallel: 0 }], chips: 0, usdPerHour: NaN, settings: planner.settingsOf(c),
          usdPerMtokOut: NaN, usdPerMtokIn: NaN, usdPerMtokBlended: NaN, usdPerMtokOutLow: NaN, usdPerMtokOutHigh: NaN, perfBasis: '', ttftP99S: NaN, tpotP99S: NaN, attainmentPct: NaN, feasible: false, note, assumptions: [],
        });
        continue;
      }
      // Per silicon kind, keep the cheapest tensor-parallel choice (or the last infeasible one).
      let best: Evaluation | null = null;
      for (const tp of tps) {
        const e = planner.single(c, silicon, tp);
        if (!best || (e.feasible && (!best.feasible || compare(e, best) < 0))) best = e;
      }
      rows.push(best!);
      if (best!.feasible) singles.push({ part: { ...best!.fleet[0] }, e: best! });
      kinds.push({ silicon, replicas: 1, tensorParallel: best!.fleet[0].tensorParallel });
    }
    const feasibleSingles = singles.filter((s) => s.e.feasible).sort((a, b) => compare(a.e, b.e));
    if (plan.mixes && feasibleSingles.length > 0) {
      const best = feasibleSingles[0];
      // Even a kind that cannot carry the load alone may take a share of it more cheaply.
      for (const other of kinds) {
        if (other.silicon === best.part.silicon) continue;
        const m = planner.mix(c, best.part, other);
        // Only a mix cheaper than the best single-kind fleet is an improvement worth listing.
        if (m && m.fleet.length > 1 && compare(m, best.e) < 0 && !rows.includes(m)) rows.push(m);
      }
    }
    byModel.set(c.model, rows);
  });
  for (const rows of byModel.values()) {
    rows.sort((a, b) => (a.feasible === b.feasible ? compare(a, b) : a.feasible ? -1 : 1));
    let rank = 0;
    for (const r of rows) if (r.feasible) r.rank = ++rank;
  }
  return { byModel, simulations: planner.simulations };
}

function compare(a: Evaluation, b: Evaluation): number {
  const cost = (x: Evaluation) => (Number.isFinite(x.usdPerHour) ? x.usdPerHour : Infinity);
  return cost(a) - cost(b) || a.chips - b.chips || (fleetText(a.fleet) < fleetText(b.fleet) ? -1 : fleetText(a.fleet) > fleetText(b.fleet) ? 1 : 0);
}
