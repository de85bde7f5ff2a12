/**
 * Whether a command prints progress on stderr: on a terminal with `CI` unset (README: progress
 * shows on a TTY only), or wherever `--progress` asks for it (a log file); never with `--quiet`.
 */
export function showProgress(flags: { quiet?: boolean; progress?: boolean }): boolean {
  if (flags.quiet) return false;
  return flags.progress === true || (process.stderr.isTTY === true && !process.env.CI);
}
