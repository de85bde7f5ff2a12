/**
 * Quantised checkpoints keep the input embedding and the LM head in 16 bits (docs/physics.md#kv-cache-memory):
 * their 2 · vocab_size · hidden parameters count 2 bytes in the weight memory and the weight reads,
 * whatever the deployment's dtype; 16-bit deployments and models without a vocab_size are unchanged.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog, type Model } from '../src/catalog/catalog.js';
import { MEMORY_BYTES_PER_GB, RooflinePerf } from '../src/perf/roofline.js';
import type { Dtype } from '../src/scenario/schema.js';

const catalog = loadCatalog();
const h100 = catalog.silicon.get('h100-sxm')!;
const efficiency = [...catalog.efficiency.values()][0];

function perf(model: Model, dtype: Dtype): RooflinePerf {
  return new RooflinePerf({ model, silicon: h100, efficiency, tensorParallel: 8, dtype, kvDtype: 'fp8', kvFraction: 0.9, blockTokens: 16 });
}

describe('16-bit embeddings and LM head of quantised checkpoints', () => {
  const llama70 = catalog.models.get('llama-3.1-70b')!;
  const embed = 2 * 128256 * 8192;

  it('count 2 bytes per parameter under fp8, int4 and fp4; bf16 unchanged', () => {
    expect(llama70.vocabSize).toBe(128256);
    expect(perf(llama70, 'bf16').weightBytes).toBe(llama70.paramsB * 1e9 * 2);
    expect(perf(llama70, 'fp8').weightBytes).toBeCloseTo(llama70.paramsB * 1e9 + embed, -3);
    expect(perf(llama70, 'int4').weightBytes).toBeCloseTo(llama70.paramsB * 0.5e9 + embed * 1.5, -3);
    expect(perf(llama70, 'fp4').weightBytes).toBeCloseTo(llama70.paramsB * 0.5e9 + embed * 1.5, -3);
    // About 2.1 GB more than a byte per parameter for Llama 3.1 70B: every decode step reads them.
    const fp8 = perf(llama70, 'fp8');
    expect(fp8.weightBytesRead(1) - llama70.paramsB * 1e9).toBeCloseTo(embed, -3);
  });

  it('a model without vocab_size keeps every weight at the dtype', () => {
    const gpt4o = catalog.models.get('gpt-4o')!;
    expect(Number.isFinite(gpt4o.vocabSize)).toBe(false);
    expect(perf(gpt4o, 'fp8').weightBytes).toBe(gpt4o.paramsB * 1e9);
  });

  it('MoE with 16-bit dense weights and 4-bit experts: no change (the embeddings are already 16-bit)', () => {
    const oss = catalog.models.get('gpt-oss-120b')!;
    const p = new RooflinePerf({ model: oss, silicon: h100, efficiency, tensorParallel: 1, dtype: 'bf16', kvDtype: 'bf16', kvFraction: 0.9, blockTokens: 16, expertDtype: 'fp4' });
    expect(p.weightBytes).toBeCloseTo((oss.paramsB - oss.expertParamsB) * 2e9 + oss.expertParamsB * 0.5e9, -3);
  });

  it('less KV: 70B fp8 on one H100 loses the extra bytes from its cache', () => {
    const one = (dtype: Dtype) => new RooflinePerf({ model: llama70, silicon: h100, efficiency, tensorParallel: 1, dtype, kvDtype: 'fp8', kvFraction: 0.95, blockTokens: 1 });
    const p = one('fp8');
    const free = 0.95 * 80 * MEMORY_BYTES_PER_GB - llama70.paramsB * 1e9 - embed;
    expect(p.kvCapacityTokens * p.kvBytesPerToken).toBeLessThanOrEqual(free);
    expect(p.kvCapacityTokens * p.kvBytesPerToken).toBeGreaterThan(free - p.kvBytesPerToken);
  });
});
