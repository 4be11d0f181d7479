#!/usr/bin/env bash
# kill -9 under load, long version: 8 clients × 25 msg/s over 4 conversations for WREN_CRASH_SECONDS (default 300) seconds,
# the broker SIGKILLed every 10 ± 5 s and restarted on the same data directory and port; then every conversation is read
# back from a fresh device. Then the negative control (WREN_CONTROL_SECONDS, default 60; the broker acknowledges
# before its writes are durable), which must report losses.
# SIGSTOP/SIGCONT pauses instead of kills: tools/crash/pause.sh (the same harness with --fault pause).
# Usage: tools/crash/crash.sh [extra harness arguments, e.g. --seed 7 --json]   (not part of CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build Broker/Wren.Broker -c Release -v quiet -nologo
dotnet build tools/crash/Wren.CrashHarness -c Release -v quiet -nologo
broker=Broker/Wren.Broker/bin/Release/net10.0/Wren.Broker.dll
harness=tools/crash/Wren.CrashHarness/bin/Release/net10.0/Wren.CrashHarness.dll

echo "== kill -9 under load: ${WREN_CRASH_SECONDS:-300} s of faults =="
status=0
dotnet "$harness" --broker "$broker" --duration "${WREN_CRASH_SECONDS:-300}" --kill-every 10 --kill-jitter 5 \
  --clients 8 --rate 25 "$@" || status=$?

echo
echo "== negative control: acknowledge before durable, ${WREN_CONTROL_SECONDS:-60} s (must report lost > 0) =="
control=0
dotnet "$harness" --broker "$broker" --duration "${WREN_CONTROL_SECONDS:-60}" --kill-every 10 --kill-jitter 5 \
  --clients 8 --rate 25 --ack-before-durable "$@" || control=$?

if [ "$control" -ne 1 ]; then
  echo "error: the negative control did not report losses (exit $control): the harness cannot be trusted" >&2
  exit 1
fi
exit "$status"
