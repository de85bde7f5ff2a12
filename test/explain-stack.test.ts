// `fleetsim explain --stack`: a deployment's numbers under a named stack's efficiency profile and
// KV-memory rule, as a deployment with that `stack:` gets them.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainRows } from '../src/cli/explain.js';
import { loadCatalog, resolveStack } from '../src/catalog/catalog.js';
import { InputError } from '../src/errors.js';
import { kvFreeMemory, RooflinePerf } from '../src/perf/roofline.js';

const col = (rows: string[][], name: string) => rows[0].indexOf(name);

describe('explain --stack', () => {
  it('sizes the KV cache by the stack rule (trtllm: kv_fraction of the memory free after weights, activations and reserve)', () => {
    const flags = { model: 'llama-3.1-70b', silicon: 'h100-sxm', tp: 1, dtype: 'fp8', format: 'csv' };
    const generic = explainRows(undefined, flags);
    const trtllm = explainRows(undefined, { ...flags, stack: 'trtllm' });
    const kv = (rows: string[][]) => Number(rows[1][col(rows, 'kv_capacity_tokens')]);
    const catalog = loadCatalog();
    const model = catalog.models.get('llama-3.1-70b')!;
    const expected = new RooflinePerf({
      model, silicon: catalog.silicon.get('h100-sxm')!, efficiency: catalog.efficiency.get('h100-sxm@trtllm')!, tensorParallel: 1,
      dtype: 'fp8', kvDtype: 'fp8', kvFraction: 0.9, blockTokens: 16, kvFree: kvFreeMemory(model, 1, 8192, resolveStack(catalog, 'trtllm')),
    });
    expect(kv(trtllm)).toBe(expected.kvCapacityTokens);
    // 0.9 of all memory less 72.65 GB of weights against 0.9 of what they, 1.5 GiB and activations leave.
    expect(kv(trtllm)).toBeGreaterThan(1.5 * kv(generic));
    expect(trtllm[1][col(trtllm, 'deployment')]).toBe('llama-3.1-70b@h100-sxm/trtllm');
    // A version falls back to its family, as a deployment's stack: does.
    expect(kv(explainRows(undefined, { ...flags, stack: 'trtllm-0.17' }))).toBe(kv(trtllm));
  });

  it("applies to every deployment of a scenario, with the stack's own efficiency profile", () => {
    const dir = mkdtempSync(join(tmpdir(), 'explain-stack-'));
    const file = join(dir, 's.yaml');
    writeFileSync(file, `name: s
start: 2026-01-01T00:00:00Z
horizon: 1h
catalog:
  efficiency:
    - { silicon: h100-sxm, stack: sglang, gemm_eff: 0.3, gemm_half_ridge: 0.05, mem_eff: 0.8, kv_read_eff: 0.8, attn_eff: 0.4, moe_half_ridge: 0, moe_imbalance: 1, comm_eff: 0.5, overhead_ms: 2, overhead_per_seq_us: 1, assumption: test }
deployments:
  - { name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }
workloads:
  - { name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 1/s }, prompt_tokens: { dist: constant, value: 1000 }, output_tokens: { dist: constant, value: 200 } }
`);
    const plain = explainRows(file, { format: 'csv' });
    const sglang = explainRows(file, { format: 'csv', stack: 'sglang' });
    const prefill = (rows: string[][]) => Number(rows[1][col(rows, 'prefill_tokens_per_s')]);
    // gemm_eff 0.3 against the shipped profile's 0.62: prefill (compute-bound) about half as fast.
    expect(prefill(sglang)).toBeLessThan(0.6 * prefill(plain));
    expect(() => explainRows(file, { format: 'csv', stack: 'sglnag' })).toThrow(/unknown stack "sglnag"/);
  });

  it('refuses a stack no profile or KV rule names (a typo would print generic numbers)', () => {
    expect(() => explainRows(undefined, { model: 'llama-3.1-8b', silicon: 'h100-sxm', format: 'csv', stack: 'trtlm' })).toThrow(InputError);
  });
});
