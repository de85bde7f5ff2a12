/** CLI for `fleetsim plan`: writes plan.csv and prints each model's cheapest fleet, or says none fits. */
import { OutputDir } from '../report/atomic.js';
import { VIEW_FILES } from '../report/views.js';
import { checkOutputDir } from '../index.js';
import { CsvWriter, formatDecimal, formatInt, formatUsd, neutralizeText } from '../report/csv.js';
import { names } from '../report/columns.js';
import { fleetText, planScenario, PLAN_COLUMNS, settingsText, type Evaluation } from '../plan/plan.js';
import { parseSets } from './sweep.js';
import { reportWarnings } from './warnings.js';
import { count } from '../scenario/units.js';

export interface PlanFlags {
  out: string;
  set?: string[];
  seed?: number;
  horizon?: number;
  quiet?: boolean;
  strict?: boolean;
}

const fleetLabel = (e: Evaluation) => fleetText(e.fleet) || e.fleet.map((p) => p.silicon).join(' + ');

export function planCommand(file: string, flags: PlanFlags): void {
  checkOutputDir(flags.out);
  const started = performance.now();
  const result = planScenario(file, {
    sets: parseSets(flags.set),
    seed: flags.seed,
    horizonS: flags.horizon,
    onWarnings: (w) => reportWarnings(w, flags.strict),
  });
  const out = new OutputDir(flags.out, ['plan.csv', ...VIEW_FILES]);
  try {
    const csv = new CsvWriter(out.path('plan.csv'), names(PLAN_COLUMNS));
    for (const rows of result.byModel.values()) {
      for (const e of rows) {
        csv.write([
          neutralizeText(e.model),
          neutralizeText(fleetLabel(e)),
          formatInt(e.fleet.reduce((n, p) => n + p.replicas, 0)),
          formatInt(e.chips),
          formatUsd(e.usdPerHour),
          e.settings.dtype,
          e.settings.kvDtype,
          e.settings.scheduler,
          formatInt(e.settings.maxBatch),
          neutralizeText(e.settings.other),
          neutralizeText(e.settings.from),
          formatUsd(e.usdPerMtokOut),
          formatDecimal(e.ttftP99S, 6),
          formatDecimal(e.tpotP99S, 6),
          formatDecimal(e.attainmentPct, 2),
          e.feasible ? 'yes' : 'no',
          e.rank !== undefined ? formatInt(e.rank) : '',
          neutralizeText(e.note),
          neutralizeText(e.assumptions.join('; ')),
          formatUsd(e.usdPerMtokIn),
          formatUsd(e.usdPerMtokBlended),
          Number.isFinite(e.usdPerMtokOutLow) ? formatUsd(e.usdPerMtokOutLow) : '',
          Number.isFinite(e.usdPerMtokOutHigh) ? formatUsd(e.usdPerMtokOutHigh) : '',
          e.perfBasis,
        ]);
      }
    }
    csv.close();
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
  for (const [model, rows] of result.byModel) {
    const best = rows.find((r) => r.rank === 1);
    if (best) {
      process.stdout.write(
        `${model}: cheapest fleet ${fleetText(best.fleet)} (${count(best.chips, 'chip')}) at $${formatUsd(best.usdPerHour)}/h, ` +
          `$${formatUsd(best.usdPerMtokOut)}/M output tokens; TTFT p99 ${formatDecimal(best.ttftP99S, 3)} s, ` +
          `TPOT p99 ${formatDecimal(best.tpotP99S, 3)} s, attainment ${formatDecimal(best.attainmentPct, 2)}%\n` +
          `  settings: ${settingsText(best.settings)} (from ${best.settings.from})\n` +
          (Number.isFinite(best.usdPerMtokOutLow)
            ? `  error band: $${formatUsd(best.usdPerMtokOutLow)} to $${formatUsd(best.usdPerMtokOutHigh)}/M output tokens (cross-validated throughput error of the ${best.perfBasis} profile, 10th-90th percentile)\n`
            : `  error band: unknown (a chip of this fleet has no measurement and an assumed profile; see the assumptions)\n`),
      );
      for (const a of best.assumptions) process.stdout.write(`  assumption: ${a}\n`);
    } else {
      process.stdout.write(`${model}: NO fleet within the allowed silicon and max_replicas meets the SLO targets\n`);
    }
    const shown = best ? settingsText(best.settings) : '';
    for (const r of rows) {
      if (r === best) continue;
      // Settings are the candidate's: shown once per model unless a row's differ from the answer's.
      const own = settingsText(r.settings) !== shown ? `, ${settingsText(r.settings)}` : '';
      const what = r.feasible
        ? `runner-up #${r.rank}: ${fleetLabel(r)}${own} at $${formatUsd(r.usdPerHour)}/h`
        : `infeasible: ${fleetLabel(r)}${own}${r.note ? ` (${r.note})` : ''}`;
      process.stdout.write(`  ${what}\n`);
    }
  }
  if (!flags.quiet) {
    process.stderr.write(`${count(result.simulations, 'simulation')} in ${((performance.now() - started) / 1000).toFixed(2)} s; plan.csv in ${flags.out}/\n`);
  }
}
