#!/usr/bin/env node
/**
 * The fleetsim command line: wiring only. The library throws typed errors; this file alone turns
 * them into messages and exit codes (2 for input the user can fix). stdout is data, stderr the rest.
 *
 * Start-up is kept fast (`--help` ~25 ms above Node's own start; docs/performance.md, bench
 * `--only=startup`): this file imports only commander and light modules (node: built-ins, errors,
 * units, version). Every command is one registration whose action loads what it needs when it runs:
 *
 *     program.command('name').description('...').option(...)
 *       .action(async (file: string, flags: NameFlags) => (await import('./name.js')).nameCommand(file, flags));
 *
 * Import flag types with `import type` (erased at build), never values, from command modules, and
 * keep option parsers (the small functions below) free of library imports; a static value import
 * here loads that module and all it imports for every command, `--help` included.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { InputError } from '../errors.js';
import { parseDurationS } from '../scenario/units.js';
import { VERSION } from '../version.js';
import type { RunFlags } from './commands.js';
import type { PlanFlags } from './plan.js';
import type { SweepFlags } from './sweep.js';
import type { ExplainFlags } from './explain.js';
import type { FidelityFlags } from './fidelity.js';
import type { CalibrateFlags } from './calibrate.js';
import type { ReportFlags } from './report.js';

/** `--set` is repeatable: commander hands each value and the list so far. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function fraction(value: string): number {
  const x = Number(value);
  if (!(x > 0 && x <= 1)) throw new InvalidArgumentError('expected a fraction above 0, at most 1');
  return x;
}

function duration(value: string): number {
  try {
    return parseDurationS(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** The arguments and options every simulating command shares, defined once. */
function scenarioCommand(name: string, description: string, scenarioHelp = 'scenario file (YAML or JSON)'): Command {
  return program
    .command(name)
    .description(description)
    .argument('<scenario>', scenarioHelp)
    .usage('<scenario> --out <dir> [options]')
    .requiredOption('-o, --out <dir>', 'output directory, required (written atomically: all files at the end, or none)')
    .option('--seed <n>', 'override the scenario seed', integer)
    .option('--horizon <duration>', 'override the scenario horizon, e.g. 10m', duration)
    .option('--set <path=value>', 'change a scenario value before validation, e.g. workloads[0].arrival.rate=20/s or 2x (repeatable)', collect)
    .option('-q, --quiet', 'no progress or summary on stderr (warnings are still printed)')
    .option('--strict', 'treat scenario warnings (an outage past the horizon, a dtype the silicon lacks, demand above capacity) as errors: exit 2')
    .option('--html', 'also write report.html (charts and tables, one self-contained file) beside the CSVs')
    .option('--xlsx', 'also write report.xlsx (one typed sheet per report, run.json assumptions on their own)');
}

/** After a simulating command wrote its CSVs: report.html / report.xlsx when --html / --xlsx asked for them. */
async function views(flags: { out: string } & ReportFlags): Promise<void> {
  if (flags.html || flags.xlsx) await (await import('./report.js')).viewsAfter(flags.out, flags);
}

/** `--help` ends with these: the commands as a new user first types them (README's quick start). */
function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

