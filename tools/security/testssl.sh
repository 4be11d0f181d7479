#!/usr/bin/env bash
# Checks the TLS of a running Wren broker with testssl.sh (Debian package `testssl.sh`, command `testssl`).
#
# Usage: tools/security/testssl.sh [HOST:PORT]
#   With HOST:PORT, checks that broker (it must already run). Without it, builds the broker (Release), starts it on a
#   free loopback port with an empty data directory (development certificate), checks it, and stops it.
#
# Wren speaks its own binary protocol inside TLS, not HTTP: testssl.sh finds no HTTP service and skips its HTTP
# checks by itself (it says so in the output), so the run covers protocols, cipher suites, forward secrecy, the
# server's defaults (certificate), known vulnerabilities and the overall rating.
# Output: the full report on stdout and in $OUT_DIR (default .art/testssl/report-<time>.{log,json}).
# Install: apt-get install -y testssl.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v testssl >/dev/null 2>&1; then
  echo "error: testssl is not installed; on Debian/Ubuntu: apt-get install -y testssl.sh" >&2
  exit 2
fi

ART="${ART:-.art/testssl}"
OUT_DIR="${OUT_DIR:-$ART}"
mkdir -p "$OUT_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
target="${1:-}"
broker_pid=""
data_dir=""

cleanup() {
  if [[ -n "$broker_pid" ]] && kill -0 "$broker_pid" 2>/dev/null; then
    kill -TERM "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
  fi
  if [[ -n "$data_dir" ]]; then
    rm -rf "$data_dir"
  fi
}
trap cleanup EXIT

if [[ -z "$target" ]]; then
  echo "building the broker (Release) into $ART..." >&2
  if ! build_log=$(dotnet build Broker/Wren.Broker/Wren.Broker.csproj -c Release -nologo -v quiet --artifacts-path "$ART" 2>&1); then
    echo "$build_log" >&2
    exit 1
  fi

  data_dir=$(mktemp -d /tmp/wren-testssl-XXXXXX)
  broker_log="$OUT_DIR/broker-$stamp.log"
  dotnet "$ART/bin/Wren.Broker/release/Wren.Broker.dll" --data-dir "$data_dir" --host 127.0.0.1 --port 0 >"$broker_log" 2>&1 &
  broker_pid=$!
  for _ in $(seq 1 300); do
    if endpoint=$(grep -o 'wren: listening on [0-9.:]*' "$broker_log" 2>/dev/null | awk '{print $4}') && [[ -n "$endpoint" ]]; then
      target="$endpoint"
      break
    fi
    if ! kill -0 "$broker_pid" 2>/dev/null; then
      echo "error: the broker exited; its output:" >&2
      cat "$broker_log" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [[ -z "$target" ]]; then
    echo "error: the broker did not report its endpoint within 30 s; see $broker_log" >&2
    exit 1
  fi
  echo "broker (pid $broker_pid) listening on $target, data in $data_dir" >&2
fi

# --ip one / --nodns min: loopback, no DNS. --warnings batch: never stop for a question. --color 0: plain text.
testssl --quiet --color 0 --warnings batch --ip one --nodns min \
  --logfile "$OUT_DIR/report-$stamp.log" --jsonfile "$OUT_DIR/report-$stamp.json" \
  "$target"
echo "report: $OUT_DIR/report-$stamp.log" >&2
