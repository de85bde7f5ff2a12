import { describe, it, expect } from 'vitest';
import { fleetsim } from './helpers/cli.js';

describe('fleetsim schema', () => {
  it('prints a JSON Schema of the scenario file on stdout, with every top-level key and unit hints', () => {
    const r = fleetsim(['schema']);
    expect(r.status).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'horizon', 'deployments', 'workloads']));
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.horizon.description).toMatch(/250ms/);
    expect(Object.keys(schema.properties.deployments.items.properties)).toContain('tensor_parallel');
  });
});
