/**
 * The docs state facts about the code; these tests keep them true. README.md and docs/*.md:
 * - every relative link resolves to a file, and every #anchor to a heading of it;
 * - the scenario key tables (after `<!-- keys PREFIX -->` markers) list exactly the keys of
 *   src/scenario/schema.ts, no more, no fewer, and the row of a union-typed key (`arrival`,
 *   `prompt_tokens`) mentions every option and option key the schema accepts there;
 * - the report column tables in docs/reports.md are generated from src/report/columns.ts;
 * - README's worked example and docs/sweeps.md's plan output are what the CLI prints today.
 * `npm run docs:tables` (UPDATE_DOCS=1) rewrites the generated parts: the column tables and the
 * example table. Key tables carry prose, so a drift there names the row to add or remove.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { scenarioSchema } from '../src/scenario/schema.js';
import { columnsMarkdown } from '../src/report/docs.js';
import { fleetsim, ROOT, tempDir } from './helpers/cli.js';

const UPDATE = !!process.env.UPDATE_DOCS;
const README = join(ROOT, 'README.md');
const DOCS = join(ROOT, 'docs');
const DOC_FILES = [README, ...readdirSync(DOCS).filter((f) => f.endsWith('.md')).map((f) => join(DOCS, f))];
const rel = (file: string) => relative(ROOT, file);
const read = (file: string) => readFileSync(file, 'utf8');

/** Markdown without fenced code blocks and inline code, where `[x](y)` is not a link. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const slug = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Broken relative links of one markdown file, as `file: [text](target): why`. */
export function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const m of prose(read(file)).matchAll(/\[([^\]]*)\]\(([^)\s]+)\)/g)) {
    const target = m[2]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: are not checked here
    const [path, anchor] = target.split('#') as [string, string | undefined];
    const dest = path === '' ? file : resolve(dirname(file), path);
    const where = `${rel(file)}: [${m[1]}](${target})`;
    if (!existsSync(dest)) {
      broken.push(`${where}: no file ${rel(dest)}`);
    } else if (anchor !== undefined && !(statSync(dest).isFile() && anchors(read(dest)).has(anchor))) {
      broken.push(`${where}: no heading with anchor #${anchor} in ${rel(dest)}`);
    }
  }
  return broken;
}

/** Unwraps defaults, optionals, transforms and arrays; `[]` marks an array step in the path. */
function unwrap(schema: z.ZodType): { inner: z.ZodType; array: boolean } {
  let s = schema;
  let array = false;
  for (;;) {
    const def = (s as unknown as { def: { type: string; innerType?: z.ZodType; element?: z.ZodType; in?: z.ZodType } }).def;
    if (def.type === 'default' || def.type === 'optional') s = def.innerType!;
    else if (def.type === 'pipe') s = def.in!;
    else if (def.type === 'array') {
      s = def.element!;
      array = true;
    } else return { inner: s, array };
  }
}

/**
 * Every key path of the scenario schema (`deployments[].cost.model`), descending into objects
 * and arrays of objects; unions (arrival processes, length distributions) and records (catalog
 * rows, sweep) are leaves, documented in their row's text.
 */
export function schemaPaths(schema: z.ZodType = scenarioSchema, prefix = ''): Map<string, string[]> {
  const paths = new Map<string, string[]>(); // path -> its children's paths
  const { inner } = unwrap(schema);
  if (!(inner instanceof z.ZodObject)) return paths;
  for (const [key, value] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
    const { inner: child, array } = unwrap(value);
    const path = prefix + key;
    const sub = child instanceof z.ZodObject ? schemaPaths(child, `${path}${array ? '[]' : ''}.`) : new Map<string, string[]>();
    paths.set(path, [...sub.keys()].filter((p) => !p.slice(path.length + (array ? 3 : 1)).includes('.')));
    for (const [p, c] of sub) paths.set(p, c);
  }
  return paths;
}

/**
 * The words a union-typed key's row must mention: every option's keys and discriminator values
 * (`arrival`: `process`, `poisson`, `rate`, `diurnal`, `hourly`, ...), by key path.
 */
export function unionWords(schema: z.ZodType = scenarioSchema, prefix = ''): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const { inner } = unwrap(schema);
  if (!(inner instanceof z.ZodObject)) return out;
  for (const [key, value] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
    const { inner: child, array } = unwrap(value);
    const path = prefix + key;
    const def = (child as unknown as { def: { type: string; options?: z.ZodType[] } }).def;
    if (def.type === 'union' && def.options) {
      const words = new Set<string>();
      for (const option of def.options) {
        if (!(option instanceof z.ZodObject)) continue;
        for (const [k, v] of Object.entries(option.shape as Record<string, z.ZodType>)) {
          words.add(k);
          const literal = (v as unknown as { def: { type: string; values?: unknown[] } }).def;
          if (literal.type === 'literal') for (const x of literal.values ?? []) words.add(String(x));
        }
      }
      out.set(path, [...words]);
    } else if (child instanceof z.ZodObject) {
      for (const [p, w] of unionWords(child, `${path}${array ? '[]' : ''}.`)) out.set(p, w);
    }
  }
  return out;
}

