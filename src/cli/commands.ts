/** The CLI's commands: each parses nothing itself, calls the library and prints. */
import { SingleBar } from 'cli-progress';
import { loadCatalog, loadScenario, runToDir } from '../index.js';
import { formatDuration } from '../scenario/units.js';
import { csvRow, neutralizeText } from '../report/csv.js';
import { loadScenarioWithEdits } from '../sweep/job.js';
import { parseSets } from './sweep.js';

export interface RunFlags {
  out: string;
  seed?: number;
  horizon?: number;
  requests?: boolean;
  requestsSample?: number;
  quiet?: boolean;
  /** `--set path=value` edits (repeatable). */
  set?: string[];
}

export function runCommand(file: string, flags: RunFlags): void {
  const overrides = { seed: flags.seed, horizonS: flags.horizon };
  const scenario = flags.set?.length ? loadScenarioWithEdits(file, parseSets(flags.set), overrides) : loadScenario(file, overrides);
  const showProgress = !flags.quiet && process.stderr.isTTY && !process.env.CI;
  let bar: SingleBar | null = null;
  if (showProgress) {
    bar = new SingleBar({ stream: process.stderr, format: 'simulating [{bar}] {percentage}% | {value}/{total} s simulated' });
    bar.start(Math.round(scenario.horizonS), 0);
  }
  const result = runToDir(scenario, {
    outDir: flags.out,
    requests: flags.requests || flags.requestsSample !== undefined,
    requestsSample: flags.requestsSample,
    onProgress: bar ? (t, h) => bar!.update(Math.round(Math.min(t, h))) : undefined,
  });
  bar?.stop();
  if (!flags.quiet) {
    const rate = Math.round(result.arrivals / Math.max(result.wallS, 1e-9));
    process.stderr.write(
      `${scenario.name}: ${result.arrivals} requests over ${formatDuration(Math.min(scenario.horizonS, result.endS))} simulated in ` +
        `${result.wallS.toFixed(2)} s (${rate} requests/s, ${result.events} events); reports in ${flags.out}/\n`,
    );
    if (scenario.assumptions.length > 0) {
      process.stderr.write(`note: ${scenario.assumptions.length} catalog figures used are assumptions, listed in run.json\n`);
    }
  }
}

export function catalogCommand(flags: { format: string }): void {
  const c = loadCatalog();
  // The CSV also carries each row's source and assumption in full; the table only says which it leans on.
  const rows: string[][] = [['kind', 'id', 'name', 'vendor', 'detail', 'provenance', 'source', 'assumption']];
  const provenance = (r: { source: string; assumption: string }) => [r.assumption ? 'assumption' : 'source', r.source, r.assumption];
  for (const s of c.silicon.values()) {
    rows.push(['silicon', s.id, s.name, s.vendor, `${s.kind}, ${s.memoryGb} GB, ${s.memBwGbps} GB/s, ${s.bf16Tflops} bf16 TFLOPS, $${s.usdPerChipHour}/chip-h`, ...provenance(s)]);
  }
  for (const m of c.models.values()) {
    const moe = m.experts > 1 ? `, MoE ${m.experts}x top-${m.expertsPerToken}, ${m.activeParamsB}B active` : '';
    rows.push(['model', m.id, m.name, m.vendor, `${m.paramsB}B params, ${m.layers} layers${moe}`, ...provenance(m)]);
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