// `fleetsim catalog | head`: a reader that stops early is not an error (no EPIPE stack trace).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command();
program
  .name('fleetsim')
  .description('Inference cost and capacity simulation for multi-model, multi-silicon AI platforms')
  .version(VERSION)
  .addHelpText(
    'after',
    examples(
      'fleetsim run scenarios/multi-model-platform.yaml --out out',
      'fleetsim validate scenarios/multi-model-platform.yaml',
      'fleetsim plan scenarios/silicon-mix-plan.yaml --out out/plan',
      'fleetsim explain --model llama-3.1-70b --silicon h100-sxm',
      'fleetsim run --help                      # the options of one command',
    ) + '\nREADME.md and docs/ explain the scenario keys and every report column.\n',
  )
  .showHelpAfterError('(run with --help for usage)')
  // commander's usage errors (`error: option '--tensor-parallel <n>' argument '0' is invalid`) in
  // the form every other error takes, `fleetsim: error: ...`; subcommands inherit this.
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'fleetsim: error: ')) })
  .exitOverride((err) => {
    // commander's own usage errors are input errors too.
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

scenarioCommand('run', 'simulate a scenario and write its reports to --out')
  .option('--requests', 'also write requests.csv, one row per request')
  .option('--requests-sample <fraction>', 'write requests.csv for this fraction of requests (0-1], chosen by request id', fraction)
  .option('--replications <n>', 'also run n seeds and write summary_ci.csv (mean, 95% CI)', positiveInteger)
  .option('--workers <n>', 'threads for replications (default: cores)', positiveInteger)
  .addHelpText('after', examples(
    'fleetsim run scenarios/multi-model-platform.yaml --out out',
    "fleetsim run scenarios/multi-model-platform.yaml --out out-no-outage --set 'incidents=[]'",
    'fleetsim run scenarios/multi-model-platform.yaml --out out --horizon 10m --requests --html',
    'fleetsim run scenarios/multi-model-platform.yaml --out out --replications 5',
  ))
  .action(async (file: string, flags: RunFlags & SweepFlags & ReportFlags) => {
    await (await import('./commands.js')).runCommand(file, flags);
    await (await import('./sweep.js')).runReplications(file, flags);
    await views(flags);
  });

scenarioCommand('sweep', "run the scenario's sweep: grid (and --set edits) x replications; writes sweep.csv (and summary_ci.csv)")
  .option('--replications <n>', 'seeds per point (default 1)', positiveInteger)
  .option('--workers <n>', 'worker threads (default: cores); output does not depend on it', positiveInteger)
  .option('--shard <i/n>', 'run only share i of n (1-based) and write partial.json for `fleetsim merge`')
  .addHelpText('after', examples(
    'fleetsim sweep scenarios/silicon-mix-plan.yaml --out out/sweep --replications 3',
    'fleetsim sweep scenarios/silicon-mix-plan.yaml --out out/s1 --shard 1/2   # then fleetsim merge out/s1 out/s2 --out out/sweep',
  ))
  .action(async (file: string, flags: SweepFlags & ReportFlags) => {
    if (flags.shard && (flags.html || flags.xlsx)) {
      throw new InputError('a shard writes only partial.json: run `fleetsim report` on the merged directory instead', { path: '--html' });
    }
    await (await import('./sweep.js')).sweepCommand(file, flags);
    await views(flags);
  });

scenarioCommand(
  'plan',
  "find each model's cheapest fleet meeting the plan: section's SLO targets, by simulation; writes plan.csv",
  'scenario file (YAML or JSON) with a plan: section',
)
  .addHelpText('after', examples('fleetsim plan scenarios/silicon-mix-plan.yaml --out out/plan'))
  .action(async (file: string, flags: PlanFlags & ReportFlags) => {
    (await import('./plan.js')).planCommand(file, flags);
    await views(flags);
  });

program
  .command('report')
  .description('write report.html (charts and tables of the CSVs, one self-contained file) into a directory of fleetsim reports')
  .argument('<dir>', 'output directory of fleetsim run, sweep, merge or plan')
  .option('--xlsx', 'also write report.xlsx (one typed sheet per report, run.json assumptions on their own)')
  .option('-q, --quiet', 'no summary on stderr')
  .action(async (dir: string, flags: ReportFlags) => (await import('./report.js')).reportCommand(dir, flags));

program
  .command('merge')
  .description('combine sweep shards (directories holding partial.json) into sweep.csv, byte-identical to the unsharded sweep')
  .argument('<dirs...>', 'shard output directories')
  .usage('<dirs...> --out <dir> [options]')
  .requiredOption('-o, --out <dir>', 'output directory, required (written atomically)')
  .option('-q, --quiet', 'no summary on stderr')
  .action(async (dirs: string[], flags: { out: string; quiet?: boolean }) => (await import('./sweep.js')).mergeCommand(dirs, flags));

program
  .command('validate')
  .description('check a scenario file (and the traces it names) without simulating')
  .argument('<scenario>', 'scenario file (YAML or JSON)')
  .option('--strict', 'treat scenario warnings as errors: exit 2')
  .option('--set <path=value>', 'check the scenario with this value changed, as run would run it (repeatable)', collect)
  .action(async (file: string, flags: { strict?: boolean; set?: string[] }) => (await import('./validate.js')).validateCommand(file, flags));

program
  .command('catalog')
  .description('list the built-in silicon, models and prices')
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv']).default('table'))
  .action(async (flags: { format: string }) => (await import('./commands.js')).catalogCommand(flags));

program
  .command('schema')
  .description('print the scenario file JSON Schema (for editor completion) on stdout')
  .action(async () => {
    const { scenarioJsonSchema } = await import('../scenario/schema.js');
    process.stdout.write(JSON.stringify(scenarioJsonSchema(), null, 2) + '\n');
  });

program
  .command('explain')
  .description('derived per-deployment numbers (sizes, step times, max throughput, cost at full load) without simulating')
  .argument('[scenario]', 'scenario file: explain each of its deployments')
  .option('--model <id>', 'explain one catalog model ...')
  .option('--silicon <id>', '... on one catalog silicon')
  .option('--tp <n>', 'tensor parallelism (default: smallest power of two holding 32 requests of KV)', positiveInteger)
  .option('--dtype <dtype>', 'weight dtype (default: fp8 where the chip has it, mx9 on Maia 100, else int8 or bf16)')
  .option('--max-batch <n>', 'max batch for --model/--all (default 256)', positiveInteger)
  .option('--prompt-tokens <n>', 'mean prompt tokens (default: the scenario workloads, else 1000)', integer)
  .option('--output-tokens <n>', 'mean output tokens (default: the scenario workloads, else 200)', integer)
  .option('--all', 'every catalog (model, silicon) pair')
  .option('--stack <name>', "serving stack (trtllm, vllm, trtllm-0.17, ...): its efficiency profile and KV-memory rule; with a scenario, every deployment's (default: the deployment's stack:, else generic)")
  .option('--format <format>', 'table or csv (table: turned on its side when wider than the terminal)', 'table')
  .addHelpText('after', examples(
    'fleetsim explain scenarios/multi-model-platform.yaml',
    'fleetsim explain --model mixtral-8x7b --silicon mi300x --tp 1 --dtype fp8',
    'fleetsim explain --model llama-3.1-70b --silicon h100-sxm --tp 1 --dtype fp8 --stack trtllm',
    'fleetsim explain --all --format csv > explain.csv',
  ))
  .action(async (file: string | undefined, flags: ExplainFlags) => (await import('./explain.js')).explainCommand(file, flags));

program
  .command('fidelity')
  .description('simulate each measured figure (CSV, vLLM benchmark_serving JSON, GuideLLM report) and print predicted vs measured with error per row and per metric')
  .argument('<measurements...>', 'measurement files or directories (docs/fidelity.md)')
  .option('-o, --out <dir>', 'also write fidelity_rows.csv and fidelity_metrics.csv here (atomically)')
  .option('--model <id>', 'model for JSON results that do not say (catalog id)')
  .option('--silicon <id>', 'silicon for JSON results (they never say)')
  .option('--tensor-parallel <n>', 'tensor parallelism for JSON results (default 1)', positiveInteger)
  .option('--replicas <n>', 'replicas behind the JSON results (default 1)', positiveInteger)
  .option('--dtype <dtype>', 'weight dtype for JSON results (default bf16)')
  .option('--stack <name>', 'serving stack for JSON results (default vllm / generic)')
  .option('--progress', 'progress lines on stderr even when it is not a terminal (a log file); by default only on a terminal with CI unset')
  .option('-q, --quiet', 'no progress or summary on stderr (warnings are still printed)')
  .action(async (files: string[], flags: FidelityFlags) => (await import('./fidelity.js')).fidelityCommand(files, flags));

program
  .command('calibrate')
  .description('fit the efficiency profiles to measurements, cross-validate (leave one chip, model, length pair out), write fitted efficiency.csv rows and error tables')
  .argument('<measurements...>', 'measurement files or directories (docs/fidelity.md)')
  .requiredOption('-o, --out <dir>', 'write efficiency.csv, calibrate_rows.csv, calibrate_cv.csv and calibrate_folds.csv here (atomically)')
  .option('--params <list>', 'factors to fit, comma-separated (default gemm_eff,gemm_eff_8bit,gemm_half_ridge,mem_eff,kv_read_eff,attn_eff,comm_eff,comm_latency_us,overhead_ms,overhead_per_seq_us,moe_half_ridge,frontend_ms)')
  .option('--max-evals <n>', 'objective evaluations of the fit on every row (default 160)', positiveInteger)
  .option('--fold-max-evals <n>', 'objective evaluations of each leave-one-group-out refit (default 100)', positiveInteger)
  .option('--no-cv', 'skip the leave-one-group-out refits')
  .option('--workers <n>', 'worker threads for the refits (default: 2, or 1 on one core)', positiveInteger)
  .option('--model <id>', 'model for JSON results that do not say (catalog id)')
  .option('--silicon <id>', 'silicon for JSON results (they never say)')
  .option('--tensor-parallel <n>', 'tensor parallelism for JSON results (default 1)', positiveInteger)
  .option('--replicas <n>', 'replicas behind the JSON results (default 1)', positiveInteger)
  .option('--dtype <dtype>', 'weight dtype for JSON results (default bf16)')
  .option('--stack <name>', 'serving stack for JSON results (default vllm / generic)')
  .option('--progress', 'progress lines on stderr even when it is not a terminal (a log file); by default only on a terminal with CI unset')
  .option('-q, --quiet', 'no progress or summary on stderr (warnings are still printed)')
  .action(async (files: string[], flags: CalibrateFlags) => (await import('./calibrate.js')).calibrateCommand(files, flags));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof InputError) {
    process.stderr.write(`fleetsim: error: ${err.format()}\n`);
    process.exit(2);
  }
  // File-system trouble with a path the user gave (permissions, a full disk) is theirs to fix too.
  const fsErr = err as NodeJS.ErrnoException;
  if (typeof fsErr.code === 'string' && fsErr.syscall) {
    process.stderr.write(`fleetsim: error: ${fsErr.path ?? ''}: cannot ${fsErr.syscall}: ${fsErr.code}\n`);
    process.exit(2);
  }
  throw err;
}
