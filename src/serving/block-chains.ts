/**
 * The prefix cache for requests replayed from a trace with block hashes (Mooncake's `hash_ids`,
 * one per hash block of `hash_block_tokens`, 512 in Mooncake's traces). Such prompts share
 * prefixes as a tree, not as one prefix group per request, so their blocks are keyed by the hash
 * chain: hash block i of a prompt is node n of the chain table (chain-table.ts), the same node for
 * every prompt whose hash_ids agree up to it, and its KV blocks on replica r are the extent of
 * segment −2 − n (prefix-store.ts; prefix groups and conversations take the segments ≥ 0).
 *
 * A node holds its hash block's full KV blocks of `block_tokens` (hash blocks are a whole number of
 * KV blocks; the loader checks it), all of them wherever a prompt covers the whole hash block, and
 * the full KV blocks of a prompt's last, partial hash block otherwise (its hash id names that
 * partial content, so every prompt reaching the node holds as many). A request references every
 * node of its prompt while in a batch, so the extent rules hold per node: referenced together,
 * evicted from the end. The lookup walks the chain from the first block and stops at the first
 * node not held whole (vLLM stops at the first missing block); later nodes still held are
 * reused for memory but prefilled again.
 *
 * Each request costs O(hash blocks) lookups (a 12,000-token Mooncake prompt is 24), walking the
 * chain from its last node up; nothing is allocated once the scratch path has grown.
 */
import type { Fleet } from './fleet.js';
import { grown } from '../engine/grow.js';
import { NONE } from '../engine/requests.js';
import { drop, newRefs, take, type PrefixCache } from './prefix-store.js';
import { copiedBlocks, hostRun } from './host-tier.js';

let path = new Int32Array(256);

/** Fills `path` with the chain ending at node `leaf`, first block first; returns its length. */
function chainPath(f: Fleet, leaf: number): number {
  const parent = f.cache!.chains.parent;
  let m = 0;
  for (let n = leaf; n !== NONE; n = parent[n]) m++;
  if (m > path.length) path = grown(path, 2 * m);
  let i = m;
  for (let n = leaf; n !== NONE; n = parent[n]) path[--i] = n;
  return m;
}

/** Full KV blocks of B tokens of request q's prompt inside node n. */
function nodeBlocks(f: Fleet, q: number, n: number, B: number): number {
  const chains = f.cache!.chains;
  const start = chains.startTokens[n];
  const end = start + chains.widthTokens[n];
  const prompt = f.requests.promptTokens[q];
  const tokens = (end < prompt ? end : prompt) - start;
  return tokens > 0 ? Math.floor(tokens / B) : 0;
}

/**
 * Blocks of extent e a request needing `need` of them references: all it holds when that is more
 * (a trace that gives one hash id to a partial block in one row and a full one in another: the
 * extent is referenced whole or not at all).
 */
function held(c: PrefixCache, e: number, need: number): number {
  return e !== NONE && c.count[e] > need ? c.count[e] : need;
}

/** The cache segment of node n. */
function segmentOf(n: number): number {
  return -2 - n;
}

/** `probe` for a chained request: f.probe gets blocks found from the start, blocks shared, blocks newly referenced, blocks found on the host. */
export function chainProbe(f: Fleet, r: number, q: number): void {
  const c = f.cache!;
  const B = f.blockTokens[r];
  const m = chainPath(f, f.requests.chainLeaf[q]);
  const rq = f.requests;
  const cap = Math.floor((rq.promptTokens[q] + rq.generated[q] - 1) / B);
  let found = 0;
  let run = true;
  let shared = 0;
  let refs = 0;
  let copied = 0;
  for (let i = 0; i < m; i++) {
    const need = nodeBlocks(f, q, path[i], B);
    if (need === 0) continue;
    const e = c.find(r, segmentOf(path[i]));
    if (run) {
      const has = e === NONE ? 0 : c.count[e];
      let got = has < need ? has : need;
      // The host holds the node's blocks right after the GPU's (host-tier.ts).
      const h = got < need ? hostRun(c, e, need) : 0;
      if (h > 0) {
        copied += copiedBlocks(found + got, h, cap);
        got += h;
      }
      found += got;
      run = got >= need;
    }
    shared += need;
    refs += newRefs(c, e, held(c, e, need));
  }
  f.probe[0] = found < cap ? found : cap;
  f.probe[1] = shared;
  f.probe[2] = refs;
  f.probe[3] = copied;
}

/** `acquire`'s references for a chained request: every node of its prompt, first block first. */
export function chainAcquire(f: Fleet, r: number, q: number): void {
  const c = f.cache!;
  const B = f.blockTokens[r];
  const m = chainPath(f, f.requests.chainLeaf[q]);
  for (let i = 0; i < m; i++) {
    const need = nodeBlocks(f, q, path[i], B);
    if (need === 0) continue;
    const seg = segmentOf(path[i]);
    take(c, r, seg, c.chains.startTokens[path[i]] / B, held(c, c.find(r, seg), need));
  }
}

/**
 * `release`'s part for a chained request: its nodes lose a reference, last block first, so the
 * nodes no request uses any more join the LRU list tail first (evicted before the head, as vLLM
 * frees a request's blocks). Returns the blocks that stopped being referenced. A completed
 * request's answer is not kept: its blocks' hash ids are only known to the next row that resends them.
 */
export function chainRelease(f: Fleet, r: number, q: number): number {
  const c = f.cache!;
  const B = f.blockTokens[r];
  const m = chainPath(f, f.requests.chainLeaf[q]);
  let freed = 0;
  for (let i = m - 1; i >= 0; i--) {
    if (nodeBlocks(f, q, path[i], B) > 0) freed += drop(c, c.find(r, segmentOf(path[i])));
  }
  return freed;
}

/** Blocks of chained request q's prompt, from the start, held in replica r's cache (read-only; routing). */
export function chainCachedBlocks(f: Fleet, r: number, q: number): number {
  const c = f.cache!;
  const B = f.blockTokens[r];
  const m = chainPath(f, f.requests.chainLeaf[q]);
  let found = 0;
  for (let i = 0; i < m; i++) {
    const need = nodeBlocks(f, q, path[i], B);
    if (need === 0) continue;
    const e = c.find(r, segmentOf(path[i]));
    const has = e === NONE ? 0 : c.count[e];
    found += has < need ? has : need;
    if (has < need) break;
  }
  return found;
}
