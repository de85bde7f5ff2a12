/**
 * The CSV reports and run.json (docs/reports.md). Money comes from the ledger in integer cents, so
 * every figure here is a sum of the same cells and all tables agree to the cent.
 */
import type { IntervalSnapshot, SimulationResult } from '../simulation/simulate.js';
import type { RequestTable } from '../engine/requests.js';
import { FATE_COUNT, FATE_EXPIRED, FATE_NAMES, FATE_THROTTLED, type RequestLog } from '../metrics/recorder.js';
import { hasFaults } from '../serving/faults.js';
import { billedReplicaS, capacityS, peakReplicas, type Ledger } from '../economics/ledger.js';
import { discountedPrice, tokenRevenueUsd } from '../economics/billing.js';
import { busyUsdPerChipHour, idleUsdPerChipHour } from '../economics/cost.js';
import { priceKey, type Scenario } from '../scenario/load.js';
import { costBandFactors } from '../scenario/perf-error.js';
import { CsvWriter, formatDecimal, formatInt, formatRatio, formatSpreadsheetUtc, formatTimestamp, formatUsd, neutralizeText } from './csv.js';
import { names, pnlColumns, requestColumns, summaryColumns, type Appended, TIMESERIES_AUTOSCALE_COLUMNS, TIMESERIES_COLUMNS } from './columns.js';

/** Whether a workload generates hidden reasoning tokens: then summary, pnl and requests carry their columns. */
export const hasReasoning = (scenario: Scenario): boolean => scenario.workloads.some((w) => w.reasoningTokens !== null);
export const hasSessions = (scenario: Scenario): boolean => scenario.workloads.some((w) => w.session !== null);

export const IDLE_KEY = '(idle capacity)';
const seconds = (x: number) => formatDecimal(x, 6);
const pct = (x: number) => formatDecimal(x, 2);
const usdFromCents = (c: number) => formatUsd(c / 100);
/** The prefix cache's token hit rate, %; empty when there were no prompt tokens. */
/** cost (cents) per million tokens, in USD; empty when there are no tokens (cost_usd_per_mtok_* columns). */
const usdPerMtok = (costCents: number, tokens: number) => (tokens > 0 ? formatUsd(costCents / 100 / (tokens / 1e6)) : '');
/** Replica-seconds the served tokens took at their saturated rates (ledger capacityS) over the replica-seconds there were, %; 0 without replicas. */
const capacityPct = (usedS: number, replicaS: number) => (replicaS > 0 ? (100 * usedS) / replicaS : 0);
const hitPct = (cached: number, input: number) => (input > 0 ? pct((100 * cached) / input) : '');
/** Emissions are reported only where the facility gives a grid intensity; otherwise empty. */
const kgCo2e = (kwh: number, kgPerKwh: number) => (Number.isFinite(kgPerKwh) ? formatRatio(kwh * kgPerKwh) : '');

/** Streams timeseries.csv, one row per report interval and deployment. */
export class TimeseriesWriter {
  private readonly csv: CsvWriter;
  constructor(
    path: string,
    private readonly scenario: Scenario,
  ) {
    this.autoscaling = scenario.deployments.some((d) => d.autoscale !== null);
    this.csv = new CsvWriter(path, names(this.autoscaling ? [...TIMESERIES_COLUMNS, ...TIMESERIES_AUTOSCALE_COLUMNS] : TIMESERIES_COLUMNS));
  }
  private readonly autoscaling: boolean;

