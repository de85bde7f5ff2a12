/**
 * Shared prompt prefixes (workload `prefix:`): a tenant's system prompt and tool definitions in
 * front of its requests. With probability `share` a request's prompt starts with one of `groups`
 * prefixes of `tokens` tokens, chosen uniformly; the sampled prompt length follows it.
 */
import type { RandomStream } from './rng.js';

export interface PrefixConfig {
  tokens: number;
  groups: number;
  share: number;
}

export class PrefixSampler {
  readonly tokens: number;
  private readonly groups: number;
  private readonly share: number;
  constructor(
    config: PrefixConfig,
    private readonly rng: RandomStream,
  ) {
    this.tokens = config.tokens;
    this.groups = config.groups;
    this.share = config.share;
  }

  /** The prefix group of the next request, or -1 when it has none. Two draws per request, always. */
  sample(): number {
    const u = this.rng.next();
    const g = Math.floor(this.rng.next() * this.groups);
    return u < this.share ? g : -1;
  }
}
