/** The CLI's commands: each parses nothing itself, calls the library and prints. */
import { Worker } from 'node:worker_threads';
import { SingleBar } from 'cli-progress';
import { InputError } from '../errors.js';
import { loadCatalog } from '../catalog/catalog.js';
import { count, formatDuration } from '../scenario/units.js';
import { csvRow, neutralizeText } from '../report/csv.js';
import { cleanUpOnSignal } from './interrupt.js';
import type { RunMessage } from './run-worker.js';

export interface RunFlags {
  out: string;
  seed?: number;
  horizon?: number;
  requests?: boolean;
  requestsSample?: number;
  quiet?: boolean;
  /** `--set path=value` edits (repeatable). */
  set?: string[];
  /** Scenario warnings are errors (exit 2). */
  strict?: boolean;
}

export async function runCommand(file: string, flags: RunFlags): Promise<void> {
  const showProgress = !flags.quiet && process.stderr.isTTY && !process.env.CI;
  const worker = new Worker(new URL('./run-worker.js', import.meta.url), { workerData: { file, flags, progress: showProgress } });
  let bar: SingleBar | null = null;
  const stopBar = () => {
    bar?.stop();
    bar = null;
  };
  const uninstall = cleanUpOnSignal(flags.out, { stop: () => worker.terminate(), restoreTerminal: stopBar });
  try {
    const done = await new Promise<Extract<RunMessage, { kind: 'done' }>>((resolveRun, rejectRun) => {
      worker.on('message', (m: RunMessage) => {
        if (m.kind === 'warnings') {
          for (const w of m.lines) process.stderr.write(`fleetsim: warning: ${w}\n`);
        } else if (m.kind === 'start' && showProgress) {
          bar = new SingleBar({ stream: process.stderr, format: 'simulating [{bar}] {percentage}% | {value}/{total} s simulated', gracefulExit: false });
          bar.start(Math.round(m.horizonS), 0);
        } else if (m.kind === 'progress') {
          bar?.update(Math.round(m.simTimeS));
        } else if (m.kind === 'done') {
          resolveRun(m);
        } else if (m.kind === 'error') {
          rejectRun(rebuildError(m));
        }
      });
      worker.on('error', rejectRun);
      worker.on('exit', (code) => rejectRun(new Error(`run worker exited with code ${code} before finishing`)));
    });
    stopBar();
    if (!flags.quiet) {
      const rate = Math.round(done.arrivals / Math.max(done.wallS, 1e-9));
      // The span the run covered (run.json billed_run_s): a benchmark (every workload a fixed
      // count) ends at its last request, before the horizon; requests in flight at the horizon run past it.
      const span =
        done.endS < done.horizonS ? `${formatDuration(done.endS)} simulated (to the last request; horizon ${formatDuration(done.horizonS)})`
        : done.endS > done.horizonS ? `${formatDuration(done.endS)} simulated (horizon ${formatDuration(done.horizonS)}, then the requests in flight)`
        : `${formatDuration(done.horizonS)} simulated`;
      process.stderr.write(
        `${done.name}: ${count(done.arrivals, 'request')} over ${span} in ` +
          `${done.wallS.toFixed(2)} s (${rate} requests/s, ${done.events} events); reports in ${flags.out}/\n`,
      );
      if (done.assumptions > 0) {
        process.stderr.write(`note: ${done.assumptions === 1 ? '1 catalog figure used is an assumption' : `${done.assumptions} catalog figures used are assumptions`}, listed in run.json\n`);
      }
      // A figure that rests on no measurement must not pass unremarked (run.json `perf` has it too).
      for (const n of done.perfNotes) process.stderr.write(`note: ${n}\n`);
    }
  } finally {
    stopBar();
    uninstall();
    await worker.terminate();
  }
}

/** The worker's error as the main thread's: InputError and file-system errors keep their exit code 2. */
function rebuildError(m: Extract<RunMessage, { kind: 'error' }>): Error {
  if (m.input) return new InputError(m.input.message, m.input.location);
  const err = new Error(m.stack) as NodeJS.ErrnoException;
  if (m.fs) Object.assign(err, m.fs);
  err.stack = m.stack;
  return err;
}

/**
 * What a catalog row rests on: `sourced` (a source, nothing assumed), `sourced+assumed` (a source
 * for most figures and an assumption for some, as most silicon rows: the assumption cell names
 * which), `assumption` (no source at all).
 */
export function provenanceOf(r: { source: string; assumption: string }): 'sourced' | 'sourced+assumed' | 'assumption' {
  if (!r.source.trim()) return 'assumption';
  return r.assumption.trim() ? 'sourced+assumed' : 'sourced';
}

export function catalogCommand(flags: { format: string }): void {
  const c = loadCatalog();
  // The CSV also carries each row's source and assumption in full; the table only says which it leans on.
  const rows: string[][] = [['kind', 'id', 'name', 'vendor', 'detail', 'provenance', 'source', 'assumption']];
  const provenance = (r: { source: string; assumption: string }) => [provenanceOf(r), r.source, r.assumption];
  for (const s of c.silicon.values()) {
    rows.push(['silicon', s.id, s.name, s.vendor, `${s.kind}, ${s.memoryGb} GB, ${s.memBwGbps} GB/s, ${s.bf16Tflops} bf16 TFLOPS, $${s.usdPerChipHour}/chip-h`, ...provenance(s)]);
  }
  for (const m of c.models.values()) {
    const shared = m.sharedExperts > 0 ? ` + ${m.sharedExperts} shared` : '';
    const moe = m.experts > 1 ? `, MoE ${m.experts}x top-${m.expertsPerToken}${shared}, ${m.activeParamsB}B active` : '';
    const mla = m.attention === 'mla' ? `, MLA latent ${m.kvLoraRank}+${m.qkRopeHeadDim}` : '';
    rows.push(['model', m.id, m.name, m.vendor, `${m.paramsB}B params, ${m.layers} layers${moe}${mla}`, ...provenance(m)]);
  }
  for (const p of c.prices.values()) {
    rows.push(['price', p.model, '', '', `$${p.inputUsdPerMtok} in / $${p.outputUsdPerMtok} out per Mtok, vendor share ${p.vendorShare}`, ...provenance(p)]);
  }
  if (flags.format === 'csv') {
    for (const r of rows) process.stdout.write(csvRow(r.map(neutralizeText)));
    return;
  }
  const table = rows.map((r) => r.slice(0, 6));
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  for (const r of table) process.stdout.write(r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd() + '\n');
}
