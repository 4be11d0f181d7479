#!/usr/bin/env bash
# Disk full, long version: the broker's data directory on a 48 MiB tmpfs (needs root: mount -t tmpfs), 4 clients ×
# 40 msg/s over 2 groups; WREN_DISKFULL_ROUNDS (default 3) times the file system is filled with a ballast file for
# WREN_DISKFULL_SECONDS (default 20) seconds of load, then the ballast is deleted and the load goes on. Every send must be
# acknowledged and stored or refused with StorageUnavailable, reads must keep working, writes must resume without a
# restart, refused sends re-sent with their ids must be stored once, and every acknowledged message must be stored once.
# Then the negative control (the broker acknowledges before its writes are durable), which must report false acks.
# Usage: tools/crash/diskfull.sh [extra harness arguments, e.g. --seed 7 --json]   (not part of CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build Broker/Wren.Broker -c Release -v quiet -nologo
dotnet build tools/crash/Wren.CrashHarness -c Release -v quiet -nologo
broker=Broker/Wren.Broker/bin/Release/net10.0/Wren.Broker.dll
harness=tools/crash/Wren.CrashHarness/bin/Release/net10.0/Wren.CrashHarness.dll

echo "== disk full: ${WREN_DISKFULL_ROUNDS:-3} rounds of ${WREN_DISKFULL_SECONDS:-20} s full =="
status=0
dotnet "$harness" --scenario disk-full --broker "$broker" --size-mib 48 --clients 4 --rate 40 --conversations 2 \
  --warm-up 5 --full "${WREN_DISKFULL_SECONDS:-20}" --after 10 --rounds "${WREN_DISKFULL_ROUNDS:-3}" "$@" || status=$?
if [ "$status" -eq 4 ]; then
  echo "error: no tmpfs can be mounted here (run as root)" >&2
  exit 4
fi

echo
echo "== negative control: acknowledge before durable, 1 round of 10 s full (must report lost > 0) =="
control=0
dotnet "$harness" --scenario disk-full --broker "$broker" --size-mib 48 --clients 4 --rate 40 --conversations 2 \
  --warm-up 5 --full 10 --after 5 --rounds 1 --ack-before-durable "$@" || control=$?

if [ "$control" -ne 1 ]; then
  echo "error: the negative control did not report false acks (exit $control): the harness cannot be trusted" >&2
  exit 1
fi
exit "$status"
