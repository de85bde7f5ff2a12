/**
 * `fleetsim run`'s simulation, on a worker thread. The simulation loop is synchronous, so on the
 * main thread a SIGINT or SIGTERM could not be handled until the run ended; here the main thread
 * stays free to stop this worker, remove the staged output and restore the terminal (commands.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { loadScenario, runToDir } from '../index.js';
import { loadScenarioWithEdits } from '../sweep/job.js';
import { parseSets } from './sweep.js';
import type { RunFlags } from './commands.js';

/** What the worker posts back; the main thread rebuilds errors from it (see commands.ts). */
export type RunMessage =
  | { kind: 'warnings'; lines: string[] }
  | { kind: 'start'; horizonS: number }
  | { kind: 'progress'; simTimeS: number }
  | { kind: 'done'; name: string; horizonS: number; endS: number; arrivals: number; wallS: number; events: number; assumptions: number; perfNotes: string[] }
  | { kind: 'error'; input: { message: string; location: InputError['location'] } | null; fs: { code: string; syscall: string; path?: string } | null; stack: string };

const { file, flags, progress } = workerData as { file: string; flags: RunFlags; progress: boolean };
const post = (m: RunMessage) => parentPort!.postMessage(m);

try {
  const overrides = { seed: flags.seed, horizonS: flags.horizon };
  const scenario = flags.set?.length ? loadScenarioWithEdits(file, parseSets(flags.set), overrides) : loadScenario(file, overrides);
  post({ kind: 'warnings', lines: scenario.warnings });
  // The main thread prints them; under --strict it is an input error before anything is simulated.
  if (flags.strict && scenario.warnings.length > 0) {
    throw new InputError(`${scenario.warnings.length === 1 ? 'the warning above' : `the ${scenario.warnings.length} warnings above`}: nothing simulated or written`, { path: '--strict' });
  }
  post({ kind: 'start', horizonS: scenario.horizonS });
  const result = runToDir(scenario, {
    outDir: flags.out,
    requests: flags.requests || flags.requestsSample !== undefined,
    requestsSample: flags.requestsSample,
    onProgress: progress ? (t, h) => post({ kind: 'progress', simTimeS: Math.min(t, h) }) : undefined,
  });
  post({
    kind: 'done',
    name: scenario.name,
    horizonS: scenario.horizonS,
    endS: result.endS,
    arrivals: result.arrivals,
    wallS: result.wallS,
    events: result.events,
    assumptions: scenario.assumptions.length,
    // Deployments whose chip has no measurement or whose error is unknown: said on every run (issue 16 item 8).
    perfNotes: scenario.deployments.filter((d) => !d.perfError.hasBand || !d.perfError.siliconMeasured).map((d) => `deployment ${d.name}: ${d.perfError.note}`),
  });
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  post({
    kind: 'error',
    input: err instanceof InputError ? { message: err.message, location: err.location } : null,
    fs: typeof e.code === 'string' && e.syscall ? { code: e.code, syscall: e.syscall, path: e.path } : null,
    stack: e.stack ?? String(err),
  });
}
