// `fleetsim explain`: derived numbers for every catalog (model, silicon) pair, and a reason for
// the pairs whose weights do not fit.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { explainRows } from '../src/cli/explain.js';
import { InputError } from '../src/errors.js';

describe('explain', () => {
  const rows = explainRows(undefined, { all: true, format: 'csv' });
  const header = rows[0];
  const col = (name: string) => header.indexOf(name);

  it('covers every catalog pair with sensible figures, or says why the weights do not fit', () => {
    expect(rows.length).toBeGreaterThan(50);
    for (const r of rows.slice(1)) {
      const note = r[col('note')];
      if (r[col('kv_capacity_tokens')] === '0') {
        expect(note).toMatch(/exceed .* GB usable/);
        continue;
      }
      const b1 = Number(r[col('decode_step_b1_s')]);
      const b32 = Number(r[col('decode_step_b32_s')]);
      const bmax = Number(r[col('decode_step_bmax_s')]);
      expect(b1).toBeGreaterThan(0);
      expect(b32).toBeGreaterThanOrEqual(b1);
      expect(bmax).toBeGreaterThanOrEqual(b32);
      expect(Number(r[col('max_output_tokens_per_s_per_chip')])).toBeGreaterThan(0);
      expect(Number(r[col('cost_usd_per_mtok_output_full_load')])).toBeGreaterThan(0);
    }
    const big = rows.find((r) => r[col('model')] === 'llama-3.1-405b' && r[col('silicon')] === 'cobalt-100')!;
    expect(big[col('note')]).toContain('exceed');
  });

  it('explains a scenario per deployment with the workload lengths', () => {
    const file = fileURLToPath(new URL('../scenarios/mlperf-llama2-70b-h100.yaml', import.meta.url));
    const [, row] = explainRows(file, { format: 'table' });
    // 68.98B at a byte each plus the 16-bit embedding and LM head (2 x 32,000 x 8,192 one byte more).
    expect(row[col('weight_gb')]).toBe('69.5');
    expect(row[col('kv_bytes_per_token')]).toBe('163840');
    expect(Number(row[col('mean_output_tokens')])).toBeGreaterThan(260);
    // The upper bound sits above the simulated MLPerf figure (2,770 tok/s per GPU), not far above.
    const perChip = Number(row[col('max_output_tokens_per_s_per_chip')]);
    expect(perChip).toBeGreaterThan(2770);
    expect(perChip).toBeLessThan(3800);
  });

  it('rejects unknown names and mixed forms as input errors', () => {
    expect(() => explainRows(undefined, { model: 'nope', silicon: 'h100-sxm', format: 'table' })).toThrow(InputError);
    expect(() => explainRows(undefined, { model: 'llama-2-7b', silicon: 'h100-sxm', dtype: 'fp7', format: 'table' })).toThrow(InputError);
    expect(() => explainRows('x.yaml', { all: true, format: 'table' })).toThrow(InputError);
  });
});
