#!/usr/bin/env python3
"""The zero-overhead limit: bind, hand the sockets to N workers the systemd way, then do nothing.

usage: launcher.py [--respawn] reuseport|shared HOST:PORT N command...
reuseport: one SO_REUSEPORT socket per worker; shared: one socket every worker accepts from.
--respawn: fork+exec a worker that exits again at once, on the same socket: the floor for replacing a crashed
worker (bench/faults.sh kill), with no backoff, no readiness and no steering.
Each worker gets its socket as fd 3 with LISTEN_FDS=1 and LISTEN_PID = its own pid (forked, then exec'd, so the
pid is the worker's), in a session of its own like clusterd's workers. The launcher keeps its copies (as clusterd does), waits, and on SIGTERM/SIGINT passes the
signal on to the workers and exits when they have.
"""
import os, signal, socket, sys, time

respawn = sys.argv[1] == '--respawn'
args = sys.argv[2:] if respawn else sys.argv[1:]
mode, addr, n, argv = args[0], args[1], int(args[2]), args[3:]
host, port = addr.rsplit(':', 1)

def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if mode == 'reuseport':
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, int(port)))
    s.listen(4096)
    return s

shared = listener() if mode == 'shared' else None
socks = [shared or listener() for _ in range(n)]
children = {}  # pid -> the socket it was given

def spawn(s):
    pid = os.fork()
    if pid == 0:
        os.dup2(s.fileno(), 3)
        os.set_inheritable(3, True)     # FD_CLOEXEC off (dup2 onto itself would not clear it)
        os.setsid()                     # as clusterd's exec shim does: with sched_autogroup each session is a
                                        # scheduling group, so the limit must be set up the same way
        os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()))
        os.execvp(argv[0], argv)
    children[pid] = s

for s in socks:
    spawn(s)

stopping = False
def forward(sig, _frame):
    global stopping
    stopping = True
    for pid in list(children):
        try: os.kill(pid, sig)
        except ProcessLookupError: pass
signal.signal(signal.SIGTERM, forward)
signal.signal(signal.SIGINT, forward)
while children:
    pid, _ = os.wait()
    s = children.pop(pid, None)
    if respawn and s is not None and not stopping:
        spawn(s)
        # wall-clock seconds, as the worker logs its start (bench/faults.sh kill sets them against the kill's)
        print(f'launcher: worker {pid} exited, respawned {time.time():.3f}', file=sys.stderr, flush=True)
