#!/usr/bin/env bash
# Stops what scripts/ci/start-services.sh started, by the PID files under $SEDS_SERVICES_DIR
# (never by process name), and removes the environment file. Safe to run when nothing runs.
# Usage: scripts/ci/stop-services.sh [--purge]   (--purge also deletes $SEDS_SERVICES_DIR)
set -uo pipefail

D=${SEDS_SERVICES_DIR:-/tmp/seds-services}
ENV_FILE=${SEDS_SERVICES_ENV:-/tmp/seds-services.env}
log() { printf '[stop-services %(%H:%M:%S)T] %s\n' -1 "$*"; }

stop_pid() { # stop_pid <name> <pidfile>
  local name=$1 f=$2 pid
  [ -s "$f" ] || return 0
  pid=$(head -1 "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then log "$name ($pid) still alive, SIGKILL"; kill -KILL "$pid"; fi
    log "$name ($pid) stopped"
  fi
  rm -f "$f"
}

if [ -s "$D/pg/data/postmaster.pid" ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  if runuser -u postgres -- "$bin/pg_ctl" -D "$D/pg/data" -m fast -w stop >/dev/null 2>&1; then
    log "postgres stopped"
  else
    stop_pid postgres "$D/pg/data/postmaster.pid"
  fi
fi
stop_pid slurmd "$D/slurm/run/slurmd.pid"
stop_pid slurmctld "$D/slurm/run/slurmctld.pid"
stop_pid munged "$D/munge/run/munged.pid"
rm -f "$ENV_FILE"
if [ "${1:-}" = --purge ]; then rm -rf "$D"; log "removed $D"; fi
exit 0
