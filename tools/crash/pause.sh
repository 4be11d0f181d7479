#!/usr/bin/env bash
# SIGSTOP/SIGCONT under load, long version: 8 clients × 25 msg/s over 4 conversations for WREN_PAUSE_SECONDS (default
# 180) seconds; every 10 ± 5 s after the previous pause ended the broker is stopped with SIGSTOP for a random 5–30 s,
# then continued with SIGCONT. The broker announces a 1 s ping interval and a 3 s idle timeout, so the SDK clients
# (RequestTimeout 5 s) notice each pause, drop the silent connection, reconnect after SIGCONT and resend their
# unacknowledged sends; a reading device resumes from its cursors. Then every conversation is read back from a fresh device.
# Usage: tools/crash/pause.sh [extra harness arguments, e.g. --seed 7 --json]   (not part of CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build Broker/Wren.Broker -c Release -v quiet -nologo
dotnet build tools/crash/Wren.CrashHarness -c Release -v quiet -nologo
broker=Broker/Wren.Broker/bin/Release/net10.0/Wren.Broker.dll
harness=tools/crash/Wren.CrashHarness/bin/Release/net10.0/Wren.CrashHarness.dll

echo "== SIGSTOP/SIGCONT under load: ${WREN_PAUSE_SECONDS:-180} s of pauses =="
dotnet "$harness" --broker "$broker" --fault pause --duration "${WREN_PAUSE_SECONDS:-180}" --kill-every 10 --kill-jitter 5 \
  --pause-min 5 --pause-max 30 --ping-interval 1 --idle-timeout 3 --request-timeout 5 --clients 8 --rate 25 "$@"
