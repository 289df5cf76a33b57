#!/usr/bin/env bash
# Starts the services the cluster tests need, all on localhost, for CI (Debian 12, as root):
#   - munge + a one-node Slurm cluster (slurmctld + slurmd, node "localhost", 1 partition),
#   - PostgreSQL on 127.0.0.1:$SEDS_PG_PORT with a role, password and database for the tests.
# Idempotent: installs packages only when missing, skips daemons that are already running.
# No systemd: every daemon is started directly and leaves a PID file under $SEDS_SERVICES_DIR,
# so scripts/ci/stop-services.sh stops exactly what this script started (never by name).
#
# Writes $SEDS_SERVICES_ENV (default /tmp/seds-services.env) for the test runner to source:
#   SLURM_CONF         every Slurm client command needs it
#   SEDS_TEST_PG_URL   postgres://ROLE:PASS@127.0.0.1:PORT/DB (store tests use it)
#   SEDS_TEST_SLURM=1  the Slurm end-to-end tests run only when this is set
#
# Usage: scripts/ci/start-services.sh [--no-slurm] [--no-pg] [--no-install]
# Env:   SEDS_SERVICES_DIR=/tmp/seds-services  SEDS_PG_PORT=5433  SEDS_PG_ROLE=seds
#        SEDS_PG_PASS=seds  SEDS_PG_DB=seds  SEDS_SLURMCTLD_PORT=6817  SEDS_SLURMD_PORT=6818
# See docs/cluster.md.
set -euo pipefail

D=${SEDS_SERVICES_DIR:-/tmp/seds-services}
ENV_FILE=${SEDS_SERVICES_ENV:-/tmp/seds-services.env}
PGPORT=${SEDS_PG_PORT:-5433}
PG_ROLE=${SEDS_PG_ROLE:-seds}
PG_PASS=${SEDS_PG_PASS:-seds}
PG_DB=${SEDS_PG_DB:-seds}
CTLD_PORT=${SEDS_SLURMCTLD_PORT:-6817}
SLURMD_PORT=${SEDS_SLURMD_PORT:-6818}
WANT_SLURM=1 WANT_PG=1 INSTALL=1
for a in "$@"; do
  case $a in
    --no-slurm) WANT_SLURM=0 ;;
    --no-pg) WANT_PG=0 ;;
    --no-install) INSTALL=0 ;;
    *) echo "start-services: unknown option $a" >&2; exit 2 ;;
  esac
done
export SLURM_CONF="$D/etc/slurm.conf"
MUNGE_SOCK="$D/munge/run/munge.socket.2"

