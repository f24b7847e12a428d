#!/usr/bin/env bash
# Load benchmark: gunicorn (BENCH_WORKERS, 2 sync by default) on PostgreSQL with N demo screenings,
# driven by locust from a second process, all on 127.0.0.1. See bench/README.md.
#
#   bash bench/load.sh                      # 100,000 screenings (slow to load)
#   BENCH_SCREENINGS=2000 bash bench/load.sh
#   BENCH_DB=name DEMO_PASSWORD=... bash bench/load.sh   # reuse a loaded database
#
# Phases, each bounded in time: mixed (coordinators, monitors and the reference
# view together, with think time), capacity (valid submissions alone, then the
# reference INSERT alone, no think time), fault (mixed load while one worker is
# SIGKILLed). After each phase the decisions recorded are counted against the
# accepted submissions; at the end verify_audit runs, every decision must have
# its 14 outcome rows and the server must still answer. The last line printed is
# one JSON object. Everything started here is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
SCREENINGS="${BENCH_SCREENINGS:-100000}"
USERS="${BENCH_USERS:-20}"
MIXED_TIME="${BENCH_TIME:-90s}"
CAPACITY_TIME="${BENCH_CAPACITY_TIME:-45s}"
FAULT_TIME="${BENCH_FAULT_TIME:-45s}"
PORT="${BENCH_PORT:-$((20000 + RANDOM % 20000))}"
HOST="http://127.0.0.1:$PORT"
PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
WORK="$(mktemp -d /tmp/bench-load.XXXXXX)"

export DJANGO_SETTINGS_MODULE=bench.settings
export DJANGO_SECRET_KEY="bench-only-$RANDOM$RANDOM$RANDOM-not-a-production-secret"
# A reused database (BENCH_DB) verifies only under the key and key id it was
# sealed with: pass them as AUDIT_HMAC_KEY and AUDIT_HMAC_KEY_ID.
export AUDIT_HMAC_KEY="${AUDIT_HMAC_KEY:-bench-only-$RANDOM$RANDOM$RANDOM-not-a-production-audit-key}"
export AUDIT_HMAC_KEY_ID="${AUDIT_HMAC_KEY_ID:-k1}"
export DJANGO_ALLOWED_HOSTS=127.0.0.1
export DJANGO_SECURE_SSL_REDIRECT=false
export DEMO_PASSWORD="${DEMO_PASSWORD:-bench-only-demo-password}"
export BENCH_STATIC_ROOT="$WORK/static"

if [[ -n "${BENCH_DB:-}" ]]; then
  DB="$BENCH_DB"
  OWN_DB=0
else
  DB="bench_$$"
  OWN_DB=1
fi
export DATABASE_URL="$PG/$DB"
GUNICORN_PID=""

cleanup() {
  if [[ -n "$GUNICORN_PID" ]] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$GUNICORN_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$GUNICORN_PID" 2>/dev/null || true
  fi
  if [[ "$OWN_DB" == 1 && "${BENCH_KEEP_DB:-0}" != 1 ]]; then
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

sql() { psql "$DATABASE_URL" -tAqc "$1"; }
log() { echo "[load $(date +%H:%M:%S)] $*"; }

load_seconds="${BENCH_LOAD_SECONDS:-null}"
if [[ "$OWN_DB" == 1 ]]; then
  psql "$PG/postgres" -qc "CREATE DATABASE $DB"
  "$PY" manage.py migrate --noinput -v0
  "$PY" manage.py load_trial
  log "loading $SCREENINGS screenings through the service (demo_data)"
  start=$(date +%s.%N)
  timeout "${BENCH_LOAD_TIMEOUT:-7200}" "$PY" manage.py demo_data \
    --screenings "$SCREENINGS" >"$WORK/demo_data.log"
  grep -v '^  [0-9]*/' "$WORK/demo_data.log"
  load_seconds=$(echo "$(date +%s.%N) - $start" | bc)
  log "loaded in $load_seconds s"
else
  "$PY" manage.py migrate --noinput -v0
fi
sql "CREATE TABLE IF NOT EXISTS bench_reference (
       id bigserial PRIMARY KEY,
       created_at timestamptz NOT NULL DEFAULT now(),
       payload text NOT NULL)"
# The raw-SQL floor of a submission (bench/urls.py floor_submission) writes into
# copies of the decision and outcome tables, with their indexes and unique
# constraints, outside the audited tables and their chain.
sql "CREATE TABLE IF NOT EXISTS bench_chain (id int PRIMARY KEY);
     INSERT INTO bench_chain VALUES (1) ON CONFLICT DO NOTHING;
     CREATE TABLE IF NOT EXISTS bench_decision
       (LIKE screening_eligibilitydecision INCLUDING DEFAULTS INCLUDING INDEXES
        INCLUDING CONSTRAINTS INCLUDING IDENTITY);
     CREATE TABLE IF NOT EXISTS bench_outcome
       (LIKE screening_criterionoutcome INCLUDING DEFAULTS INCLUDING INDEXES
        INCLUDING CONSTRAINTS INCLUDING IDENTITY);
     TRUNCATE bench_decision, bench_outcome"
"$PY" manage.py collectstatic --noinput -v0
# After a bulk load, as autovacuum would do in time: planner statistics and the
# visibility map (index-only counts).
sql "VACUUM ANALYZE" >/dev/null
records=$(sql "SELECT count(*) FROM screening_eligibilitydecision")
pk_range=$(sql "SELECT min(id) || ' ' || max(id) FROM screening_eligibilitydecision")
export BENCH_PK_MIN="${pk_range% *}" BENCH_PK_MAX="${pk_range#* }"
log "$records decisions in $DB"

