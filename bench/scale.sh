#!/usr/bin/env bash
# Footprint and scale of clusterd itself: 1, 100 and 1000 trivial workers (/bin/sleep, ready = "started" with
# min_uptime = "0s", so a worker is ready as soon as its exec succeeded), each with its own SO_REUSEPORT socket.
# Measured: wall time from clusterd's exec to every worker ready (against a plain fork+exec of as many sleeps),
# RSS, descriptors and threads, CPU over 10 idle seconds, `clusterctl status` and a /metrics scrape (hyperfine).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_all EXIT

ROUNDS=${BENCH_SCALE_ROUNDS:-3}
SIZES=(${BENCH_SCALE_SIZES:-1 100 1000})
mkdir -p "$RAW/scale"

for ((round = 1; round <= ROUNDS; round++)); do
  for n in "${SIZES[@]}"; do
    log "scale round $round/$ROUNDS: $n workers"
    fresh_run_dir
    base="$RAW/scale/r$round-n$n"
    cat > "$RUN/clusterd.toml" <<TOML
[control]
socket = "$RUN/clusterd.sock"

[metrics]
listen = "127.0.0.1:18590"

[groups.sleepers]
command = ["/bin/sleep", "100000"]
workers = $n
listen = ["127.0.0.1:18591"]
sharing = "reuseport"
ready = "started"
min_uptime = "0s"
TOML
    baseline=$(python3 "$BENCH/spawn_baseline.py" "$n" /bin/sleep 100000)
    t0=$(date +%s%N)
    "$CLUSTERD" --config "$RUN/clusterd.toml" > "$RUN/clusterd.log" 2>&1 &
    MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID")
    # poll readiness cheaply: the ready gauge on /metrics, every 20 ms
    # (into a variable first: `curl | grep -q` fails under pipefail once grep stops reading a large body)
    until body=$(curl -s --max-time 5 http://127.0.0.1:18590/metrics) &&
          [[ $(grep '^clusterd_group_ready_workers{' <<< "$body") == *" $n" ]]; do sleep 0.02; done
    t1=$(date +%s%N)
    sleep 2
    c0=$(cpu_ticks "$MANAGER_PID")
    sleep 10
    c1=$(cpu_ticks "$MANAGER_PID")
    rss_idle=$(rss_kib "$MANAGER_PID")   # before any query: what spawning and supervising alone cost
    hyperfine -N --warmup 3 --runs 20 --export-json "$base-status.json" "$CLUSTERCTL -s $RUN/clusterd.sock status" > /dev/null
    hyperfine -N --warmup 3 --runs 20 --export-json "$base-metrics.json" "curl -s -o /dev/null http://127.0.0.1:18590/metrics" > /dev/null
    curl -s http://127.0.0.1:18590/metrics > "$base.metrics"
    "$CLUSTERCTL" -s "$RUN/clusterd.sock" --json status > "$base.status.json"
    "$CLUSTERCTL" -s "$RUN/clusterd.sock" --json events > "$base.events.jsonl"   # fork and online times, per worker
    record section=scale round="$round" workers="$n" ready_ms=$(((t1 - t0) / 1000000)) \
      baseline_spawn_ms="$(python3 -c "print(round($baseline * 1000, 1))")" \
      rss_kib="$rss_idle" rss_after_queries_kib="$(rss_kib "$MANAGER_PID")" fds="$(ls "/proc/$MANAGER_PID/fd" | wc -l)" \
      threads="$(ls "/proc/$MANAGER_PID/task" | wc -l)" idle_cpu_ticks=$((c1 - c0)) idle_seconds=10 raw="$base"
    t2=$(date +%s%N)
    stop clusterd
    record section=scale-stop round="$round" workers="$n" stop_ms=$((($(date +%s%N) - t2) / 1000000))
  done
done
