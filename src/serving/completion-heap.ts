/**
 * Per replica, the requests past their prefill in a binary heap ordered by (finishStep, admitSeq):
 * the top is the next to finish, so a decode run ends at the top's finish step. Heaps live in one
 * Int32Array (each replica's at its slotBase), positions in the request table's heapPos.
 *
 * Each entry's key (finishStep, admitSeq) sits beside it in Fleet.heapKey, at [2·j] and [2·j + 1]
 * for heap slot j (absolute), so a sift compares keys next to each other in memory instead of
 * reading two request-table columns at scattered request ids (a cache miss each on a busy
 * replica). A request's key is fixed while it is in the heap: finishStep and admitSeq are written
 * before heapPush. The comparisons are those on the table's values, so the order is the same.
 */
import type { Fleet } from './fleet.js';
import { NONE } from '../engine/requests.js';

/**
 * Whether slot i's key orders before slot j's, as 1 or 0, so sift-down can add it to pick the
 * earlier child without a branch: which child is earlier is a coin toss, while the loops' exits
 * (kept on a branch) are mostly predicted.
 */
function lessBit(k: Float64Array, i: number, j: number): number {
  const fa = k[2 * i];
  const fb = k[2 * j];
  return +(fa < fb) | (+(fa === fb) & +(k[2 * i + 1] < k[2 * j + 1]));
}

/** The finish step of replica r's next request to finish (its heap must not be empty). */
export function topFinishStep(f: Fleet, r: number): number {
  return f.heapKey[2 * f.slotBase[r]];
}

export function heapPush(f: Fleet, r: number, q: number): void {
  const i = f.heapCount[r]++;
  const j = f.slotBase[r] + i;
  const rq = f.requests;
  f.heap[j] = q;
  f.heapKey[2 * j] = rq.finishStep[q];
  f.heapKey[2 * j + 1] = rq.admitSeq[q];
  siftUp(f, r, i);
}

export function heapRemove(f: Fleet, r: number, q: number): void {
  const base = f.slotBase[r];
  const rq = f.requests;
  const i = rq.heapPos[q];
  const last = --f.heapCount[r];
  rq.heapPos[q] = NONE;
  if (i === last) return;
  const k = f.heapKey;
  const to = base + i;
  const from = base + last;
  const moved = f.heap[from];
  f.heap[to] = moved;
  k[2 * to] = k[2 * from];
  k[2 * to + 1] = k[2 * from + 1];
  rq.heapPos[moved] = i;
  siftUp(f, r, i);
  siftDown(f, r, rq.heapPos[moved]);
}

export function siftUp(f: Fleet, r: number, i: number): void {
  const base = f.slotBase[r];
  const rq = f.requests;
  const heap = f.heap;
  const k = f.heapKey;
  const q = heap[base + i];
  const stepQ = k[2 * (base + i)];
  const seqQ = k[2 * (base + i) + 1];
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const from = base + parent;
    const stepP = k[2 * from];
    const seqP = k[2 * from + 1];
    // q before its parent, or stop.
    if (!(stepQ < stepP || (stepQ === stepP && seqQ < seqP))) break;
    const p = heap[from];
    const to = base + i;
    heap[to] = p;
    k[2 * to] = stepP;
    k[2 * to + 1] = seqP;
    rq.heapPos[p] = i;
    i = parent;
  }
  const to = base + i;
  heap[to] = q;
  k[2 * to] = stepQ;
  k[2 * to + 1] = seqQ;
  rq.heapPos[q] = i;
}

export function siftDown(f: Fleet, r: number, i: number): void {
  const base = f.slotBase[r];
  const rq = f.requests;
  const heap = f.heap;
  const k = f.heapKey;
  const n = f.heapCount[r];
  const q = heap[base + i];
  const stepQ = k[2 * (base + i)];
  const seqQ = k[2 * (base + i) + 1];
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n) child += lessBit(k, base + child + 1, base + child);
    const from = base + child;
    const stepC = k[2 * from];
    const seqC = k[2 * from + 1];
    // The earlier child before q, or stop.
    if (!(stepC < stepQ || (stepC === stepQ && seqC < seqQ))) break;
    const c = heap[from];
    const to = base + i;
    heap[to] = c;
    k[2 * to] = stepC;
    k[2 * to + 1] = seqC;
    rq.heapPos[c] = i;
    i = child;
  }
  const to = base + i;
  heap[to] = q;
  k[2 * to] = stepQ;
  k[2 * to + 1] = seqQ;
  rq.heapPos[q] = i;
}