  write(s: IntervalSnapshot): void {
    const sc = this.scenario;
    const D = sc.deployments.length;
    const lengthS = s.endS - s.startS;
    for (let d = 0; d < D; d++) {
      const dep = sc.deployments[d];
      let completions = 0;
      let inTok = 0;
      let outTok = 0;
      let usedS = 0;
      let cachedTok = 0;
      let revenueUsd = 0;
      for (let w = 0; w < sc.workloads.length; w++) {
        const a = w * D + d;
        if (s.completions[a] === 0) continue;
        usedS += capacityS(dep, w, s.outputTokens[a]);
        const wl = sc.workloads[w];
        const listPrice = sc.prices.get(priceKey(wl.tenant, dep.model.id))!;
        const price = wl.batch === null ? listPrice : discountedPrice(listPrice, wl.batch.discount);
        completions += s.completions[a];
        inTok += s.inputTokens[a];
        outTok += s.outputTokens[a];
        cachedTok += s.cachedInputTokens[a];
        revenueUsd +=
          tokenRevenueUsd(price, wl.cachedPromptFraction, s.inputTokens[a], s.outputTokens[a], s.cachedInputTokens[a]) +
          s.completions[a] * price.feeUsdPerRequest;
      }
      const busy = s.busyFraction[d];
      const usdPerChipHour = busy * busyUsdPerChipHour(dep.cost) + (1 - busy) * idleUsdPerChipHour(dep.cost);
      const costUsd =
        dep.autoscale === null
          ? (dep.replicas * dep.tensorParallel * usdPerChipHour * lengthS) / 3600
          : (s.replicaS[d] * dep.tensorParallel * usdPerChipHour) / 3600;
      const row = [
        formatTimestamp(sc.startMs + s.startS * 1000),
        seconds(s.startS),
        seconds(lengthS),
        neutralizeText(dep.name),
        neutralizeText(dep.model.id),
        neutralizeText(dep.silicon.id),
        formatInt(s.queueDepth[d]),
        formatInt(s.batchSize[d]),
        pct(100 * s.kvUsedFraction[d]),
        pct(100 * s.busyFraction[d]),
        formatInt(s.arrivals[d]),
        formatInt(completions),
        formatInt(inTok),
        formatInt(outTok),
        formatUsd(costUsd),
        formatUsd(revenueUsd),
        formatInt(cachedTok),
        hitPct(cachedTok, inTok),
        formatSpreadsheetUtc(sc.startMs + s.startS * 1000),
        pct(capacityPct(usedS, (dep.autoscale === null ? dep.replicas : s.replicasServing[d]) * lengthS)),
      ];
      // Only when a deployment autoscales, so fixed fleets' timeseries.csv stays as it was.
      if (this.autoscaling) {
        row.push(
          formatInt(dep.autoscale === null ? dep.replicas : s.replicasServing[d]),
          formatInt(dep.autoscale === null ? 0 : s.replicasProvisioning[d]),
        );
      }
      this.csv.write(row);
    }
  }

  close(): void {
    this.csv.close();
  }
}

/** Streams requests.csv as requests end. */
export class RequestsWriter implements RequestLog {
  private readonly csv: CsvWriter;
  /** Keep a request when its id hashes below this (a fraction of 2^32). */
  private readonly keepBelow: number;
  private readonly reasoning: boolean;
  private readonly sessions: boolean;

  /** @param sample fraction of requests written, chosen by a hash of the request id (1 = all). */
  constructor(
    path: string,
    private readonly scenario: Scenario,
    sample = 1,
  ) {
    this.reasoning = hasReasoning(scenario);
    this.sessions = hasSessions(scenario);
    this.csv = new CsvWriter(path, names(requestColumns(this.reasoning, this.sessions)));
    this.keepBelow = sample * 2 ** 32;
  }

  record(rq: RequestTable, q: number, deployment: number, fate: number, endS: number): void {
    // Sampling by a hash of the id (Knuth's multiplicative hash) needs no random stream, so it
    // never perturbs the simulation, and a smaller sample is a subset of a larger one.
    if (this.keepBelow < 2 ** 32 && Math.imul(rq.seq[q], 2654435761) >>> 0 >= this.keepBelow) return;
    const sc = this.scenario;
    const w = sc.workloads[rq.workload[q]];
    const dep = sc.deployments[deployment];
    const arrivalS = rq.arrivalS[q];
    const completed = fate <= 1;
    const row = [
      formatInt(rq.seq[q]),
      neutralizeText(w.name),
      neutralizeText(w.tenant),
      neutralizeText(dep.name),
      neutralizeText(dep.model.id),
      FATE_NAMES[fate],
      formatTimestamp(sc.startMs + arrivalS * 1000),
      seconds(arrivalS),
      completed ? seconds(rq.visibleS[q] - arrivalS) : '',
      seconds(endS - arrivalS),
      formatInt(rq.promptTokens[q]),
      formatInt(rq.outputTokens[q]),
      formatSpreadsheetUtc(sc.startMs + arrivalS * 1000),
    ];
    if (this.reasoning) row.push(formatInt(rq.reasoningTokens[q]));
    if (this.sessions) {
      const inSession = rq.turn[q] > 0;
      row.push(inSession ? formatInt(rq.conversation[q]) : '', inSession ? formatInt(rq.turn[q]) : '');
    }
    this.csv.write(row);
  }

