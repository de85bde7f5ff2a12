/**
 * Reads a finished output directory (of `run`, `sweep`, `merge` or `plan`) back from its CSVs, so
 * the HTML and spreadsheet views show exactly the numbers the CSVs hold. A header that is not this
 * version's column set (an older run, or a file edited by hand) is refused with the file named,
 * since a view built from misread columns would be wrong without looking wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../csv-read.js';
import { InputError } from '../errors.js';
import { appendedIn, names, PLAN_COLUMNS, pnlColumns, requestColumns, summaryColumns, TIMESERIES_AUTOSCALE_COLUMNS, TIMESERIES_COLUMNS } from '../report/columns.js';

export interface Table {
  /** File name inside the directory, e.g. `summary.csv`. */
  file: string;
  header: string[];
  rows: string[][];
}

export interface ReportDir {
  dir: string;
  summary?: Table;
  timeseries?: Table;
  pnl?: Table;
  requests?: Table;
  sweep?: Table;
  /** Swept paths of sweep.csv / summary_ci.csv (the columns between `point` and the rest). */
  sweepPaths: string[];
  summaryCi?: Table;
  plan?: Table;
  /** run.json, parsed; absent for sweeps and plans. */
  runJson?: RunJson;
}

export interface RunJson {
  scenario?: string;
  seed?: number;
  start?: string;
  horizon_s?: number;
  assumptions?: string[];
  [key: string]: unknown;
}

/** The columns summary_ci.csv has after `point` and the swept paths (src/sweep/output.ts writes them). */
export const SUMMARY_CI_TAIL = ['scope', 'key', 'metric', 'replications', 'estimate', 'ci95_half_width'];

/** Every file a report can be built from, in the order the views show them. */
export const REPORT_CSV_FILES = ['summary.csv', 'pnl.csv', 'timeseries.csv', 'requests.csv', 'sweep.csv', 'summary_ci.csv', 'plan.csv'];

function readTable(dir: string, file: string): Table | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) return undefined;
  let records: string[][];
  try {
    records = parseCsv<string[][]>(readFileSync(path), { relax_column_count: false });
  } catch (err) {
    const e = err as { message: string; lines?: number };
    throw new InputError(`not a readable CSV: ${e.message}`, { file: path, line: e.lines });
  }
  if (records.length === 0) throw new InputError('empty file: expected a header row', { file: path });
  const [header, ...rows] = records;
  return { file, header, rows };
}

function expectColumns(t: Table, dir: string, expected: readonly string[], offset = 0): void {
  const got = t.header.slice(offset);
  if (got.join(',') === expected.join(',')) return;
  const missing = expected.filter((c) => !got.includes(c));
  const extra = got.filter((c) => !expected.includes(c));
  const why = missing.length || extra.length
    ? [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `unknown ${extra.join(', ')}` : ''].filter(Boolean).join('; ')
    : 'columns in another order';
  throw new InputError(
    `columns are not this fleetsim version's (${why}); it was written by another version: re-run the simulation to regenerate it`,
    { file: join(dir, t.file), line: 1 },
  );
}

/**
 * Reads every report in `dir`.
 * @throws InputError when `dir` holds no report, or a report's columns are not the current set.
 */
export function readReportDir(dir: string): ReportDir {
  if (!existsSync(dir)) throw new InputError('no such directory', { file: dir });
  const r: ReportDir = { dir, sweepPaths: [] };
  r.summary = readTable(dir, 'summary.csv');
  // A scenario with quotas appends requests_throttled to summary and pnl (src/report/columns.ts).
  if (r.summary) expectColumns(r.summary, dir, names(summaryColumns(appendedIn(r.summary.header))));
  r.timeseries = readTable(dir, 'timeseries.csv');
  // A run with autoscaling appends two columns (src/report/columns.ts).
  const autoscaled = r.timeseries !== undefined && r.timeseries.header.length === TIMESERIES_COLUMNS.length + TIMESERIES_AUTOSCALE_COLUMNS.length;
  if (r.timeseries) expectColumns(r.timeseries, dir, names(autoscaled ? [...TIMESERIES_COLUMNS, ...TIMESERIES_AUTOSCALE_COLUMNS] : TIMESERIES_COLUMNS));
  r.pnl = readTable(dir, 'pnl.csv');
  if (r.pnl) expectColumns(r.pnl, dir, names(pnlColumns(appendedIn(r.pnl.header))));
  r.requests = readTable(dir, 'requests.csv');
  // requests.csv appends reasoning_tokens, then session_id and turn, when the scenario had them.
  if (r.requests) expectColumns(r.requests, dir, names(requestColumns(r.requests.header.includes('reasoning_tokens'), r.requests.header.includes('session_id'))));
  r.plan = readTable(dir, 'plan.csv');
  if (r.plan) expectColumns(r.plan, dir, names(PLAN_COLUMNS));

  r.sweep = readTable(dir, 'sweep.csv');
  if (r.sweep) {
    const rep = r.sweep.header.indexOf('replications');
    if (r.sweep.header[0] !== 'point' || rep < 1) {
      throw new InputError('columns are not a sweep\'s: expected `point`, the swept paths, `replications`, then the summary columns', {
        file: join(dir, 'sweep.csv'),
        line: 1,
      });
    }
    r.sweepPaths = r.sweep.header.slice(1, rep);
    expectColumns(r.sweep, dir, names(summaryColumns(appendedIn(r.sweep.header))), rep + 1);
  }
  r.summaryCi = readTable(dir, 'summary_ci.csv');
  if (r.summaryCi) {
    const paths = r.summaryCi.header.slice(1, r.summaryCi.header.length - SUMMARY_CI_TAIL.length);
    if (r.summaryCi.header[0] !== 'point') expectColumns(r.summaryCi, dir, ['point', ...SUMMARY_CI_TAIL]);
    expectColumns(r.summaryCi, dir, SUMMARY_CI_TAIL, 1 + paths.length);
    if (r.sweep && paths.join(',') !== r.sweepPaths.join(',')) {
      throw new InputError(`swept paths (${paths.join(', ')}) differ from sweep.csv's (${r.sweepPaths.join(', ')}): the files come from different sweeps`, {
        file: join(dir, 'summary_ci.csv'),
        line: 1,
      });
    }
    if (!r.sweep) r.sweepPaths = paths;
  }

  const runPath = join(dir, 'run.json');
  if (existsSync(runPath)) {
    try {
      r.runJson = JSON.parse(readFileSync(runPath, 'utf8')) as RunJson;
    } catch (err) {
      throw new InputError(`not valid JSON: ${(err as Error).message}`, { file: runPath });
    }
  }
  if (!r.summary && !r.sweep && !r.plan && !r.summaryCi) {
    throw new InputError(
      `holds no fleetsim reports: expected summary.csv (fleetsim run), sweep.csv (fleetsim sweep or merge) or plan.csv (fleetsim plan)`,
      { file: dir },
    );
  }
  return r;
}

/** Column index by name; the name comes from the column definitions, so a rename that misses a view fails here, loudly. */
export function column(t: Table, name: string): number {
  const i = t.header.indexOf(name);
  if (i < 0) throw new Error(`${t.file} has no column ${name}`);
  return i;
}
