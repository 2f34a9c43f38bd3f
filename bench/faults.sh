#!/usr/bin/env bash
# Faults and rollouts.
# 1. A rolling restart under saturating load: `clusterctl restart hello` (both sharing modes) against
#    `pm2 reload hello`, with a worker that drains on SIGTERM/SIGINT and with one that simply exits; keep-alive and
#    new-connection-per-request load. Counted: every failed request (wrk's socket errors + non-2xx answers).
# 2. kill -9 of one worker while a probe connects every 5 ms: failed, slow (> 100 ms) and hung probes, the slowest
#    probe, time to a replacement.
# usage: faults.sh [rollout] [kill]: the parts to run (default both). BENCH_KILL_CONFIGS limits the kill -9 part to
# some configurations, e.g. "clusterd-reuseport clusterd-shared". The kill -9 part runs clusterd with
# ready = "notify" in both sharing modes, as a service under systemd would: the worker sends READY=1 once listening,
# one datagram through bench/notify/sd_notify.c, as a Node app does with the npm sd-notify addon. In reuseport mode a
# steered slot's replacement gets connections once it is ready, and with ready = "started" that would be only
# min_uptime (500 ms) after its exec. BENCH_NOTIFY=systemd-notify sends READY=1 by a fork of the Node process instead,
# to measure what that costs. Each round keeps the manager's log next to the probe's output, to set against the kill's
# time (probe.py's killed_at): when clusterd saw the exit, forked, exec'd and had READY=1, when the launcher respawned,
# when each worker started and listened (worker.js logs it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_all EXIT

ROUNDS=${BENCH_FAULT_ROUNDS:-3}
LOAD=${BENCH_FAULT_DURATION:-7}
CONNS=${BENCH_CONNS:-50}
PARTS=${*:-rollout kill}
KILL_CONFIGS=${BENCH_KILL_CONFIGS:-launcher clusterd-reuseport clusterd-shared node-cluster pm2}
wants() { [[ " $PARTS " == *" $1 "* ]]; }
mkdir -p "$RAW/rollout" "$RAW/kill"

restart_cmd() { # the manager's own rolling restart of the group
  case $1 in
    pm2) "$PM2" reload hello ;;
    *) "$CLUSTERCTL" -s "$RUN/clusterd.sock" restart hello ;;
  esac
}

port=18300
if wants rollout; then
  for ((round = 1; round <= ROUNDS; round++)); do
    for drain in 1 0; do
      for config in clusterd-reuseport clusterd-shared pm2; do
        port=$((port + 1))
        log "rollout round $round/$ROUNDS: $config drain=$drain"
        BENCH_DRAIN=$drain start "$config" "$port"
        for path in keepalive close; do
          args=(-t2 "-c$CONNS" --latency)
          [[ $path == close ]] && args+=(-H 'Connection: close')
          base="$RAW/rollout/r$round-$config-drain$drain-$path"
          setsid -w wrk "${args[@]}" "-d${LOAD}s" "http://127.0.0.1:$port/" > "$base.wrk" &
          wrk_pid=$!
          sleep 1.5
          t0=$(date +%s%N)
          rc=0; restart_cmd "$config" > "$base.restart" 2>&1 || rc=$?
          t1=$(date +%s%N)
          wait "$wrk_pid"
          record section=rollout round="$round" config="$config" drain="$drain" path="$path" restart_rc="$rc" \
            restart_ms=$(((t1 - t0) / 1000000)) workers_seen="$(ls "$RUN/counts" | wc -l)" raw="$base"
        done
        stop "$config"
      done
    done
  done
fi

if wants kill; then
  for ((round = 1; round <= ROUNDS; round++)); do
    for config in $KILL_CONFIGS; do
      port=$((port + 1))
      log "kill -9 round $round/$ROUNDS: $config"
      BENCH_READY=notify start "$config" "$port"
      sleep 0.5
      victim=$(ls "$RUN/counts" | head -1)
      base="$RAW/kill/r$round-$config"
      python3 "$BENCH/probe.py" "$port" "$victim" 5 1.0 3.0 > "$base.json"
      for f in "$RUN"/*.log; do cp "$f" "$base.$(basename "$f")"; done
      record section=kill round="$round" config="$config" raw="$base"
      stop "$config"
    done
  done
fi
