/**
 * The routing policies, one module each, behind one small interface: `pick(fleet, w, k,
 * needTokens)` returns the replica of workload w's tier k (0: its model, then its fallbacks) that
 * takes a request needing `needTokens` of KV, or NONE; it writes to `fleet.routeFull[0]` a replica
 * that could serve but whose queue is full (NONE if none), which tells an overloaded tier from a
 * down one. The request being routed is `fleet.routeRequest[0]` (its prompt and prefix, for
 * policies that read the replicas' caches). Failover across tiers is routing.ts's, the same for every policy.
 *
 * Adding a router: write routers/NAME.ts exporting its pick function, add one entry to ROUTERS
 * below, and its name to `routing.policy` in src/scenario/schema.ts (docs/extending.md).
 */
import type { Fleet } from '../fleet.js';
import { pickLeastOutstanding } from './least-outstanding.js';
import { pickRoundRobin } from './round-robin.js';
import { pickPrefixAware } from './prefix-aware.js';
import { pickPowerOfTwo } from './power-of-two.js';

export interface Router {
  /** The scenario's `routing.policy` value. */
  readonly policy: string;
  readonly pick: (f: Fleet, w: number, k: number, needTokens: number) => number;
}

/** The fleet's router is its index here; `pickReplica` names the built-in ones. */
export const ROUTERS: readonly Router[] = [
  { policy: 'round-robin', pick: pickRoundRobin },
  { policy: 'least-outstanding', pick: pickLeastOutstanding },
  { policy: 'prefix-aware', pick: pickPrefixAware },
  { policy: 'power-of-two', pick: pickPowerOfTwo },
];
const ROUTER_ROUND_ROBIN = 0;
const ROUTER_LEAST_OUTSTANDING = 1;

export function routerOf(policy: string): number {
  const i = ROUTERS.findIndex((x) => x.policy === policy);
  if (i < 0) throw new Error(`internal: no router registered for '${policy}'`);
  return i;
}

/**
 * A `switch` on the fleet's small integer rather than `ROUTERS[i].pick(...)`: each case is a
 * direct call V8 can inline into `route`, once per request; a policy added to ROUTERS runs through
 * the default branch, correctly, until it gets a case here.
 */
export function pickReplica(f: Fleet, w: number, k: number, needTokens: number): number {
  switch (f.router) {
    case ROUTER_LEAST_OUTSTANDING:
      return pickLeastOutstanding(f, w, k, needTokens);
    case ROUTER_ROUND_ROBIN:
      return pickRoundRobin(f, w, k, needTokens);
    default:
      return ROUTERS[f.router].pick(f, w, k, needTokens);
  }
}
