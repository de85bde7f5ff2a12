/**
 * The small integers the serving layer dispatches on: a replica's phase and its scheduler. A leaf
 * module, so every part of the serving layer can read them without a cycle.
 */

/** Nothing to run. */
export const IDLE = 0;
/** One iteration prefilling the requests just admitted (vLLM-style prefill-first). */
export const PREFILL = 1;
/** A run of decode steps during which the batch does not change, as one event. */
export const DECODE = 2;
/** scheduler chunked: one iteration of decodes plus prefill chunks within the token budget. */
export const MIXED = 3;
/** A prefill whose requests were already moved to decoding: its end only starts the next iteration. */
export const PREFILLED = 4;

// Per-replica scheduler (deployment `scheduler:`); a disaggregated deployment's replicas take a pool
// role. The index into SCHEDULERS (schedulers/registry.ts), which lists them in this order.
export const SCHED_CONTINUOUS = 0;
export const SCHED_CHUNKED = 1;
export const SCHED_STATIC = 2;
export const SCHED_PREFILL_POOL = 3;
export const SCHED_DECODE_POOL = 4;
/** rq.baseStep of a request whose KV arrived from a prefill replica: it decodes on admission. */
export const KV_TRANSFERRED = -1;

/**
 * Load levels the routing index keeps exactly (0 .. LOAD_LEVELS − 2); the last level holds every
 * replica with a larger load, and a pool whose smallest load is there is scanned instead.
 */
export const LOAD_LEVELS = 64;
export const TOP_LEVEL = LOAD_LEVELS - 1;

/** Most prompt tokens one prefill iteration takes in (vLLM's max_num_batched_tokens); at least one request always fits. */
export const PREFILL_TOKEN_BUDGET = 8192;
