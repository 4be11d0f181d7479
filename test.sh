#!/usr/bin/env bash
# Runs Wren's test suite: restores, builds and runs every test project, then prints one closing line
# "N passed, N failed[, N skipped]" computed from the TRX result files. Exits non-zero on any failure
# or when no test ran. Usage: ./test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK (dotnet) is not on PATH; install the version pinned in global.json" >&2
  exit 2
fi

results="${WREN_TEST_RESULTS:-$(mktemp -d -t wren-tests-XXXXXX)}"
mkdir -p "$results"

status=0
dotnet test Broker.sln -c Release --logger "trx" --results-directory "$results" "$@" || status=$?

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done

line="$passed passed, $failed failed"
if [ "$skipped" -gt 0 ]; then line="$line, $skipped skipped"; fi
echo
echo "$line"

if [ "$files" -eq 0 ] || [ "$passed" -eq 0 ]; then
  echo "error: no test ran (no TRX results in $results)" >&2
  exit 1
fi
if [ "$failed" -gt 0 ] || [ "$status" -ne 0 ]; then
  exit 1
fi
