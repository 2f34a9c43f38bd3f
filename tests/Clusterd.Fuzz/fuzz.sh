#!/usr/bin/env bash
# make fuzz: coverage-guided fuzzing of one target of tests/Clusterd.Fuzz for a fixed time (docs/security.md, "Fuzzing").
#   tests/Clusterd.Fuzz/fuzz.sh TARGET SECONDS
# Builds the fuzz program, instruments a copy of the code under test of the code under test with SharpFuzz, builds the libFuzzer
# driver, and runs it from the checked-in seeds. Prints executions, corpus size and crashes; exits non-zero on any
# crash, hang or unexpected exception, whose input libFuzzer saves under the run's folder. Installs nothing: it needs
# clang and its libFuzzer runtime (Debian: clang-14 or clang, and libclang-rt-14-dev).
set -euo pipefail

target=${1:?usage: fuzz.sh TARGET SECONDS}
seconds=${2:?usage: fuzz.sh TARGET SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$here/bin/fuzz                               # the instrumented build (under bin/: ignored by git)
work=$here/bin/work/$target                      # the corpus libFuzzer grows, kept from run to run
run=$work/run-$(date +%Y%m%d-%H%M%S)             # this run's log and crash artifacts

seeds=("$root/tests/fuzz/corpus/$target")
case $target in
  config) seeds+=("$root/tests/fixtures/config/valid" "$root/tests/fixtures/config/invalid" "$root/etc/clusterd" "$root/packaging/etc") ;;
esac
if [[ ! -d ${seeds[0]} ]]; then
  echo "fuzz.sh: no seed corpus for target '$target' (${seeds[0]})" >&2
  exit 2
fi
clang=$(command -v clang || command -v clang-14 || true)
if [[ -z $clang ]]; then
  echo "fuzz.sh: needs clang with its libFuzzer runtime (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi

# A fresh copy of the build each time: SharpFuzz refuses an assembly it has already instrumented, and the build
# itself must stay uninstrumented for the tests.
dotnet build "$here" -c Release --nologo -v quiet -warnaserror
rm -rf "$out"
cp -r "$here/bin/Release/net10.0" "$out"
(cd "$here" && dotnet tool restore >/dev/null)
for assembly in clusterd.dll Clusterd.Protocol.dll Tomlyn.dll; do
  (cd "$here" && dotnet tool run sharpfuzz "$out/$assembly")
done
"$clang" -O2 -g -fsanitize=fuzzer -Wall -Werror -o "$out/libfuzzer-dotnet" "$here/driver/libfuzzer-dotnet.c"
"$clang" -O2 -Wall -Werror -o "$out/fake-target" "$here/driver/fake-target.c"

# First the driver itself: a target that hangs, dies or throws on its 5th input must be a finding (libFuzzer exits
# 70 for a timeout, 77 for a crash, and saves the input), and one that never fails must not be.
check=$out/driver-check
for expected in hang:70:timeout- die:77:crash- throw:77:crash- ok:0:; do
  IFS=: read -r mode code artifact <<<"$expected"
  rm -rf "$check" && mkdir -p "$check"
  set +e
  "$out/libfuzzer-dotnet" --dotnet="$out/fake-target" --dotnet_arg="$mode" -runs=20 -timeout=1 \
    -artifact_prefix="$check/" >"$check/log" 2>&1
  actual=$?
  set -e
  if [[ $actual -ne $code || ( -n $artifact && -z $(find "$check" -name "$artifact*") ) ]]; then
    echo "fuzz.sh: the driver missed a target that does '$mode' (exit $actual, expected $code); see $check/log" >&2
    exit 1
  fi
done
echo "fuzz.sh: the driver reports a hang, a dead target and an exception"

mkdir -p "$work/corpus" "$run"
set +e
"$out/libfuzzer-dotnet" --dotnet="$out/Clusterd.Fuzz" --dotnet_arg="$target" \
  -max_total_time="$seconds" -timeout=10 -max_len=16384 -print_final_stats=1 -artifact_prefix="$run/" \
  "$work/corpus" "${seeds[@]}" 2>&1 | tee "$run/log"
status=${PIPESTATUS[0]}
set -e

executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log")
corpus=$(grep -o 'corp: [0-9]*' "$run/log" | tail -n 1 | cut -d' ' -f2)   # libFuzzer's own count: the files include replaced ones
crashes=$(find "$run" -type f ! -name log | wc -l)
echo "fuzz $target: ${executions:-0} executions in ${seconds}s, corpus ${corpus:-0} inputs, $crashes crashes (libFuzzer exit $status; log and artifacts in $run)"
if [[ $status -ne 0 || $crashes -ne 0 ]]; then
  echo "fuzz $target: FAILED; replay an input (after make build) with: dotnet tests/Clusterd.Fuzz/bin/Release/net10.0/Clusterd.Fuzz.dll $target FILE" >&2
  exit 1
fi
