#!/usr/bin/env bash
# Control and footprint next to the peers. Four managers run side by side, each with the same 2 Node workers:
# clusterd (reuseport), Node's cluster master, PM2, supervisord (plus the trivial launcher as the floor).
# Measured while all idle: each manager's RSS and CPU over 10 s; then, in interleaved rounds, the wall time of
# `clusterctl status`, `ping` and `--version`, `pm2 jlist` and `supervisorctl status` (hyperfine, no shell in between),
# next to the floor: the cheapest NativeAOT process (bench/floor), built here with the same SDK. Last, clusterd alone
# with 1000 idle workers: `status` and `ping` against the same floor. `status` is timed twice: back to back, and cold
# (1.2 s apart, as an operator types it: every worker's CPU/RSS is read anew). Each command's page faults (minor, from the
# kernel's rusage of 10 runs, median) are recorded with its times: on a small VM they are most of a short command's cost.
# BENCH_CONTROL_PEERS=0 runs clusterd and the floor alone (no Node cluster, PM2 or supervisord, nor their rows).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap stop_all EXIT

ROUNDS=${BENCH_CONTROL_ROUNDS:-3}
PEERS=${BENCH_CONTROL_PEERS:-1}
mkdir -p "$RAW/control"
declare -A PIDS

FLOOR="$WORK/floor/hello-floor"
dotnet publish "$BENCH/floor" -c Release -r linux-x64 -warnaserror -o "$WORK/floor" > "$WORK/floor-publish.log" 2>&1 ||
  { cat "$WORK/floor-publish.log" >&2; exit 1; }

# faults NAME CMD...: the median of 10 runs' minor page faults (wait4's rusage: no tool needed) into $base-NAME.faults;
# FAULTS_GAP=SECONDS waits that long before each run
faults() {
  local name=$1; shift
  python3 - "$@" > "$base-$name.faults" <<'PY'
import os, statistics, subprocess, sys, time
runs = []
for _ in range(10):
    time.sleep(float(os.environ.get('FAULTS_GAP', 0)))
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    runs.append(os.wait4(child.pid, 0)[2].ru_minflt)
print(statistics.median(runs))
PY
}

# cold_status SOCKET: `status` as an operator meets it, each run longer after the last than clusterd keeps a worker's
# CPU/RSS reading (ProcessReadings.MaxAge, 1 s), so every run reads them all anew; back to back runs share one reading.
# Its page faults are those of a cold run too (the faults() runs are 1.2 s apart).
cold_status() {
  hyperfine -N --prepare "sleep 1.2" --runs 10 --export-json "$base-status-cold.json" "$CLUSTERCTL -s $1 status" > /dev/null
  FAULTS_GAP=1.2 faults status-cold "$CLUSTERCTL" -s "$1" status
}

# start_bg CONFIG PORT: start() each configuration in its own run directory, so that all of them stay up together
start_bg() {
  RUN="$WORK/run-$1"; start "$1" "$2"; PIDS[$1]=$MANAGER_PID
}
start_bg clusterd-reuseport 18401; CTL_SOCK="$RUN/clusterd.sock"
if ((PEERS)); then
  start_bg limit-reuseport 18402
  start_bg node-cluster 18403
  start_bg pm2 18404

  # supervisord: 2 plain processes of the same worker (supervisord cannot pass fd 3, so each listens on its own port)
  SV="$WORK/supervisor"; rm -rf "$SV"; mkdir -p "$SV/counts"
  cat > "$SV/supervisord.conf" <<CONF
[unix_http_server]
file = $SV/supervisor.sock
[supervisord]
pidfile = $SV/supervisord.pid
logfile = $SV/supervisord.log
childlogdir = $SV
nodaemon = true
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl = unix://$SV/supervisor.sock
[program:hello]
command = $(command -v node) $BENCH/worker.js
process_name = %(program_name)s_%(process_num)d
numprocs = $WORKERS
environment = PORT="1841%(process_num)d",BENCH_COUNTS="$SV/counts"
CONF
  supervisord -c "$SV/supervisord.conf" > "$SV/stdout.log" 2>&1 &
  PIDS[supervisord]=$!; STARTED_PIDS+=("${PIDS[supervisord]}")
  for ((i = 0; i < WORKERS; i++)); do wait_http "1841$i"; done
  supervisorctl -c "$SV/supervisord.conf" status > /dev/null
fi

