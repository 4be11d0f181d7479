#!/usr/bin/env bash
# Runs the five workloads against Wren and its peers in one invocation and writes the comparison into
# docs/benchmarks.md (between <!-- compare:begin --> and <!-- compare:end -->) plus the latency plot.
#
# Peers (Debian packages, installed when missing; loopback only): nats-server (core for W2, JetStream with file
# storage for W1/W3), redis-server (Streams, appendonly yes + appendfsync always; W1/W3), mosquitto (QoS 1 with
# persistence; W2/W4). Each peer gets a config written to a temp directory and a free port on 127.0.0.1, and is
# stopped by its pid at the end (also on failure). Wren is started by the generator itself for each workload.
#
# Usage: tools/bench/compare.sh            (about 15-20 minutes on 2 cores)
# Every size and duration is an environment variable (defaults below), e.g. DURATION=10 tools/bench/compare.sh.
# Set WREN_ARTIFACTS=DIR to build into DIR instead of the projects' bin/ folders (see tools/bench/bench.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bench="$root/tools/bench/bench.sh"

WARMUP=${WARMUP:-1}                 # seconds sent before each measured window
DURATION=${DURATION:-4}             # seconds of each measured window
DRAIN=${DRAIN:-5}                   # seconds allowed for outstanding acks/deliveries after a window
BISECT=${BISECT:-2}                 # bisection steps after a sweep's doubling phase
ATTEMPTS=${ATTEMPTS:-2}             # attempts per rate before it counts as failed (a cold first window can fail alone)
P99_BOUND=${P99_BOUND:-50}          # ms: a rate is sustained while ack and delivery p99 stay below this
W1_PAIRS=${W1_PAIRS:-8}             # W1 user pairs (2 devices per user)
W1_START=${W1_START:-1000}          # W1 sweep start rate, msg/s
W2_MEMBERS=${W2_MEMBERS:-1000}      # W2 group members (one connection each)
W2_SENDERS=${W2_SENDERS:-4}
W2_START=${W2_START:-10}            # W2 sweep start rate, msg/s (each message goes to every member)
W2_BIG_MEMBERS=${W2_BIG_MEMBERS:-10000}   # W2 large-group variant (Wren only, one fixed rate)
W2_BIG_RATE=${W2_BIG_RATE:-5}
W3_MESSAGES=${W3_MESSAGES:-100000}  # W3 messages missed by the reconnecting reader
W3_CONVERSATIONS=${W3_CONVERSATIONS:-100}
W3_REPLAYS=${W3_REPLAYS:-6}            # W3 replays of the same backlog by new readers; the median of replays 2-6 is reported (the first warms server and client code)
W4_CONNECTIONS=${W4_CONNECTIONS:-15000}   # W4 idle connections
W4_PER_PROCESS=${W4_PER_PROCESS:-5000}    # W4 connections per child generator process
W5_CONCURRENCY=${W5_CONCURRENCY:-32}      # W5 concurrent connect loops
DOCS=${DOCS:-$root/docs/benchmarks.md}
PLOT=${PLOT:-$root/docs/img/w1-ack-latency.png}

params="WARMUP=$WARMUP DURATION=$DURATION DRAIN=$DRAIN BISECT=$BISECT ATTEMPTS=$ATTEMPTS P99_BOUND=$P99_BOUND W1_PAIRS=$W1_PAIRS W1_START=$W1_START W2_MEMBERS=$W2_MEMBERS W2_SENDERS=$W2_SENDERS W2_START=$W2_START W2_BIG_MEMBERS=$W2_BIG_MEMBERS W2_BIG_RATE=$W2_BIG_RATE W3_MESSAGES=$W3_MESSAGES W3_CONVERSATIONS=$W3_CONVERSATIONS W3_REPLAYS=$W3_REPLAYS W4_CONNECTIONS=$W4_CONNECTIONS W4_PER_PROCESS=$W4_PER_PROCESS W5_CONCURRENCY=$W5_CONCURRENCY"

