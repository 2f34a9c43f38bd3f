#!/usr/bin/env bash
# Memory-limit replacement under load: every worker leaks (BENCH_LEAK_MIB_PER_S, 5 MiB/s, from when the probe starts) and the
# manager replaces one above 64 MiB: clusterd's max_memory (a readiness-gated replacement, sampled every second, 3
# samples in a row) against PM2's max_memory_restart (a restart in place, checked every worker_interval: 30 s by
# default). A probe connects every 5 ms across the first replacement (memory_probe.py). Counted: failed probes, the
# time from the worker's first sample above the limit (the probe's own, every 100 ms, the same for both) to the first
# answer from a new worker, and how far the leaking worker got.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_all EXIT

ROUNDS=${BENCH_MEMORY_ROUNDS:-3}
LIMIT_MIB=64
export BENCH_LEAK_MIB_PER_S=${BENCH_LEAK_MIB_PER_S:-5} BENCH_LEAK_WHILE="$RUN/leak"
START_TOML=("max_memory = \"${LIMIT_MIB}MiB\"")
START_PM2=(--max-memory-restart "${LIMIT_MIB}M")
mkdir -p "$RAW/memory"

port=18700
for ((round = 1; round <= ROUNDS; round++)); do
  for config in clusterd-reuseport pm2; do
    port=$((port + 1))
    log "memory-limit round $round/$ROUNDS: $config"
    start "$config" "$port"
    base="$RAW/memory/r$round-$config"
    # shellcheck disable=SC2046 # one argument per worker pid
    python3 "$BENCH/memory_probe.py" "$port" "$LIMIT_MIB" 5 60 "$BENCH_LEAK_WHILE" $(ls "$RUN/counts") > "$base.json"
    case $config in
      pm2) cp "$PM2_HOME/pm2.log" "$base.log" 2> /dev/null || true ;;
      *) cp "$RUN/clusterd.log" "$base.log" ;;
    esac
    record section=memory round="$round" config="$config" raw="$base"
    stop "$config"
  done
done
