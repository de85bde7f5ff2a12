/**
 * Queue classes (workload `priority: interactive | standard | batch`): each replica's queue stays
 * one linked list, kept in class order (interactive, then standard, then batch) and FIFO within a
 * class, so the schedulers still take from its head and never admit a lower class while a higher
 * one waits there. The list is threaded through rq.next as before; per replica and class a tail
 * (the last request of that class) makes every insertion O(1): a new request goes after its class's
 * tail, or after the nearest higher class's tail when its class is empty, or at the head. A
 * preempted request goes back to the front of its class. Under KV pressure the victim is the
 * lowest class's latest admitted (kv-blocks.ts preemptLatest). With one class only, the order is
 * plain FIFO: the fleet then keeps no classes at all (`priority` null), and nothing changes.
 */
import type { Scenario } from '../scenario/load.js';
import type { Fleet } from './fleet.js';
import { NONE } from '../engine/requests.js';

/** interactive, standard, batch (schema PRIORITIES). */
export const CLASSES = 3;

export class Priority {
  /** Per workload, its class: 0 interactive, 1 standard, 2 batch. */
  readonly classOf: Uint8Array;
  /** [r * CLASSES + c]: the last request of class c in replica r's queue, or NONE. */
  readonly classTail: Int32Array;

  constructor(scenario: Scenario, replicas: number) {
    this.classOf = Uint8Array.from(scenario.workloads, (w) => w.priority);
    this.classTail = new Int32Array(replicas * CLASSES).fill(NONE);
  }
}

/** The fleet's queue classes, or null when every queued workload is of one class (FIFO queues, as without priorities). */
export function priorityOf(scenario: Scenario, replicas: number): Priority | null {
  // Batch-tier workloads never enter a replica's queue (batch-tier.ts): they do not make classes.
  const queued = scenario.workloads.filter((w) => w.batch === null);
  return queued.every((w) => w.priority === queued[0].priority) ? null : new Priority(scenario, replicas);
}

/**
 * Links request q into replica r's queue at its class's place (`front`: before the others of its
 * class, for a preempted request) and counts it; replica.ts enqueue does the rest.
 */
export function linkByClass(f: Fleet, r: number, q: number, front: boolean): void {
  const p = f.priority!;
  const rq = f.requests;
  const base = r * CLASSES;
  const c = p.classOf[rq.workload[q]];
  // An emptied queue leaves stale tails behind (pops elsewhere empty it without asking): forget them.
  if (f.queueLen[r] === 0) for (let k = 0; k < CLASSES; k++) p.classTail[base + k] = NONE;
  let prev = front ? NONE : p.classTail[base + c];
  for (let k = c - 1; prev === NONE && k >= 0; k--) prev = p.classTail[base + k];
  if (prev === NONE) {
    rq.next[q] = f.queueLen[r] === 0 ? NONE : f.queueHead[r];
    f.queueHead[r] = q;
    if (f.queueLen[r] === 0) f.queueTail[r] = q;
  } else {
    rq.next[q] = rq.next[prev];
    rq.next[prev] = q;
    if (prev === f.queueTail[r]) f.queueTail[r] = q;
  }
  if (!front || p.classTail[base + c] === NONE) p.classTail[base + c] = q;
  f.queueLen[r]++;
}

/** Request q, the head of replica r's queue, has just been taken off it (admitted or timed out). */
export function unlinkHead(f: Fleet, r: number, q: number): void {
  const p = f.priority!;
  const at = r * CLASSES + p.classOf[f.requests.workload[q]];
  // The head is its class's first; it was the class's tail only if it was the class's last.
  if (p.classTail[at] === q) p.classTail[at] = NONE;
}

/** The request of replica r's batch to preempt: the lowest class's latest admitted. */
export function preemptionVictim(f: Fleet, r: number): number {
  const classOf = f.priority!.classOf;
  const rq = f.requests;
  const base = f.slotBase[r];
  let victim = f.slots[base];
  let victimClass = classOf[rq.workload[victim]];
  for (let i = 1; i < f.batch[r]; i++) {
    const q = f.slots[base + i];
    const c = classOf[rq.workload[q]];
    if (c > victimClass || (c === victimClass && rq.admitSeq[q] > rq.admitSeq[victim])) {
      victim = q;
      victimClass = c;
    }
  }
  return victim;
}
