/**
 * Money, at the finest grain the reports need: one *cell* per (period, workload, deployment).
 * Every amount is rounded to integer cents once, in its cell; every total in every report is a sum
 * of cells, so pnl.csv, summary.csv scopes and their totals agree to the cent by construction.
 *
 * Attribution rule: a deployment's cost in a period is chips × price × hours. Each request carries
 * the busy replica-time it shared (an iteration of b requests charges each 1/b of its time); that
 * share, priced at the deployment's replica-hour rate, is the cell's busy cost. What is left of the
 * deployment's cost — capacity nobody used — is that deployment's idle cost in the period.
 */
import type { SimulationResult } from '../engine/simulate.js';
import { priceKey } from '../scenario/load.js';

/** Facility figures used for energy; see data/README.md for their sources. */
export const PUE = 1.12; // Microsoft-reported design PUE of newest Azure datacenters (../shared/reference/energy.csv)

export interface Ledger {
  periods: string[];
  /** [period][atom] cents */
  revenueCents: Float64Array;
  vendorPayoutCents: Float64Array;
  busyCostCents: Float64Array;
  /** [period][deployment] cents */
  deploymentCostCents: Float64Array;
  idleCostCents: Float64Array;
  /** [period][deployment] kWh, and busy replica-seconds */
  energyKwh: Float64Array;
  atoms: number;
  deployments: number;
}

export function usdPerReplicaHour(result: SimulationResult, d: number): number {
  const dep = result.scenario.deployments[d];
  return dep.usdPerChipHour * dep.tensorParallel;
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
  const deploymentCostCents = new Float64Array(P * D);
  const idleCostCents = new Float64Array(P * D);
  const energyKwh = new Float64Array(P * D);
  const cents = (usd: number) => Math.round(usd * 100);

  for (let p = 0; p < P; p++) {
    for (let d = 0; d < D; d++) {
      const dep = scenario.deployments[d];
      const hours = calendar.overlapS(p, result.endS) / 3600;
      const total = cents(dep.replicas * usdPerReplicaHour(result, d) * hours);
      deploymentCostCents[p * D + d] = total;
      let busy = 0;
      let busyS = 0;
      for (let w = 0; w < W; w++) {
        const a = w * D + d;
        const cell = p * A + a;
        const shareS = recorder.periodBusyShareS[cell];
        busyS += shareS;
        const busyCost = cents((shareS / 3600) * usdPerReplicaHour(result, d));
        busyCostCents[cell] = busyCost;
        busy += busyCost;
        const price = scenario.prices.get(priceKey(scenario.workloads[w].tenant, dep.model.id));
        if (!price) continue; // the workload never uses this deployment's model
        const revenue = cents(
          (recorder.periodInputTokens[cell] * price.inputUsdPerMtok + recorder.periodOutputTokens[cell] * price.outputUsdPerMtok) / 1e6,
        );
        revenueCents[cell] = revenue;
        vendorPayoutCents[cell] = Math.round(revenue * price.vendorShare);
      }
      idleCostCents[p * D + d] = total - busy;
      const chips = dep.replicas * dep.tensorParallel;
      const s = dep.silicon;
      const idleWh = (chips * s.idleW * hours);
      const dynamicWh = ((s.tdpW - s.idleW) * dep.tensorParallel * busyS) / 3600;
      energyKwh[p * D + d] = ((idleWh + dynamicWh) * PUE) / 1000;
    }
  }
  return {
    periods: calendar.periods.map((x) => x.label),
    revenueCents,
    vendorPayoutCents,
    busyCostCents,
    deploymentCostCents,
    idleCostCents,
    energyKwh,
    atoms: A,
    deployments: D,
  };
}
