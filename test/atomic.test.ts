import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { OutputDir, writeFileAtomic } from '../src/report/atomic.js';

let root = '';
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'fleetsim-atomic-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('OutputDir', () => {
  it('stages files in a hidden temp dir next to the final dir', () => {
    const out = new OutputDir(join(root, 'run'));
    const p = out.path('a.csv');
    expect(dirname(dirname(p))).toBe(root);
    expect(basename(dirname(p))).toMatch(new RegExp(`^\\.fleetsim-tmp-${process.pid}-.+`));
    out.abort();
  });

  it('leaves nothing behind and does not create the final dir after abort', () => {
    const finalDir = join(root, 'run');
    const out = new OutputDir(finalDir);
    writeFileSync(out.path('a.csv'), 'x\n');
    out.abort();
    expect(existsSync(finalDir)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });

  it('moves written files into the final dir on commit and removes the temp dir', () => {
    const finalDir = join(root, 'nested', 'run');
    const out = new OutputDir(finalDir);
    writeFileSync(out.path('a.csv'), 'a\n');
    writeFileSync(out.path('b.json'), '{}');
    out.commit();
    expect(readdirSync(finalDir).sort()).toEqual(['a.csv', 'b.json']);
    expect(readFileSync(join(finalDir, 'a.csv'), 'utf8')).toBe('a\n');
    expect(readdirSync(join(root, 'nested'))).toEqual(['run']);
  });

  it('replaces an existing file only at commit', () => {
    const finalDir = join(root, 'run');
    mkdirSync(finalDir);
    writeFileSync(join(finalDir, 'a.csv'), 'old\n');
    writeFileSync(join(finalDir, 'keep.txt'), 'keep\n');
    const out = new OutputDir(finalDir);
    writeFileSync(out.path('a.csv'), 'new\n');
    expect(readFileSync(join(finalDir, 'a.csv'), 'utf8')).toBe('old\n');
    out.commit();
    expect(readFileSync(join(finalDir, 'a.csv'), 'utf8')).toBe('new\n');
    expect(readFileSync(join(finalDir, 'keep.txt'), 'utf8')).toBe('keep\n');
  });

  it('skips names that were requested but never written', () => {
    const finalDir = join(root, 'run');
    const out = new OutputDir(finalDir);
    out.path('never.csv');
    out.commit();
    expect(readdirSync(finalDir)).toEqual([]);
  });

  it('removes the files it replaces that this commit did not write, and only at commit', () => {
    const finalDir = join(root, 'run');
    mkdirSync(finalDir);
    for (const name of ['a.csv', 'b.csv', 'mine.txt']) writeFileSync(join(finalDir, name), 'old\n');
    const out = new OutputDir(finalDir, ['a.csv', 'b.csv', 'c.csv']);
    writeFileSync(out.path('a.csv'), 'new\n');
    expect(readdirSync(finalDir).sort()).toEqual(['a.csv', 'b.csv', 'mine.txt']);
    out.commit();
    expect(readdirSync(finalDir).sort()).toEqual(['a.csv', 'mine.txt']);
    expect(readFileSync(join(finalDir, 'a.csv'), 'utf8')).toBe('new\n');
  });

  it('rejects names that are not plain file names', () => {
    const out = new OutputDir(join(root, 'run'));
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a\\b']) expect(() => out.path(bad)).toThrow(/plain file name/);
    out.abort();
  });

  it('refuses to hand out paths or commit again after commit', () => {
    const out = new OutputDir(join(root, 'run'));
    out.commit();
    expect(() => out.path('a.csv')).toThrow(/already committed/);
    expect(() => out.commit()).toThrow(/already committed/);
  });
});

describe('writeFileAtomic', () => {
  it('creates a file with the given content', () => {
    const file = join(root, 'a.txt');
    writeFileAtomic(file, 'héllo\n');
    expect(readFileSync(file, 'utf8')).toBe('héllo\n');
  });

  it('replaces an existing file and leaves no temp file behind', () => {
    const file = join(root, 'a.txt');
    writeFileSync(file, 'old');
    writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(root)).toEqual(['a.txt']);
  });

  it('cleans up its temp file when the rename fails', () => {
    const target = join(root, 'dir');
    mkdirSync(join(target, 'child'), { recursive: true });
    expect(() => writeFileAtomic(target, 'x')).toThrow();
    expect(readdirSync(root)).toEqual(['dir']);
  });
});

describe('temp dirs of dead processes', () => {
  it('are removed by the next OutputDir created beside them, and live ones are kept', () => {
    const parent = mkdtempSync(join(tmpdir(), 'fleetsim-stale-'));
    // pid 2^22 + 7 is above Linux's default pid_max, so no process has it.
    const stale = join(parent, `.fleetsim-tmp-${2 ** 22 + 7}-abc`);
    const live = join(parent, `.fleetsim-tmp-${process.ppid}-abc`);
    mkdirSync(stale);
    mkdirSync(live);
    const out = new OutputDir(join(parent, 'out'));
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    out.abort();
    rmSync(parent, { recursive: true });
  });
});