if ! command -v nats-server >/dev/null || ! command -v redis-server >/dev/null || ! command -v mosquitto >/dev/null; then
  echo "installing nats-server, redis-server and mosquitto..." >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y nats-server redis-server mosquitto
fi
# Debian starts the packaged services; the comparison uses its own instances on free ports, so the packaged ones
# only cost memory. They are left as the package manager set them up.

# Both the generator (W4's children) and the servers hold one file per connection.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work="$(mktemp -d /tmp/wren-compare.XXXXXX)"
pids=()
stop_all() {
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  pids=()
}
trap stop_all EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "error: nothing listens on port $1" >&2
  return 1
}

# start_peer NAME PORT COMMAND...: starts COMMAND in the background, sets peer_pid, waits for the port.
start_peer() {
  local name="$1" port="$2"; shift 2
  "$@" >"$work/$name.log" 2>&1 &
  peer_pid=$!
  pids+=("$peer_pid")
  wait_port "$port"
  echo "$name: pid $peer_pid on 127.0.0.1:$port" >&2
}

# nats-server: JetStream with file storage. sync_interval: always (fsync before PubAck) exists from nats-server 2.10;
# an older server gets no sync setting and its durability line says so.
nats_version="$(nats-server --version | sed 's/.*v//')"
if printf '2.10.0\n%s\n' "$nats_version" | sort -V -C; then
  nats_sync="sync_interval: always"
  js_durability="JetStream file storage, sync_interval: always (fsync before PubAck), nats-server $nats_version"
else
  nats_sync=""
  js_durability="JetStream file storage; nats-server $nats_version has no sync_interval setting: PubAck after the write to the OS, fsync every 2 min (its default)"
fi
nats_port="$(free_port)"
mkdir -p "$work/nats"
cat >"$work/nats/nats.conf" <<CONF
listen: 127.0.0.1:$nats_port
max_payload: 1MB
jetstream {
  store_dir: "$work/nats/js"
  $nats_sync
}
CONF
start_peer nats "$nats_port" nats-server -c "$work/nats/nats.conf"
nats_pid=$peer_pid

redis_port="$(free_port)"
mkdir -p "$work/redis"
cat >"$work/redis/redis.conf" <<CONF
bind 127.0.0.1
port $redis_port
dir $work/redis
appendonly yes
appendfsync always
save ""
daemonize no
CONF
start_peer redis "$redis_port" redis-server "$work/redis/redis.conf"
redis_pid=$peer_pid
redis_durability="appendonly yes, appendfsync always (fsync before reply), redis $(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/')"

mosquitto_port="$(free_port)"
mkdir -p "$work/mosquitto"
chmod a+rwx "$work/mosquitto"   # mosquitto started as root drops to its own user
cat >"$work/mosquitto/mosquitto.conf" <<CONF
listener $mosquitto_port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $work/mosquitto/
max_queued_messages 1000000
log_dest stderr
log_type error
log_type warning
CONF
start_peer mosquitto "$mosquitto_port" mosquitto -c "$work/mosquitto/mosquitto.conf"
mosquitto_pid=$peer_pid
mosquitto_durability="QoS 1, persistence true, mosquitto $({ mosquitto -h || true; } | sed -n 's/^mosquitto version //p'): it cannot fsync before PUBACK (state is saved every autosave_interval, 30 min by default, and at exit)"

# Build once; every workload below runs this build even if the sources change meanwhile.
"$bench" --help >/dev/null 2>"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
export WREN_BENCH_NO_BUILD=1
git_rev="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
git_dirty="$(git -C "$root" status --porcelain 2>/dev/null | grep -qv '^??' && echo ", with uncommitted changes" || true)"

window=(--warmup "$WARMUP" --duration "$DURATION" --drain "$DRAIN" --no-progress)
sweep=(--sweep --bisect "$BISECT" --attempts "$ATTEMPTS" --p99-bound "$P99_BOUND")
# A workload that fails (or a window that misses its criteria) is reported and the comparison goes on.
run() { echo "== $*" >&2; "$bench" "$@" || echo "== exit code $? from: $*" >&2; }

