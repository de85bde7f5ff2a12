/**
 * Automatic prefix caching (vLLM's, per replica): full KV blocks of shared prompt content stay in
 * the replica's cache after the requests that computed them are gone, and a later request whose
 * prompt starts with them skips their prefill and shares their memory.
 *
 * A block is identified by (segment, block index): block i of a prompt whose first `prefixTokens`
 * tokens are shared prefix `chain` is (chain, i) while (i + 1)·B ≤ prefixTokens, then (session, i)
 * for a conversation's own history. vLLM keys a block by a hash chained over every earlier block;
 * a segment id fixes the content of every block before it (a session belongs to one prefix
 * group), so two blocks have the same key exactly when their chained hashes would be equal.
 *
 * The blocks of one segment on one replica are one *extent*: `count` blocks from the segment's
 * first. That is exact, not an approximation of a block-by-block cache: every request of a prefix
 * group references all of the prefix's full blocks, a conversation has one turn in flight at a
 * time and each turn's blocks extend the last's, and a request gives its blocks back last block
 * first, so a segment's cached blocks are always a run from its first block, referenced together
 * or not at all, and evicted from the run's end. So a request costs O(1) here, not O(blocks) (a
 * 2,000-token prompt is 125 blocks of 16), with the hits, evictions and memory of the block-level
 * LRU (test/prefix-cache.test.ts checks them against an independent block-level reference).
 *
 * An extent is referenced (ref > 0) while requests in the replica's batch use it, and otherwise
 * sits in the replica's LRU list, its blocks counted as free memory: `kvCapacityBlocks[r]` is the
 * replica's blocks minus its *referenced* blocks, so admission, decode-run planning and preemption
 * work on private blocks alone. Evictable blocks are given up least recently used first (the
 * oldest extent's last block first) whenever private + referenced + evictable would exceed the
 * cache (`reconcile`, at every admission and every departure from a batch: private blocks only
 * grow in between, so this loses the same blocks in the same order as evicting at each moment the
 * memory was taken, and the step-by-step and collapsed engines agree on the cache).
 *
 * The extents' storage is prefix-store.ts; requests replayed from a trace with block hashes
 * (Mooncake's `hash_ids`) key theirs by the hash chain instead (block-chains.ts).
 */
import type { Fleet } from './fleet.js';
import type { Deployment, Scenario, Workload } from '../scenario/load.js';
import { NONE, type RequestTable } from '../engine/requests.js';
import { kvAdd, kvBlocksAt, kvBlocksBound } from './kv-blocks.js';
import { drop, newRefs, take } from './prefix-store.js';
import { chainAcquire, chainCachedBlocks, chainProbe, chainRelease } from './block-chains.js';
import { copiedBlocks, hostRun } from './host-tier.js';

export { PrefixCache } from './prefix-store.js';

/** Per replica, the host tier's blocks and seconds to copy one block to the GPU (deployment `kv_offload`; 0 blocks without), or nulls when no deployment offloads. */
export function hostTierOf(deps: readonly Deployment[], deploymentOf: Int32Array): [Float64Array | null, Float64Array | null] {
  if (!deps.some((d) => d.kvOffload !== null)) return [null, null];
  const blocks = Float64Array.from(deploymentOf, (d) => deps[d].kvOffload?.blocks ?? 0);
  const sPerBlock = Float64Array.from(deploymentOf, (d) => deps[d].kvOffload?.sPerBlock ?? 0);
  return [blocks, sPerBlock];
}

/**
 * Per deployment, 1 where a workload with shared prompt blocks (a prefix, sessions, a trace's hash
 * chains) can be routed (its model or a fallback). A deployment no such workload reaches keeps an
 * empty cache whatever prefix_caching says (every probe finds nothing, every release frees
 * nothing), so its replicas skip the cache's bookkeeping: no output changes, and fleets without
 * prefixes keep it off every admission and departure.
 */
export function sharedDeployments(scenario: Scenario): Uint8Array {
  const shared = new Uint8Array(scenario.deployments.length);
  for (const w of scenario.workloads) {
    if (!sharesPrompts(w)) continue;
    for (const d of scenario.deployments) if (d.model.id === w.model || w.fallback.includes(d.model.id)) shared[d.index] = 1;
  }
  return shared;
}

/** Whether workload w's prompts may share KV blocks: a prefix, sessions, or a trace's hash chains (Mooncake). */
export function sharesPrompts(w: Workload): boolean {
  return w.prefix !== null || w.session !== null || (w.arrival.process === 'trace' && w.arrival.format === 'mooncake');
}

/** Full blocks of request q's prompt that belong to its prefix group (the rest of its shared blocks are its session's). */
function groupBlocks(f: Fleet, q: number, B: number): number {
  return f.requests.prefixChain[q] === NONE ? 0 : Math.floor(f.requests.prefixTokens[q] / B);
}

