/**
 * A catalog number must be written in decimal, as a measurement's must (src/csv-read.ts
 * `decimal`): `Number` reads `0x10` as 16 and `Infinity` as a figure, so a typo in data/ or in a
 * scenario's catalog override became a chip of 16 GB/s instead of an error at its cell.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/cli.js';
import { parseBuiltInCatalog } from '../src/catalog/catalog.js';
import { decimal } from '../src/csv-read.js';
import { InputError } from '../src/errors.js';

describe('catalog numbers', () => {
  it('decimal() reads decimal and scientific notation only', () => {
    expect([decimal('1800'), decimal(' 0.05 '), decimal('2e-3'), decimal('-1.5'), decimal('.5')]).toEqual([1800, 0.05, 0.002, -1.5, 0.5]);
    for (const typo of ['0x10', '0b1', '0o7', 'Infinity', '1e', '', '1,5', '12abc']) expect(decimal(typo)).toBeNaN();
  });

  for (const bad of ['0x10', 'Infinity', '1e']) {
    it(`a data/ table cell written ${bad} is refused at its file, line and column`, () => {
      const data = join(tempDir(), 'data');
      cpSync(join(ROOT, 'data'), data, { recursive: true });
      const file = join(data, 'silicon.csv');
      const lines = readFileSync(file, 'utf8').split('\n');
      const at = lines.findIndex((l) => l.startsWith('h100-sxm,'));
      const cells = lines[at].split(',');
      cells[5] = bad; // mem_bw_gbps
      lines[at] = cells.join(',');
      writeFileSync(file, lines.join('\n'));
      let error: unknown;
      try {
        parseBuiltInCatalog(data, true);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).format()).toMatch(new RegExp(`silicon\\.csv:${at + 1}: mem_bw_gbps: expected a number above 0, got "${bad}"`));
    });
  }
});
