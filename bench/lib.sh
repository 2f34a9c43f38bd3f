# Shared by the bench scripts: how to start and stop each manager serving bench/worker.js, and small helpers.
# Every process started here is recorded and stopped by its pid (stop_all), never by name.
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
WORK="$BENCH/.work"
DIST="$ROOT/dist/linux-x64"
CLUSTERD="$DIST/clusterd"
CLUSTERCTL="$DIST/clusterctl"
PM2="$WORK/node_modules/.bin/pm2"
export PM2_HOME="$WORK/pm2home"
RUN="$WORK/run"         # configs, sockets and per-worker request counts of the configuration running now
RAW="$WORK/raw"         # every raw output (wrk, hyperfine, probes), kept for inspection
RESULTS="$WORK/results.jsonl"
WORKERS="${BENCH_WORKERS:-2}"
# The interpreter itself, for a probe that shares the cores with what it times: `python3` may be a pyenv shim, a bash
# script that costs ~0.1 s of CPU before Python starts (with -S, no site packages, Python itself starts in ~20 ms).
PYTHON="$(python3 -c 'import sys; print(sys.executable)')"
MANAGER_PID=""          # the manager of the configuration running now (its CPU and RSS are measured)
STARTED_PIDS=()

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# record KEY=VALUE... -> one JSON object per line in $RESULTS (values that look numeric stay numbers)
record() {
  python3 - "$RESULTS" "$@" <<'PY'
import json, sys, re
out = {}
for kv in sys.argv[2:]:
    k, v = kv.split('=', 1)
    out[k] = float(v) if re.fullmatch(r'-?\d+(\.\d+)?', v) else v
open(sys.argv[1], 'a').write(json.dumps(out) + '\n')
PY
}

build_c() { # build_c OUT SRC [GCC ARGS...]: once, and again when the source changed
  local out=$1 src=$2; shift 2
  [[ $out -nt $src ]] && return 0
  command -v gcc > /dev/null || { log "gcc is needed to build $src (apt-get install gcc)"; return 1; }
  mkdir -p "$(dirname "$out")"
  gcc -O2 -Wall -Wextra -Werror "$@" -o "$out.tmp" "$src" && mv "$out.tmp" "$out"
}

# worker.js sends READY=1 to clusterd through this addon (bench/notify/sd_notify.c): one datagram, no fork
NOTIFY_ADDON="$WORK/notify/sd_notify.node"
build_notify_addon() {
  local src="$BENCH/notify/sd_notify.c" include
  include="$(dirname "$(command -v node)")/../include/node"  # Debian's nodejs package ships node_api.h there
  [[ -e $include/node_api.h ]] || { log "$include/node_api.h is missing: the addon $src needs Node's headers (Debian's nodejs package has them)"; return 1; }
  build_c "$NOTIFY_ADDON" "$src" -shared -fPIC -I"$include"
}

wait_http() { # wait_http PORT [SECONDS]: until GET / answers 200
  local port=$1 deadline=$((SECONDS + ${2:-30}))
  until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; do
    ((SECONDS < deadline)) || { log "port $port never answered"; return 1; }
    sleep 0.05
  done
}