/** Full blocks of request q's prompt that are shared content (a prefix group's, its session's). */
function cacheableBlocks(f: Fleet, q: number, B: number): number {
  if (f.requests.sessionChain[q] !== NONE) return Math.floor(f.requests.promptTokens[q] / B);
  return groupBlocks(f, q, B);
}

/**
 * Looks up request q's prompt in replica r's cache without changing it. Writes to f.probe:
 * [0] blocks found from the start of the prompt whose prefill is skipped (at most all but the
 * last token's block, as vLLM always computes the last prompt token), [1] blocks q will share
 * (found or not), [2] blocks that become referenced (found unreferenced, or new), [3] of [0], the
 * blocks found in the host tier (kv_offload), to be copied to the GPU.
 */
export function probe(f: Fleet, r: number, q: number): void {
  const c = f.cache!;
  const rq = f.requests;
  if (rq.chainLeaf[q] !== NONE) return chainProbe(f, r, q);
  const B = f.blockTokens[r];
  const n = cacheableBlocks(f, q, B);
  const g = groupBlocks(f, q, B);
  const prefillTokens = rq.promptTokens[q] + rq.generated[q];
  const cap = Math.floor((prefillTokens - 1) / B);
  let found = 0;
  let refs = 0;
  let copied = 0;
  if (g > 0) {
    const e = c.find(r, rq.prefixChain[q]);
    if (e !== NONE) found = c.count[e];
    // The host holds the segment's blocks right after the GPU's (host-tier.ts).
    const h = hostRun(c, e, g);
    if (h > 0) {
      copied += copiedBlocks(found, h, cap);
      found += h;
    }
    refs += newRefs(c, e, g);
  }
  if (n > g) {
    const e = c.find(r, rq.sessionChain[q]);
    if (found === g && e !== NONE) {
      found += c.count[e];
      const h = hostRun(c, e, n - g);
      if (h > 0) {
        copied += copiedBlocks(found, h, cap);
        found += h;
      }
    }
    refs += newRefs(c, e, n - g);
  }
  f.probe[0] = found < cap ? found : cap;
  f.probe[1] = n;
  f.probe[2] = refs;
  f.probe[3] = copied;
}

/**
 * Seconds replica r spends copying `blocks` promoted blocks from host memory before the iteration
 * that prefills them (not overlapped with compute: docs/prefix-caching.md#host-offload).
 */
export function hostCopyS(f: Fleet, r: number, blocks: number): number {
  return blocks > 0 ? blocks * f.cache!.host!.sPerBlock[r] : 0;
}

/**
 * Request q joins replica r's batch holding the blocks `probe` found: references them (adding
 * the missing ones) and records how many it shares and how many prompt tokens it skips. Call
 * right after `probe` on the same replica, before addToBatch.
 */
export function acquire(f: Fleet, r: number, q: number): void {
  const c = f.cache!;
  const rq = f.requests;
  const B = f.blockTokens[r];
  const n = f.probe[1];
  const g = groupBlocks(f, q, B);
  if (rq.chainLeaf[q] !== NONE) chainAcquire(f, r, q);
  else {
    rq.prefixEntry[q] = g > 0 ? take(c, r, rq.prefixChain[q], 0, g) : NONE;
    rq.lastEntry[q] = n > g ? take(c, r, rq.sessionChain[q], g, n - g) : NONE;
  }
  rq.sharedBlocks[q] = n;
  f.kvCapacityBlocks[r] -= f.probe[2];
  const hitTokens = f.probe[0] * B;
  rq.hitTokens[q] = hitTokens;
  // The bill counts the cache hits of the prefill that produced the first token (a recomputation
  // after preemption is the platform's cost, not the tenant's).
  if (rq.firstTokenS[q] < 0) {
    rq.cachedTokens[q] = hitTokens;
    rq.offloadTokens[q] = f.probe[3] * B;
  }
}

/**
 * Request q leaves replica r's batch: its extents lose a reference, and those no request uses any
 * more join the LRU list, its conversation's before its prefix's, as vLLM frees a request's
 * blocks last block first (so a prompt's tail is evicted before its head). A completed
 * conversation turn leaves its answer cached too, for the next turn (vLLM caches blocks as
 * decoding fills them): they were private, now they are the conversation extent's last blocks.
 * Called after the request's private blocks were given back; the blocks it frees and those it
 * turns into cache are as many as it gave back, so nothing needs evicting.
 */
