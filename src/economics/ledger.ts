/**
 * Money and energy at the finest grain the reports need: one *cell* per (period, workload,
 * deployment) plus an idle line per (period, deployment). Every amount is rounded to integer cents
 * once, in its cell; every total in every report is a sum of cells, so pnl.csv, summary.csv scopes
 * and their totals agree to the cent by construction.
 *
 * Attribution rule (docs/economics.md): a deployment's cost in a period is its replica-time priced
 * at the busy rate for busy replica-time and the idle rate for the rest (equal under rental; under
 * TCO busy time also pays for power up to TDP). Of that cost, the share the deployment's capacity
 * used (output tokens completed in the period / what its replicas could have served at their
 * saturated rate, deployment.capacity) goes to the workloads, split by the busy replica-time each
 * request shared (an iteration of b requests charges each 1/b of its duration); the rest, cost ×
 * (1 − capacity used), is the deployment's idle line. Busy time alone would call a replica running
 * a batch of one fully used, and book nearly nothing idle. The pieces are rounded to cents by
 * largest remainder, so they sum exactly to the deployment's rounded cost and none is negative.
 * Energy stays physical: busy energy to the workloads by busy time, idle energy to the idle line.
 */
import type { SimulationResult } from '../simulation/simulate.js';
import { billCents, discountedPrice, priceKey } from './billing.js';
import { busyUsdPerChipHour, idleUsdPerChipHour } from './cost.js';

export interface Ledger {
  periods: string[];
  /** [period * atoms + atom] cents */
  revenueCents: Float64Array;
  vendorPayoutCents: Float64Array;
  busyCostCents: Float64Array;
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
 * Capacity used by deployment d in period p, 0..1: output tokens completed there over what its
 * replicas could have served at their saturated rate in the period's run time (capped at 1: with
 * prefix caching a replica can beat the rate, which assumes every prompt prefilled in full).
 */
export function capacityUsed(result: SimulationResult, p: number, d: number): number {
  const { scenario, recorder, calendar } = result;
  const dep = scenario.deployments[d];
  const D = scenario.deployments.length;
  const A = scenario.workloads.length * D;
  let outTok = 0;
  for (let w = 0; w < scenario.workloads.length; w++) outTok += recorder.periodOutputTokens[p * A + w * D + d];
  // An autoscaled deployment could serve only with the replicas it had provisioned.
  const replicaS = dep.autoscale === null ? dep.replicas * calendar.overlapS(p, result.endS) : result.periodReplicaS![p * D + d];
  const capacityTok = dep.capacity.outputTokensPerSPerReplica * replicaS;
  return capacityTok > 0 ? Math.min(1, outTok / capacityTok) : 0;
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
      const replicaS = dep.autoscale === null ? dep.replicas * calendar.overlapS(p, result.endS) : result.periodReplicaS![p * D + d];
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
      // Re-split the same cost by capacity used rather than busy time.
      let costCents = 0;
      for (let i = 0; i <= W; i++) costCents += exact[i];
      const used = capacityUsed(result, p, d);
      let outTok = 0;
      for (let w = 0; w < W; w++) outTok += recorder.periodOutputTokens[p * A + w * D + d];
      const sharedS = busyS * scale;
      for (let w = 0; w < W; w++) {
        const cell = p * A + w * D + d;
        // By busy share; by output tokens in the rare period whose tokens' busy time was booked in
        // another (a collapsed decode run is booked where it ends).
        const weight = sharedS > 0 ? (recorder.periodBusyShareS[cell] * scale) / sharedS : outTok > 0 ? recorder.periodOutputTokens[cell] / outTok : 0;
        exact[w] = costCents * used * weight;
      }
      exact[W] = costCents * (1 - used);
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
    deploymentCostCents,
    idleCostCents,
    energyKwh,
    idleEnergyKwh,
    atoms: A,
    deployments: D,
  };
}
