/**
 * Predicted against measured for a set of measurement rows, with the error per row and per metric.
 * The library behind `fleetsim fidelity`; `calibrate` reuses simulateMeasurement and the summary.
 */
import { METRICS, rowName, type Measurement, type MetricName } from './measurements.js';
import { setupKey, simulateMeasurement, type SimulateOptions } from './simulate-row.js';

export interface FidelityRow {
  measurement: Measurement;
  predicted: number;
  /** (predicted − measured) / measured × 100. */
  errorPct: number;
}

export interface MetricError {
  metric: MetricName;
  rows: number;
  /** Mean of |error_pct|. */
  mapePct: number;
  /** Median of |error_pct|. */
  medianAbsPct: number;
  /** The signed error of the row with the largest |error_pct|, and where that row is. */
  worstPct: number;
  worstRow: string;
}

export interface FidelityResult {
  rows: FidelityRow[];
  /** Rows with an `exclude` reason, not simulated. */
  excluded: Measurement[];
  byMetric: MetricError[];
  /** Distinct setups simulated (rows of one benchmark run share one). */
  simulations: number;
}

/** How a row is named (measurements.ts): `file:line`, `file benchmarks[3]` or the vLLM result's file. */
export { rowName };

export function errorPct(predicted: number, measured: number): number {
  return ((predicted - measured) / measured) * 100;
}

/** MAPE, median and worst |error| per metric, metrics in METRICS order. */
export function summarizeErrors(rows: readonly FidelityRow[]): MetricError[] {
  const out: MetricError[] = [];
  for (const metric of METRICS) {
    const mine = rows.filter((r) => r.measurement.metric === metric && Number.isFinite(r.errorPct));
    if (mine.length === 0) continue;
    const abs = mine.map((r) => Math.abs(r.errorPct)).sort((a, b) => a - b);
    const mid = abs.length >> 1;
    let worst = mine[0];
    for (const r of mine) if (Math.abs(r.errorPct) > Math.abs(worst.errorPct)) worst = r;
    out.push({
      metric,
      rows: mine.length,
      mapePct: abs.reduce((a, x) => a + x, 0) / abs.length,
      medianAbsPct: abs.length % 2 === 1 ? abs[mid] : (abs[mid - 1] + abs[mid]) / 2,
      worstPct: worst.errorPct,
      worstRow: rowName(worst.measurement),
    });
  }
  return out;
}

export interface FidelityOptions extends SimulateOptions {
  /** Called after each setup is simulated. */
  onProgress?: (done: number, total: number, setup: Measurement) => void;
}

/** Simulates each distinct setup once, in the order rows first name it, so results never depend on timing. */
export function runFidelity(measurements: readonly Measurement[], options: FidelityOptions = {}): FidelityResult {
  const excluded = measurements.filter((m) => m.exclude !== '');
  const live = measurements.filter((m) => m.exclude === '');
  const setups = new Map<string, Measurement[]>();
  for (const m of live) {
    const key = setupKey(m);
    const list = setups.get(key);
    if (list) list.push(m);
    else setups.set(key, [m]);
  }
  const predicted = new Map<Measurement, number>();
  let done = 0;
  for (const group of setups.values()) {
    const sim = simulateMeasurement(group[0], options);
    for (const m of group) predicted.set(m, sim.metrics[m.metric]);
    options.onProgress?.(++done, setups.size, group[0]);
  }
  const rows = live.map((m) => {
    const p = predicted.get(m)!;
    return { measurement: m, predicted: p, errorPct: errorPct(p, m.value) };
  });
  return { rows, excluded, byMetric: summarizeErrors(rows), simulations: setups.size };
}
