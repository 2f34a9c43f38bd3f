#!/bin/sh
# What clusterd does with the cgroup subtree clusterd.service delegates to it (ADR 0005), done by a shell that runs as
# the unit's main process in place of clusterd: same user, capabilities, mount namespace and system call filter.
# ServiceTests runs it through a drop-in (ExecStart= and ExecReload=) and reads its lines from the journal.
#
#   cgroup-probe.sh          move into supervisor/, make workers/probe, put a process in it, read its files, kill it
#                            with cgroup.kill, remove the cgroup, print "cgroup-probe: ok", then stay (as the unit's
#                            main process) until the unit is stopped
#   cgroup-probe.sh reload   print the cgroup systemd runs ExecReload= in
set -eu
say() { echo "cgroup-probe: $*"; }
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
if [ "${1:-}" = reload ]; then
  say "reload in $own"
  exit 0
fi

# The unified hierarchy: /sys/fs/cgroup on a cgroup v2 host, /sys/fs/cgroup/unified on a hybrid one.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then root=/sys/fs/cgroup; else root=/sys/fs/cgroup/unified; fi
cg=$root$own
controllers=$(cat "$cg/cgroup.controllers")
say "unit cgroup $own under $root (controllers: ${controllers:-none})"
if [ "$root" = /sys/fs/cgroup ]; then
  # On cgroup v2, Delegate=memory pids must have made both available to the unit.
  for c in memory pids; do
    echo " $controllers " | grep -q " $c " || { say "controller $c is not delegated"; exit 1; }
  done
fi

# No processes in inner cgroups: leave the unit's own cgroup before enabling controllers below it.
mkdir "$cg/supervisor" "$cg/workers"
echo $$ > "$cg/supervisor/cgroup.procs"
for c in $controllers; do
  case $c in memory|pids)
    echo "+$c" > "$cg/cgroup.subtree_control"
    echo "+$c" > "$cg/workers/cgroup.subtree_control" ;;
  esac
done

worker=$cg/workers/probe
mkdir "$worker"
if [ -e "$worker/memory.max" ]; then
  echo 64M > "$worker/memory.max"
  say "memory.max $(cat "$worker/memory.max"), memory.current $(cat "$worker/memory.current")"
fi
sleep 600 &
pid=$!
echo "$pid" > "$worker/cgroup.procs"
grep -qx 'populated 1' "$worker/cgroup.events"
grep -q '^usage_usec ' "$worker/cpu.stat"
echo 1 > "$worker/cgroup.kill"
status=0
wait "$pid" || status=$?
[ "$status" -eq 137 ] || { say "cgroup.kill: the worker exited with $status, not SIGKILL"; exit 1; }
grep -qx 'populated 0' "$worker/cgroup.events"
rmdir "$worker"
say ok
exec sleep infinity
