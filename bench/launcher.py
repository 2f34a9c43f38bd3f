#!/usr/bin/env python3
"""The zero-overhead limit: bind, hand the sockets to N workers the systemd way, then do nothing.

usage: launcher.py reuseport|shared HOST:PORT N command...
reuseport: one SO_REUSEPORT socket per worker; shared: one socket every worker accepts from.
Each worker gets its socket as fd 3 with LISTEN_FDS=1 and LISTEN_PID = its own pid (forked, then exec'd, so the
pid is the worker's), in a session of its own like clusterd's workers. The launcher keeps its copies (as clusterd does), waits, and on SIGTERM/SIGINT passes the
signal on to the workers and exits when they have.
"""
import os, signal, socket, sys

mode, addr, n, argv = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
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
children = []
for s in socks:
    pid = os.fork()
    if pid == 0:
        os.dup2(s.fileno(), 3)
        os.set_inheritable(3, True)     # FD_CLOEXEC off (dup2 onto itself would not clear it)
        os.setsid()                     # as clusterd's exec shim does: with sched_autogroup each session is a
                                        # scheduling group, so the limit must be set up the same way
        os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()))
        os.execvp(argv[0], argv)
    children.append(pid)

def forward(sig, _frame):
    for pid in children:
        try: os.kill(pid, sig)
        except ProcessLookupError: pass
signal.signal(signal.SIGTERM, forward)
signal.signal(signal.SIGINT, forward)
for _ in children:
    os.wait()