interface KeyRow {
  path: string;
  text: string;
  file: string;
  marker: string;
}

/** Rows of every table that follows a `<!-- keys PREFIX -->` marker in docs/. */
export function keyRows(files: string[]): KeyRow[] {
  const rows: KeyRow[] = [];
  for (const file of files) {
    const lines = read(file).split('\n');
    lines.forEach((line, i) => {
      const m = /^<!-- keys ?(\S*) -->$/.exec(line);
      if (!m) return;
      for (let j = i + 3; j < lines.length && lines[j]!.startsWith('|'); j++) {
        const cells = lines[j]!.split(/(?<!\\)\|/).slice(1, -1);
        const key = /^ *`([^`]+)` *$/.exec(cells[0] ?? '');
        if (!key) throw new Error(`${rel(file)}:${j + 1}: a key table row must start with | \`key\` |`);
        rows.push({ path: (m[1] ?? '') + key[1], text: cells.slice(1).join('|'), file, marker: line });
      }
    });
  }
  return rows;
}

/** The drift between key tables and schema, each as a sentence saying what to change. */
export function keyDrift(paths: Map<string, string[]>, rows: KeyRow[], unions: Map<string, string[]> = new Map()): string[] {
  const byPath = new Map(rows.map((r) => [r.path, r]));
  const parentOf = (p: string) => p.replace(/(\[\])?\.[^.]+$/, '');
  const isDocumented = (p: string): boolean => {
    if (byPath.has(p)) return true;
    const parent = byPath.get(parentOf(p));
    const last = p.slice(p.lastIndexOf('.') + 1);
    if (parent && p.includes('.') && new RegExp(`\\b${last}\\b`).test(parent.text)) return true;
    const children = paths.get(p) ?? [];
    return children.length > 0 && children.every(isDocumented);
  };
  const drift: string[] = [];
  for (const [p, children] of paths) {
    // A parent is undocumented only through its children, which are reported themselves.
    if (isDocumented(p) || children.length > 0) continue;
    // The table whose prefix is the longest that p starts with is where its row belongs.
    const home = rows
      .filter((r) => p.startsWith(/^<!-- keys ?(\S*) -->$/.exec(r.marker)![1]!))
      .sort((a, b) => b.marker.length - a.marker.length)[0];
    const prefix = home ? /^<!-- keys ?(\S*) -->$/.exec(home.marker)![1]! : '';
    drift.push(
      `scenario key \`${p}\` (src/scenario/schema.ts) has no row in the docs: add ` +
        `"| \`${p.slice(prefix.length)}\` | unit / type | default | meaning |" to the table after ` +
        `${home ? `"${home.marker}" in ${rel(home.file)}` : 'a "<!-- keys -->" marker in docs/scenarios.md'}`,
    );
  }
  for (const [p, words] of unions) {
    const row = byPath.get(p);
    if (!row) continue; // reported above as a missing row
    // A row may defer to another with "as `other`" (output_tokens: as `prompt_tokens`).
    const other = /\bas `([^`]+)`/.exec(row.text)?.[1];
    const prefix = p.slice(0, p.length - (p.split('.').pop()!.length));
    const text = row.text + (other ? (byPath.get(prefix + other)?.text ?? '') : '');
    const missing = words.filter((w) => !new RegExp(`\\b${w}\\b`).test(text));
    if (missing.length > 0) {
      drift.push(
        `${rel(row.file)}: the row \`${p}\` (table after "${row.marker}") does not mention ${missing.map((w) => `\`${w}\``).join(', ')}, ` +
          `which src/scenario/schema.ts accepts there: describe them in that row's text`,
      );
    }
  }
  for (const r of rows) {
    if (!paths.has(r.path)) {
      drift.push(`${rel(r.file)}: the row \`${r.path}\` (table after "${r.marker}") names no key of src/scenario/schema.ts: rename or remove it`);
    }
  }
  return drift;
}

/** Replaces what lies between `<!-- NAME:begin -->\n` and `<!-- NAME:end -->`, or checks it. */
function generated(file: string, name: string, content: string): void {
  const text = read(file);
  const begin = `<!-- ${name}:begin -->\n`;
  const start = text.indexOf(begin);
  const end = text.indexOf(`<!-- ${name}:end -->`);
  expect(start, `${rel(file)} lacks the ${begin.trim()} marker`).toBeGreaterThan(0);
  if (UPDATE) {
    writeFileSync(file, text.slice(0, start + begin.length) + content + text.slice(end));
    return;
  }
  expect(text.slice(start + begin.length, end), `${rel(file)}: the generated ${name} table is out of date: run \`npm run docs:tables\` and commit the result`).toBe(content);
}

