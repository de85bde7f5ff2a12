/** `fleetsim validate`: everything `run` checks before simulating, and a one-line account of it. */
import type { Scenario } from './load.js';
import { count } from './units.js';

export function validateScenario(s: Scenario): { summary: string; warnings: string[] } {
  const replicas = s.deployments.reduce((n, d) => n + d.replicas, 0);
  return {
    summary: [count(s.deployments.length, 'deployment'), count(replicas, 'replica'), count(s.workloads.length, 'workload'), count(s.incidents.length, 'incident')].join(', '),
    warnings: s.warnings,
  };
}