  close(): void {
    this.csv.close();
  }
}

export interface Scope {
  scope: string;
  key: string;
  atoms: number[];
  /** Deployments whose idle cost, chips and energy belong to this row. */
  fleet: number[];
}

export function scopes(scenario: Scenario): Scope[] {
  const D = scenario.deployments.length;
  const allDeployments = scenario.deployments.map((d) => d.index);
  /** Atoms of these workloads on these deployments, by workload then deployment (as summed). */
  const atomsOf = (workloads: number[], deployments: number[]) => workloads.flatMap((w) => deployments.map((d) => w * D + d));
  const allWorkloads = scenario.workloads.map((w) => w.index);
  /** Ids grouped by key, keys in order of first appearance: one pass, so thousands of tenants stay linear. */
  const groups = (ids: number[], keyOf: (id: number) => string) => {
    const byKey = new Map<string, number[]>();
    for (const id of ids) {
      const key = keyOf(id);
      const group = byKey.get(key);
      if (group === undefined) byKey.set(key, [id]);
      else group.push(id);
    }
    return byKey;
  };
  const rows: Scope[] = [{ scope: 'total', key: 'all', atoms: atomsOf(allWorkloads, allDeployments), fleet: allDeployments }];
  const byDeployment = (scope: string, keyOf: (d: number) => string) => {
    for (const [key, fleet] of groups(allDeployments, keyOf)) rows.push({ scope, key, atoms: atomsOf(allWorkloads, fleet), fleet });
  };
  byDeployment('deployment', (d) => scenario.deployments[d].name);
  byDeployment('model', (d) => scenario.deployments[d].model.id);
  byDeployment('vendor', (d) => scenario.deployments[d].model.vendor);
  byDeployment('silicon', (d) => scenario.deployments[d].silicon.id);
  // Cost per million tokens by model × silicon, merging deployments of the same pair.
  byDeployment('model_silicon', (d) => `${scenario.deployments[d].model.id}/${scenario.deployments[d].silicon.id}`);
  const byWorkload = (scope: string, keyOf: (w: number) => string) => {
    for (const [key, workloads] of groups(allWorkloads, keyOf)) rows.push({ scope, key, atoms: atomsOf(workloads, allDeployments), fleet: [] });
    rows.push({ scope, key: IDLE_KEY, atoms: [], fleet: allDeployments });
  };
  byWorkload('tenant', (w) => scenario.workloads[w].tenant);
  byWorkload('workload', (w) => scenario.workloads[w].name);
  return rows;
}

