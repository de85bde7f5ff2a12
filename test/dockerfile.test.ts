/**
 * The Kubernetes recipe's image is built by Dockerfile, and its build steps are README's install
 * steps: the RUN commands, in order, are the `npm …` commands the quick start tells a user to run
 * once (the install of its first command, then `npm link`), and docs/sweeps.md's Indexed Job uses
 * the image the Dockerfile's header names.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers/cli.js';

const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

/** The quick start's install steps: `npm ci` (the part of its first command before `&&`) and `npm link`. */
function readmeInstallSteps(readme: string): string[] {
  const start = readme.indexOf('## Quick start');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const firstCommand = /```sh\n([^\n]+)\n/.exec(section)![1];
  const steps = [firstCommand.split('&&')[0].trim()];
  for (const m of section.matchAll(/`(npm link)`/g)) steps.push(m[1]);
  return steps;
}

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => /^(\w+)\s+(.*)$/.exec(l)!.slice(1) as [string, string]);

  it('is Node 20 slim with the CLI as its entrypoint', () => {
    expect(instructions[0]).toEqual(['FROM', 'node:20-slim']);
    expect(instructions.find(([i]) => i === 'ENTRYPOINT')?.[1]).toBe('["fleetsim"]');
    expect(read('package.json')).toContain('"fleetsim": "dist/cli/main.js"');
  });

  it('runs exactly README\'s install steps, in order', () => {
    const runs = instructions.filter(([i]) => i === 'RUN').map(([, cmd]) => cmd);
    expect(readmeInstallSteps(read('README.md'))).toEqual(['npm ci', 'npm link']);
    expect(runs).toEqual(readmeInstallSteps(read('README.md')));
  });

  it('builds the image docs/sweeps.md\'s Indexed Job runs', () => {
    const image = /docker build -t (\S+) \./.exec(dockerfile)![1];
    const sweeps = read('docs/sweeps.md');
    expect(sweeps).toContain(`image: ${image}`);
    expect(sweeps).toContain('completionMode: Indexed');
    expect(sweeps).toContain(`docker build -t ${image} .`);
  });
});