log() { printf '[start-services %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { log "FATAL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (slurmd launches jobs; munged/postgres are dropped to their users)"
wait_for() { # wait_for <seconds> <cmd...>
  local t=$1; shift
  for _ in $(seq 1 $((t * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  return 1
}
alive() { [ -s "$1" ] && kill -0 "$(head -1 "$1")" 2>/dev/null; }

install_missing() {
  local pkgs=()
  if [ "$WANT_SLURM" = 1 ]; then
    command -v munged >/dev/null || pkgs+=(munge)
    command -v slurmctld >/dev/null || pkgs+=(slurmctld slurm-wlm)
    command -v slurmd >/dev/null || pkgs+=(slurmd)
    command -v sbatch >/dev/null || pkgs+=(slurm-client)
  fi
  if [ "$WANT_PG" = 1 ] && ! ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    pkgs+=(postgresql)
  fi
  [ ${#pkgs[@]} -gt 0 ] || return 0
  [ "$INSTALL" = 1 ] || die "missing packages (${pkgs[*]}) and --no-install given"
  log "installing ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d in containers prints "denied execution of start": harmless, we start by hand.
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

start_munge() {
  if alive "$D/munge/run/munged.pid"; then log "munged already running"; return; fi
  mkdir -p "$D"/munge/{run,log,lib}
  if [ ! -s "$D/munge/munge.key" ]; then
    if [ -s /etc/munge/munge.key ]; then cp /etc/munge/munge.key "$D/munge/munge.key"
    else mungekey --create --keyfile="$D/munge/munge.key"; fi
  fi
  chown -R munge:munge "$D/munge"
  # munged refuses a socket directory path that is not o+x all the way down.
  chmod 755 "$D" "$D/munge" "$D/munge/run"
  chmod 700 "$D/munge/log" "$D/munge/lib"
  chmod 600 "$D/munge/munge.key"
  rm -f "$MUNGE_SOCK" "$MUNGE_SOCK.lock"
  runuser -u munge -- munged --socket="$MUNGE_SOCK" --key-file="$D/munge/munge.key" \
      --log-file="$D/munge/log/munged.log" --pid-file="$D/munge/run/munged.pid" \
      --seed-file="$D/munge/lib/munged.seed"
  wait_for 10 bash -c "munge -n -S '$MUNGE_SOCK' | unmunge -S '$MUNGE_SOCK'" \
      || die "munged not answering (see $D/munge/log/munged.log)"
  log "munged up (pid $(cat "$D/munge/run/munged.pid"))"
}

write_slurm_conf() {
  local mem cpus
  mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  cpus=$(nproc)
  cat > "$SLURM_CONF" <<CONF
# One-node Slurm cluster for seds-lab CI, written by scripts/ci/start-services.sh.
ClusterName=sedsci
SlurmctldHost=localhost
SlurmctldPort=${CTLD_PORT}
SlurmdPort=${SLURMD_PORT}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${MUNGE_SOCK}
StateSaveLocation=${D}/slurm/state/ctld
SlurmdSpoolDir=${D}/slurm/state/d
SlurmctldPidFile=${D}/slurm/run/slurmctld.pid
SlurmdPidFile=${D}/slurm/run/slurmd.pid
SlurmctldLogFile=${D}/slurm/log/slurmctld.log
SlurmdLogFile=${D}/slurm/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=${D}/slurm/log/jobcomp.txt
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Without a default each job gets ALL node memory and array tasks run one at a time.
DefMemPerCPU=512
MailProg=/bin/true
ReturnToService=2
MinJobAge=600
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs=${cpus} Sockets=1 CoresPerSocket=${cpus} ThreadsPerCore=1 RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

start_slurm() {
  mkdir -p "$D"/etc "$D"/slurm/{log,run,state/ctld,state/d,jobs}
  start_munge
  if alive "$D/slurm/run/slurmctld.pid"; then
    log "slurmctld already running"
  else
    write_slurm_conf
    slurmctld -c -f "$SLURM_CONF"   # -c: clean state; daemonizes
    wait_for 30 scontrol ping || die "slurmctld not up (see $D/slurm/log/slurmctld.log)"
    log "slurmctld up (pid $(cat "$D/slurm/run/slurmctld.pid"))"
  fi
  if alive "$D/slurm/run/slurmd.pid"; then
    log "slurmd already running"
  else
    slurmd -N localhost -f "$SLURM_CONF"
  fi
  wait_for 30 bash -c "sinfo -h -N -o %T | grep -qE '^(idle|mixed|allocated)'" \
      || { sinfo -N -l || true; die "node not idle (see $D/slurm/log/slurmd.log)"; }
  log "slurmd up (pid $(cat "$D/slurm/run/slurmd.pid")), node idle"
}

pgbin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

start_pg() {
  local bin; bin=$(pgbin)
  mkdir -p "$D/pg"; chown postgres:postgres "$D/pg"; chmod 755 "$D" "$D/pg"
  if [ ! -s "$D/pg/data/PG_VERSION" ]; then
    runuser -u postgres -- "$bin/initdb" -D "$D/pg/data" -U postgres \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$D/pg/initdb.log"
    log "initdb done"
  fi
  if runuser -u postgres -- "$bin/pg_ctl" -D "$D/pg/data" status >/dev/null 2>&1; then
    log "postgres already running"
  else
    # Unix socket in $D/pg (not /run/postgresql), TCP only on 127.0.0.1.
    runuser -u postgres -- "$bin/pg_ctl" -D "$D/pg/data" -l "$D/pg/postgres.log" -w -t 60 \
        -o "-p $PGPORT -k $D/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    log "postgres up (pid $(head -1 "$D/pg/data/postmaster.pid")) on 127.0.0.1:$PGPORT"
  fi
  local psql=(runuser -u postgres -- psql -X -q -h "$D/pg" -p "$PGPORT" -d postgres -v ON_ERROR_STOP=1)
  if ! "${psql[@]}" -tAc "select 1 from pg_roles where rolname='$PG_ROLE'" | grep -q 1; then
    "${psql[@]}" -c "create role $PG_ROLE login password '$PG_PASS'"
  fi
  if ! "${psql[@]}" -tAc "select 1 from pg_database where datname='$PG_DB'" | grep -q 1; then
    "${psql[@]}" -c "create database $PG_DB owner $PG_ROLE"
  fi
}

install_missing
[ "$WANT_SLURM" = 1 ] && start_slurm
[ "$WANT_PG" = 1 ] && start_pg
{
  echo "# written by scripts/ci/start-services.sh; source it before running the tests"
  echo "export SEDS_SERVICES_DIR=$D"
  if [ "$WANT_SLURM" = 1 ]; then
    echo "export SLURM_CONF=$SLURM_CONF"
    echo "export SEDS_TEST_SLURM=1"
  fi
  if [ "$WANT_PG" = 1 ]; then
    echo "export SEDS_TEST_PG_URL=postgres://$PG_ROLE:$PG_PASS@127.0.0.1:$PGPORT/$PG_DB"
  fi
} > "$ENV_FILE"
log "services ready; environment in $ENV_FILE"
