/**
 * The views `--html` (and `fleetsim report`) write beside a command's CSVs. Every command that
 * writes reports lists them among the files it replaces, so a re-run without the flag removes a
 * view of the previous run's numbers instead of leaving it beside the new CSVs.
 */
export const VIEW_FILES = ['report.html', 'report.xlsx'] as const;