log "control: all managers up; idle footprint over 10 s"
sleep 2
declare -A T0
for m in "${!PIDS[@]}"; do T0[$m]=$(cpu_ticks "${PIDS[$m]}"); done
sleep 10
for m in "${!PIDS[@]}"; do
  record section=footprint manager="$m" workers="$WORKERS" rss_kib="$(rss_kib "${PIDS[$m]}")" \
    idle_cpu_ticks=$(( $(cpu_ticks "${PIDS[$m]}") - T0[$m] )) idle_seconds=10 \
    threads="$(ls "/proc/${PIDS[$m]}/task" | wc -l)"
done

for ((round = 1; round <= ROUNDS; round++)); do
  log "control round $round/$ROUNDS"
  base="$RAW/control/r$round"
  hyperfine -N --warmup 3 --runs 30 --export-json "$base-floor.json" "$FLOOR" > /dev/null
  hyperfine -N --warmup 3 --runs 30 --export-json "$base-version.json" "$CLUSTERCTL --version" > /dev/null
  hyperfine -N --warmup 3 --runs 30 --export-json "$base-ping.json" "$CLUSTERCTL -s $CTL_SOCK ping" > /dev/null
  hyperfine -N --warmup 3 --runs 30 --export-json "$base-clusterctl.json" "$CLUSTERCTL -s $CTL_SOCK status" > /dev/null
  cold_status "$CTL_SOCK"
  faults floor "$FLOOR"; faults version "$CLUSTERCTL" --version
  faults ping "$CLUSTERCTL" -s "$CTL_SOCK" ping; faults clusterctl "$CLUSTERCTL" -s "$CTL_SOCK" status
  tools=(floor version ping clusterctl status-cold)
  if ((PEERS)); then
    hyperfine -N --warmup 2 --runs 10 --export-json "$base-pm2.json" "$PM2 jlist" > /dev/null
    hyperfine -N --warmup 2 --runs 10 --export-json "$base-supervisorctl.json" "supervisorctl -c $SV/supervisord.conf status" > /dev/null
    tools+=(pm2 supervisorctl)
  fi
  for tool in "${tools[@]}"; do
    extra=(); [[ -f "$base-$tool.faults" ]] && extra=(faults="$(< "$base-$tool.faults")")
    record section=control round="$round" workers="$WORKERS" tool="$tool" raw="$base-$tool.json" "${extra[@]}"
  done
done

MANAGER_PID=${PIDS[clusterd-reuseport]}; stop clusterd-reuseport
if ((PEERS)); then
    for c in limit-reuseport node-cluster; do MANAGER_PID=${PIDS[$c]}; stop "$c"; done
    stop pm2
    supervisorctl -c "$SV/supervisord.conf" shutdown > /dev/null; wait "${PIDS[supervisord]}" 2>/dev/null || true
fi

# clusterd alone with 1000 idle workers (/bin/sleep, ready once exec'd): what a control command costs at that size
RUN="$WORK/run-control-1000"; rm -rf "$RUN"; mkdir -p "$RUN"
cat > "$RUN/clusterd.toml" <<TOML
[control]
socket = "$RUN/clusterd.sock"

[groups.idle]
command = ["/bin/sleep", "100000"]
workers = 1000
ready = "started"
min_uptime = "0s"
TOML
"$CLUSTERD" --config "$RUN/clusterd.toml" > "$RUN/clusterd.log" 2>&1 &
MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID")
wait_clusterd_ready 300
for ((round = 1; round <= ROUNDS; round++)); do
  log "control at 1000 workers, round $round/$ROUNDS"
  base="$RAW/control/k$round"
  hyperfine -N --warmup 3 --runs 30 --export-json "$base-floor.json" "$FLOOR" > /dev/null
  hyperfine -N --warmup 3 --runs 30 --export-json "$base-ping.json" "$CLUSTERCTL -s $RUN/clusterd.sock ping" > /dev/null
  hyperfine -N --warmup 3 --runs 30 --export-json "$base-clusterctl.json" "$CLUSTERCTL -s $RUN/clusterd.sock status" > /dev/null
  cold_status "$RUN/clusterd.sock"
  faults floor "$FLOOR"; faults ping "$CLUSTERCTL" -s "$RUN/clusterd.sock" ping
  faults clusterctl "$CLUSTERCTL" -s "$RUN/clusterd.sock" status
  for tool in floor ping clusterctl status-cold; do
    record section=control round="$round" workers=1000 tool="$tool" raw="$base-$tool.json" faults="$(< "$base-$tool.faults")"
  done
done
stop clusterd
