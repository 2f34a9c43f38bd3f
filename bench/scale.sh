#!/usr/bin/env bash
# Footprint and scale of clusterd itself: 1, 100 and 1000 trivial workers (/bin/sleep, ready = "started" with
# min_uptime = "0s", so a worker is ready as soon as its exec succeeded), each with its own SO_REUSEPORT socket.
# Measured: wall time from clusterd's exec to every worker ready (against a plain fork+exec of as many sleeps),
# RSS, descriptors and threads, CPU over 10 idle seconds, `clusterctl status` and a /metrics scrape (hyperfine).
# burst: idle RSS at 1000 workers before and after a rolling restart of all of them, and at 0 workers before and
# after a scale 0 -> 1000 -> 0, each after settling (clusterd compacts its heap once a burst has settled).
# usage: scale.sh [sizes] [burst]: the parts to run (default both).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_all EXIT

ROUNDS=${BENCH_SCALE_ROUNDS:-3}
SIZES=(${BENCH_SCALE_SIZES:-1 100 1000})
PARTS=${*:-sizes burst}
wants() { [[ " $PARTS " == *" $1 "* ]]; }
mkdir -p "$RAW/scale"

sleepers_config() { # sleepers_config N -> $RUN/clusterd.toml
  cat > "$RUN/clusterd.toml" <<TOML
[control]
socket = "$RUN/clusterd.sock"

[metrics]
listen = "127.0.0.1:18590"

[groups.sleepers]
command = ["/bin/sleep", "100000"]
workers = $1
listen = ["127.0.0.1:18591"]
sharing = "reuseport"
ready = "started"
min_uptime = "0s"
TOML
}

# Where the largest start's gap to the floor goes (bench/spawn_paths.c): the floor, the helper posix_spawned, the
# helper forked by its fork server (clusterd's path) and an in-process vfork child, each starting N sleeps from a process holding clusterd's descriptors at N workers (5 each:
# the slot's socket, two pipes, the pidfd and cgroup.events).
SPAWN_PATHS="$WORK/spawn_paths"
FDS_PER_WORKER=5

ready_workers() { # the ready gauge on /metrics
  # (into a variable first: `curl | grep -q` fails under pipefail once grep stops reading a large body)
  local body
  body=$(curl -s --max-time 5 http://127.0.0.1:18590/metrics) || return 1
  grep '^clusterd_group_ready_workers{' <<< "$body" | awk '{print $NF}'
}
wait_ready_workers() { # wait_ready_workers N: poll every 20 ms until exactly N are ready (not where a start is timed)
  until [[ $(ready_workers) == "$1" ]]; do sleep 0.02; done
}
settled_rss() { # after the burst has settled: clusterd compacts 2 s after the last fork or exit; 10 s is ample
  sleep 10
  rss_kib "$MANAGER_PID"
}

for ((round = 1; round <= ROUNDS; round++)); do
  wants sizes || break
  for n in "${SIZES[@]}"; do
    log "scale round $round/$ROUNDS: $n workers"
    fresh_run_dir
    base="$RAW/scale/r$round-n$n"
    sleepers_config "$n"
    baseline=$(python3 "$BENCH/spawn_baseline.py" "$n" /bin/sleep 100000)
    paths=()
    if [[ $n == "${SIZES[-1]}" ]]; then
      build_c "$SPAWN_PATHS" "$BENCH/spawn_paths.c"
      while read -r path ms; do paths+=("paths_${path}_ms=$ms"); done \
        < <("$SPAWN_PATHS" "$DIST/clusterd-exec" "$n" "$FDS_PER_WORKER" /bin/sleep 100000)
    fi
    t0=$(date +%s%N)
    "$CLUSTERD" --config "$RUN/clusterd.toml" > "$RUN/clusterd.log" 2>&1 &
    MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID")
    "$PYTHON" -S "$BENCH/wait_online.py" "$n" "$CLUSTERCTL" "$RUN/clusterd.sock"
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
      threads="$(ls "/proc/$MANAGER_PID/task" | wc -l)" idle_cpu_ticks=$((c1 - c0)) idle_seconds=10 raw="$base" "${paths[@]}"
    t2=$(date +%s%N)
    stop clusterd
    record section=scale-stop round="$round" workers="$n" stop_ms=$((($(date +%s%N) - t2) / 1000000))
  done
done

if wants burst; then
  for ((round = 1; round <= ROUNDS; round++)); do
    log "scale round $round/$ROUNDS: memory after bursts of 1000 workers"
    fresh_run_dir
    sleepers_config 1000
    "$CLUSTERD" --config "$RUN/clusterd.toml" > "$RUN/clusterd.log" 2>&1 &
    MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID")
    ctl() { "$CLUSTERCTL" -s "$RUN/clusterd.sock" "$@"; }
    wait_ready_workers 1000
    rss_1000=$(settled_rss)
    t0=$(date +%s%N)
    ctl restart sleepers --max-surge 100 > /dev/null
    restart_ms=$((($(date +%s%N) - t0) / 1000000))
    rss_after_restart=$(settled_rss)
    ctl scale sleepers 0 > /dev/null
    until [[ $(ctl --json status | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["groups"][0]["workers"]))') == 0 ]]; do sleep 0.1; done
    rss_0=$(settled_rss)
    ctl scale sleepers 1000 > /dev/null
    wait_ready_workers 1000
    ctl scale sleepers 0 > /dev/null
    until [[ $(ctl --json status | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["groups"][0]["workers"]))') == 0 ]]; do sleep 0.1; done
    rss_after_scale=$(settled_rss)
    record section=burst round="$round" rss_1000_kib="$rss_1000" rss_after_restart_kib="$rss_after_restart" \
      restart_ms="$restart_ms" rss_0_kib="$rss_0" rss_after_scale_kib="$rss_after_scale"
    stop clusterd
  done
fi