WORKERS="${BENCH_WORKERS:-2}"
WORKER_CLASS="${BENCH_WORKER_CLASS:-sync}"
THREADS="${BENCH_THREADS:-1}"
"$ROOT/.venv/bin/gunicorn" config.wsgi --workers "$WORKERS" \
  --worker-class "$WORKER_CLASS" --threads "$THREADS" --bind "127.0.0.1:$PORT" \
  --timeout 30 --graceful-timeout 5 --error-logfile "$WORK/gunicorn.log" \
  >>"$WORK/gunicorn.log" 2>&1 &
GUNICORN_PID=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "$HOST/accounts/login/" 2>/dev/null && break
  sleep 0.2
done
curl -fsS -o /dev/null "$HOST/accounts/login/"
log "gunicorn $GUNICORN_PID ($WORKERS $WORKER_CLASS workers, $THREADS threads) on $HOST"

# Bench submissions use site 00 (00-0000 to 00-9999), which the demo data
# (sites 01-99, up to 1,088,999 candidates) never does. The next free number
# above every bench submission so far: each valid one is new.
next_number() {
  sql "SELECT coalesce(max(substr(screening_number, 4)::int), -1) + 1
       FROM screening_eligibilitydecision WHERE screening_number LIKE '00-____'"
}
recorded_since() {  # decisions recorded with site-00 numbers from $1
  sql "SELECT count(*) FROM screening_eligibilitydecision
       WHERE screening_number LIKE '00-____' AND screening_number >= '$1'"
}
as_number() { printf '00-%04d' "$1"; }

run_locust() {  # phase, run time, user classes...
  local phase=$1 time=$2
  shift 2
  BENCH_NUMBER_START=$(next_number)
  if ((BENCH_NUMBER_START > 9999)); then
    log "no bench screening number left in $DB (00-9999 used): use a new database"
    exit 1
  fi
  export BENCH_NUMBER_START BENCH_COUNTS="$WORK/$phase-counts.json"
  echo "$(as_number "$BENCH_NUMBER_START")" >"$WORK/$phase-first"
  timeout 300 "$ROOT/.venv/bin/locust" -f bench/locustfile.py --headless \
    -H "$HOST" -u "$USERS" -r 10 -t "$time" --stop-timeout 30 \
    --csv "$WORK/$phase" --only-summary --loglevel WARNING "$@" \
    >"$WORK/$phase.out" 2>&1 || true
  recorded_since "$(cat "$WORK/$phase-first")" >"$WORK/$phase-recorded"
  log "$phase: $(cat "$WORK/$phase-recorded") decisions recorded"
}

log "mixed: $USERS users, $MIXED_TIME"
BENCH_WAIT_MIN="${BENCH_WAIT_MIN:-0.5}" BENCH_WAIT_MAX="${BENCH_WAIT_MAX:-1.5}" \
  run_locust mixed "$MIXED_TIME" Coordinator Monitor Reference
log "capacity: submissions alone, the reference alone, the raw-SQL floor alone ($CAPACITY_TIME each)"
BENCH_WAIT_MIN=0 BENCH_WAIT_MAX=0 run_locust capacity-submit "$CAPACITY_TIME" SubmitCapacity
BENCH_WAIT_MIN=0 BENCH_WAIT_MAX=0 run_locust capacity-reference "$CAPACITY_TIME" ReferenceCapacity
BENCH_WAIT_MIN=0 BENCH_WAIT_MAX=0 run_locust capacity-floor "$CAPACITY_TIME" FloorCapacity
floor_written=$(sql "SELECT count(*) FROM bench_decision")
floor_outcomes=$(sql "SELECT count(*) FROM bench_outcome")
log "capacity-floor: $floor_written decisions, $floor_outcomes outcome rows written"

log "fault: SIGKILL a worker three times from 15 s into $FAULT_TIME of mixed load"
(
  # Three kills 8 s apart make it likely that one lands inside a submission.
  sleep 15
  for _ in 1 2 3; do
    victim=$(pgrep -P "$GUNICORN_PID" | shuf -n 1)
    echo "$victim" >>"$WORK/killed"
    kill -KILL "$victim" || true
    sleep 8
  done
) &
killer=$!
BENCH_WAIT_MIN=0.2 BENCH_WAIT_MAX=0.5 run_locust fault "$FAULT_TIME" Coordinator Monitor
wait "$killer" || true
sleep 2
workers_after=$(pgrep -P "$GUNICORN_PID" | wc -l)
answers_after=$(curl -s -o /dev/null -w '%{http_code}' "$HOST/accounts/login/")

orphans=$(sql "SELECT count(*) FROM screening_eligibilitydecision d
               WHERE (SELECT count(*) FROM screening_criterionoutcome o
                      WHERE o.decision_id = d.id) <> 14")
if "$PY" manage.py verify_audit >"$WORK/verify.out" 2>&1; then audit=true; else audit=false; fi
cat "$WORK/verify.out"
records_after=$(sql "SELECT count(*) FROM screening_eligibilitydecision")
server_errors=$(grep -c "ERROR django.request" "$WORK/gunicorn.log" || true)
log "server errors logged: $server_errors"
grep -m 3 -A 2 "ERROR django.request" "$WORK/gunicorn.log" || true

"$PY" bench/load_report.py --work "$WORK" --records "$records" \
  --records-after "$records_after" --load-seconds "$load_seconds" \
  --screenings "$SCREENINGS" --users "$USERS" --orphans "$orphans" \
  --audit "$audit" --killed "$(tr "\n" " " <"$WORK/killed" 2>/dev/null || echo)" \
  --workers-after "$workers_after" --answers-after "$answers_after" \
  --floor-written "$floor_written" --floor-outcomes "$floor_outcomes"
