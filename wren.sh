#!/usr/bin/env bash
# Runs the wren command-line tool, building it (Release, quietly) first when its sources changed.
# Usage: ./wren.sh COMMAND [OPTIONS]   e.g. ./wren.sh user list, ./wren.sh chat --token-file alice.token
# Run it from the directory that holds the broker's data/ (the repository root for ./run.sh) so admin commands find
# data/admin.token and every command pins data/dev-cert.pfx; see `./wren.sh --help` and docs/operations.md.
set -euo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK (dotnet) is not on PATH; install the version pinned in global.json" >&2
  exit 2
fi

# `bench` is the load generator, a separate project so that peer client packages stay out of the CLI.
if [ "${1:-}" = "bench" ]; then
  shift
  exec "$root/tools/bench/bench.sh" "$@"
fi

dll="$root/tools/wren/bin/Release/net10.0/wren.dll"
stale() {
  [ ! -f "$dll" ] && return 0
  # Any source, project or props file newer than the built tool (bin/ and obj/ excluded) means a rebuild.
  [ -n "$(find "$root/tools/wren" "$root/Protocol" "$root/Directory.Build.props" "$root/Directory.Packages.props" \
      \( -name bin -o -name obj \) -prune -o \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -newer "$dll" -print -quit)" ]
}

if stale; then
  echo "building the wren CLI (Release)..." >&2
  if ! build_log=$(dotnet build "$root/tools/wren/wren.csproj" -c Release -nologo -v quiet 2>&1); then
    echo "$build_log" >&2
    exit 1
  fi
fi

exec dotnet "$dll" "$@"
