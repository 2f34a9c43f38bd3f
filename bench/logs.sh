#!/usr/bin/env bash
# Worker output through the manager into a file, next to the peers. One chatty worker (bench/chatty.c, 100-byte lines,
# one write(2) each) under clusterd (target = "file"), PM2 (its out_file) and supervisord (stdout_logfile), and under
# clusterd with target = "journal" into a journald of its own (systemd-journald run standalone in private mount and
# network namespaces: PID 1 here is not systemd, and no other process may see its socket). Two phases, each for
# BENCH_LOGS_SECONDS (10): "max", the worker writing as fast as its pipe takes lines; "flood", 1000-byte lines at
# 50 MB/s. Measured: lines that reached the file (or the journal), the manager's CPU from the start until the file
# stops growing (so what it buffered and wrote late counts), its RSS every 0.2 s during the phase and 2 s after it, and
# clusterd's drop counter. No rotation: max_size, stdout_logfile_maxbytes and PM2 all let the file grow.
# `bench/logs.sh` runs this part alone; `bench/logs.sh --journal-inner ...` is its own journald half (internal).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_LOGS_ROUNDS:-3}
DURATION=${BENCH_LOGS_SECONDS:-10}
METRICS_PORT=18601
CHATTY="$WORK/chatty"
declare -A LINE_BYTES=([max]=100 [flood]=1000) RATE=([max]=0 [flood]=50000000)

# measure MANAGER ROUND PHASE FILE_COUNTER: the worker in $RUN waits for $RUN/go; time the phase and record it
measure() {
  local manager=$1 round=$2 phase=$3 counter=$4 c0 t0 rss_max=0 rss size last_size=-1 stable=0 t1 c1 lines
  local j0=0 j1=0
  c0=$(cpu_ticks "$MANAGER_PID"); t0=$(date +%s%N)
  [[ -n ${JOURNALD_PID:-} ]] && j0=$(cpu_ticks "$JOURNALD_PID")
  touch "$RUN/go"
  until [[ -s $RUN/count ]]; do
    rss=$(rss_kib "$MANAGER_PID"); ((rss > rss_max)) && rss_max=$rss
    sleep 0.2
  done
  # Until what the manager holds is written: the output stops growing for 1 s. The phase ends at its last growth.
  t1=$(date +%s%N)
  while ((stable < 5)); do
    rss=$(rss_kib "$MANAGER_PID"); ((rss > rss_max)) && rss_max=$rss
    size=$($counter size)
    if [[ $size == "$last_size" ]]; then stable=$((stable + 1)); else stable=0; last_size=$size; t1=$(date +%s%N); fi
    sleep 0.2
  done
  c1=$(cpu_ticks "$MANAGER_PID")
  [[ -n ${JOURNALD_PID:-} ]] && j1=$(cpu_ticks "$JOURNALD_PID")
  sleep 2
  read -r written worker_seconds < "$RUN/count"
  lines=$($counter lines)
  local dropped=-1 queue_full=-1
  if [[ $manager == clusterd-* ]]; then
    curl -s "http://127.0.0.1:$METRICS_PORT/metrics" > "$RUN/metrics.txt"
    cp "$RUN/metrics.txt" "$RAW/logs/r$round-$phase-$manager.metrics"
    dropped=$(awk '/^clusterd_log_lines_dropped_total/ && /group="chatty"/ {s += $NF} END {print s + 0}' "$RUN/metrics.txt")
    queue_full=$(awk '/^clusterd_log_lines_dropped_total/ && /group="chatty"/ && /queue_full/ {s += $NF} END {print s + 0}' "$RUN/metrics.txt")
  fi
  record section=logs manager="$manager" round="$round" phase="$phase" line_bytes="${LINE_BYTES[$phase]}" \
    written="$written" worker_seconds="$worker_seconds" lines="$lines" dropped="$dropped" queue_full="$queue_full" \
    elapsed_ms=$(((t1 - t0) / 1000000)) cpu_ticks=$((c1 - c0)) journald_cpu_ticks=$((j1 - j0)) \
    rss_before_kib="$RSS_BEFORE" rss_max_kib="$rss_max" rss_after_kib="$(rss_kib "$MANAGER_PID")"
  log "$manager $phase: $lines of $written lines in $(((t1 - t0) / 1000000)) ms, $((c1 - c0)) ticks, RSS max ${rss_max} KiB"
}

file_counter() { # file_counter size|lines: of $RUN/out.log
  if [[ $1 == size ]]; then stat -c %s "$RUN/out.log" 2>/dev/null || echo 0
  else grep -c 'chatty [0-9]\{12\}' "$RUN/out.log" || true; fi
}
journal_counter() { # journal_counter size|lines: of the private journal
  # journald grows its files in chunks: its CPU time says whether it is still at work
  if [[ $1 == size ]]; then echo "$(du -sb /run/log/journal | cut -f1) $(cpu_ticks "$JOURNALD_PID")"
  else journalctl --output=cat CLUSTERD_GROUP=chatty 2>/dev/null | grep -c 'chatty [0-9]\{12\}' || true; fi
}

chatty_args() { echo "${LINE_BYTES[$1]} ${RATE[$1]} $DURATION $RUN"; }

