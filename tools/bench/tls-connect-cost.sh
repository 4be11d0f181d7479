#!/usr/bin/env bash
# Broker CPU per TLS connection, measured with `openssl s_time` against a broker started here (temp data directory,
# free loopback port, stopped by pid at the end). s_time connects, completes the handshake and closes at once, with
# the server's post-handshake bytes unread, so every connection ends with a TCP reset: the cost of clients that
# vanish (apps killed, phones changing networks, scanners). Three modes: new TLS 1.3 handshakes, new TLS 1.2
# handshakes, and resumed TLS 1.2 sessions (no public-key work at all, so what remains is the per-connection cost).
#
# Usage: tools/bench/tls-connect-cost.sh [SECONDS]     (default 5 per mode; needs openssl; docs/benchmarks.md)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
seconds=${1:-5}
command -v openssl >/dev/null || { echo "error: openssl is not installed (apt-get install -y openssl)" >&2; exit 2; }

dotnet build "$root/Broker/Wren.Broker/Wren.Broker.csproj" -c Release -nologo -v quiet >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
data=$(mktemp -d)
log="$data.log"
dotnet "$root/Broker/Wren.Broker/bin/Release/net10.0/Wren.Broker.dll" --data-dir "$data" --port "$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data" "$log"' EXIT

for _ in $(seq 1 100); do
  grep -q "listening on" "$log" && break
  sleep 0.2
done
grep -q "listening on" "$log" || { cat "$log" >&2; echo "error: the broker did not start" >&2; exit 1; }

# Jiffies of user + system time of the broker process (fields 14 and 15 of /proc/PID/stat).
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)

openssl s_time -connect "127.0.0.1:$port" -new -time 2 >/dev/null 2>&1 || true   # warm-up (JIT, pools)
echo "| mode | connections | connections/s | broker CPU per connection |"
echo "| --- | --- | --- | --- |"
for mode in "-new -tls1_3" "-new -tls1_2" "-reuse -tls1_2"; do
  before=$(cpu)
  # shellcheck disable=SC2086 # the mode is two options
  line=$(openssl s_time -connect "127.0.0.1:$port" $mode -time "$seconds" 2>&1 | grep "connections in" | tail -1)
  after=$(cpu)
  count=$(echo "$line" | awk '{print $1}')
  awk -v m="$mode" -v n="$count" -v s="$seconds" -v c="$((after - before))" -v hz="$hz" \
    'BEGIN { printf "| %s | %d | %.0f | %.0f us |\n", m, n, n / s, c / hz / n * 1e6 }'
done
