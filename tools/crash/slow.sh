#!/usr/bin/env bash
# Slow consumers, long version: 10 groups × 4 chatting devices × 10 msg/s (400 msg/s) of 16 KiB, first alone (baseline,
# after a 10 s warm-up), then in 10 other groups of the same shape joined by 100 devices that stop reading (raw TLS,
# receive buffer 16 KiB), WREN_SLOW_SECONDS (default 30) seconds per phase, the broker's default outbound limit (4 MiB).
# Every stalled device must be cut off, broker memory must stay within the bound, the others' p99 latency must stay
# within 2× of the baseline, every send must be stored once, and every cut-off device must reconnect and catch up
# without loss. Then the negative control (the outbound limit raised to 1 GiB), which must report devices not cut off.
# Usage: tools/crash/slow.sh [extra harness arguments, e.g. --seed 7 --json]   (not part of CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build Broker/Wren.Broker -c Release -v quiet -nologo
dotnet build tools/crash/Wren.CrashHarness -c Release -v quiet -nologo
broker=Broker/Wren.Broker/bin/Release/net10.0/Wren.Broker.dll
harness=tools/crash/Wren.CrashHarness/bin/Release/net10.0/Wren.CrashHarness.dll

echo "== slow consumers: 100 stalled devices, ${WREN_SLOW_SECONDS:-30} s per phase =="
status=0
dotnet "$harness" --scenario slow-consumers --broker "$broker" --groups 10 --members 4 --rate 10 --body-bytes 16384 \
  --slow 100 --phase "${WREN_SLOW_SECONDS:-30}" --max-p99-ratio 2 "$@" || status=$?

echo
echo "== negative control: outbound limit 1 GiB (must report stalled devices not cut off) =="
control=0
dotnet "$harness" --scenario slow-consumers --broker "$broker" --groups 10 --members 4 --rate 10 --body-bytes 16384 \
  --slow 100 --phase "${WREN_SLOW_SECONDS:-30}" --outbound-limit 1073741824 --no-catch-up "$@" || control=$?

if [ "$control" -ne 1 ]; then
  echo "error: the negative control did not report stalled devices left connected (exit $control): the harness cannot be trusted" >&2
  exit 1
fi
exit "$status"
