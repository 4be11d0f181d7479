#!/usr/bin/env bash
# Runs the Wren.Bench load generator (`./wren.sh bench ...` forwards here), building it and the broker (Release,
# quietly) first when their sources changed. Set WREN_ARTIFACTS=DIR to build into DIR (dotnet --artifacts-path)
# instead of the projects' bin/ folders, e.g. when other people build the same checkout at the same time.
# Usage: tools/bench/bench.sh WORKLOAD [options]    (see `tools/bench/bench.sh --help` and docs/benchmarks.md)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK (dotnet) is not on PATH; install the version pinned in global.json" >&2
  exit 2
fi

if [ -n "${WREN_ARTIFACTS:-}" ]; then
  artifacts=(--artifacts-path "$WREN_ARTIFACTS")
  bench_dll="$WREN_ARTIFACTS/bin/Wren.Bench/release/Wren.Bench.dll"
  broker_dll="$WREN_ARTIFACTS/bin/Wren.Broker/release/Wren.Broker.dll"
else
  artifacts=()
  bench_dll="$root/tools/bench/Wren.Bench/bin/Release/net10.0/Wren.Bench.dll"
  broker_dll="$root/Broker/Wren.Broker/bin/Release/net10.0/Wren.Broker.dll"
fi

# stale DLL DIR...: true when DLL is missing or any source, project or props file under DIR is newer.
stale() {
  local dll="$1"; shift
  [ ! -f "$dll" ] && return 0
  [ -n "$(find "$@" "$root/Directory.Build.props" "$root/Directory.Packages.props" \
      \( -name bin -o -name obj \) -prune -o \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.json' \) -newer "$dll" -print -quit)" ]
}

build() {
  echo "building $(basename "$1" .csproj) (Release)..." >&2
  if ! log=$(dotnet build "$1" -c Release -nologo -v quiet "${artifacts[@]}" 2>&1); then
    echo "$log" >&2
    exit 1
  fi
}

# WREN_BENCH_NO_BUILD=1 skips the check (compare.sh builds once, so every workload of one comparison runs the same build).
if [ -z "${WREN_BENCH_NO_BUILD:-}" ]; then
  if stale "$bench_dll" "$root/tools/bench/Wren.Bench" "$root/Protocol"; then
    build "$root/tools/bench/Wren.Bench/Wren.Bench.csproj"
  fi
  if stale "$broker_dll" "$root/Broker" "$root/Storage" "$root/Protocol"; then
    build "$root/Broker/Wren.Broker/Wren.Broker.csproj"
  fi
fi

# W2's large group and W4 hold thousands of sockets in this process or its children (one process may hold 20,000).
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

case "${1:-}" in
  w1|w2|w3|w4|w5)
    # Wren workloads start the broker built above unless the caller names one.
    if [[ " $* " != *" --broker "* ]]; then set -- "$@" --broker "$broker_dll"; fi ;;
esac
exec dotnet "$bench_dll" "$@"
