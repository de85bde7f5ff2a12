/**
 * KV block accounting of a replica's batch, and preemption when the blocks run out. A request's
 * tokens at replica step s are kvPhase + s; the batch's blocks at s are Σ ceil((kvPhase + s) / B),
 * kept as kvBlockBase plus a residue table (token count mod B), so the exact count is O(B) and an
 * upper bound O(1). Admission and run planning ask the bound first and sum the table only when the
 * bound says the cache may be full.
 */
import type { Fleet } from './fleet.js';
import { NONE } from '../engine/requests.js';
import { enqueue, removeFromBatch } from './replica.js';
import { decodeStepsWithin } from '../perf/roofline.js';
import { DECODE } from './kinds.js';
import { preemptionVictim } from './priority.js';
import { batchRequeue } from './batch-tier.js';

/**
 * The residue class (token count mod B) of the requests that open a new block going from step s to
 * s + 1: those whose phase ≡ −s (mod B). Floor-based, since `%` on a double is a C call in V8.
 */
export function openingResidue(s: number, B: number): number {
  const t = s - Math.floor(s / B) * B;
  return t === 0 ? 0 : B - t;
}

export function blocksFor(f: Fleet, r: number, tokens: number): number {
  const b = f.blockTokens[r];
  return Math.ceil(tokens / b);
}

/** KV blocks the batch holds at replica step s: Σ ceil((phase_i + s) / B), in O(B) via residues. */
export function kvBlocksAt(f: Fleet, r: number, s: number): number {
  const B = f.blockTokens[r];
  const base = f.kvResidueBase[r];
  let total = f.kvBlockBase[r];
  for (let rho = 0; rho < B; rho++) {
    const n = f.kvResidue[base + rho];
    if (n !== 0) total += n * Math.floor((rho + s + B - 1) / B);
  }
  return total;
}

/**
 * An upper bound on kvBlocksAt(r, s) in O(1): Σ ceil(x_i / B) ≤ floor((Σ x_i + b·(B − 1)) / B),
 * with Σ x_i = sumPhase + b·s the tokens held. Exact integers in doubles, so the bound is sound.
 */
export function kvBlocksBound(f: Fleet, r: number, s: number): number {
  const B = f.blockTokens[r];
  const b = f.batch[r];
  return Math.floor((f.sumPhase[r] + b * (s + B - 1)) / B);
}

/**
 * Whether a cache holding `blocks` (exact, or an upper bound) has room for the batch's next decode
 * step without preempting: a step opens at most one block per request.
 */
export function holdsNextStep(f: Fleet, r: number, blocks: number): boolean {
  return blocks + f.batch[r] <= f.kvCapacityBlocks[r];
}

/** Blocks the batch opens going from step s to s + 1: requests whose tokens reach a multiple of B. */
export function kvOpening(f: Fleet, r: number, s: number): number {
  return f.kvResidue[f.kvResidueBase[r] + openingResidue(s, f.blockTokens[r])];
}

export function kvAdd(f: Fleet, r: number, phase: number, sign: number): void {
  const B = f.blockTokens[r];
  const a = Math.floor(phase / B);
  f.kvBlockBase[r] += sign * a;
  f.kvResidue[f.kvResidueBase[r] + (phase - a * B)] += sign;
  f.sumPhase[r] += sign * phase;
}

/** Most decode steps from `s` the KV cache can hold before it needs more blocks than it has. */
export function kvStepsLeft(f: Fleet, r: number, s: number, blocksAtS: number, limit: number): number {
  const B = f.blockTokens[r];
  const b = f.batch[r];
  const free = f.kvCapacityBlocks[r] - blocksAtS;
  if (free < 0) return 0;
  // Every B steps each request crosses exactly one block boundary.
  const cycles = Math.floor(free / b);
  let n = cycles * B;
  if (n >= limit) return limit;
  let used = f.kvCapacityBlocks[r] - free + cycles * b;
  const base = f.kvResidueBase[r];
  // Going from step t to t+1, requests whose tokens reach a multiple of B open a block; the
  // residue that does so steps down by one (mod B) as t steps up.
  let rho = openingResidue(s + n, B);
  for (;;) {
    used += f.kvResidue[base + rho];
    if (used > f.kvCapacityBlocks[r] || n >= limit) return Math.min(n, limit);
    n++;
    rho = rho === 0 ? B - 1 : rho - 1;
  }
}

/** Preempts the latest admitted request of the batch (with queue classes: of its lowest class, priority.ts). */
export function preemptLatest(f: Fleet, r: number): void {
  const rq = f.requests;
  const base = f.slotBase[r];
  let victim = f.slots[base];
  if (f.priority !== null) victim = preemptionVictim(f, r);
  else {
    for (let i = 1; i < f.batch[r]; i++) {
      const q = f.slots[base + i];
      if (rq.admitSeq[q] > rq.admitSeq[victim]) victim = q;
    }
  }
  // Recompute later: keep the tokens generated so far, give back their KV. A prompt still being
  // chunked has generated nothing; its chunks are recomputed with it.
  if (victim === f.chunkReq[r]) {
    f.chunkReq[r] = NONE;
    f.chunkDone[r] = 0;
  } else rq.generated[victim] += f.step[r] - rq.baseStep[victim];
  removeFromBatch(f, r, victim);
  f.recorder.preemptions[f.deploymentOf[r]]++;
  if (f.batchTier !== null && f.batchTier.isBatch[rq.workload[victim]] !== 0) batchRequeue(f, victim);
  else enqueue(f, r, victim, true);
}

/** KV blocks replica r holds at `nowS`, counting decode steps finished inside a collapsed run (timeseries). */
export function kvBlocksNow(f: Fleet, r: number, nowS: number): number {
  let s = f.step[r];
  if (f.phase[r] === DECODE) {
    const c = f.runCoeffView[r];
    s += decodeStepsWithin(c, nowS - f.runStartS[r], f.runSteps[r]);
  }
  const shared = f.cache === null ? 0 : f.cache.referenced[r];
  return f.batch[r] === 0 ? shared : kvBlocksAt(f, r, s) + shared;
}
