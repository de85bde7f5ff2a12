/** `fleetsim validate`: everything `run` checks before simulating, and a one-line account of it. */
import { loadScenario } from './load.js';

export function validateScenario(file: string): { summary: string; warnings: string[] } {
  const s = loadScenario(file);
  const replicas = s.deployments.reduce((n, d) => n + d.replicas, 0);
  return {
    summary: `${s.deployments.length} deployments, ${replicas} replicas, ${s.workloads.length} workloads, ${s.incidents.length} incidents`,
    warnings: s.warnings,
  };
}
