/**
 * The memory a deployment's weights and KV cache share, by its stack's rule (data/stacks.csv): all
 * memory but the reserve and activations for TensorRT-LLM, kv_fraction of it otherwise. `explain`
 * and the load error for weights that do not fit state it in GB of 1e9 bytes, as the weights are.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../src/catalog/catalog.js';
import { explainRows } from '../src/cli/explain.js';
import { MEMORY_BYTES_PER_GB } from '../src/perf/roofline.js';
import { loadScenario } from '../src/scenario/load.js';
import { tempDir } from './helpers/cli.js';

const catalog = loadCatalog();

function scenario(deployment: string): string {
  const file = join(tempDir(), 's.yaml');
  writeFileSync(file, `name: q
horizon: 1m
deployments:
  - { name: d, model: llama-3.1-70b, silicon: h100-sxm, replicas: 1, ${deployment} }
workloads:
  - { name: w, tenant: t, model: llama-3.1-70b, arrival: { process: poisson, rate: 1 }, prompt_tokens: { dist: constant, value: 100 }, output_tokens: { dist: constant, value: 10 } }
`);
  return file;
}

describe('usable memory by the stack rule', () => {
  it('explain: trtllm weights may use all memory but the reserve and activations; generic kv_fraction of it, both in GB', () => {
    const trt = catalog.stacks.get('trtllm')!;
    // 70B bf16 (141 GB) cannot fit one H100 either way; load refuses it, so explain a fitting one and check the number.
    const file = scenario('dtype: fp8, stack: trtllm-0.17, scheduler: chunked, chunk_tokens: 2048');
    const s = loadScenario(file);
    const expected = 80 * MEMORY_BYTES_PER_GB - trt.reservedGbPerChip * MEMORY_BYTES_PER_GB - 2048 * trt.activationHiddenMultiple * 2 * 8192;
    expect(s.deployments[0].perf.weightsAndKvBytes).toBe(expected);
    const generic = loadScenario(scenario('dtype: fp8, kv_fraction: 0.9')).deployments[0].perf;
    expect(generic.weightsAndKvBytes).toBe(0.9 * 80 * MEMORY_BYTES_PER_GB);
    // The note of a pair whose weights do not fit: decimal GB on both sides (was 72.0 "GB", 0.9 x 80 GiB).
    const [header, row] = explainRows(undefined, { model: 'llama-3.1-70b', silicon: 'h100-sxm', tp: 1, dtype: 'bf16', format: 'csv' });
    expect(row[header.indexOf('note')]).toBe('weights 141.1 GB in bf16 exceed 77.3 GB usable on 1 x h100-sxm');
  });

  it('the load error for weights that do not fit gives the stack rule in GB', () => {
    expect(() => loadScenario(scenario('dtype: bf16, stack: trtllm-0.17, scheduler: chunked, chunk_tokens: 2048'))).toThrow(
      /weights \(141\.1 GB in bf16\) do not fit 1 x h100-sxm \(83\.9 GB left by stack trtllm-0\.17's reserve and activations\)/,
    );
    expect(() => loadScenario(scenario('dtype: bf16'))).toThrow(/\(77\.3 GB usable at kv_fraction 0\.9\)/);
  });
});
