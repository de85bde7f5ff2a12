#!/usr/bin/env bash
# A one-node Slurm cluster on this machine for test/slurm/run.sh: installs Debian's slurm-wlm and
# munge when missing, writes a minimal slurm.conf when there is none, and starts munged, slurmctld
# and slurmd when they are not running. Idempotent; needs root (CI runs as root). The daemons are
# left running for the next run, as a service would be.
set -euo pipefail

if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
if ! pgrep -x munged >/dev/null; then
  mkdir -p /run/munge && chown munge:munge /run/munge
  # munged refuses to run as root; Debian's package made the munge user.
  runuser -u munge -- /usr/sbin/munged
fi

conf=/etc/slurm/slurm.conf
if [ ! -s "$conf" ]; then
  node=$(hostname -s)
  # slurmd -C prints this machine's NodeName line (CPUs, sockets, memory); keep its first line.
  nodeline=$(slurmd -C | head -1)
  mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  # No cgroups (containers often lack a writable cgroup tree): linuxproc tracks processes, no task
  # plugin binds them. No accounting database: jobs are watched with squeue.
  cat >"$conf" <<CONF
ClusterName=fleetsim-ci
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SchedulerType=sched/backfill
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
$nodeline State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
fi

pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd

# Wait until the node takes jobs.
for _ in $(seq 1 60); do
  state=$(sinfo -h -o %t 2>/dev/null | head -1 || true)
  case "$state" in
    idle*|mix*|alloc*) exit 0 ;;
    down*|drain*) scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true ;;
  esac
  sleep 1
done
echo "slurm: node not ready (state: ${state:-none}); see /var/log/slurm/" >&2
exit 1
