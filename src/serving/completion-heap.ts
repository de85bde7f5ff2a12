/**
 * Per replica, the requests past their prefill in a binary heap ordered by (finishStep, admitSeq):
 * the top is the next to finish, so a decode run ends at the top's finish step. Heaps live in one
 * Int32Array (each replica's at its slotBase), positions in the request table's heapPos.
 */
import type { Fleet } from './fleet.js';
import { NONE } from '../engine/requests.js';

export function less(f: Fleet, a: number, b: number): boolean {
  const rq = f.requests;
  const fa = rq.finishStep[a];
  const fb = rq.finishStep[b];
  return fa < fb || (fa === fb && rq.admitSeq[a] < rq.admitSeq[b]);
}

/**
 * less(a, b) as 1 or 0, so sift-down can add it to pick the earlier child without a branch: which
 * child is earlier is a coin toss, while the loops' exits (kept on less) are mostly predicted.
 */
export function lessBit(f: Fleet, a: number, b: number): number {
  const rq = f.requests;
  const fa = rq.finishStep[a];
  const fb = rq.finishStep[b];
  return +(fa < fb) | (+(fa === fb) & +(rq.admitSeq[a] < rq.admitSeq[b]));
}

export function heapPush(f: Fleet, r: number, q: number): void {
  const i = f.heapCount[r]++;
  f.heap[f.slotBase[r] + i] = q;
  siftUp(f, r, i);
}

export function heapRemove(f: Fleet, r: number, q: number): void {
  const base = f.slotBase[r];
  const rq = f.requests;
  const i = rq.heapPos[q];
  const last = --f.heapCount[r];
  rq.heapPos[q] = NONE;
  if (i === last) return;
  const moved = f.heap[base + last];
  f.heap[base + i] = moved;
  rq.heapPos[moved] = i;
  siftUp(f, r, i);
  siftDown(f, r, rq.heapPos[moved]);
}

export function siftUp(f: Fleet, r: number, i: number): void {
  const base = f.slotBase[r];
  const rq = f.requests;
  const q = f.heap[base + i];
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = f.heap[base + parent];
    if (!less(f, q, p)) break;
    f.heap[base + i] = p;
    rq.heapPos[p] = i;
    i = parent;
  }
  f.heap[base + i] = q;
  rq.heapPos[q] = i;
}

export function siftDown(f: Fleet, r: number, i: number): void {
  const base = f.slotBase[r];
  const rq = f.requests;
  const n = f.heapCount[r];
  const q = f.heap[base + i];
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n) child += lessBit(f, f.heap[base + child + 1], f.heap[base + child]);
    const c = f.heap[base + child];
    if (!less(f, c, q)) break;
    f.heap[base + i] = c;
    rq.heapPos[c] = i;
    i = child;
  }
  f.heap[base + i] = q;
  rq.heapPos[q] = i;
}
