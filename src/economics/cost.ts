/**
 * What a chip-hour costs, per deployment, under one of two models:
 *
 * - `rental`: the cloud price per chip-hour (catalog on-demand price, or the scenario's), less a
 *   reserved-commitment discount (`commitment: 1y|3y`, assumed figures below) and a negotiated
 *   `discount`. Power is inside the rental price, so utilisation does not change the cost; energy
 *   and emissions are still reported.
 * - `tco`: capex per chip amortised straight-line over `lifetime_years`, times (1 + `overhead_fraction`)
 *   for the host, network, storage and building share, plus electricity: chip power between idle_w
 *   (idle) and tdp_w (busy) × PUE × USD/kWh. A busy replica-hour therefore costs more than an idle one.
 *
 * Both reduce to two rates per replica-hour, busy and idle; the ledger prices busy replica-time at
 * the first and the rest at the second, so cost is linear in utilisation and attributes exactly.
 */
import type { Silicon } from '../catalog/catalog.js';
import type { Facility } from './facility.js';

export const HOURS_PER_YEAR = 8760;

/** Reserved-capacity discounts off the on-demand price. ASSUMPTION: the reference data has no reserved
 *  GPU VM prices; these are typical of published 1- and 3-year cloud reservations (Azure advertises
 *  savings "up to 72%" for 3-year reserved VMs; GPU SKUs are usually discounted less). */
export const COMMITMENT_DISCOUNT = { none: 0, '1y': 0.35, '3y': 0.55 } as const;
export type Commitment = keyof typeof COMMITMENT_DISCOUNT;

/** ASSUMPTION: catalog capex is the accelerator alone; host servers, network fabric, storage and the
 *  building's share are taken as equal to it again (overhead 1.0), absent a sourced breakdown. */
export const DEFAULT_OVERHEAD_FRACTION = 1.0;

export interface CostInput {
  model: 'rental' | 'tco';
  usd_per_chip_hour?: number;
  discount: number;
  commitment?: Commitment;
  capex_usd?: number;
  lifetime_years?: number;
  overhead_fraction?: number;
}

export interface DeploymentCost {
  model: 'rental' | 'tco';
  /** Cost per chip-hour that does not depend on utilisation: rental price after discounts, or amortised capex with overhead. */
  fixedUsdPerChipHour: number;
  /** Electricity per chip-hour, included in the cost only under `tco`. */
  busyEnergyUsdPerChipHour: number;
  idleEnergyUsdPerChipHour: number;
  /** Facility power per chip (chip power × PUE), for energy reporting under either model. */
  busyKw: number;
  idleKw: number;
  kgCo2ePerKwh: number;
  /** Human-readable provenance of every figure used, for run.json. */
  notes: string[];
}

/** USD per chip-hour of a busy and of an idle chip. */
export const busyUsdPerChipHour = (c: DeploymentCost) => c.fixedUsdPerChipHour + c.busyEnergyUsdPerChipHour;
export const idleUsdPerChipHour = (c: DeploymentCost) => c.fixedUsdPerChipHour + c.idleEnergyUsdPerChipHour;

/**
 * Resolves a deployment's cost section against its silicon's catalog row and the facility.
 * `fail(key, message)` builds the located input error.
 */
export function resolveCost(
  input: CostInput,
  silicon: Silicon,
  facility: Facility,
  fail: (key: string, message: string) => Error,
): DeploymentCost {
  const busyKw = (silicon.tdpW * facility.pue) / 1000;
  const idleKw = (silicon.idleW * facility.pue) / 1000;
  const notes: string[] = [];
  const energy = { busyKw, idleKw, kgCo2ePerKwh: facility.kgCo2ePerKwh };
  if (input.model === 'rental') {
    for (const k of ['capex_usd', 'lifetime_years', 'overhead_fraction'] as const) {
      if (input[k] !== undefined) throw fail(k, `${k} applies to model: tco, not rental`);
    }
    const list = input.usd_per_chip_hour ?? silicon.usdPerChipHour;
    const commitment = input.commitment ?? 'none';
    const reserved = COMMITMENT_DISCOUNT[commitment];
    if (commitment !== 'none') {
      notes.push(`commitment ${commitment}: ${reserved * 100}% off on-demand (assumed typical reserved-instance discount; no reserved GPU prices in the reference data)`);
    }
    return {
      model: 'rental',
      fixedUsdPerChipHour: list * (1 - reserved) * (1 - input.discount),
      busyEnergyUsdPerChipHour: 0,
      idleEnergyUsdPerChipHour: 0,
      ...energy,
      notes,
    };
  }
  if (input.usd_per_chip_hour !== undefined) throw fail('usd_per_chip_hour', 'usd_per_chip_hour applies to model: rental; tco uses capex_usd');
  if (input.commitment !== undefined) throw fail('commitment', 'commitment applies to model: rental');
  const capexUsd = input.capex_usd ?? silicon.capexUsd;
  const lifetimeYears = input.lifetime_years ?? silicon.lifetimeYears;
  if (!Number.isFinite(capexUsd)) throw fail('capex_usd', `silicon ${silicon.id} has no catalog capex_usd: give capex_usd`);
  if (!(lifetimeYears > 0)) throw fail('lifetime_years', `silicon ${silicon.id} has no catalog lifetime_years: give lifetime_years`);
  const overhead = input.overhead_fraction ?? DEFAULT_OVERHEAD_FRACTION;
  if (input.overhead_fraction === undefined) {
    notes.push(`overhead_fraction ${DEFAULT_OVERHEAD_FRACTION}: host, network, storage and building share taken equal to accelerator capex (assumption)`);
  }
  const fixed = (capexUsd * (1 + overhead) * (1 - input.discount)) / (lifetimeYears * HOURS_PER_YEAR);
  return {
    model: 'tco',
    fixedUsdPerChipHour: fixed,
    busyEnergyUsdPerChipHour: busyKw * facility.usdPerKwh,
    idleEnergyUsdPerChipHour: idleKw * facility.usdPerKwh,
    ...energy,
    notes,
  };
}