export function release(f: Fleet, r: number, q: number, completed: boolean): void {
  const c = f.cache!;
  const rq = f.requests;
  const B = f.blockTokens[r];
  let freed = 0;
  let e = rq.lastEntry[q];
  if (completed && rq.sessionChain[q] !== NONE) {
    const g = groupBlocks(f, q, B);
    // The next turn resends only the visible answer (reasoning dropped): a turn that reasoned keeps its prompt's blocks alone.
    const full = Math.floor((rq.promptTokens[q] + (rq.reasoningTokens[q] > 0 ? 0 : rq.outputTokens[q])) / B);
    if (full > rq.sharedBlocks[q]) {
      if (e === NONE) {
        // Every shared block of the prompt was the prefix's: the answer opens the conversation's
        // extent (with a host tier it may exist already, holding host blocks alone).
        if (c.host !== null) e = c.find(r, rq.sessionChain[q]);
        if (e === NONE) e = c.insert(r, rq.sessionChain[q], g);
        c.ref[e] = 1;
      }
      // The extent is referenced by this request alone (a conversation has one turn in flight).
      if (c.host !== null && c.hostCount[e] > 0 && full - g > c.count[e]) c.host.promote(c, e, full - g - c.count[e]);
      c.count[e] = full - g;
      c.referenced[r] += full - rq.sharedBlocks[q];
      f.kvCapacityBlocks[r] -= full - rq.sharedBlocks[q];
    }
  }
  if (e !== NONE) freed += drop(c, e);
  if (rq.prefixEntry[q] !== NONE) freed += drop(c, rq.prefixEntry[q]);
  if (rq.chainLeaf[q] !== NONE) freed += chainRelease(f, r, q);
  f.kvCapacityBlocks[r] += freed;
  rq.sharedBlocks[q] = 0;
  rq.lastEntry[q] = NONE;
  rq.prefixEntry[q] = NONE;
  rq.hitTokens[q] = 0;
}

/**
 * Request q joins replica r's batch (replica.ts addToBatch, on a caching replica): its private KV
 * is its prompt, the tokens generated and `extra` less the full blocks it shares (acquire set
 * them), whose tokens attention still reads.
 */
export function joinCache(f: Fleet, r: number, q: number, extra: number): void {
  const rq = f.requests;
  const shared = rq.sharedBlocks[q] * f.blockTokens[r];
  const phase = rq.promptTokens[q] + rq.generated[q] + extra - f.step[r] - shared;
  rq.kvPhase[q] = phase;
  kvAdd(f, r, phase, 1);
  f.sharedTokens[r] += shared;
  reconcile(f, r);
}

/**
 * Request q leaves replica r's batch (replica.ts removeFromBatch, on a caching replica). Memory the
 * batch took since the last admission or departure evicted cache blocks: that is settled before
 * this request's blocks come free.
 */
export function leaveCache(f: Fleet, r: number, q: number, completed: boolean): void {
  reconcile(f, r);
  kvAdd(f, r, f.requests.kvPhase[q], -1);
  f.sharedTokens[r] -= f.requests.sharedBlocks[q] * f.blockTokens[r];
  release(f, r, q, completed);
}

/**
 * Evicts replica r's least recently used evictable blocks until its private blocks (exact, at
 * its current step), referenced and evictable blocks fit the cache.
 */
export function reconcile(f: Fleet, r: number): void {
  const c = f.cache!;
  if (c.evictable[r] === 0) return;
  const total = f.kvTotalBlocks[r];
  const held = c.referenced[r] + c.evictable[r];
  const s = f.step[r];
  if (f.batch[r] === 0 ? held <= total : kvBlocksBound(f, r, s) + held <= total) return;
  const priv = f.batch[r] === 0 ? 0 : kvBlocksAt(f, r, s);
  const excess = priv + held - total;
  if (excess > 0) c.evict(r, excess < c.evictable[r] ? excess : c.evictable[r]);
}

/** Blocks of q's prompt, from the start, in replica r's cache (read-only; for routing). */
export function cachedPrefixBlocks(f: Fleet, r: number, q: number): number {
  const c = f.cache!;
  const rq = f.requests;
  if (rq.chainLeaf[q] !== NONE) return chainCachedBlocks(f, r, q);
  const B = f.blockTokens[r];
  const n = cacheableBlocks(f, q, B);
  const g = groupBlocks(f, q, B);
  let found = 0;
  if (g > 0) {
    const e = c.find(r, rq.prefixChain[q]);
    if (e !== NONE) found = c.count[e] < g ? c.count[e] : g;
    if (found < g) return found;
  }
  if (n > g) {
    const e = c.find(r, rq.sessionChain[q]);
    if (e !== NONE) found += c.count[e] < n - g ? c.count[e] : n - g;
  }
  return found;
}

/** A new request's prefix-caching fields: its prefix segment and length (NONE, 0: none), its hash chain's last node (NONE: none), nothing held. */
export function resetPrefix(rq: RequestTable, q: number, prefixChain: number, prefixTokens: number, chainLeaf: number): void {
  rq.chainLeaf[q] = chainLeaf;
  rq.prefixChain[q] = prefixChain;
  rq.prefixTokens[q] = prefixTokens;
  rq.sessionChain[q] = NONE;
  rq.sharedBlocks[q] = 0;
  rq.lastEntry[q] = NONE;
  rq.prefixEntry[q] = NONE;
  rq.hitTokens[q] = 0;
  rq.cachedTokens[q] = 0;
  rq.offloadTokens[q] = 0;
}
