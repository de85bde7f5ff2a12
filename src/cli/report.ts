/** CLI for `fleetsim report DIR` and the `--html` / `--xlsx` flags of run, sweep and plan. */
import { join } from 'node:path';
import { writeFileAtomic } from '../report/atomic.js';
import { buildHtml } from '../view/html.js';
import { readReportDir } from '../view/read.js';

export interface ReportFlags {
  /** Write report.html (the default of `fleetsim report`). */
  html?: boolean;
  /** Also write report.xlsx. */
  xlsx?: boolean;
  quiet?: boolean;
}

/** Writes the views of the reports in `dir` beside them; returns the files written. */
export async function writeViews(dir: string, flags: ReportFlags): Promise<string[]> {
  const reports = readReportDir(dir);
  const wrote: string[] = [];
  if (flags.html !== false) {
    writeFileAtomic(join(dir, 'report.html'), buildHtml(reports).html);
    wrote.push('report.html');
  }
  if (flags.xlsx) {
    const { buildXlsx } = await import('../view/xlsx.js');
    writeFileAtomic(join(dir, 'report.xlsx'), await buildXlsx(reports));
    wrote.push('report.xlsx');
  }
  return wrote;
}

export async function reportCommand(dir: string, flags: ReportFlags): Promise<void> {
  const wrote = await writeViews(dir, { html: true, xlsx: flags.xlsx });
  if (!flags.quiet) process.stderr.write(`wrote ${wrote.join(', ')} to ${dir}/\n`);
}

/** After a command has written its CSVs: the views its --html / --xlsx flags asked for. */
export async function viewsAfter(dir: string, flags: ReportFlags): Promise<void> {
  if (!flags.html && !flags.xlsx) return;
  await writeViews(dir, { html: flags.html === true, xlsx: flags.xlsx });
}