cpu_ticks() { # utime+stime of one process (all its threads), in clock ticks (1/100 s)
  # fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends the command name (which may hold spaces)
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# counts_snapshot FILE: "pid count" per worker of the running configuration (the workers write them, see worker.js)
counts_snapshot() {
  local f
  : > "$1"
  for f in "$RUN/counts"/*; do [[ -e $f ]] && echo "$(basename "$f") $(cat "$f")" >> "$1"; done
}

fresh_run_dir() {
  rm -rf "$RUN"; mkdir -p "$RUN/counts"
}

# clusterd_config NAME PORT SHARING [EXTRA TOML LINES...] -> $RUN/NAME.toml
clusterd_config() {
  local name=$1 port=$2 sharing=$3; shift 3
  cat > "$RUN/$name.toml" <<TOML
[control]
socket = "$RUN/clusterd.sock"

[groups.hello]
command = ["$(command -v node)", "$BENCH/worker.js"]
workers = $WORKERS
listen = ["127.0.0.1:$port"]
sharing = "$sharing"
ready = "${BENCH_READY:-started}"
min_uptime = "500ms"
stop_timeout = "10s"
env = { BENCH_COUNTS = "$RUN/counts", BENCH_DRAIN = "${BENCH_DRAIN:-1}", BENCH_NOTIFY = "${BENCH_NOTIFY:-addon}", BENCH_NOTIFY_ADDON = "$NOTIFY_ADDON" }
TOML
  printf '%s\n' "$@" >> "$RUN/$name.toml"
}

wait_clusterd_ready() { # until every desired worker is ready
  local deadline=$((SECONDS + ${1:-60})) out
  while ((SECONDS < deadline)); do
    # on stdin, not as an argument: the status of 1000 workers is longer than an argument may be
    out=$("$CLUSTERCTL" -s "$RUN/clusterd.sock" --json status 2>/dev/null) &&
      python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["groups"] and all(g["ready"]==g["desired"] for g in d["groups"]) else 1)' <<< "$out" &&
      return 0
    sleep 0.1
  done
  log "clusterd workers never all ready"; return 1
}

# start CONFIG PORT: start one configuration serving worker.js on PORT with $WORKERS workers; sets MANAGER_PID.
# Extra TOML lines for clusterd's group in the array START_TOML, extra `pm2 start` options in START_PM2.
start() {
  local config=$1 port=$2
  fresh_run_dir
  export BENCH_COUNTS="$RUN/counts" BENCH_DRAIN="${BENCH_DRAIN:-1}"
  case $config in
    clusterd-reuseport|clusterd-shared)
      build_notify_addon || return 1
      clusterd_config clusterd "$port" "${config#clusterd-}" ${START_TOML[@]+"${START_TOML[@]}"}
      "$CLUSTERD" --config "$RUN/clusterd.toml" > "$RUN/clusterd.log" 2>&1 &
      MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID")
      wait_clusterd_ready ;;
    limit-reuseport|limit-shared)
      python3 "$BENCH/launcher.py" "${config#limit-}" "127.0.0.1:$port" "$WORKERS" node "$BENCH/worker.js" > "$RUN/launcher.log" 2>&1 &
      MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID") ;;
    launcher) # the trivial launcher that respawns a dead worker at once: the floor for kill -9 -> replacement
      python3 "$BENCH/launcher.py" --respawn reuseport "127.0.0.1:$port" "$WORKERS" node "$BENCH/worker.js" > "$RUN/launcher.log" 2>&1 &
      MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID") ;;
    node-cluster)
      PORT=$port WORKERS=$WORKERS setsid node "$BENCH/cluster.js" > "$RUN/cluster.log" 2>&1 &
      MANAGER_PID=$!; STARTED_PIDS+=("$MANAGER_PID") ;;
    pm2)
      PORT=$port "$PM2" start "$BENCH/worker.js" -i "$WORKERS" --name hello ${START_PM2[@]+"${START_PM2[@]}"} > "$RUN/pm2.log" 2>&1
      MANAGER_PID=$(cat "$PM2_HOME/pm2.pid") ;;
    *) log "unknown configuration $config"; return 1 ;;
  esac
  wait_http "$port" 60
  # every worker has written its count file once it runs; wait for all of them
  local deadline=$((SECONDS + 30))
  while (( $(ls "$RUN/counts" | wc -l) < WORKERS && SECONDS < deadline )); do sleep 0.05; done
}

stop() { # stop CONFIG: stop the running configuration and wait until it is gone
  local config=$1
  case $config in
    pm2) "$PM2" kill > /dev/null 2>&1 || true ;;
    *) if [[ -n $MANAGER_PID ]]; then kill -TERM "$MANAGER_PID" 2>/dev/null || true; wait "$MANAGER_PID" 2>/dev/null || true; fi ;;
  esac
  MANAGER_PID=""
}

stop_all() { # the EXIT trap: whatever we started, by pid (set -e also applies here, hence the || true)
  local p
  for p in "${STARTED_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  if [[ -x $PM2 && -e $PM2_HOME/pm2.pid ]]; then "$PM2" kill > /dev/null 2>&1 || true; fi
  if [[ -e $WORK/supervisor/supervisord.pid ]]; then kill -TERM "$(cat "$WORK/supervisor/supervisord.pid")" 2>/dev/null || true; fi
  for p in "${STARTED_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
