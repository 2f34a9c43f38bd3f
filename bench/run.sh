#!/usr/bin/env bash
# make bench: install what is missing, build the NativeAOT binaries, run every part of the harness, write
# BENCHMARKS.md. Options: --quick (one short round of everything: checks that the harness works, numbers are
# meaningless). Knobs (environment): BENCH_ROUNDS, BENCH_DURATION, BENCH_FAULT_ROUNDS, BENCH_CONTROL_ROUNDS,
# BENCH_SCALE_ROUNDS, BENCH_SCALE_SIZES, BENCH_NOTIFY_ROUNDS, BENCH_NOTIFY_FLOOD_SECONDS, BENCH_MEMORY_ROUNDS,
# BENCH_UPGRADE_ROUNDS, BENCH_LOGS_ROUNDS, BENCH_LOGS_SECONDS, BENCH_OUT (default: BENCHMARKS.md at the repository root).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
PM2_VERSION=7.0.4

if [[ ${1:-} == --quick ]]; then
  export BENCH_ROUNDS=1 BENCH_DURATION=1 BENCH_FAULT_ROUNDS=1 BENCH_FAULT_DURATION=4 BENCH_CONTROL_ROUNDS=1 \
         BENCH_SCALE_ROUNDS=1 BENCH_SCALE_SIZES="1 10" BENCH_NOTIFY_ROUNDS=1 BENCH_NOTIFY_FLOOD_SECONDS=3 \
         BENCH_MEMORY_ROUNDS=1 BENCH_UPGRADE_ROUNDS=1 BENCH_LOGS_ROUNDS=1 BENCH_LOGS_SECONDS=2
  OUT=${BENCH_OUT:-$WORK/BENCHMARKS.quick.md}
else
  OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
fi
START=$SECONDS

# --- tools: apt for wrk, hyperfine, supervisord, gcc (the worker's addon, chatty.c); npm for PM2 (pinned) into .work
missing=()
for t in wrk:wrk hyperfine:hyperfine supervisord:supervisor curl:curl gcc:gcc; do
  command -v "${t%%:*}" > /dev/null || missing+=("${t#*:}")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]} (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
command -v node > /dev/null || { log "Node.js is needed (the worker and the peers); install nodejs"; exit 1; }
mkdir -p "$WORK"
if [[ $("$PM2" --version 2> /dev/null | tail -1) != "$PM2_VERSION" ]]; then
  log "installing pm2@$PM2_VERSION (npm, into $WORK)"
  [[ -e $WORK/package.json ]] || echo '{"private":true}' > "$WORK/package.json"
  (cd "$WORK" && npm install --no-audit --no-fund --silent "pm2@$PM2_VERSION")
fi

# --- the NativeAOT binaries ------------------------------------------------------------------------------------------
if [[ ! -x $CLUSTERD || ! -x $CLUSTERCTL || -n $(find "$ROOT/src" -newer "$CLUSTERD" -name '*.cs' -print -quit) ]]; then
  log "make publish (NativeAOT, about 2 minutes)"
  make -C "$ROOT" publish > "$WORK/publish.log" 2>&1 || { tail -20 "$WORK/publish.log"; exit 1; }
fi

# --- the machine, then every part ------------------------------------------------------------------------------------
rm -rf "$RAW" "$RESULTS"; mkdir -p "$RAW"
{
  echo "nproc: $(nproc)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
  echo "kernel: $(uname -r)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "memory: $(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
  echo "dotnet sdk: $(dotnet --version 2> /dev/null || echo '?')"
  echo "node: $(node --version)"
  echo "pm2: $("$PM2" --version 2> /dev/null | tail -1)"
  echo "supervisord: $(supervisord --version)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "hyperfine: $(hyperfine --version)"
  echo "ulimit -n: $(ulimit -n)"
  echo "somaxconn: $(sysctl -n net.core.somaxconn)"
  echo "tcp_migrate_req: $(sysctl -n net.ipv4.tcp_migrate_req)"
  echo "clusterd commit: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src || echo ' (+ local changes)')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$WORK/machine.txt"

for part in datapath faults memory upgrade control scale notify logs; do
  log "=== $part"
  "$BENCH/$part.sh"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$WORK/machine.txt"
echo "harness wall time: $((SECONDS - START)) s" >> "$WORK/machine.txt"
python3 "$BENCH/report.py" "$WORK" > "$OUT"
log "wrote $OUT in $((SECONDS - START)) s"
