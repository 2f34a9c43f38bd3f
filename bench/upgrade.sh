#!/usr/bin/env bash
# Upgrading the manager under load (issue #16): a probe connects every 5 ms (upgrade_probe.py) from 1 s before the
# operation until 1 s after it ended, on 2 workers, for
# - clusterd, reuseport: `clusterctl upgrade` (re-exec of its own binary in the same pid; --binary execs another, the
#   re-exec is the same);
# - clusterd, reuseport: a plain restart (SIGTERM, wait for its exit, start it again, until every worker is ready),
#   which is what `systemctl restart` does when the unit has no fd store; there is no systemd here;
# - PM2 cluster mode: `pm2 update` (saves the process list, kills the daemon, starts a new one, resurrects the apps).
# Counted: failed, slow and hung probes, the outage, worker pids before and after (restarts = pids that changed),
# whether the manager's pid stayed, and how long the operation took.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_all EXIT

ROUNDS=${BENCH_UPGRADE_ROUNDS:-3}
mkdir -p "$RAW/upgrade"

live_workers() { # the worker pids of $RUN/counts still running (not zombies), sorted, on one line
  local f
  for f in "$RUN/counts"/*; do
    [[ -e $f ]] && grep -qs '^State:[[:space:]]*[^Z[:space:]]' "/proc/${f##*/}/status" && echo "${f##*/}"
  done | sort -n | paste -sd' '
}

wait_workers() { # until exactly $WORKERS workers run (a replaced one may take a moment to exit)
  local deadline=$((SECONDS + 60))
  until [[ $(live_workers | wc -w) -eq $WORKERS ]]; do
    ((SECONDS < deadline)) || { log "never $WORKERS workers: $(live_workers)"; return 1; }
    sleep 0.05
  done
}

wait_file() { # wait_file PATH: until it exists (a busy machine may take seconds to start Python)
  local deadline=$((SECONDS + 60))
  until [[ -e $1 ]]; do
    ((SECONDS < deadline)) || { log "$1 never appeared"; return 1; }
    sleep 0.01
  done
}

manager_pid() {
  case $1 in
    pm2) cat "$PM2_HOME/pm2.pid" ;;
    *) echo "$MANAGER_PID" ;;
  esac
}

operate() { # operate OP: runs in this shell (a plain restart sets MANAGER_PID)
  case $1 in
    clusterctl-upgrade) "$CLUSTERCTL" -s "$RUN/clusterd.sock" upgrade ;;
    plain-restart)
      kill -TERM "$MANAGER_PID"
      wait "$MANAGER_PID" || true  # its exit status after SIGTERM is not what is measured
      "$CLUSTERD" --config "$RUN/clusterd.toml" >> "$RUN/clusterd.log" 2>&1 &
      MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID")
      wait_clusterd_ready ;;
    pm2-update) "$PM2" update ;;
  esac
}

port=18900
for ((round = 1; round <= ROUNDS; round++)); do
  for op in clusterctl-upgrade plain-restart pm2-update; do
    config=clusterd-reuseport; [[ $op == pm2-update ]] && config=pm2
    port=$((port + 1))
    log "upgrade round $round/$ROUNDS: $op"
    start "$config" "$port"
    wait_workers
    base="$RAW/upgrade/r$round-$op"
    pids_before=$(live_workers); manager_before=$(manager_pid "$config")
    rm -f "$RUN/go" "$RUN/done"
    python3 "$BENCH/upgrade_probe.py" "$port" 5 "$RUN/go" "$RUN/done" > "$base.json" &
    probe_pid=$!
    wait_file "$RUN/go"  # the probe has probed for a second: the load before the operation
    t0=$(date +%s%N)
    rc=0; operate "$op" > "$base.out" 2>&1 || rc=$?
    t1=$(date +%s%N)
    touch "$RUN/done"
    wait "$probe_pid"
    wait_workers
    pids_after=$(live_workers); manager_after=$(manager_pid "$config")
    restarts=$(comm -23 <(tr ' ' '\n' <<< "$pids_before") <(tr ' ' '\n' <<< "$pids_after") | wc -l)
    case $config in
      pm2) cp "$PM2_HOME/pm2.log" "$base.log" 2> /dev/null || true ;;
      *) cp "$RUN/clusterd.log" "$base.log" ;;
    esac
    record section=upgrade round="$round" op="$op" rc="$rc" took_ms=$(((t1 - t0) / 1000000)) restarts="$restarts" \
      pids_before="$pids_before" pids_after="$pids_after" \
      manager_before="$manager_before" manager_after="$manager_after" raw="$base"
    stop "$config"
  done
done