describe('doc links', () => {
  it('resolve: every relative link in README.md and docs/*.md names a file, and each #anchor a heading', () => {
    expect(DOC_FILES.flatMap(brokenLinks)).toEqual([]);
  });

  it('the link checker catches a missing file and a missing anchor (a test of the test)', () => {
    const dir = tempDir();
    const file = join(dir, 'a.md');
    writeFileSync(join(dir, 'b.md'), '# B title\n\n## Two `words`: here\n\n## Two words here\n');
    writeFileSync(file, '[ok](b.md#two-words-here-1) [ok](b.md#b-title) [gone](c.md) [bad](b.md#nope) `[code](x.md)` [web](https://x.y/z)\n');
    expect(brokenLinks(file)).toEqual([
      `${rel(file)}: [gone](c.md): no file ${rel(join(dir, 'c.md'))}`,
      `${rel(file)}: [bad](b.md#nope): no heading with anchor #nope in ${rel(join(dir, 'b.md'))}`,
    ]);
  });
});

describe('doc tables', () => {
  it('the scenario key tables list exactly the keys of src/scenario/schema.ts', () => {
    expect(keyDrift(schemaPaths(), keyRows(DOC_FILES), unionWords())).toEqual([]);
  });

  it('the key drift check fails both ways (a test of the test)', () => {
    const schema = z.object({ a: z.number(), b: z.array(z.object({ c: z.number(), d: z.number() })), e: z.object({ f: z.number() }) });
    const dir = tempDir();
    const file = join(dir, 'k.md');
    writeFileSync(file, '<!-- keys -->\n| key | m |\n|---|---|\n| `a` | x |\n| `e` | holds `f` |\n| `z` | stale |\n\n<!-- keys b[]. -->\n| key | m |\n|---|---|\n| `c` | y |\n');
    const drift = keyDrift(schemaPaths(schema), keyRows([file]));
    expect(drift).toHaveLength(2);
    expect(drift[0]).toContain('scenario key `b[].d`');
    expect(drift[0]).toContain('"| `d` | unit / type | default | meaning |" to the table after "<!-- keys b[]. -->"');
    expect(drift[1]).toContain('the row `z`');
  });

  it('a union-typed key must mention each option and its keys in its row (a test of the test)', () => {
    const schema = z.object({
      u: z.discriminatedUnion('kind', [z.object({ kind: z.literal('one'), x: z.number() }), z.object({ kind: z.literal('two'), y: z.number() })]),
      v: z.discriminatedUnion('kind', [z.object({ kind: z.literal('one'), x: z.number() })]),
    });
    const dir = tempDir();
    const file = join(dir, 'u.md');
    writeFileSync(file, '<!-- keys -->\n| key | m |\n|---|---|\n| `u` | `{ kind: one, x }` |\n| `v` | as `u` |\n');
    const drift = keyDrift(schemaPaths(schema), keyRows([file]), unionWords(schema));
    expect(drift).toEqual([
      `${rel(file)}: the row \`u\` (table after "<!-- keys -->") does not mention \`two\`, \`y\`, which src/scenario/schema.ts accepts there: describe them in that row's text`,
    ]);
  });

  it('the report column tables in docs/reports.md are generated from src/report/columns.ts', () => {
    generated(join(DOCS, 'reports.md'), 'columns', columnsMarkdown());
  });
});

describe('doc examples', () => {
  it("README's worked example shows what `fleetsim run` writes for it", () => {
    const text = read(README);
    const yaml = /## A scenario in brief[\s\S]*?```yaml\n([\s\S]*?)```/.exec(text)?.[1];
    expect(yaml, 'README.md: the "A scenario in brief" section needs a ```yaml block').toBeDefined();
    const dir = tempDir();
    writeFileSync(join(dir, 'chat.yaml'), yaml!);
    const r = fleetsim(['run', join(dir, 'chat.yaml'), '--out', join(dir, 'out'), '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = parseCsv(read(join(dir, 'out', 'summary.csv')), { columns: true }) as Record<string, string>[];
    const total = rows.find((row) => row.scope === 'total')!;
    const shown = ['requests_arrived', 'requests_completed', 'output_tokens_per_s', 'ttft_p50_s', 'ttft_p99_s', 'tpot_p99_s', 'e2e_p99_s', 'slo_attainment_pct', 'chips', 'busy_pct', 'capacity_used_pct', 'cost_usd', 'revenue_usd', 'gross_margin_usd', 'cost_usd_per_mtok_output'];
    const table = ['| column | value |', '|---|---:|', ...shown.map((c) => `| \`${c}\` | ${total[c] ?? '(no such column)'} |`), ''].join('\n');
    generated(README, 'example', table);
  });

  it('docs/sweeps.md shows what `fleetsim plan` prints for the bundled plan scenario', () => {
    const text = read(join(DOCS, 'sweeps.md'));
    const command = '$ fleetsim plan scenarios/silicon-mix-plan.yaml --out out/plan\n';
    const at = text.indexOf(command);
    expect(at).toBeGreaterThan(0);
    const shown = text.slice(at + command.length, text.indexOf('```', at));
    const r = fleetsim(['plan', 'scenarios/silicon-mix-plan.yaml', '--out', join(tempDir(), 'plan'), '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stdout, 'docs/sweeps.md: the plan output shown is out of date: paste what the command prints').toBe(shown);
  });
});