clusterd_logs_config() { # clusterd_logs_config PHASE TARGET
  cat > "$RUN/clusterd.toml" <<TOML
[control]
socket = "$RUN/clusterd.sock"

[metrics]
listen = "127.0.0.1:$METRICS_PORT"

[logs]
target = "$2"
file = "$RUN/out.log"
max_size = "100GiB"

[groups.chatty]
command = ["$CHATTY", $(chatty_args "$1" | sed 's/\([^ ][^ ]*\)/"\1"/g; s/ /, /g')]
workers = 1
ready = "started"
min_uptime = "0s"
TOML
}

run_clusterd() { # run_clusterd ROUND PHASE TARGET
  clusterd_logs_config "$2" "$3"
  "$CLUSTERD" --config "$RUN/clusterd.toml" > "$RUN/clusterd.log" 2>&1 &
  MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID")
  wait_clusterd_ready
  RSS_BEFORE=$(rss_kib "$MANAGER_PID")
  if [[ $3 == file ]]; then measure clusterd-file "$1" "$2" file_counter; else measure clusterd-journal "$1" "$2" journal_counter; fi
  stop clusterd
}

run_pm2() {
  # fork mode, no interpreter: PM2's God daemon reads the pipes and appends to out_file
  "$PM2" start "$CHATTY" --name chatty --interpreter none --no-autorestart -o "$RUN/out.log" -e "$RUN/err.log" \
    -- $(chatty_args "$2") > "$RUN/pm2.log" 2>&1
  MANAGER_PID=$(cat "$PM2_HOME/pm2.pid")
  RSS_BEFORE=$(rss_kib "$MANAGER_PID")
  measure pm2 "$1" "$2" file_counter
  stop pm2
}

run_supervisord() {
  cat > "$RUN/supervisord.conf" <<CONF
[supervisord]
pidfile = $RUN/supervisord.pid
logfile = $RUN/supervisord.log
childlogdir = $RUN
nodaemon = true
[program:chatty]
command = $CHATTY $(chatty_args "$2")
autorestart = false
startsecs = 0
stdout_logfile = $RUN/out.log
stdout_logfile_maxbytes = 0
stderr_logfile = $RUN/err.log
CONF
  supervisord -c "$RUN/supervisord.conf" > "$RUN/supervisord.out" 2>&1 &
  MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID")
  until grep -q "entered RUNNING state" "$RUN/supervisord.log" 2>/dev/null; do sleep 0.05; done
  RSS_BEFORE=$(rss_kib "$MANAGER_PID")
  measure supervisord "$1" "$2" file_counter
  stop supervisord
}

# --- the journald half, in its own mount and network namespaces: /run, the journal, journald.conf and the sysctl
# net.unix.max_dgram_qlen are private to it ------------------------------------------------------------------------
if [[ ${1:-} == --journal-inner ]]; then
  trap stop_all EXIT
  round=$2 phase=$3 RUN=$4
  ip link set lo up # the metrics endpoint, on this namespace's own loopback
  # What systemd's sysctl.d/50-default.conf sets on every systemd host; the kernel's default is 10 datagrams, which
  # a non-blocking sender such as clusterd overruns at once (EAGAIN: journal_busy drops).
  sysctl -q -w net.unix.max_dgram_qlen=512
  mount -t tmpfs tmpfs /run
  mount -t tmpfs tmpfs /var/log/journal # the host's stays as it is
  # No journald rate limit (it would count against the bench, not clusterd); in /run/log/journal (a standalone
  # journald is never told to flush to /var), with room for every line.
  printf '[Journal]\nStorage=volatile\nRateLimitBurst=0\nRuntimeMaxUse=8G\nRuntimeMaxFileSize=1G\n' > "$RUN/journald.conf"
  mount --bind "$RUN/journald.conf" /etc/systemd/journald.conf
  /lib/systemd/systemd-journald > "$RUN/journald.log" 2>&1 &
  JOURNALD_PID=$!; STARTED_PIDS+=("$JOURNALD_PID")
  until [[ -S /run/systemd/journal/socket ]]; do sleep 0.05; done
  run_clusterd "$round" "$phase" journal
  exit 0
fi

trap stop_all EXIT
[[ -x $PM2 ]] || { log "PM2 is missing: run make bench once (it installs pm2 into $WORK)"; exit 1; }
command -v supervisord > /dev/null || { log "supervisord is missing: apt-get install supervisor"; exit 1; }
mkdir -p "$WORK"
cc -O2 -o "$CHATTY" "$BENCH/chatty.c"
mkdir -p "$RAW/logs"
journal=yes
if [[ ! -x /lib/systemd/systemd-journald ]] || ! unshare --mount --net true 2> /dev/null; then
  journal=""
  log "no systemd-journald or no mount and network namespaces: the journal column stays empty"
fi

for ((round = 1; round <= ROUNDS; round++)); do
  for phase in max flood; do
    log "logs round $round/$ROUNDS, $phase"
    fresh_run_dir; run_clusterd "$round" "$phase" file
    fresh_run_dir; run_pm2 "$round" "$phase"
    fresh_run_dir; run_supervisord "$round" "$phase"
    if [[ -n $journal ]]; then
      fresh_run_dir; unshare --mount --net --propagation private "$BENCH/logs.sh" --journal-inner "$round" "$phase" "$RUN"
    fi
    rm -rf "$RUN" # up to a few GB of lines
  done
done
