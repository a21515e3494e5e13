#!/usr/bin/env bash
# The test command, from a fresh Debian 12 machine (as root): install what is missing, start PostgreSQL and
# RabbitMQ (test database platform_test, virtual host platform-test, emptied first), build, run every test
# project (unit tests and end-to-end tests through the gateway), run the restore drill, and end with "N passed, N
# failed".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
started=$(date +%s)

bash "$here/setup.sh" --test
# Stop on exit what this command started; a stack that was already running (e.g. the demo) is left alone.
rabbit_env
if ! as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1 \
   && ! /usr/lib/rabbitmq/bin/rabbitmqctl -q -t 5 status >/dev/null 2>&1; then
  trap 'bash "$here/infra-down.sh" >/dev/null 2>&1' EXIT
fi
bash "$here/infra-up.sh" --test
# The end-to-end tests run their gateway with this admin key and the services with this internal secret.
ensure_secrets
# A clean virtual host: no message left over from an earlier run can reach the new services.
/usr/lib/rabbitmq/bin/rabbitmqctl -q delete_vhost platform-test >/dev/null 2>&1 || true
/usr/lib/rabbitmq/bin/rabbitmqctl -q add_vhost platform-test >/dev/null
/usr/lib/rabbitmq/bin/rabbitmqctl -q set_permissions -p platform-test guest '.*' '.*' '.*' >/dev/null

log "Building ($BUILD_CONFIGURATION)"
dotnet build "$REPO_ROOT/Platform.sln" -c "$BUILD_CONFIGURATION" -nologo -v q -clp:ErrorsOnly
log "Building the benchmarks (kept out of the product's build)"
dotnet build "$REPO_ROOT/infra/bench/Benchmarks.slnx" -c "$BUILD_CONFIGURATION" -nologo -v q -clp:ErrorsOnly

results="$DATA_DIR/test-results"
rm -rf "$results"
mkdir -p "$results"
PLATFORM_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Database=platform_test;Username=$PG_USER"
export PLATFORM_TEST_POSTGRES="$PLATFORM_TEST_POSTGRES;Password=$PG_PASSWORD"
export PLATFORM_TEST_RABBITMQ="amqp://guest:guest@127.0.0.1:$RABBIT_PORT/platform-test"
log "Running tests"
# One assembly at a time, end-to-end last: run side by side (as `dotnet test Platform.sln` does), the ML tests'
# libtorch threads and the services' trainers share the two cores, and the end-to-end timings stop meaning anything.
status=0
: >"$results/console.log"
# Test projects are the folders of tests/ with a project file (tests/Shared holds sources the projects link).
projects=$(cd "$REPO_ROOT/tests" && for d in */; do d=${d%/}; if [ -f "$d/$d.csproj" ]; then echo "$d"; fi; done)
for project in $(echo "$projects" | grep -vx Platform.EndToEnd.Tests) Platform.EndToEnd.Tests; do
  set +e
  dotnet test "$REPO_ROOT/tests/$project" -c "$BUILD_CONFIGURATION" --no-build -nologo \
    --logger "console;verbosity=normal" --logger "trx" --results-directory "$results" 2>&1 \
    | tee -a "$results/console.log"
  project_status=${PIPESTATUS[0]}
  set -e
  [ "$project_status" -eq 0 ] || status=$project_status
done

# Each test assembly ends with a block: "Total tests: T", then "Passed: P", "Failed: F", "Skipped: S" lines.
count() { { grep -E "^ +$1: +[0-9]+\s*$" "$results/console.log" || true; } | awk '{s+=$2} END {print s+0}'; }
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)

# The house style (one more test): formatting and line lengths.
log "Format check"
if bash "$here/check-format.sh" 2>&1 | tee "$results/check-format.log"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); status=1
fi

# The restore drill (one more test): back up, wipe, restore, and the same model gives the same text.
log "Restore drill"
set +e
bash "$here/restore-drill.sh" 2>&1 | tee "$results/restore-drill.log"
drill_status=${PIPESTATUS[0]}
set -e
if [ "$drill_status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
assemblies=$(grep -cE '^Total tests: ' "$results/console.log" || true)
expected=$(echo "$projects" | wc -l)
if [ "$assemblies" -lt "$expected" ]; then
  echo "only $assemblies of $expected test assemblies reported results (a test host crashed?)" >&2
  failed=$((failed + expected - assemblies))
  [ "$status" -ne 0 ] || status=1
fi
log "Tests finished in $(( $(date +%s) - started )) s"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