export function writeSummary(path: string, result: SimulationResult, ledger: Ledger): void {
  const { scenario, recorder } = result;
  const appended = appendedColumns(scenario);
  const csv = new CsvWriter(path, names(summaryColumns(appended)));
  const D = scenario.deployments.length;
  const P = ledger.periods.length;
  const A = ledger.atoms;
  const runH = result.endS / 3600;
  const batchW = scenario.workloads.map((w) => w.batch !== null);
  let allBatchRevenue = 0;
  for (let a = 0; a < A; a++) if (batchW[Math.floor(a / D)]) for (let p = 0; p < P; p++) allBatchRevenue += ledger.revenueCents[p * A + a];

  // Without autoscaling, chip-hours stay chips × run time, computed as before to the last bit.
  const autoscaling = result.periodReplicaS !== null;
  let fleetReplicaS = 0;
  for (const d of scenario.deployments) fleetReplicaS += billedReplicaS(result, d.index);
  let fleetChipH = 0;
  for (const d of scenario.deployments) fleetChipH += (billedReplicaS(result, d.index) * d.tensorParallel) / 3600;

  // A tenant's or workload's chip-hours are those of the capacity its tokens took, as its cost is;
  // the (idle capacity) row has the rest.
  const usedChipHours = (atoms: readonly number[]) =>
    atoms.reduce((h, a) => {
      let used = 0;
      for (let p = 0; p < P; p++) used += ledger.usedReplicaS[p * A + a];
      return h + (used * scenario.deployments[a % D].tensorParallel) / 3600;
    }, 0);
  const allAtoms = Array.from({ length: A }, (_, a) => a);

  for (const s of scopes(scenario)) {
    const fates = new Float64Array(FATE_COUNT);
    let decodeS = 0, decodeTokens = 0;
    let cachedTok = 0, reasoningTok = 0, offloadTok = 0;
    let inTok = 0, outTok = 0, usedS = 0, sloMet = 0, measured = 0, revenue = 0, payout = 0, cost = 0, idle = 0, busyShareS = 0, energy = 0;
    const { ttft, tpot, e2e } = recorder.latencyOf(s.atoms);
    for (const a of s.atoms) {
      for (let f = 0; f < FATE_COUNT; f++) fates[f] += recorder.fates[a * FATE_COUNT + f];
      inTok += recorder.inputTokens[a];
      outTok += recorder.outputTokens[a];
      usedS += capacityS(scenario.deployments[a % D], Math.floor(a / D), recorder.outputTokens[a]);
      cachedTok += recorder.cachedInputTokens[a];
      offloadTok += recorder.offloadInputTokens[a];
      reasoningTok += recorder.reasoningTokens[a];
      sloMet += recorder.sloMet[a];
      measured += recorder.measured[a];
      decodeS += recorder.decodeS[a];
      decodeTokens += recorder.decodeTokens[a];
      for (let p = 0; p < P; p++) {
        revenue += ledger.revenueCents[p * A + a];
        payout += ledger.vendorPayoutCents[p * A + a];
        cost += ledger.busyCostCents[p * A + a];
        busyShareS += recorder.periodBusyShareS[p * A + a];
        energy += ledger.busyEnergyKwh[p * A + a];
      }
    }
    // Cost by deployment, for the error band: busy cost of the scope's atoms plus idle cost of its fleet.
    const costByDep = new Float64Array(D);
    for (const a of s.atoms) for (let p = 0; p < P; p++) costByDep[a % D] += ledger.busyCostCents[p * A + a];
    let chips = 0, busyS = 0, replicaS = 0, preemptions = 0, chipH = 0;
    for (const d of s.fleet) {
      const dep = scenario.deployments[d];
      chips += peakReplicas(result, d) * dep.tensorParallel;
      busyS += result.busyS[d];
      replicaS += billedReplicaS(result, d);
      chipH += (billedReplicaS(result, d) * dep.tensorParallel) / 3600;
      preemptions += recorder.preemptions[d];
      for (let p = 0; p < P; p++) {
        idle += ledger.idleCostCents[p * D + d];
        costByDep[d] += ledger.idleCostCents[p * D + d];
        energy += ledger.idleEnergyKwh[p * D + d];
      }
    }
    cost += idle;
    const band = costBand(scenario, costByDep, s.fleet);
    const arrived = fates.reduce((x, y) => x + y, 0);
    const fleetScope = s.scope !== 'tenant' && s.scope !== 'workload';
    const margin = revenue - payout - cost;
    const isIdleRow = s.key === IDLE_KEY;
    const cells = [
      s.scope,
      neutralizeText(s.key),
      formatInt(arrived),
      formatInt(fates[0]),
      formatInt(fates[1]),
      formatInt(fates[2]),
      formatInt(fates[3]),
      formatInt(fates[4]),
      formatInt(inTok),
      formatInt(outTok),
      formatRatio(outTok / result.endS),
      seconds(ttft.quantile(0.5)),
      seconds(ttft.quantile(0.9)),
      seconds(ttft.quantile(0.99)),
      seconds(tpot.quantile(0.5)),
      seconds(tpot.quantile(0.99)),
      seconds(e2e.quantile(0.5)),
      seconds(e2e.quantile(0.99)),
      measured > 0 ? pct((100 * sloMet) / measured) : '',
      fleetScope ? formatInt(chips) : '',
      formatRatio(fleetScope ? (autoscaling ? chipH : chips * runH) : isIdleRow ? (autoscaling ? fleetChipH : chips * runH) - usedChipHours(allAtoms) : usedChipHours(s.atoms)),
      pct(fleetScope ? (replicaS > 0 ? (100 * busyS) / replicaS : 0) : isIdleRow ? 0 : (100 * busyShareS) / fleetReplicaS),
      formatRatio(energy),
      usdFromCents(cost),
      usdFromCents(revenue),
      usdFromCents(payout),
      usdFromCents(margin),
      revenue !== 0 ? pct((100 * margin) / revenue) : '',
      usdPerMtok(cost, outTok),
      usdFromCents(idle),
      fleetScope ? formatInt(preemptions) : '',
      kgCo2e(energy, scenario.facility.kgCo2ePerKwh),
      seconds(ttft.mean()),
      seconds(tpot.mean()),
      seconds(e2e.mean()),
      seconds(decodeTokens > 0 ? decodeS / decodeTokens : NaN),
      formatInt(cachedTok),
      hitPct(cachedTok, inTok),
      formatInt(fates[0] + fates[1]),
      usdPerMtok(cost, inTok),
      usdPerMtok(cost, inTok + outTok),
      pct(fleetScope ? capacityPct(usedS, replicaS) : isIdleRow ? 0 : capacityPct(usedS, fleetReplicaS)),
      band.lowCents !== null ? usdPerMtok(band.lowCents, outTok) : '',
      band.highCents !== null ? usdPerMtok(band.highCents, outTok) : '',
      band.basis,
    ];
    // Only where the scenario sets a quota (columns.ts), so other files stay as they were.
    if (appended.quotas) cells.push(formatInt(fates[FATE_THROTTLED]));
    if (appended.batch) {
      let batchRevenue = 0;
      for (const a of s.atoms) if (batchW[Math.floor(a / D)]) for (let p = 0; p < P; p++) batchRevenue += ledger.revenueCents[p * A + a];
      cells.push(formatInt(fates[FATE_EXPIRED]), usdFromCents(isIdleRow ? allBatchRevenue : batchRevenue));
    }
    if (appended.faults) {
      let failures = 0, downS = 0;
      for (const d of s.fleet) {
        failures += result.replicaFailures![d];
        downS += result.replicaDownS![d];
      }
      cells.push(fleetScope ? formatInt(failures) : '', fleetScope ? formatRatio(downS / 3600) : '');
    }
    if (appended.reasoning) cells.push(formatInt(reasoningTok), usdPerMtok(cost, outTok - reasoningTok));
    if (appended.offload) cells.push(formatInt(offloadTok), hitPct(offloadTok, inTok));
    csv.write(cells);
  }
  csv.close();
}

