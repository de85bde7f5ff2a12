/**
 * What `fidelity` and `calibrate` say about inputs that pass but probably do not mean what they
 * say (a fresh-clone trial's findings): a misspelt stack, flags that do not apply to a CSV,
 * degenerate fits, and the messages for malformed measurement files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetsim, withFiles } from './helpers/cli.js';

const HEADER = 'model,silicon,tensor_parallel,dtype,stack,prompt_tokens,output_tokens,concurrency,rate_per_s,requests,metric,value,source';
const row = (stack: string, metric = 'itl_mean_s', value = '0.01') => `llama-3.1-8b,h100-sxm,1,bf16,${stack},256,32,1,,4,${metric},${value},x`;
const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('fleetsim: warning: '));

describe('a stack no data file names (a typo such as vlm)', () => {
  it('fidelity warns once per file and stack at its first row, with the closest known stack; none for a known stack or version', () => {
    const dir = withFiles({ 'm.csv': [HEADER, row('vlm'), row('vlm', 'ttft_mean_s', '0.02'), row('vllm-0.6'), row('trtllm')].join('\n') + '\n' });
    const r = fleetsim(['fidelity', join(dir, 'm.csv'), '-q']);
    expect(r.status).toBe(0);
    expect(warnings(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^fleetsim: warning: [^\n]*m\.csv:2: stack "vlm" is not a known stack: neither data\/stacks\.csv nor data\/efficiency\.csv names it, so the silicon's generic profile [^\n]*; closest: vllm; known: /m);
  });

  it('calibrate warns that it fits a new profile under that name', () => {
    const dir = withFiles({ 'm.csv': [HEADER, row('vlm')].join('\n') + '\n' });
    const out = join(dir, 'out');
    const r = fleetsim(['calibrate', join(dir, 'm.csv'), '--out', out, '--params', 'mem_eff', '--max-evals', '3', '--no-cv', '-q']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/m\.csv:2: stack "vlm" is not a known stack: .*calibrate fits a new profile vlm that only deployments naming stack vlm will use; closest: vllm/);
    expect(readFileSync(join(out, 'efficiency.csv'), 'utf8')).toMatch(/^h100-sxm,vlm,/m);
  });

  it('--stack for a JSON result is warned at the flag, not again at its rows', () => {
    const json = JSON.stringify({ completed: 10, total_input_tokens: 2560, total_output_tokens: 320, request_rate: 'inf', max_concurrency: 1, output_throughput: 100, mean_itl_ms: 10 });
    const dir = withFiles({ 'r.json': json });
    const r = fleetsim(['fidelity', join(dir, 'r.json'), '--silicon', 'h100-sxm', '--model', 'llama-3.1-8b', '--stack', 'vlm', '-q']);
    expect(r.status).toBe(0);
    expect(warnings(r.stderr)).toEqual([expect.stringMatching(/^fleetsim: warning: --stack vlm: stack "vlm" is not a known stack: .*; closest: vllm;/)]);
  });
});
