/**
 * The batching policies, one module each, behind one small interface: `start(fleet, r)` is called
 * at every boundary of replica r (after finished steps are committed and completed requests
 * retired) and must start its next iteration (schedule the replica's event) or leave it IDLE.
 *
 * Adding a scheduler: write schedulers/NAME.ts exporting its start function, add one entry to
 * SCHEDULERS below, and its kind to SCHEDULERS in src/scenario/schema.ts (docs/extending.md).
 */
import type { Deployment } from '../../scenario/load.js';
import type { Fleet } from '../fleet.js';
import { SCHED_CHUNKED, SCHED_CONTINUOUS, SCHED_DECODE_POOL, SCHED_PREFILL_POOL, SCHED_STATIC } from '../kinds.js';
import { startChunked } from './chunked.js';
import { startContinuous } from './continuous.js';
import { startDecodePool, startPrefillPool } from './disaggregated.js';
import { startStatic } from './static.js';

export interface Scheduler {
  /** The deployment's `scheduler:` value. */
  readonly kind: Deployment['scheduler'];
  /** For a deployment split into pools: which pool's replicas run this policy. */
  readonly pool?: 'prefill' | 'decode';
  readonly start: (f: Fleet, r: number) => void;
}

/** A replica's scheduler is its index here (kinds.ts names the built-in ones: SCHED_*). */
export const SCHEDULERS: readonly Scheduler[] = [
  { kind: 'continuous', start: startContinuous },
  { kind: 'chunked', start: startChunked },
  { kind: 'static', start: startStatic },
  { kind: 'disaggregated', pool: 'prefill', start: startPrefillPool },
  { kind: 'disaggregated', pool: 'decode', start: startDecodePool },
];

/** The scheduler index of a replica of a deployment with `kind`, in its prefill pool or not. */
export function schedulerOf(kind: Deployment['scheduler'], prefillPool: boolean): number {
  const pool = prefillPool ? 'prefill' : 'decode';
  const i = SCHEDULERS.findIndex((s) => s.kind === kind && (s.pool === undefined || s.pool === pool));
  if (i < 0) throw new Error(`internal: no scheduler registered for '${kind}'`);
  return i;
}

/**
 * Starts replica r's next iteration under its scheduler. A `switch` on the replica's small integer,
 * not `SCHEDULERS[k].start(f, r)`: each case is a direct call V8 can inline, where a call through
 * the table sees five different functions at one site (megamorphic) on every boundary. A policy
 * added to SCHEDULERS only runs through the default branch, correctly, until it gets a case here.
 */
export function startIteration(f: Fleet, r: number): void {
  const kind = f.sched[r];
  switch (kind) {
    case SCHED_CONTINUOUS:
      startContinuous(f, r);
      return;
    case SCHED_CHUNKED:
      startChunked(f, r);
      return;
    case SCHED_STATIC:
      startStatic(f, r);
      return;
    case SCHED_PREFILL_POOL:
      startPrefillPool(f, r);
      return;
    case SCHED_DECODE_POOL:
      startDecodePool(f, r);
      return;
    default:
      SCHEDULERS[kind].start(f, r);
  }
}
