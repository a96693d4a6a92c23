#!/usr/bin/env bash
# A single-node Slurm cluster on localhost, for tests: Debian's slurm-wlm + munge, daemons
# started by hand (no systemd), every file of the cluster under one state folder.
#
#   tests/slurm/cluster.sh up      install if missing, configure, start, wait for an idle node
#   tests/slurm/cluster.sh down    stop the daemons this script started (alias: stop);
#                                  `down --munge` also stops a munged it did not start
#   tests/slurm/cluster.sh status  sinfo + scontrol ping
#   tests/slurm/cluster.sh env     print the `export SLURM_CONF=…` line clients need
#
# Run as root (CI runs it as root on a clean Debian 12). Idempotent: `up` on a running cluster
# only waits for the node. Nothing is written under /etc/slurm: the configuration lives in
# $MIXFARM_SLURM_DIR/etc and the client commands find it through SLURM_CONF (`up` writes
# $MIXFARM_SLURM_DIR/env to source). munge uses the system key and socket (/etc/munge,
# /run/munge): Slurm's auth/munge talks to the default socket.
#
# Knobs (environment):
#   MIXFARM_SLURM_DIR   state folder (default /tmp/mixfarm-slurm): etc/ spool/ log/ run/
#   SLURM_NODE_CPUS     CPUs the node declares (default: what `slurmd -C` finds)
#   SLURM_NODE_MEM_MB   RealMemory the node declares (default: what `slurmd -C` finds)
#   SLURM_NODE_GPUS     GPUs the node declares (default 4): fake ones. Slurm's gres/gpu drops
#                       a GPU without File= ("Removing file-less GPU") and rejects a regular
#                       file ("not a valid character or block device"), so each fake GPU is a
#                       character device $MIXFARM_SLURM_DIR/dev/gpuN made with the numbers of
#                       /dev/null (1,3). Jobs asking for `--gpus-per-task=1` schedule and run,
#                       one per fake GPU, with CUDA_VISIBLE_DEVICES set as on a real node.
# A node declared bigger than the machine is allowed (SlurmdParameters=config_overrides):
# tests use that to run the real deploy script, with its production CPU/memory requests,
# unchanged. Memory is not a consumable (CR_Core) and nothing is confined (no cgroups).
set -euo pipefail

STATE=${MIXFARM_SLURM_DIR:-/tmp/mixfarm-slurm}
ETC=$STATE/etc
CONF=$ETC/slurm.conf
NODE=$(hostname -s 2>/dev/null || hostname)
NODE=${NODE:-localhost}
export SLURM_CONF=$CONF

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "run as root (the daemons run as root: SlurmUser=root)"
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
     command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return
  fi
  log "installing slurm-wlm and munge from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends: slurm-wlm recommends every plugin's -dev package (hundreds of MB).
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

# ---- munge -------------------------------------------------------------------------------
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_ok; then log "munged already answers"; return; fi
  # The Debian postinst creates /etc/munge/munge.key; a stripped image may not have run it.
  if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    install -d -o munge -g munge -m 0700 /etc/munge
    if command -v mungekey >/dev/null; then
      mungekey --create --keyfile=/etc/munge/munge.key
    else
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  # /run is a tmpfs on a real machine: the socket folder must be recreated after a reboot.
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
  log "starting munged (as user munge)"
  # munged refuses to start next to a stale socket/pid left by a killed daemon.
  rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged
  # Remember that this script started it: `down` stops only a munged of ours.
  mkdir -p "$STATE/run"
  cp /run/munge/munged.pid "$STATE/run/munged.pid" 2>/dev/null || true
  for _ in $(seq 50); do munge_ok && return; sleep 0.1; done
  die "munged does not answer (see /var/log/munge/munged.log)"
}

