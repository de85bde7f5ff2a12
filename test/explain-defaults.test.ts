/**
 * explain --model chooses a dtype a scenario would not (fp8 where a chip has it, against a
 * deployment's bf16), so it says so below the table; and the table turned on its side leaves out a
 * field no configuration shown has (an empty `note` line read as a missing value).
 */
import { describe, expect, it } from 'vitest';
import { fleetsim } from './helpers/cli.js';
import { explainTable } from '../src/cli/explain.js';

describe('explain --model defaults and empty fields', () => {
  it('says the dtype it chose and how to get a deployment\'s bf16, only when --dtype is not given', () => {
    const chosen = fleetsim(['explain', '--model', 'llama-3.1-70b', '--silicon', 'h100-sxm']);
    expect(chosen.status).toBe(0);
    expect(chosen.stdout).toMatch(/^dtype +fp8$/m);
    expect(chosen.stdout).toMatch(/- dtype: without --dtype, explain takes each chip's fastest datapath/);
    expect(chosen.stdout).toMatch(/--dtype bf16/);
    const given = fleetsim(['explain', '--model', 'llama-3.1-70b', '--silicon', 'h100-sxm', '--dtype', 'bf16']);
    expect(given.status).toBe(0);
    expect(given.stdout).toMatch(/^dtype +bf16$/m);
    expect(given.stdout).not.toMatch(/without --dtype/);
  });

  it('on its side, leaves out a field empty for every configuration shown', () => {
    const rows = [['name', 'note', 'value'], ['a'.repeat(60), '', '1'], ['b'.repeat(60), '', '2']];
    const text = explainTable(rows, 40);
    expect(text).toMatch(/^name /m);
    expect(text).toMatch(/^value /m);
    expect(text).not.toMatch(/^note/m);
    const withNote = explainTable([rows[0], ['a'.repeat(60), 'KV holds none', '1']], 40);
    expect(withNote).toMatch(/^note +KV holds none$/m);
  });

  it('the shipped explain output has no empty note line', () => {
    const r = fleetsim(['explain', '--model', 'llama-3.1-70b', '--silicon', 'h100-sxm']);
    expect(r.stdout).not.toMatch(/^note\s*$/m);
  });
});