/** The column groups summary and pnl append for this scenario: requests_throttled with a quota, the batch tier's with one. */
export function appendedColumns(scenario: Scenario): Appended {
  return {
    quotas: scenario.workloads.some((w) => w.quota !== null || w.tenantQuota !== null),
    batch: scenario.workloads.some((w) => w.batch !== null),
    faults: hasFaults(scenario),
    reasoning: hasReasoning(scenario),
    offload: scenario.deployments.some((d) => d.kvOffload !== null),
  };
}

/**
 * A scope's cost at the ends of its deployments' error bands, and what its step times rest on.
 * The ends are summed deployment by deployment (their errors taken as moving together, the wider
 * band); a deployment with cost and no band leaves the scope without one.
 */
function costBand(scenario: Scenario, costByDep: Float64Array, fleet: readonly number[]): { lowCents: number | null; highCents: number | null; basis: string } {
  let low: number | null = 0;
  let high: number | null = 0;
  const bases: string[] = [];
  for (const dep of scenario.deployments) {
    const d = dep.index;
    if (costByDep[d] === 0 && !fleet.includes(d)) continue;
    if (!bases.includes(dep.perfError.basis)) bases.push(dep.perfError.basis);
    if (costByDep[d] === 0) continue;
    const f = costBandFactors(dep.perfError);
    if (f === null || low === null || high === null) {
      low = high = null;
      continue;
    }
    low += costByDep[d] * f[0];
    high += costByDep[d] * f[1];
  }
  return { lowCents: low, highCents: high, basis: bases.join('+') };
}

