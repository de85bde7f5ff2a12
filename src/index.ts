/**
 * fleetsim's library API. The CLI is a thin shell over these; tests and benchmarks call them directly.
 */
import { lstatSync, statSync, writeFileSync } from 'node:fs';
import { InputError } from './errors.js';
import { dirname, resolve } from 'node:path';
import { VERSION } from './version.js';
import { simulate, type SimulationOptions, type SimulationResult } from './simulation/simulate.js';
import { buildLedger } from './economics/ledger.js';
import { OutputDir } from './report/atomic.js';
import { VIEW_FILES } from './report/views.js';
import { RequestsWriter, TimeseriesWriter, runInfo, writePnl, writeSummary } from './report/reports.js';
import type { Scenario } from './scenario/load.js';

export { loadScenario, parseScenarioText, type Scenario } from './scenario/load.js';
export { loadCatalog, type Catalog } from './catalog/catalog.js';
export { simulate, type SimulationResult, type IntervalSnapshot } from './simulation/simulate.js';
export { buildLedger, type Ledger } from './economics/ledger.js';
export { InputError } from './errors.js';
export { runSweep, type SweepOptions } from './sweep/sweep.js';
export { planScenario, type Evaluation as PlanEvaluation } from './plan/plan.js';

export { VERSION } from './version.js';

export interface RunOptions {
  /** Directory the reports go to; written atomically (all files appear at the end, or none). */
  outDir: string;
  /** Also write requests.csv, one row per request. */
  requests?: boolean;
  /** With `requests`: the fraction of requests written (by a hash of the request id); default 1. */
  requestsSample?: number;
  onProgress?: SimulationOptions['onProgress'];
}

/** Simulates a scenario and writes summary.csv, timeseries.csv, pnl.csv, run.json (and requests.csv). */
export function runToDir(scenario: Scenario, options: RunOptions): SimulationResult {
  checkOutputDir(options.outDir);
  const out = new OutputDir(options.outDir, RUN_FILES);
  let timeseries: TimeseriesWriter | null = null;
  let requests: RequestsWriter | null = null;
  try {
    timeseries = new TimeseriesWriter(out.path('timeseries.csv'), scenario);
    if (options.requests) requests = new RequestsWriter(out.path('requests.csv'), scenario, options.requestsSample);
    const ts = timeseries;
    const rq = requests;
    const result = simulate(scenario, {
      onInterval: (s) => ts.write(s),
      onProgress: options.onProgress,
      requestLog: rq,
    });
    timeseries.close();
    requests?.close();
    const ledger = buildLedger(result);
    writeSummary(out.path('summary.csv'), result, ledger);
    writePnl(out.path('pnl.csv'), result, ledger);
    const info = runInfo(result, VERSION);
    writeRunJson(out.path('run.json'), info);
    out.commit();
    return result;
  } catch (err) {
    out.abort();
    throw err;
  }
}

/**
 * Every file `fleetsim run` can write (summary_ci.csv with --replications): a run into a directory
 * that holds an earlier run's reports removes those this run does not write.
 */
const RUN_FILES = ['summary.csv', 'timeseries.csv', 'pnl.csv', 'run.json', 'requests.csv', 'summary_ci.csv', ...VIEW_FILES];

/** Refuses an --out that cannot become a directory before spending time simulating. */
export function checkOutputDir(dir: string): void {
  if (dir === '') throw new InputError('--out needs a directory name, got an empty one', { path: '--out' });
  // mkdir fails where the path, or the nearest part of it that exists, is a file or a broken link.
  const target = resolve(dir);
  const named = (p: string) => {
    try {
      lstatSync(p);
      return true;
    } catch {
      return false; // missing, or under a file (ENOTDIR)
    }
  };
  let existing = target;
  while (!named(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const it = existing === target ? 'this' : existing;
  const stat = statSync(existing, { throwIfNoEntry: false });
  if (stat === undefined) throw new InputError(`--out must name a directory, and ${it} is a broken symbolic link`, { file: dir });
  if (!stat.isDirectory()) throw new InputError(`--out must name a directory, and ${it} is a file`, { file: dir });
}

function writeRunJson(path: string, info: object): void {
  writeFileSync(path, JSON.stringify(info, null, 2) + '\n');
}
