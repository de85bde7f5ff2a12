/**
 * Tenant and workload quotas (`quota: { requests_per_min, tokens_per_min }`), as Azure OpenAI's
 * rate limits: each limit is a token bucket holding one minute's allowance, full at the start and
 * refilled continuously at limit / 60 per second. A request takes 1 from the requests bucket and
 * prompt + output tokens from the tokens bucket of its workload and of its tenant when every one of
 * them holds that much at its arrival; otherwise it is `throttled`: it never enters a queue and is
 * never billed, and no bucket is charged for it (a 429 costs the caller nothing). Azure estimates
 * a request's tokens at admission from the prompt and max_tokens; here the request's output length
 * stands in for max_tokens (docs/quotas.md).
 */
import type { Scenario, QuotaConfig } from '../scenario/load.js';
import type { Fleet } from './fleet.js';
import { NONE } from '../engine/requests.js';
import { FATE_THROTTLED } from '../metrics/recorder.js';
import { finish } from './replica.js';

export class Quotas {
  /** Per bucket: what is left, the most it holds (one minute's allowance) and its refill per second; Infinity left and 0 refill where a limit is not set. */
  readonly requestsLeft: Float64Array;
  readonly requestsCap: Float64Array;
  readonly requestsPerS: Float64Array;
  readonly tokensLeft: Float64Array;
  readonly tokensCap: Float64Array;
  readonly tokensPerS: Float64Array;
  /** Per bucket: when it was last refilled. */
  readonly refilledS: Float64Array;
  /** Per workload: its own bucket and its tenant's (shared by the tenant's workloads), or NONE. */
  readonly workloadBucket: Int32Array;
  readonly tenantBucket: Int32Array;

  constructor(scenario: Scenario) {
    const configs: QuotaConfig[] = [];
    const tenants = new Map<string, number>();
    this.workloadBucket = new Int32Array(scenario.workloads.length).fill(NONE);
    this.tenantBucket = new Int32Array(scenario.workloads.length).fill(NONE);
    for (const w of scenario.workloads) {
      if (w.quota !== null) this.workloadBucket[w.index] = configs.push(w.quota) - 1;
      if (w.tenantQuota === null) continue;
      let b = tenants.get(w.tenant);
      if (b === undefined) tenants.set(w.tenant, (b = configs.push(w.tenantQuota) - 1));
      this.tenantBucket[w.index] = b;
    }
    const n = configs.length;
    this.requestsCap = Float64Array.from(configs, (c) => c.requestsPerMin);
    this.requestsLeft = Float64Array.from(this.requestsCap);
    this.requestsPerS = Float64Array.from(configs, (c) => (c.requestsPerMin === Infinity ? 0 : c.requestsPerMin / 60));
    this.tokensCap = Float64Array.from(configs, (c) => c.tokensPerMin);
    this.tokensLeft = Float64Array.from(this.tokensCap);
    this.tokensPerS = Float64Array.from(configs, (c) => (c.tokensPerMin === Infinity ? 0 : c.tokensPerMin / 60));
    this.refilledS = new Float64Array(n);
  }
}

/** The scenario's quotas, or null when no workload or tenant has one (the fleet then checks nothing). */
export function quotasOf(scenario: Scenario): Quotas | null {
  return scenario.workloads.some((w) => w.quota !== null || w.tenantQuota !== null) ? new Quotas(scenario) : null;
}

/** Brings bucket k up to the clock's time and says whether it holds one request of `tokens`. */
function fits(qs: Quotas, k: number, tokens: number, nowS: number): boolean {
  if (k === NONE) return true;
  const dtS = nowS - qs.refilledS[k];
  qs.refilledS[k] = nowS;
  qs.requestsLeft[k] = Math.min(qs.requestsCap[k], qs.requestsLeft[k] + dtS * qs.requestsPerS[k]);
  qs.tokensLeft[k] = Math.min(qs.tokensCap[k], qs.tokensLeft[k] + dtS * qs.tokensPerS[k]);
  return qs.requestsLeft[k] >= 1 && qs.tokensLeft[k] >= tokens;
}

function take(qs: Quotas, k: number, tokens: number): void {
  if (k === NONE) return;
  qs.requestsLeft[k] -= 1;
  qs.tokensLeft[k] -= tokens;
}

/**
 * Whether the newly arrived request q is within its quotas at the clock's time: its allowance is
 * then taken from its buckets; otherwise it ends `throttled`, booked (like a rejection) on the
 * first deployment of its model.
 */
export function admitted(f: Fleet, q: number): boolean {
  const qs = f.quotas!;
  const rq = f.requests;
  const w = rq.workload[q];
  const tokens = rq.promptTokens[q] + rq.outputTokens[q];
  const nowS = f.clockS[0];
  const own = qs.workloadBucket[w];
  const shared = qs.tenantBucket[w];
  // Both buckets are refilled before either is judged, so neither's clock depends on the other's answer.
  const ownFits = fits(qs, own, tokens, nowS);
  const sharedFits = fits(qs, shared, tokens, nowS);
  if (!ownFits || !sharedFits) {
    const d = f.tierFirstDeployment[w][0];
    f.recorder.periodThrottled[f.recorder.periodCell(w, d)]++;
    finish(f, q, d, FATE_THROTTLED);
    return false;
  }
  take(qs, own, tokens);
  take(qs, shared, tokens);
  return true;
}