export function writePnl(path: string, result: SimulationResult, ledger: Ledger): void {
  const { scenario, recorder } = result;
  const appended = appendedColumns(scenario);
  const csv = new CsvWriter(path, names(pnlColumns(appended)));
  const D = scenario.deployments.length;
  const A = ledger.atoms;
  const tenants = [...new Set(scenario.workloads.map((w) => w.tenant))];
  // Each tenant's workloads in index order, found once: per period and line, a walk over every
  // workload made the report quadratic in tenants.
  const workloadsOf = new Map<string, number[]>(tenants.map((t) => [t, []]));
  for (const w of scenario.workloads) workloadsOf.get(w.tenant)!.push(w.index);
  // One row per (period, tenant, model, silicon); deployments of the same model on the same silicon merge.
  const lines = [...new Set(scenario.deployments.map((d) => `${d.model.id}\u0000${d.silicon.id}`))].map((k) => {
    const [model, silicon] = k.split('\u0000');
    const deps = scenario.deployments.filter((d) => d.model.id === model && d.silicon.id === silicon).map((d) => d.index);
    return { model, silicon, vendor: scenario.deployments[deps[0]].model.vendor, deps };
  });
  ledger.periods.forEach((period, p) => {
    if (result.calendar.overlapS(p, result.endS) === 0) return; // past the end of the run
    // The batch tier's revenue on each line's deployments in the period: its `(idle capacity)` row's batch_revenue_usd.
    const batchRevenueOn = (deps: number[]) => {
      let c = 0;
      for (const w of scenario.workloads) if (w.batch !== null) for (const d of deps) c += ledger.revenueCents[p * A + w.index * D + d];
      return c;
    };
    const row = (tenant: string, line: (typeof lines)[number], atoms: number[], idleCents: number, idleKwh: number) => {
      let cachedTok = 0, reasoningTok = 0;
      let completed = 0, inTok = 0, outTok = 0, revenue = 0, payout = 0, cost = idleCents, energy = idleKwh, throttled = 0, expired = 0, batchRevenue = 0;
      for (const a of atoms) {
        const cell = p * A + a;
        completed += recorder.periodCompleted[cell];
        throttled += recorder.periodThrottled[cell];
        expired += recorder.periodExpired[cell];
        if (scenario.workloads[Math.floor(a / D)].batch !== null) batchRevenue += ledger.revenueCents[cell];
        inTok += recorder.periodInputTokens[cell];
        outTok += recorder.periodOutputTokens[cell];
        cachedTok += recorder.periodCachedInputTokens[cell];
        reasoningTok += recorder.periodReasoningTokens[cell];
        revenue += ledger.revenueCents[cell];
        payout += ledger.vendorPayoutCents[cell];
        cost += ledger.busyCostCents[cell];
        energy += ledger.busyEnergyKwh[cell];
      }
      if (atoms.length > 0 && completed === 0 && cost === 0 && throttled === 0 && expired === 0) return;
      const margin = revenue - payout - cost;
      const cells = [
        period,
        neutralizeText(tenant),
        neutralizeText(line.model),
        neutralizeText(line.vendor),
        neutralizeText(line.silicon),
        formatInt(completed),
        formatInt(inTok),
        formatInt(outTok),
        usdFromCents(revenue),
        usdFromCents(payout),
        usdFromCents(revenue - payout),
        usdFromCents(cost),
        usdFromCents(margin),
        revenue !== 0 ? pct((100 * margin) / revenue) : '',
        usdFromCents(idleCents),
        formatRatio(energy),
        kgCo2e(energy, scenario.facility.kgCo2ePerKwh),
        formatInt(cachedTok),
        hitPct(cachedTok, inTok),
      ];
      if (appended.quotas) cells.push(formatInt(throttled));
      if (appended.batch) cells.push(formatInt(expired), usdFromCents(atoms.length === 0 ? batchRevenueOn(line.deps) : batchRevenue));
      if (appended.reasoning) cells.push(formatInt(reasoningTok));
      csv.write(cells);
    };
    for (const tenant of tenants) {
      for (const line of lines) {
        const atoms: number[] = [];
        for (const w of workloadsOf.get(tenant)!) for (const d of line.deps) atoms.push(w * D + d);
        row(tenant, line, atoms, 0, 0);
      }
    }
    for (const line of lines) {
      const idle = line.deps.reduce((c, d) => c + ledger.idleCostCents[p * D + d], 0);
      const idleKwh = line.deps.reduce((e, d) => e + ledger.idleEnergyKwh[p * D + d], 0);
      row(IDLE_KEY, line, [], idle, idleKwh);
    }
  });
  csv.close();
}

