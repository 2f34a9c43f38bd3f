#!/usr/bin/env bash
# The supervisor loop under a notify flood. clusterd runs two groups: "idle" (2 trivial workers) and "flood", whose
# one worker (notify_flood.py), when told to, sends 3 KiB datagrams to its own NOTIFY_SOCKET as fast as it can for
# BENCH_NOTIFY_FLOOD_SECONDS (10): the flood of the security review, from the only kind of sender the socket admits. Measured with hyperfine, idle and then during the flood: `clusterctl scale idle 2`
# (a no-op scale: a request the loop itself must answer, so its round trip is the loop's latency) and
# `clusterctl status` (answered from the last published snapshot, off the loop). Also clusterd's CPU and RSS.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_all EXIT

ROUNDS=${BENCH_NOTIFY_ROUNDS:-3}
FLOOD_SECONDS=${BENCH_NOTIFY_FLOOD_SECONDS:-10}
mkdir -p "$RAW/notify"

measure() { # measure OUT STARTFILE STOPFILE SECONDS: round trips from when STARTFILE exists until STOPFILE does
  python3 "$BENCH/roundtrip.py" "$1" "$2" "$3" "$4" "$CLUSTERCTL" "$RUN/clusterd.sock"
}

for ((round = 1; round <= ROUNDS; round++)); do
  log "notify round $round/$ROUNDS"
  fresh_run_dir
  base="$RAW/notify/r$round"
  cat > "$RUN/clusterd.toml" <<TOML
[control]
socket = "$RUN/clusterd.sock"

[groups.idle]
command = ["/bin/sleep", "100000"]
workers = 2
ready = "started"
min_uptime = "0s"

[groups.flood]
command = ["$(command -v python3)", "$BENCH/notify_flood.py", "$RUN", "$FLOOD_SECONDS"]
workers = 1
ready = "notify"
TOML
  "$CLUSTERD" --config "$RUN/clusterd.toml" > "$RUN/clusterd.log" 2>&1 &
  MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID")
  wait_clusterd_ready
  sleep 1
  measure "$base-idle.json" "$RUN/clusterd.toml" /nonexistent "$FLOOD_SECONDS"
  rss_idle=$(rss_kib "$MANAGER_PID")

  measure "$base-flood.json" "$RUN/flood.started" "$RUN/flood.done" $((FLOOD_SECONDS + 60)) &   # ready before the flood
  sampler=$!
  until [[ -e $base-flood.json.ready ]]; do sleep 0.01; done
  touch "$RUN/flood.go"
  until [[ -e $RUN/flood.started ]]; do sleep 0.01; done
  c0=$(cpu_ticks "$MANAGER_PID"); t0=$(date +%s%N)
  wait "$sampler"
  t1=$(date +%s%N); c1=$(cpu_ticks "$MANAGER_PID"); rss_flood=$(rss_kib "$MANAGER_PID")
  until [[ -e $RUN/flood.done ]]; do sleep 0.05; done
  read -r datagrams flood_seconds < "$RUN/flood.done"
  record section=notify round="$round" raw="$base" datagrams="$datagrams" flood_seconds="$flood_seconds" \
    measured_ms=$(((t1 - t0) / 1000000)) cpu_ticks=$((c1 - c0)) rss_idle_kib="$rss_idle" rss_flood_kib="$rss_flood" \
    rss_after_kib="$(rss_kib "$MANAGER_PID")"
  stop clusterd
done
