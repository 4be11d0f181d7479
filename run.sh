#!/usr/bin/env bash
# Builds and starts the Wren broker: TLS on 127.0.0.1:7400, data (RocksDB, dev certificate, admin token) in ./data.
# Usage: ./run.sh [--port N] [--host IP] [--data-dir DIR] [--durability Sync|Async] [--plaintext]
# Every option can also be set in Broker/Wren.Broker/appsettings.json or as WREN__<NAME> environment variables.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET SDK (dotnet) is not on PATH; install the version pinned in global.json" >&2
  exit 2
fi

echo "building the broker (Release)..." >&2
if ! build_log=$(dotnet build Broker/Wren.Broker/Wren.Broker.csproj -c Release -nologo -v quiet 2>&1); then
  echo "$build_log" >&2
  exit 1
fi

# Two glibc malloc arenas instead of up to 16 on 2 cores: memory OpenSSL frees on another thread is reused instead of
# stranded, about 6 KiB less RSS per TLS connection (docs/operations.md, docs/benchmarks.md W4).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec dotnet Broker/Wren.Broker/bin/Release/net10.0/Wren.Broker.dll "$@"