export interface RunInfo {
  fleetsim_version: string;
  scenario: string;
  scenario_file: string;
  scenario_sha256: string;
  seed: number;
  engine: string;
  start: string;
  horizon_s: number;
  billed_run_s: number;
  last_event_s: number;
  requests_arrived: number;
  events_processed: number;
  wall_time_s: number;
  requests_per_wall_s: number;
  assumptions: string[];
  /** Per deployment: what its step times rest on and the cross-validated error that applies (docs/reports.md#runjson). */
  perf: PerfEntry[];
}

export interface PerfEntry {
  deployment: string;
  silicon: string;
  stack: string;
  /** The efficiency row used (`h100-sxm@trtllm`, `gpu`, …). */
  profile: string;
  perf_basis: string;
  silicon_measured: boolean;
  /** Held-out throughput rows, MAPE and 10th/90th percentile of the signed error (%); null when no band applies. */
  cv_rows: number | null;
  cv_mape_pct: number | null;
  cv_err_p10_pct: number | null;
  cv_err_p90_pct: number | null;
  note: string;
  /**
   * What capacity used and the cost attribution measure against (docs/economics.md#attribution-rule):
   * one replica's saturated output tokens/s at the deployment's blended mean lengths (explain's
   * figure) and at each workload's own that can reach it (its model or a fallback).
   */
  capacity: CapacityEntry & { workloads: (CapacityEntry & { workload: string })[] };
}

interface CapacityEntry {
  mean_prompt_tokens: number | null;
  mean_output_tokens: number | null;
  output_tokens_per_s_per_replica: number | null;
}

const orNull = (x: number) => (Number.isFinite(x) ? x : null);

export function perfEntries(sc: Scenario): PerfEntry[] {
  return sc.deployments.map((d) => ({
    deployment: d.name,
    silicon: d.silicon.id,
    stack: d.stack,
    profile: d.perfError.profile,
    perf_basis: d.perfError.basis,
    silicon_measured: d.perfError.siliconMeasured,
    cv_rows: orNull(d.perfError.cvRows),
    cv_mape_pct: orNull(d.perfError.cvMapePct),
    cv_err_p10_pct: orNull(d.perfError.errP10Pct),
    cv_err_p90_pct: orNull(d.perfError.errP90Pct),
    note: d.perfError.note,
    capacity: {
      ...capacityEntry(d.capacity.promptTokens, d.capacity.outputTokens, d.capacity.outputTokensPerSPerReplica),
      workloads: sc.workloads
        .filter((w) => w.model === d.model.id || w.fallback.includes(d.model.id))
        .map((w) => ({
          workload: w.name,
          ...capacityEntry(d.capacity.workloadPromptTokens[w.index], d.capacity.workloadOutputTokens[w.index], d.capacity.workloadOutputTokensPerSPerReplica[w.index]),
        })),
    },
  }));
}

const round1 = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
const capacityEntry = (prompt: number, output: number, rate: number): CapacityEntry => ({
  mean_prompt_tokens: round1(prompt),
  mean_output_tokens: round1(output),
  output_tokens_per_s_per_replica: round1(rate),
});

export function runInfo(result: SimulationResult, version: string): RunInfo {
  const sc = result.scenario;
  return {
    fleetsim_version: version,
    scenario: sc.name,
    scenario_file: sc.file,
    scenario_sha256: sc.hash,
    seed: sc.seed,
    engine: sc.engine,
    start: new Date(sc.startMs).toISOString(),
    horizon_s: sc.horizonS,
    billed_run_s: result.endS,
    last_event_s: result.lastEventS,
    requests_arrived: result.arrivals,
    events_processed: result.events,
    wall_time_s: Number(result.wallS.toFixed(3)),
    requests_per_wall_s: Math.round(result.arrivals / Math.max(result.wallS, 1e-9)),
    assumptions: sc.assumptions,
    perf: perfEntries(sc),
  };
}

