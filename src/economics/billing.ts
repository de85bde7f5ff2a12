/**
 * What a tenant is billed for requests that completed: prompt tokens at the input price (those
 * the prefix cache served, or the workload's `cached_prompt_fraction` of them, at the cached-input
 * price), output tokens at the
 * output price, plus the platform's per-request fee. Rejected, timed-out and lost requests are never
 * passed here, so they earn nothing. The vendor's share applies to token revenue only: the
 * per-request fee is the platform's.
 */
export interface TokenPrice {
  inputUsdPerMtok: number;
  outputUsdPerMtok: number;
  cachedInputUsdPerMtok: number;
  vendorShare: number;
  /** Per completed request, kept by the platform. */
  feeUsdPerRequest: number;
  provenance: string;
}

/** Key of the scenario's price map: (tenant, model). */
export const priceKey = (tenant: string, model: string) => `${tenant}\u0000${model}`;

/**
 * Token revenue in USD (unrounded). `cachedInputTokens`: of the prompt tokens, those the simulated
 * prefix cache served; `cachedPromptFraction` is an expected share of the rest (a cache outside
 * the simulation; the loader allows it only for workloads without a simulated prefix).
 */
export function tokenRevenueUsd(
  price: TokenPrice,
  cachedPromptFraction: number,
  inputTokens: number,
  outputTokens: number,
  cachedInputTokens = 0,
): number {
  const cached = cachedInputTokens + (inputTokens - cachedInputTokens) * cachedPromptFraction;
  return (
    ((inputTokens - cached) * price.inputUsdPerMtok + cached * price.cachedInputUsdPerMtok + outputTokens * price.outputUsdPerMtok) /
    1e6
  );
}

export interface BilledCents {
  revenueCents: number;
  vendorPayoutCents: number;
}

/**
 * One ledger cell's billing, in integer cents. Payout is rounded from the cell's token revenue, and
 * platform revenue is defined as revenue − payout, so payout + platform revenue = revenue exactly.
 */
export function billCents(
  price: TokenPrice,
  cachedPromptFraction: number,
  inputTokens: number,
  outputTokens: number,
  completed: number,
  cachedInputTokens = 0,
): BilledCents {
  const tokenCents = Math.round(tokenRevenueUsd(price, cachedPromptFraction, inputTokens, outputTokens, cachedInputTokens) * 100);
  const feeCents = Math.round(completed * price.feeUsdPerRequest * 100);
  return { revenueCents: tokenCents + feeCents, vendorPayoutCents: Math.round(tokenCents * price.vendorShare) };
}

/** A batch-tier workload's price (`batch.discount`): every part, the per-request fee included, at (1 − discount). */
export function discountedPrice(price: TokenPrice, discount: number): TokenPrice {
  if (discount === 0) return price;
  const k = 1 - discount;
  return {
    ...price,
    inputUsdPerMtok: price.inputUsdPerMtok * k,
    outputUsdPerMtok: price.outputUsdPerMtok * k,
    cachedInputUsdPerMtok: price.cachedInputUsdPerMtok * k,
    feeUsdPerRequest: price.feeUsdPerRequest * k,
  };
}
