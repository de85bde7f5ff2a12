import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { scenarioSchema } from '../src/scenario/schema.js';
import { columnsMarkdown } from '../src/report/docs.js';
import { fleetsim, ROOT, tempDir } from './helpers/cli.js';

const README = join(ROOT, 'README.md');
const BEGIN = '<!-- columns:begin -->\n';
const END = '<!-- columns:end -->';

/** Every key path of the scenario schema, e.g. `deployments`, `routing.policy`. */
function schemaKeys(schema: z.ZodType, prefix = ''): string[] {
  let s: z.ZodType = schema;
  // Unwrap defaults, optionals, arrays and transforms down to an object, if there is one.
  for (;;) {
    const def = (s as unknown as { def: { type: string; innerType?: z.ZodType; element?: z.ZodType; in?: z.ZodType } }).def;
    if (def.type === 'default' || def.type === 'optional') s = def.innerType!;
    else if (def.type === 'array') s = def.element!;
    else if (def.type === 'pipe') s = def.in!;
    else break;
  }
  if (!(s instanceof z.ZodObject)) return [];
  return Object.entries(s.shape).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    return [path, ...(['routing', 'pricing', 'incidents'].includes(k) ? schemaKeys(v as z.ZodType, path) : [])];
  });
}

describe('README', () => {
  it('documents every scenario key the schema accepts', () => {
    const text = readFileSync(README, 'utf8');
    const missing = schemaKeys(scenarioSchema).filter((path) => {
      const last = path.split('.').pop()!;
      return !text.includes(`\`${path.replace(/^(pricing|incidents)\./, '$1[].')}\``) && !text.includes(`\`${last}\``);
    });
    expect(missing).toEqual([]);
  });

  it('has column tables generated from src/report/columns.ts (UPDATE_README=1 rewrites them)', () => {
    const text = readFileSync(README, 'utf8');
    const start = text.indexOf(BEGIN);
    const end = text.indexOf(END);
    expect(start).toBeGreaterThan(0);
    const generated = columnsMarkdown();
    if (process.env.UPDATE_README) {
      writeFileSync(README, text.slice(0, start + BEGIN.length) + generated + text.slice(end));
      return;
    }
    expect(text.slice(start + BEGIN.length, end)).toBe(generated);
  });

  it("shows what `fleetsim plan` prints for the bundled plan scenario", () => {
    const text = readFileSync(README, 'utf8');
    const command = '$ fleetsim plan scenarios/silicon-mix-plan.yaml --out out/plan\n';
    const at = text.indexOf(command);
    expect(at).toBeGreaterThan(0);
    const shown = text.slice(at + command.length, text.indexOf('```', at));
    const r = fleetsim(['plan', 'scenarios/silicon-mix-plan.yaml', '--out', join(tempDir(), 'plan'), '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(shown);
  });
});
