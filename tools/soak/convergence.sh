#!/usr/bin/env bash
# Long multi-device convergence soak: 9 devices (3 users × 3) go offline and online at random while messages are sent
# concurrently (WREN_SOAK_STEPS steps, default 20,000, paced, fixed seed), then every device's history is compared with the server's log.
# Usage: tools/soak/convergence.sh   (takes a few minutes; not part of CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
WREN_SOAK=1 dotnet test Tests/Wren.Broker.Tests -c Release \
  --filter "FullyQualifiedName~ConvergenceTests.Devices_going_offline_at_random_converge_on_the_server_log_long" \
  --logger "console;verbosity=normal"
