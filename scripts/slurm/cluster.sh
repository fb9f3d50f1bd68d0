#!/usr/bin/env bash
# A private single-node Slurm cluster for tests and trying the Slurm executor on one machine:
# its own state folder, munge key and socket, slurm.conf and ports, so it never touches a system
# Slurm or munge. Needs slurm-wlm (slurmctld, slurmd, the client commands) and munge; no systemd,
# no cgroups (proctrack/linuxproc, task/none).
#
#   scripts/slurm/cluster.sh start  [STATE_DIR]   start (idempotent: a running cluster is kept)
#   scripts/slurm/cluster.sh stop   [STATE_DIR]   cancel every job, stop the daemons, kill leftovers
#   scripts/slurm/cluster.sh status [STATE_DIR]   daemons and node state; exit 0 when up
#   scripts/slurm/cluster.sh env    [STATE_DIR]   print `export SLURM_CONF=...` for clients
#
# STATE_DIR defaults to $QUARTERTURN_SLURM_DIR, else ${TMPDIR:-/tmp}/quarterturn-slurm.
set -euo pipefail

cmd=${1:-}
state=${2:-${QUARTERTURN_SLURM_DIR:-${TMPDIR:-/tmp}/quarterturn-slurm}}
conf=$state/slurm.conf
munge_sock=$state/munge/munge.socket
me=$(id -un)

die() {
  echo "cluster.sh: $*" >&2
  exit 1
}

need() {
  local missing=()
  for c in munged slurmctld slurmd sbatch squeue scontrol scancel sinfo; do command -v "$c" >/dev/null || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}: install them with apt-get install --no-install-recommends slurm-wlm munge"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# A TCP port nobody listens on (bash's /dev/tcp: a refused connection means free).
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  die "no free TCP port found"
}

write_conf() {
  local node ctld_port slurmd_port
  node=$(slurmd -C | head -n1)
  [[ $node == NodeName=* ]] || die "slurmd -C printed no node line: $node"
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
  cat >"$conf" <<CONF
# Written by scripts/slurm/cluster.sh: a private one-node cluster in $state.
ClusterName=quarterturn
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$me
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$munge_sock,cred_expire=10
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/slurmd
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=2,sched_min_interval=100000
ReturnToService=1
MpiDefault=none
SwitchType=switch/none
KillWait=10
MinJobAge=300
SlurmctldTimeout=10
SlurmdTimeout=30
InactiveLimit=0
Waittime=0
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

wait_for() { # seconds, command...
  local n=$(($1 * 10))
  shift
  for _ in $(seq "$n"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

node_ready() { sinfo -h -o '%T' | grep -qE '^(idle|mixed|allocated)'; }

start() {
  need
  mkdir -p "$state"/{munge,ctld,slurmd}
  chmod 700 "$state" "$state/munge"
  [ -f "$state/munge/munge.key" ] || {
    dd if=/dev/urandom of="$state/munge/munge.key" bs=1 count=1024 status=none
    chmod 400 "$state/munge/munge.key"
  }
  [ -f "$conf" ] || write_conf
  export SLURM_CONF=$conf
  local t0=$SECONDS
  if ! pid_alive "$state/munge/munged.pid"; then
    rm -f "$munge_sock" "$munge_sock.lock"
    munged --force --socket="$munge_sock" --key-file="$state/munge/munge.key" --pid-file="$state/munge/munged.pid" \
      --log-file="$state/munge/munged.log" --seed-file="$state/munge/munged.seed"
    wait_for 5 test -S "$munge_sock" || die "munged did not start: see $state/munge/munged.log"
  fi
  pid_alive "$state/slurmctld.pid" || slurmctld -f "$conf"
  pid_alive "$state/slurmd.pid" || slurmd -f "$conf"
  wait_for 20 scontrol ping || die "slurmctld does not answer: see $state/slurmctld.log"
  if ! wait_for 20 node_ready; then
    # A node left DOWN or DRAINED by an earlier run of this cluster comes back.
    scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
    wait_for 20 node_ready || die "the node is not ready ($(sinfo -h -o '%T %E')): see $state/slurmd.log"
  fi
  echo "Slurm is up in $state ($((SECONDS - t0)) s). Clients: export SLURM_CONF=$conf"
}

kill_tree() {
  local c
  kill -STOP "$1" 2>/dev/null || true
  for c in $(pgrep -P "$1" || true); do kill_tree "$c"; done
  kill -KILL "$1" 2>/dev/null || true
}

stop() {
  export SLURM_CONF=$conf
  if [ -f "$conf" ] && pid_alive "$state/slurmctld.pid"; then
    scancel --full --signal=KILL --user="$me" >/dev/null 2>&1 || true
    scancel --user="$me" >/dev/null 2>&1 || true
  fi
  # Job processes outlive a stopped slurmd: kill each slurmstepd this cluster's slurmd started
  # (it inherited SLURM_CONF=$conf) with everything under it.
  local p
  for p in $(pgrep -x slurmstepd || true); do
    tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep -qxF "SLURM_CONF=$conf" && kill_tree "$p"
  done
  for f in slurmd.pid slurmctld.pid munge/munged.pid; do
    if pid_alive "$state/$f"; then
      local pid
      pid=$(cat "$state/$f")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$state/$f"
  done
  echo "Slurm in $state stopped."
}

status() {
  export SLURM_CONF=$conf
  local up=0
  for f in munge/munged.pid slurmctld.pid slurmd.pid; do
    if pid_alive "$state/$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$state/$f"))"; else
      echo "$(basename "$f" .pid): stopped"
      up=1
    fi
  done
  [ $up -eq 0 ] && sinfo -h -o 'node %N: %T %E' || true
  return $up
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
