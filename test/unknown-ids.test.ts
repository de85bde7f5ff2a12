/**
 * An unknown catalog id, wherever it is written (a measurement row, a scenario, a flag), is exit 2
 * naming where it is and the closest known ids (src/errors.ts unknownIdHint, one wording for all).
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { closestIds, unknownIdHint } from '../src/errors.js';
import { fleetsim, SMALL_SCENARIO, withFiles } from './helpers/cli.js';

const HEADER = 'model,silicon,tensor_parallel,dtype,stack,prompt_tokens,output_tokens,concurrency,rate_per_s,metric,value,source';
const ROW = 'llama-3.1-8b,h100-sxm,1,fp8,test,512,128,1,,ttft_mean_s,0.05,x';
const SILICON = ['a100-80gb', 'h100-sxm', 'h200', 'b200', 'mi300x', 'maia-100', 'cobalt-100'];

describe('closest known ids', () => {
  it('puts an id that contains the given one first, then the fewest edits', () => {
    expect(closestIds('h100', SILICON)).toEqual(['h100-sxm', 'h200', 'b200']);
    expect(closestIds('MI301X', SILICON)).toEqual(['mi300x']);
    expect(closestIds('llama-3-8b', ['llama-2-7b', 'llama-3.1-8b', 'mistral-7b'])).toEqual(['llama-3.1-8b', 'llama-2-7b']);
    expect(closestIds('tpu-v5e', SILICON)).toEqual([]);
  });

  it('names them before every known id', () => {
    expect(unknownIdHint('h100', ['h100-sxm', 'cobalt-100'])).toBe(' (did you mean "h100-sxm"? known: h100-sxm, cobalt-100)');
    expect(unknownIdHint('tpu', ['h100-sxm'], '; more')).toBe(' (known: h100-sxm; more)');
  });
});

describe('an unknown id in a measurement file', () => {
  for (const [field, bad, close] of [
    ['silicon', ROW.replace('h100-sxm', 'h100'), 'h100-sxm'],
    ['model', ROW.replace('llama-3.1-8b', 'llama-3-8b'), 'llama-3.1-8b'],
  ] as const) {
    it(`${field}: fidelity and calibrate exit 2 naming the file, the line and the closest ${field}, and write nothing`, () => {
      const dir = withFiles({ 'm.csv': `# a comment\n${HEADER}\n${ROW}\n${bad}\n` });
      for (const args of [['fidelity', join(dir, 'm.csv'), '--out', join(dir, 'out')], ['calibrate', join(dir, 'm.csv'), '--out', join(dir, 'out')]]) {
        const r = fleetsim(args);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`^fleetsim: error: [^\\n]*m\\.csv:4: ${field}: unknown ${field} "[^"]+" \\(did you mean "${close.replace('.', '\\.')}"`));
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stdout).toBe('');
        expect(existsSync(join(dir, 'out'))).toBe(false);
      }
    });
  }
});

describe('an unknown id in a flag for JSON results', () => {
  it('fidelity and calibrate --silicon / --model name the flag and the closest ids, before reading anything', () => {
    const dir = withFiles({ 'r.json': '{"output_throughput": 1000, "completed": 10, "total_input_tokens": 1000, "total_output_tokens": 1000}' });
    const sil = fleetsim(['fidelity', join(dir, 'r.json'), '--silicon', 'H100']);
    expect(sil.status).toBe(2);
    expect(sil.stderr).toMatch(/^fleetsim: error: --silicon: unknown silicon "H100" \(did you mean "h100-sxm"/);
    const model = fleetsim(['calibrate', join(dir, 'r.json'), '--out', join(dir, 'out'), '--silicon', 'h100-sxm', '--model', 'gpt4o']);
    expect(model.status).toBe(2);
    expect(model.stderr).toMatch(/^fleetsim: error: --model: unknown model "gpt4o" \(did you mean "gpt-4o"/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    // A Hugging Face name the reader maps is not unknown.
    expect(fleetsim(['fidelity', join(dir, 'r.json'), '--silicon', 'h100-sxm', '--model', 'meta-llama/Llama-3.1-8B-Instruct', '-q']).status).toBe(0);
  });
});

describe('an unknown id in a scenario or a flag', () => {
  it('a deployment silicon and a workload model name the closest', () => {
    const sil = withFiles({ 's.yaml': SMALL_SCENARIO.replace('silicon: mi300x', 'silicon: mi300') });
    expect(fleetsim(['validate', join(sil, 's.yaml')]).stderr).toMatch(/unknown silicon "mi300" \(did you mean "mi300x"\? known: /);
    const model = withFiles({ 's.yaml': SMALL_SCENARIO.replace('    model: llama-3.1-8b', '    model: llama-3.1-8B-instruct') });
    const r = fleetsim(['validate', join(model, 's.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/workloads\[0\]\.model: unknown model "llama-3\.1-8B-instruct" \(did you mean "llama-3\.1-8b"\?/);
  });

  it('explain --silicon', () => {
    const r = fleetsim(['explain', '--model', 'llama-3.1-8b', '--silicon', 'H100']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--silicon: unknown silicon "H100" \(did you mean "h100-sxm"/);
  });
});
