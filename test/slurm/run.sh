#!/usr/bin/env bash
# The Slurm recipe of docs/sweeps.md, run on a real (one-node) Slurm cluster: the job script and
# the submission commands are cut out of the doc (the blocks after `<!-- slurm:sweep.sbatch -->`
# and `<!-- slurm:submit.sh -->`), so what the doc shows is what runs. It submits the sharded
# sweep as a job array, the merge as a job depending on it, waits, and checks the merged files
# are byte-identical to the unsharded sweep. Run by .ci/run; needs root to set Slurm up
# (test/slurm/setup.sh) when it is not running. Prints one line, `slurm: ok ...` or `slurm: FAIL ...`.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "slurm: FAIL: $*"; exit 1; }

"$root/test/slurm/setup.sh" || fail "could not set up Slurm (test/slurm/setup.sh)"
[ -f "$root/dist/cli/main.js" ] || fail "dist/ missing: npm run build first"

work=$(mktemp -d /tmp/fleetsim-slurm-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The doc's `fleetsim` is the linked CLI (README: npm link); a shim on PATH stands in for it, and
# sbatch passes this environment on to the jobs.
mkdir bin
printf '#!/bin/sh\nexec %q %q "$@"\n' "$(command -v node)" "$root/dist/cli/main.js" >bin/fleetsim
chmod +x bin/fleetsim
export PATH="$work/bin:$PATH"

block() {
  awk -v m="<!-- slurm:$1 -->" '
    $0 == m { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' "$root/docs/sweeps.md"
}
block sweep.sbatch >sweep.sbatch
block submit.sh >submit.sh
[ -s sweep.sbatch ] && [ -s submit.sh ] || fail "docs/sweeps.md lost its <!-- slurm:sweep.sbatch --> or <!-- slurm:submit.sh --> block"
cp "$root/test/slurm/scenario.yaml" scenario.yaml

# This machine has 2 CPUs: 3 shards of 1 CPU (the doc's defaults are 16 of 8).
merge_job=$(SHARDS=3 CPUS=1 bash submit.sh | tail -1) || fail "submission failed"
[[ "$merge_job" =~ ^[0-9]+ ]] || fail "submission printed no merge job id (got: $merge_job)"

# Wait for the merge (and so the array) to leave the queue.
for _ in $(seq 1 300); do
  squeue -h -j "$merge_job" 2>/dev/null | grep -q . || break
  sleep 1
done
squeue -h -j "$merge_job" 2>/dev/null | grep -q . && { scancel "$merge_job" 2>/dev/null; fail "merge job $merge_job still queued after 300 s"; }

[ -s results/sweep.csv ] || { cat slurm-*.out 2>/dev/null | tail -20; fail "the merge job wrote no results/sweep.csv"; }
shards=$(ls -d parts/* 2>/dev/null | wc -l)
[ "$shards" -eq 3 ] || fail "expected 3 shard directories, found $shards"

fleetsim sweep scenario.yaml --replications 10 --out whole --quiet || fail "unsharded sweep failed"
for f in sweep.csv summary_ci.csv; do
  cmp -s "whole/$f" "results/$f" || fail "results/$f (Slurm: 3 shards, merged) differs from the unsharded sweep's"
done
echo "slurm: ok: job array of 3 shards and a dependent merge (job $merge_job) gave sweep.csv and summary_ci.csv byte-identical to the unsharded sweep"
