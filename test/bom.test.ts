/**
 * A UTF-8 byte-order mark (Excel's "CSV UTF-8", Notepad) is accepted by every reader of user or
 * data files: measurement CSVs (before a leading `#` comment too, where it turned the comment into
 * the header), vLLM JSON results, the data/ catalog and facility tables, and both trace formats.
 * One rule, src/csv-read.ts (the trace readers skip it in src/workload/trace.ts).
 */
import { describe, expect, it } from 'vitest';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleetsim, ROOT, tempDir, withFiles } from './helpers/cli.js';
import { loadCatalog, parseBuiltInCatalog } from '../src/catalog/catalog.js';
import { loadFacilities } from '../src/economics/facility.js';
import { readMeasurementCsv, readMeasurements } from '../src/fidelity/measurements.js';
import { MooncakeReader } from '../src/workload/mooncake.js';
import { TraceReader } from '../src/workload/trace.js';

const BOM = '\uFEFF';
const HEADER = 'model,silicon,tensor_parallel,dtype,stack,prompt_tokens,output_tokens,concurrency,rate_per_s,metric,value,source';
const ROW = 'llama-3.1-8b,h100-sxm,1,fp8,generic,512,128,1,,ttft_mean_s,0.05,x';

describe('a UTF-8 byte-order mark', () => {
  it('before a leading # comment of a measurement CSV: the comment stays a comment, lines stay right', () => {
    const text = `${BOM}# converted by hand\n${HEADER}\n${ROW}\n`;
    const rows = readMeasurementCsv('m.csv', text);
    expect(rows).toHaveLength(1);
    expect(rows[0].model).toBe('llama-3.1-8b');
    expect(rows[0].line).toBe(3);
    // Before the header too.
    expect(readMeasurementCsv('m.csv', `${BOM}${HEADER}\n${ROW}\n`)[0].line).toBe(2);
  });

  it('fidelity reads such a file from the CLI (exit 0), and a bad row is still named at its line', () => {
    const dir = withFiles({ 'm.csv': `${BOM}# comment\n${HEADER}\n${ROW}\n`, 'bad.csv': `${BOM}# comment\n${HEADER}\n${ROW.replace('h100-sxm', 'h100')}\n` });
    const ok = fleetsim(['fidelity', join(dir, 'm.csv'), '-q']);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const bad = fleetsim(['fidelity', join(dir, 'bad.csv')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bad\.csv:3: silicon: unknown silicon "h100"/);
  });

  it('before a vLLM benchmark_serving JSON result', () => {
    const json = readFileSync(join(ROOT, 'examples/measurements/vllm-benchmark-serving.json'), 'utf8');
    const dir = withFiles({ 'r.json': BOM + json });
    const rows = readMeasurements(join(dir, 'r.json'), loadCatalog(), { silicon: 'h100-sxm' });
    expect(rows.length).toBeGreaterThan(0);
  });

  it('at the start of every data/ catalog table and the facility table', () => {
    const data = join(tempDir(), 'data');
    cpSync(join(ROOT, 'data'), data, { recursive: true });
    for (const f of readdirSync(data).filter((n) => n.endsWith('.csv'))) writeFileSync(join(data, f), BOM + readFileSync(join(data, f), 'utf8'));
    const withBom = parseBuiltInCatalog(data, true);
    const plain = parseBuiltInCatalog(join(ROOT, 'data'), true);
    expect([...withBom.silicon.keys()]).toEqual([...plain.silicon.keys()]);
    expect(withBom.silicon.get('h100-sxm')).toEqual(plain.silicon.get('h100-sxm'));
    expect([...withBom.efficiency.keys()]).toEqual([...plain.efficiency.keys()]);
    expect([...withBom.stacks.keys()]).toEqual([...plain.stacks.keys()]);
    expect([...loadFacilities(join(data, 'facility.csv')).keys()]).toEqual([...loadFacilities(join(ROOT, 'data', 'facility.csv')).keys()]);
  });

  it('before the first line of an Azure trace and of a Mooncake trace', () => {
    const dir = withFiles({
      'azure.csv': `${BOM}TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n`,
      'm.jsonl': `${BOM}{"timestamp": 0, "input_length": 600, "output_length": 12, "hash_ids": [0, 1]}\n`,
    });
    const azure = new TraceReader(join(dir, 'azure.csv'));
    expect(azure.next()).toBe(true);
    expect([azure.line, azure.promptTokens, azure.outputTokens]).toEqual([2, 374, 44]);
    const mooncake = new MooncakeReader(join(dir, 'm.jsonl'));
    expect(mooncake.next()).toBe(true);
    expect([mooncake.line, mooncake.promptTokens, mooncake.outputTokens, mooncake.hashCount]).toEqual([1, 600, 12, 2]);
  });
});
