/**
 * Money and energy at the finest grain the reports need: one *cell* per (period, workload,
 * deployment) plus an idle line per (period, deployment). Every amount is rounded to integer cents
 * once, in its cell; every total in every report is a sum of cells, so pnl.csv, summary.csv scopes
 * and their totals agree to the cent by construction.
 *
 * Attribution rule (docs/economics.md): a deployment's cost in a period is its replica-time priced
 * at the busy rate for busy replica-time and the idle rate for the rest (equal under rental; under
 * TCO busy time also pays for power up to TDP). Each workload pays for the capacity its completed
 * output tokens took: the replica-seconds they need at one replica's saturated rate at that
 * workload's own mean lengths (capacityS), at the deployment's cost per replica-second; the rest
 * is the deployment's idle line. A workload's charge so depends on its own traffic, not on who
 * else shares the replicas (a rate at the blended mean lengths would make one tenant's long
 * prompts raise another's cost). Where the workloads' tokens took more than the replica-time there
 * was (prefix caching beats the rate), they share the whole cost pro rata and idle is 0. Busy time
 * alone would call a replica running a batch of one fully used, and book nearly nothing idle. The
 * pieces are rounded to cents by largest remainder, so they sum exactly to the deployment's
 * rounded cost and none is negative.
 * Energy stays physical: busy energy to the workloads by busy time, idle energy to the idle line.
 */
import type { SimulationResult } from '../simulation/simulate.js';
import { billCents, discountedPrice, priceKey } from './billing.js';
import { busyUsdPerChipHour, idleUsdPerChipHour } from './cost.js';

type Deployment = SimulationResult['scenario']['deployments'][number];

export interface Ledger {
  periods: string[];
  /** [period * atoms + atom] cents */
  revenueCents: Float64Array;
  vendorPayoutCents: Float64Array;
  busyCostCents: Float64Array;
  /** [period * atoms + atom] replica-seconds of capacity the cell's tokens took (capacityS, scaled down with the cost where they took more than there was) */
  usedReplicaS: Float64Array;
  /** [period * atoms + atom] facility kWh of the busy replica-time attributed to the cell */
  busyEnergyKwh: Float64Array;
  /** [period * deployments + deployment] cents: total = Σ busy cells + idle */
  deploymentCostCents: Float64Array;
  idleCostCents: Float64Array;
  /** [period * deployments + deployment] kWh: all, and the idle part */
  energyKwh: Float64Array;
  idleEnergyKwh: Float64Array;
  atoms: number;
  deployments: number;
}

/** Replica-seconds deployment d was billed for over the run: replicas × run time, or what autoscaling provisioned. */
export function billedReplicaS(result: SimulationResult, d: number): number {
  const dep = result.scenario.deployments[d];
  if (dep.autoscale === null) return dep.replicas * result.endS;
  const D = result.scenario.deployments.length;
  let s = 0;
  for (let p = 0; p < result.calendar.periods.length; p++) s += result.periodReplicaS![p * D + d];
  return s;
}

/** Replicas deployment d had at most (its chips column): replicas, or the most autoscaling billed at once. */
export function peakReplicas(result: SimulationResult, d: number): number {
  const dep = result.scenario.deployments[d];
  return dep.autoscale === null ? dep.replicas : result.peakReplicas![d];
}

/** USD per replica-hour of a busy replica, the deployment's marginal cost. */
export function usdPerReplicaHour(result: SimulationResult, d: number): number {
  const dep = result.scenario.deployments[d];
  return busyUsdPerChipHour(dep.cost) * dep.tensorParallel;
}

/**
 * Rounds non-negative amounts (in cents, unrounded) to integers summing to round(Σ amounts), each
 * the floor or ceiling of its amount; leftover cents go to the largest fractions, ties to the lower
 * index (deterministic).
 */
export function apportionCents(exact: Float64Array, out: Float64Array): void {
  let total = 0;
  let floors = 0;
  for (let i = 0; i < exact.length; i++) {
    total += exact[i];
    out[i] = Math.floor(exact[i]);
    floors += out[i];
  }
  let left = Math.round(total) - floors;
  while (left > 0) {
    let best = -1;
    let bestFrac = -1;
    for (let i = 0; i < exact.length; i++) {
      const frac = exact[i] - out[i];
      if (out[i] === Math.floor(exact[i]) && frac > bestFrac) {
        best = i;
        bestFrac = frac;
      }
    }
    if (best < 0) break;
    out[best]++;
    left--;
  }
}

/**
 * Replica-seconds of deployment `dep`'s capacity that `outputTokens` of workload w took: the tokens
 * over one replica's saturated rate at w's own mean lengths. It depends on nothing else sharing the
 * replica, so adding a tenant leaves the others' capacity used (and, under rental, cost) as it was.
 */
export function capacityS(dep: Deployment, w: number, outputTokens: number): number {
  const rate = dep.capacity.workloadOutputTokensPerSPerReplica[w];
  return rate > 0 ? outputTokens / rate : 0;
}

/** Replica-seconds deployment d had in period p: its replicas, or what autoscaling provisioned. */
function periodReplicaS(result: SimulationResult, p: number, d: number): number {
  const dep = result.scenario.deployments[d];
  return dep.autoscale === null ? dep.replicas * result.calendar.overlapS(p, result.endS) : result.periodReplicaS![p * result.scenario.deployments.length + d];
}

/**
 * Capacity used by deployment d in period p, 0..1: the replica-seconds its workloads' completed
 * output tokens took at their saturated rates (capacityS) over the replica-seconds it had (capped
 * at 1: with prefix caching a replica can beat the rate, which assumes every prompt prefilled in full).
 */
