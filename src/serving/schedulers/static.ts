/**
 * scheduler static: a batch is admitted only once the previous one has drained, all prefilled
 * together (no token budget), and arrivals never cut its decode runs short (replica.ts enqueue).
 */
import type { Fleet } from '../fleet.js';
import { SCHED_STATIC } from '../kinds.js';
import { decodeOrIdle } from '../replica.js';
import { admitPrefillFirst } from './continuous.js';



export function startStatic(f: Fleet, r: number): void {
  if (f.queueLen[r] > 0 && f.batch[r] === 0 && admitPrefillFirst(f, r, SCHED_STATIC)) return;
  decodeOrIdle(f, r);
}
