/**
 * KV-cache memory per serving stack (data/stacks.csv, docs/physics.md#kv-cache-memory): TensorRT-LLM
 * gives the cache kv_fraction of the memory free after weights, activations and a reserve; vLLM and
 * generic deployments keep kv_fraction of all memory minus weights (the rule before stacks.csv).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../src/catalog/catalog.js';
import { readMeasurementCsv } from '../src/fidelity/measurements.js';
import { rowScenario } from '../src/fidelity/simulate-row.js';
import { MEMORY_BYTES_PER_GB } from '../src/perf/roofline.js';
import { loadScenario, type Scenario } from '../src/scenario/load.js';
import { tempDir } from './helpers/cli.js';

function scenarioWith(deployment: string): Scenario {
  const file = join(tempDir(), 's.yaml');
  writeFileSync(file, `name: kv
horizon: 1m
deployments:
  - { name: d, model: llama-3.1-70b, silicon: h100-sxm, replicas: 1, dtype: fp8, ${deployment} }
workloads:
  - { name: w, tenant: t, model: llama-3.1-70b, arrival: { process: poisson, rate: 1 }, prompt_tokens: { dist: constant, value: 100 }, output_tokens: { dist: constant, value: 10 } }
`);
  return loadScenario(file);
}

const kvBytesPerToken = 2 * 80 * 8 * 128; // llama-3.1-70b: layers, kv heads, head_dim; FP8 KV
// FP8: a byte per parameter, but the embedding and LM head (2 x vocab x hidden) stay 16-bit.
const weightBytes = loadCatalog().models.get('llama-3.1-70b')!.paramsB * 1e9 + 2 * 128256 * 8192;
const memory = 80 * MEMORY_BYTES_PER_GB;

describe('KV-cache memory per stack', () => {
  it('trtllm: kv_fraction of the memory free after weights, activations at max_num_tokens and the reserve', () => {
    const trt = loadCatalog().stacks.get('trtllm')!;
    expect(trt.kvMemory).toBe('free');
    const s = scenarioWith('stack: trtllm-0.17, scheduler: chunked, chunk_tokens: 2048, kv_fraction: 0.95');
    const perf = s.deployments[0].perf;
    const activation = 2048 * trt.activationHiddenMultiple * 2 * 8192;
    const free = memory - trt.reservedGbPerChip * MEMORY_BYTES_PER_GB - activation - weightBytes;
    expect(perf.kvCapacityTokens).toBe(Math.floor((0.95 * free) / kvBytesPerToken / 16) * 16);
    // 70B FP8 on one H100: the free-memory rule holds more KV than 0.9 of all memory minus weights
    // (the rule that under-predicted these rows by 22%).
    expect(perf.kvCapacityTokens).toBeGreaterThan(((0.9 * memory - weightBytes) / kvBytesPerToken) * 1.5);
    expect(s.assumptions.some((a) => /stack trtllm-0\.17: KV cache = kv_fraction 0\.95 x memory free/.test(a))).toBe(true);
    // Activations scale with max_num_tokens: a larger iteration budget leaves less KV.
    const wide = scenarioWith('stack: trtllm-0.17, scheduler: chunked, chunk_tokens: 8192, kv_fraction: 0.95').deployments[0].perf;
    expect(wide.kvCapacityTokens).toBeLessThan(perf.kvCapacityTokens);
  });

  it('vllm and generic keep kv_fraction of all memory minus weights', () => {
    for (const stack of ['generic', 'vllm-0.6']) {
      const perf = scenarioWith(`stack: ${stack}, kv_fraction: 0.9`).deployments[0].perf;
      expect(perf.kvCapacityTokens).toBe(Math.floor((0.9 * memory - weightBytes) / kvBytesPerToken / 16) * 16);
    }
    expect(loadCatalog().stacks.get('vllm')!.kvMemory).toBe('total');
  });

  it('a measurement row passes its kv_fraction to the deployment, and a bad one is refused', () => {
    const text = 'model,silicon,tensor_parallel,dtype,stack,scheduler,chunk_tokens,kv_fraction,prompt_tokens,output_tokens,concurrency,requests,metric,value,source\n' +
      'llama-3.1-70b,h100-sxm,1,fp8,trtllm-0.17,chunked,2048,0.95,500,2000,offline,100,output_tok_s_per_chip,700,made up for the test\n';
    const [row] = readMeasurementCsv('k.csv', text);
    expect(row.kvFraction).toBe(0.95);
    const at95 = rowScenario(row).deployments[0].perf.kvCapacityTokens;
    const at90 = rowScenario({ ...row, kvFraction: 0.9 }).deployments[0].perf.kvCapacityTokens;
    expect(at95).toBeGreaterThan(at90);
    expect(() => readMeasurementCsv('k.csv', text.replace(',0.95,', ',1.5,'))).toThrow(/k\.csv.*kv_fraction: expected a number in \(0, 1\], got "1\.5"|kv_fraction: expected a number in \(0, 1\], got "1\.5"/);
  });
});