export function capacityUsed(result: SimulationResult, p: number, d: number): number {
  const { scenario, recorder } = result;
  const dep = scenario.deployments[d];
  const D = scenario.deployments.length;
  const A = scenario.workloads.length * D;
  let usedS = 0;
  for (let w = 0; w < scenario.workloads.length; w++) usedS += capacityS(dep, w, recorder.periodOutputTokens[p * A + w * D + d]);
  const replicaS = periodReplicaS(result, p, d);
  return replicaS > 0 ? Math.min(1, usedS / replicaS) : 0;
}

export function buildLedger(result: SimulationResult): Ledger {
  const { scenario, recorder, calendar } = result;
  const W = scenario.workloads.length;
  const D = scenario.deployments.length;
  const A = W * D;
  const P = calendar.periods.length;
  const revenueCents = new Float64Array(P * A);
  const vendorPayoutCents = new Float64Array(P * A);
  const busyCostCents = new Float64Array(P * A);
  const busyEnergyKwh = new Float64Array(P * A);
  const usedReplicaS = new Float64Array(P * A);
  const deploymentCostCents = new Float64Array(P * D);
  const idleCostCents = new Float64Array(P * D);
  const energyKwh = new Float64Array(P * D);
  const idleEnergyKwh = new Float64Array(P * D);
  // Pieces of one (period, deployment): W busy cells, then the idle line.
  const exact = new Float64Array(W + 1);
  const rounded = new Float64Array(W + 1);

  for (let p = 0; p < P; p++) {
    for (let d = 0; d < D; d++) {
      const dep = scenario.deployments[d];
      const tp = dep.tensorParallel;
      // An autoscaled deployment is billed for the replica-time it had provisioned (simulate.ts).
      const replicaS = periodReplicaS(result, p, d);
      let busyS = 0;
      for (let w = 0; w < W; w++) busyS += recorder.periodBusyShareS[p * A + w * D + d];
      // A collapsed decode run is attributed to the period it ends in, so a period's busy time can
      // exceed its capacity by a run's length; scale shares down rather than book negative idle.
      const scale = busyS > replicaS && busyS > 0 ? replicaS / busyS : 1;
      const busyCentsPerS = (busyUsdPerChipHour(dep.cost) * tp * 100) / 3600;
      const idleCentsPerS = (idleUsdPerChipHour(dep.cost) * tp * 100) / 3600;
      for (let w = 0; w < W; w++) {
        const cell = p * A + w * D + d;
        const shareS = recorder.periodBusyShareS[cell] * scale;
        exact[w] = shareS * busyCentsPerS;
        busyEnergyKwh[cell] = (shareS * tp * dep.cost.busyKw) / 3600;
      }
      const idleS = Math.max(0, replicaS - busyS * scale);
      exact[W] = idleS * idleCentsPerS;
      // Re-split the same cost by capacity used rather than busy time: each workload pays for the
      // capacity its tokens took, scaled down together where they took more than there was.
      let costCents = 0;
      for (let i = 0; i <= W; i++) costCents += exact[i];
      let usedS = 0;
      for (let w = 0; w < W; w++) {
        const cell = p * A + w * D + d;
        usedReplicaS[cell] = capacityS(dep, w, recorder.periodOutputTokens[cell]);
        usedS += usedReplicaS[cell];
      }
      const perUsedS = replicaS > 0 ? costCents / Math.max(replicaS, usedS) : 0;
      const fit = usedS > replicaS ? replicaS / usedS : 1;
      for (let w = 0; w < W; w++) {
        const cell = p * A + w * D + d;
        exact[w] = perUsedS * usedReplicaS[cell];
        usedReplicaS[cell] *= fit;
      }
      exact[W] = costCents - perUsedS * usedS;
      apportionCents(exact, rounded);
      let total = 0;
      for (let w = 0; w < W; w++) {
        busyCostCents[p * A + w * D + d] = rounded[w];
        total += rounded[w];
      }
      idleCostCents[p * D + d] = rounded[W];
      deploymentCostCents[p * D + d] = total + rounded[W];
      idleEnergyKwh[p * D + d] = (idleS * tp * dep.cost.idleKw) / 3600;
      let kwh = idleEnergyKwh[p * D + d];
      for (let w = 0; w < W; w++) kwh += busyEnergyKwh[p * A + w * D + d];
      energyKwh[p * D + d] = kwh;

      for (let w = 0; w < W; w++) {
        const cell = p * A + w * D + d;
        const completed = recorder.periodCompleted[cell];
        if (completed === 0) continue;
        const wl = scenario.workloads[w];
        const listPrice = scenario.prices.get(priceKey(wl.tenant, dep.model.id));
        if (!listPrice) throw new Error(`no price for tenant ${wl.tenant} and model ${dep.model.id}`);
        // The batch tier is billed at its discount (docs/economics.md#billing).
        const price = wl.batch === null ? listPrice : discountedPrice(listPrice, wl.batch.discount);
        const bill = billCents(
          price,
          wl.cachedPromptFraction,
          recorder.periodInputTokens[cell],
          recorder.periodOutputTokens[cell],
          completed,
          recorder.periodCachedInputTokens[cell],
        );
        revenueCents[cell] = bill.revenueCents;
        vendorPayoutCents[cell] = bill.vendorPayoutCents;
      }
    }
  }
  return {
    periods: calendar.periods.map((x) => x.label),
    revenueCents,
    vendorPayoutCents,
    busyCostCents,
    busyEnergyKwh,
    usedReplicaS,
    deploymentCostCents,
    idleCostCents,
    energyKwh,
    idleEnergyKwh,
    atoms: A,
    deployments: D,
  };
}
