#!/usr/bin/env bash
# Fuzzing campaign over the SharpFuzz targets of tools/fuzz/Wren.Fuzz: frame (FrameReader.TryRead with split points),
# decode (MessageCodec.TryDecode for every type byte) and handshake (a real Session over a real store).
#
#   tools/fuzz/fuzz.sh [TARGET...]               AFL++ (installed with apt-get when missing), targets one after the other
#   tools/fuzz/fuzz.sh --libfuzzer [TARGET...]   libFuzzer through the libfuzzer-dotnet driver named by LIBFUZZER_DOTNET
#
# WREN_FUZZ_SECONDS: seconds per target (default 600). WREN_FUZZ_NICE: nice level (default 10; the machine is shared).
# Builds Release into tools/fuzz/out/build, copies it to tools/fuzz/out/bin and instruments Wren.Protocol.dll and
# Wren.Broker.Core.dll there with sharpfuzz (SharpFuzz.CommandLine, installed into tools/fuzz/.tools). Seeds come from
# the golden vectors (Tests/Wren.Protocol.Tests/GoldenVectors.cs) and are written to tools/fuzz/corpus/<target>/.
# Findings land in tools/fuzz/out/<target>/default/crashes and hangs; each is replayed once so its exception is shown.
# Exit status: 0 when no target found a crash or hang.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${WREN_FUZZ_SECONDS:-600}
niceness=${WREN_FUZZ_NICE:-10}
engine=afl
targets=()
for arg in "$@"; do
  case "$arg" in
    --libfuzzer) engine=libfuzzer ;;
    frame|decode|handshake) targets+=("$arg") ;;
    *) echo "usage: $0 [--libfuzzer] [frame|decode|handshake]..." >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(frame decode handshake)

if [ "$engine" = afl ] && ! command -v afl-fuzz >/dev/null; then
  echo "== installing afl++"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y afl++
fi
if [ "$engine" = libfuzzer ] && [ ! -x "${LIBFUZZER_DOTNET:-}" ]; then
  echo "--libfuzzer needs LIBFUZZER_DOTNET set to a built libfuzzer-dotnet driver" >&2
  exit 2
fi

tools="$here/.tools"
if [ ! -x "$tools/sharpfuzz" ]; then
  echo "== installing SharpFuzz.CommandLine 2.3.0 into $tools"
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools"
fi

out="$here/out"
bin="$out/bin"                               # instrumented copy: runs only under a fuzzer
plain="$out/build/bin/Wren.Fuzz/release"     # as built: replays findings
echo "== building Wren.Fuzz (Release)"
dotnet build "$here/Wren.Fuzz" -c Release --artifacts-path "$out/build" -nologo -v quiet
rm -rf "$bin"
cp -r "$out/build/bin/Wren.Fuzz/release" "$bin"

echo "== seeding tools/fuzz/corpus from the golden vectors"
dotnet "$plain/Wren.Fuzz.dll" seed "$root/Tests/Wren.Protocol.Tests/GoldenVectors.cs" "$here/corpus"

echo "== instrumenting"
for dll in Wren.Protocol.dll Wren.Broker.Core.dll; do
  "$tools/sharpfuzz" "$bin/$dll"
done

export AFL_SKIP_BIN_CHECK=1                     # the target is the dotnet host; SharpFuzz speaks AFL's protocol itself
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1  # core_pattern may pipe to a handler in containers
export AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1

failed=0
summary=()
for target in "${targets[@]}"; do
  echo "== $target: $engine for ${seconds} s"
  if [ "$engine" = libfuzzer ]; then
    mkdir -p "$out/$target/corpus" "$out/$target/crashes"
    cp -n "$here/corpus/$target/"* "$out/$target/corpus/" 2>/dev/null || true
    set +e
    nice -n "$niceness" "$LIBFUZZER_DOTNET" --target_path=dotnet --target_arg="$bin/Wren.Fuzz.dll $target --libfuzzer" \
      -max_total_time="$seconds" -timeout=10 -artifact_prefix="$out/$target/crashes/" "$out/$target/corpus" 2>&1 | tail -20
    set -e
    crashes=$(find "$out/$target/crashes" -type f | wc -l)
    [ "$crashes" -eq 0 ] || { failed=1; dotnet "$plain/Wren.Fuzz.dll" "$target" "$out/$target/crashes" || true; }
    summary+=("$target: libFuzzer ${seconds} s, crashes $crashes")
    continue
  fi

  started=$(date +%s)
  for attempt in 1 2; do
    # On a loaded machine afl-fuzz's dry run now and then sees no coverage from the first input; one retry suffices.
    rm -rf "${out:?}/$target"
    if nice -n "$niceness" afl-fuzz -V "$seconds" -i "$here/corpus/$target" -o "$out/$target" -t 10000 -m none \
      -- dotnet "$bin/Wren.Fuzz.dll" "$target" > "$out/$target.log" 2>&1; then
      break
    fi
    tail -5 "$out/$target.log"
    [ "$attempt" = 1 ] && grep -q "No instrumentation detected" "$out/$target.log" || exit 1
    echo "-- retrying $target"
  done
  elapsed=$(( $(date +%s) - started ))
  stats="$out/$target/default/fuzzer_stats"
  stat() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  crashes=$(stat saved_crashes); hangs=$(stat saved_hangs)
  line="$target: ${elapsed} s, $(stat execs_done) execs, $(stat execs_per_sec) exec/s, corpus $(stat corpus_count) ($(stat corpus_found) found), edges $(stat edges_found), map $(stat bitmap_cvg), stability $(stat stability), crashes $crashes, hangs $hangs"
  echo "$line"
  summary+=("$line")
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    failed=1
    echo "-- replaying findings of $target"
    find "$out/$target/default/crashes" "$out/$target/default/hangs" -name 'id:*' -print0 \
      | xargs -0 -r dotnet "$plain/Wren.Fuzz.dll" "$target" || true
  fi
done

echo "== summary ($(date -u +%Y-%m-%d), $(nproc) cores)"
printf '%s\n' "${summary[@]}"
exit $failed
