#!/usr/bin/env bash
# make prod-smoke: README.md's Production section, run for real on this machine, then thrown away.
#
# A database of its own (portal_smoke_<pid>) on the local PostgreSQL, a Redis database
# number and a Celery queue of its own, PORTAL_ENV=production with a random SECRET_KEY.
# Runs the README's setup commands, starts the Procfile's web, worker and beat lines as
# they are, walks ops/prod_smoke.py's journey over HTTP, and stops every process it
# started by its PID (also on failure or Ctrl-C), then drops the database and empties
# the Redis database. On failure it prints the tails of the server logs.
#
# Settings (environment): VENV (.venv), SMOKE_PG (postgresql://postgres@127.0.0.1:5432),
# SMOKE_REDIS (redis://127.0.0.1:6379/14: emptied before and after, so give each
# concurrent run its own number), SMOKE_CRIME_FILE (seed/police/2018-10-west-mercia-street.csv),
# SMOKE_IMPORT_TIMEOUT (60 s for the upload's import).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PY="$(cd "$VENV/bin" && pwd)/python"
export PATH="$(dirname "$PY"):$PATH"  # the Procfile's gunicorn and celery, and flask, are the venv's
SMOKE_PG=${SMOKE_PG:-postgresql://postgres@127.0.0.1:5432}
SMOKE_REDIS=${SMOKE_REDIS:-redis://127.0.0.1:6379/14}
SMOKE_CRIME_FILE=${SMOKE_CRIME_FILE:-seed/police/2018-10-west-mercia-street.csv}
RUN=$$
DB=portal_smoke_$RUN
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portal-smoke.XXXXXX")
export SMOKE_STARTED=$EPOCHREALTIME  # the journey's lines count from here too
NAMES=() PIDS=()

say() {
  local tenths=$(( (${EPOCHREALTIME/./} - ${SMOKE_STARTED/./} + 50000) / 100000 ))
  printf '[%4d.%ds] %s\n' $((tenths / 10)) $((tenths % 10)) "$*"
}

pg() {  # pg DATABASE SQL: one statement, autocommit
  timeout 30 "$PY" -c 'import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True, connect_timeout=10) as c: c.execute(sys.argv[2])' \
    "$SMOKE_PG/$1" "$2"
}

flush_redis() {
  timeout 15 "$PY" -c 'import sys, redis; redis.Redis.from_url(sys.argv[1], socket_timeout=5).flushdb()' "$SMOKE_REDIS"
}

alive() { kill -0 "$1" 2>/dev/null; }

stop_all() {
  local i pid deadline
  for i in "${!PIDS[@]}"; do
    alive "${PIDS[$i]}" && kill -TERM "${PIDS[$i]}" 2>/dev/null || true
  done
  for i in "${!PIDS[@]}"; do
    pid=${PIDS[$i]} deadline=$((SECONDS + 20))
    while alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if alive "$pid"; then
      say "${NAMES[$i]} (pid $pid) ignored SIGTERM for 20 s: SIGKILL to its process group"
    fi
    # Each process leads a process group of its own (set -m below): whatever it forked and left
    # behind (gunicorn workers, Celery pool processes) goes with it.
    if kill -0 -- "-$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
    say "stopped ${NAMES[$i]} (pid $pid)"
  done
  PIDS=()
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  stop_all
  if [ "$rc" -ne 0 ]; then
    for log in "$WORK"/*.log; do
      [ -f "$log" ] || continue
      printf '\n---- last lines of %s ----\n' "$(basename "$log")"
      tail -n 40 "$log"
    done
    printf '\n'
  fi
  pg postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)" && say "dropped database $DB"
  flush_redis && say "emptied $SMOKE_REDIS"
  rm -rf "$WORK"
  if [ "$rc" -eq 0 ]; then say "prod-smoke passed"; else say "prod-smoke FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { say "FAILED: $*"; exit 1; }

start() {  # start NAME: the Procfile's line, exactly, in a process group of its own
  local name=$1 line
  line=$(sed -n "s/^$name: //p" Procfile)
  [ -n "$line" ] || fail "Procfile has no '$name:' line"
  set -m
  bash -c "exec $line" >"$WORK/$name.log" 2>&1 &
  set +m
  NAMES+=("$name") PIDS+=("$!")
  say "started $name (pid $!): $line"
}

wait_for() {  # wait_for WHAT SECONDS NAME COMMAND...: until COMMAND succeeds; NAME's process must stay up
  local what=$1 limit=$2 name=$3 deadline=$((SECONDS + $2)) i
  shift 3
  until "$@" >/dev/null 2>&1; do
    for i in "${!NAMES[@]}"; do
      if [ "${NAMES[$i]}" = "$name" ] && ! alive "${PIDS[$i]}"; then fail "$name exited while waiting for $what"; fi
    done
    [ $SECONDS -lt $deadline ] || fail "no $what within $limit s"
    sleep 0.3
  done
  say "$what"
}

# ---- the deployment's settings: environment variables only, as the README says ------------------
export PORTAL_ENV=production
export SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
export DATABASE_URL="$SMOKE_PG/$DB"
export REDIS_URL="$SMOKE_REDIS"
export CELERY_DEFAULT_QUEUE="smoke-$RUN"
export UPLOAD_DIR="$WORK/uploads"
export CELERY_BEAT_SCHEDULE="$WORK/celerybeat-schedule"
export PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export PUBLIC_BASE_URL="https://127.0.0.1:$PORT"  # production names its public address; the API says it
export XDG_RUNTIME_DIR="$WORK"  # gunicorn's control socket (gunicorn.ctl) goes here, not to ~/.gunicorn
export PORTAL_NEW_PASSWORD="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')"
ADMIN_EMAIL="admin-$RUN@smoke.shropshire-csp.example.org"
ANALYST_EMAIL="analyst-$RUN@smoke.shropshire-csp.example.org"
say "PORTAL_ENV=production, database $DB, Redis $REDIS_URL, queue $CELERY_DEFAULT_QUEUE, port $PORT"

pg postgres "CREATE DATABASE $DB" || fail "could not create database $DB on $SMOKE_PG"
flush_redis || fail "no Redis at $SMOKE_REDIS"
say "created database $DB; $SMOKE_REDIS is empty"

# ---- once per deployment: the README's setup lines ----------------------------------------------
setup() { echo "\$ $*" >>"$WORK/setup.log"; timeout 60 "$@" >>"$WORK/setup.log" 2>&1 || fail "$* (see setup.log)"; }
setup flask --app wsgi db upgrade && setup flask --app wsgi seed --no-demo
setup flask --app wsgi users create --email "$ADMIN_EMAIL" --name "Smoke Admin" --role admin
setup flask --app wsgi users create --email "$ANALYST_EMAIL" --name "Smoke Analyst" --role analyst
say "db upgrade, seed --no-demo, users create (admin, analyst) done"

# ---- the Procfile's processes ----------------------------------------------------------------------
start web
start worker
start beat
health() { "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1"; }
wait_for "web answers /healthz" 60 web health "http://127.0.0.1:$PORT/healthz"
wait_for "worker is ready" 60 worker grep -q "ready\." "$WORK/worker.log"
wait_for "beat is running" 60 beat grep -q "beat: Starting" "$WORK/beat.log"

# ---- the journey --------------------------------------------------------------------------------------
timeout 120 "$PY" ops/prod_smoke.py --base-url "http://127.0.0.1:$PORT" --admin-email "$ADMIN_EMAIL" \
  --analyst-email "$ANALYST_EMAIL" --crime-file "$SMOKE_CRIME_FILE" --run-id "$RUN" \
  --import-timeout "${SMOKE_IMPORT_TIMEOUT:-60}" || fail "the journey"

# The import's job queued the indicators' rollup: the worker must have run both.
wait_for "worker log: crime.import and indicators.rollup succeeded" 30 worker \
  bash -c 'grep -q "Task crime.import\[.*\] succeeded" "$1" && grep -q "Task indicators.rollup\[.*\] succeeded" "$1"' \
  _ "$WORK/worker.log"
for i in "${!NAMES[@]}"; do alive "${PIDS[$i]}" || fail "${NAMES[$i]} is no longer running"; done
if grep -E "Traceback|ERROR/" "$WORK"/{web,worker,beat}.log >/dev/null; then fail "errors in the server logs"; fi
say "web, worker and beat still running, no errors in their logs"