# W1: sweep each server, then run each at half of Wren's maximum (the latency goal's operating point).
run w1 --target wren --pairs "$W1_PAIRS" --start-rate "$W1_START" "${sweep[@]}" "${window[@]}" --json "$work/w1-wren.json"
run w1 --target jetstream --port "$nats_port" --pid "$nats_pid" --durability "$js_durability" --pairs "$W1_PAIRS" --start-rate "$W1_START" "${sweep[@]}" "${window[@]}" --json "$work/w1-jetstream.json"
run w1 --target redis --port "$redis_port" --pid "$redis_pid" --durability "$redis_durability" --pairs "$W1_PAIRS" --start-rate "$W1_START" "${sweep[@]}" "${window[@]}" --json "$work/w1-redis.json"
wren_max=0
[ -f "$work/w1-wren.json" ] && wren_max="$("$bench" max-rate --workload W1 --target wren "$work/w1-wren.json")"
half=$(( wren_max > 0 ? wren_max / 2 : W1_START / 2 ))
run w1 --target wren --label W1-half --rate "$half" --pairs "$W1_PAIRS" "${window[@]}" --json "$work/w1-half-wren.json"
run w1 --target jetstream --port "$nats_port" --pid "$nats_pid" --durability "$js_durability" --label W1-half --rate "$half" --pairs "$W1_PAIRS" "${window[@]}" --json "$work/w1-half-jetstream.json"
run w1 --target redis --port "$redis_port" --pid "$redis_pid" --durability "$redis_durability" --label W1-half --rate "$half" --pairs "$W1_PAIRS" "${window[@]}" --json "$work/w1-half-redis.json"

# W2: group fan-out.
w2=(--members "$W2_MEMBERS" --senders "$W2_SENDERS" --start-rate "$W2_START")
run w2 --target wren "${w2[@]}" "${sweep[@]}" "${window[@]}" --json "$work/w2-wren.json"
run w2 --target nats --port "$nats_port" --pid "$nats_pid" "${w2[@]}" "${sweep[@]}" "${window[@]}" --json "$work/w2-nats.json"
run w2 --target mosquitto --port "$mosquitto_port" --pid "$mosquitto_pid" --durability "$mosquitto_durability" "${w2[@]}" "${sweep[@]}" "${window[@]}" --json "$work/w2-mosquitto.json"
run w2 --target wren --label "W2-${W2_BIG_MEMBERS}" --members "$W2_BIG_MEMBERS" --senders "$W2_SENDERS" --rate "$W2_BIG_RATE" "${window[@]}" --json "$work/w2-big-wren.json"

# W3: catch-up.
w3=(--messages "$W3_MESSAGES" --conversations "$W3_CONVERSATIONS" --replays "$W3_REPLAYS")
run w3 --target wren "${w3[@]}" --json "$work/w3-wren.json"
run w3 --target jetstream --port "$nats_port" --pid "$nats_pid" --durability "$js_durability" "${w3[@]}" --json "$work/w3-jetstream.json"
run w3 --target redis --port "$redis_port" --pid "$redis_pid" --durability "$redis_durability" "${w3[@]}" --json "$work/w3-redis.json"

# W4: idle connections (child generator processes), W5: login storm.
w4=(--connections "$W4_CONNECTIONS" --per-process "$W4_PER_PROCESS")
run w4 --target wren "${w4[@]}" --json "$work/w4-wren.json"
run w4 --target mosquitto --port "$mosquitto_port" --pid "$mosquitto_pid" --durability "$mosquitto_durability" "${w4[@]}" --json "$work/w4-mosquitto.json"
run w5 --target wren --concurrency "$W5_CONCURRENCY" --warmup "$WARMUP" --duration "$DURATION" --json "$work/w5-wren.json"

stop_all
mkdir -p "$(dirname "$PLOT")"
"$bench" report --docs "$DOCS" --plot "$PLOT" --command "tools/bench/compare.sh ($params; commit $git_rev$git_dirty)" "$work"/*.json
echo "reports: $work" >&2