# ---- configuration -----------------------------------------------------------------------
write_conf() {
  local c_cpus c_mem cpus mem gpus
  c_cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p')
  c_mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  cpus=${SLURM_NODE_CPUS:-${c_cpus:-1}}
  # The machine's topology when the CPU count is the machine's, else a plain CPU count.
  local topo="CPUs=$cpus"
  if [ -z "${SLURM_NODE_CPUS:-}" ]; then
    topo=$(slurmd -C | head -n1 | grep -o 'CPUs=.*ThreadsPerCore=[0-9]*' || echo "CPUs=$cpus")
  fi
  mem=${SLURM_NODE_MEM_MB:-${c_mem:-1000}}
  gpus=${SLURM_NODE_GPUS:-4}
  mkdir -p "$ETC" "$STATE/spool/ctld" "$STATE/spool/d" "$STATE/log" "$STATE/run"
  : >"$STATE/log/slurmctld.log"
  : >"$STATE/log/slurmd.log"
  cat >"$CONF" <<EOF
# Written by tests/slurm/cluster.sh: a single-node test cluster, no accounting, no cgroups.
ClusterName=mixfarm-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# Job credentials live 10 s instead of 120. A requeued job cannot start before its previous
# credential has expired (slurmd refuses it: "Job credential revoked"), so Slurm holds it that
# long: 10 s keeps the requeue test short.
AuthInfo=cred_expire=10
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
StateSaveLocation=$STATE/spool/ctld
SlurmdSpoolDir=$STATE/spool/d
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: processes are tracked by parent pid, tasks are not bound or confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
SchedulerType=sched/backfill
# A node that was down comes back by itself once slurmd registers.
ReturnToService=2
SlurmdParameters=config_overrides
# Short timeouts: a test cluster should notice things in seconds, not minutes.
SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=20
InactiveLimit=0
KillWait=10
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 $topo RealMemory=$mem Gres=gpu:$gpus State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  # Fake GPUs: null devices (see SLURM_NODE_GPUS above).
  mkdir -p "$STATE/dev"
  local i
  for ((i = 0; i < gpus; i++)); do
    [ -c "$STATE/dev/gpu$i" ] && continue
    rm -f "$STATE/dev/gpu$i"
    mknod -m 0666 "$STATE/dev/gpu$i" c 1 3
  done
  cat >"$ETC/gres.conf" <<EOF
NodeName=$NODE Name=gpu File=$STATE/dev/gpu[0-$((gpus - 1))]
EOF
  printf 'export SLURM_CONF=%q\n' "$CONF" >"$STATE/env"
  log "node $NODE: CPUs=$cpus (machine $c_cpus) RealMemory=${mem}MB (machine $c_mem) gpu:$gpus (fake)"
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_slurm() {
  if ! pid_alive "$STATE/run/slurmctld.pid"; then
    log "starting slurmctld (fresh state)"
    rm -rf "$STATE/spool/ctld"/*
    # -c: clear job state; -i: ignore state files that do not match the configuration.
    slurmctld -f "$CONF" -c -i
  fi
  for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
  scontrol ping | grep -q UP || { tail -n 30 "$STATE/log/slurmctld.log" >&2; die "slurmctld is not up"; }
  if ! pid_alive "$STATE/run/slurmd.pid"; then
    log "starting slurmd -N $NODE"
    slurmd -f "$CONF" -N "$NODE"
  fi
}

wait_idle() {
  local state=""
  for _ in $(seq 150); do
    state=$(sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -n1)
    case $state in
      idle|mixed|allocated) log "node $NODE is $state"; return ;;
      down*|drain*) scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.2
  done
  tail -n 30 "$STATE/log/slurmd.log" >&2 || true
  tail -n 30 "$STATE/log/slurmctld.log" >&2 || true
  die "node $NODE never became idle (last state: ${state:-none})"
}

stop_pidfile() {
  local name=$1 pidfile=$2 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name ($pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
}

cmd_up() {
  need_root
  install_packages
  start_munge
  if ! pid_alive "$STATE/run/slurmctld.pid" || [ ! -s "$CONF" ]; then
    write_conf
  fi
  start_slurm
  wait_idle
}

cmd_down() {
  stop_pidfile slurmd "$STATE/run/slurmd.pid"
  stop_pidfile slurmctld "$STATE/run/slurmctld.pid"
  # munged: stopped if this script started it (a system munged that was already running is
  # left alone), or with --munge whoever started it.
  if [ -s "$STATE/run/munged.pid" ]; then
    stop_pidfile munged "$STATE/run/munged.pid"
  elif [ "${1:-}" = --munge ] && [ -s /run/munge/munged.pid ]; then
    stop_pidfile munged /run/munge/munged.pid
  fi
}

case ${1:-up} in
  up|start) cmd_up ;;
  down|stop) shift || true; cmd_down "$@" ;;
  status) sinfo; scontrol ping ;;
  env) printf 'export SLURM_CONF=%q\n' "$CONF" ;;
  *) die "usage: $0 up|down [--munge]|status|env" ;;
esac
