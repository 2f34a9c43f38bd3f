#!/usr/bin/env bash
# Data path: the same worker served six ways, each measured with keep-alive connections and with a new connection
# per request, in interleaved rounds (the order rotates every round). Each configuration is started fresh for its
# turn and stopped after it, so nothing else of the harness runs while it is measured.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_all EXIT

ROUNDS=${BENCH_ROUNDS:-9}
DURATION=${BENCH_DURATION:-6}
CONNS=${BENCH_CONNS:-50}
CONFIGS=(${BENCH_CONFIGS:-limit-reuseport limit-shared clusterd-reuseport clusterd-shared node-cluster pm2})
mkdir -p "$RAW/datapath"

for ((round = 1; round <= ROUNDS; round++)); do
  n=${#CONFIGS[@]}
  for ((i = 0; i < n; i++)); do
    config=${CONFIGS[(i + round - 1) % n]}
    port=$((18100 + round * 10 + i))
    log "datapath round $round/$ROUNDS: $config"
    start "$config" "$port"
    for path in keepalive close; do
      args=(-t2 "-c$CONNS" --latency)
      [[ $path == close ]] && args+=(-H 'Connection: close')
      wrk "${args[@]}" -d1s "http://127.0.0.1:$port/" > /dev/null   # warm-up (JIT, connection setup)
      sleep 0.3
      base="$RAW/datapath/r$round-$config-$path"
      counts_snapshot "$base.counts0"
      cpu0=$(cpu_ticks "$MANAGER_PID")
      setsid -w wrk "${args[@]}" "-d${DURATION}s" "http://127.0.0.1:$port/" > "$base.wrk"
      cpu1=$(cpu_ticks "$MANAGER_PID")
      sleep 0.3   # the workers write their counts every 200 ms
      counts_snapshot "$base.counts1"
      record section=datapath round="$round" config="$config" path="$path" duration="$DURATION" \
        manager_cpu_ticks=$((cpu1 - cpu0)) manager_rss_kib="$(rss_kib "$MANAGER_PID")" raw="$base"
    done
    stop "$config"
  done
done
