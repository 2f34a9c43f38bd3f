#!/usr/bin/env python3
"""The floor for spawn-to-ready: fork+exec N copies of a command as fast as a plain launcher can (no sockets,
no readiness), print the seconds it took, then SIGTERM them and reap. usage: spawn_baseline.py N command..."""
import os, signal, sys, time
n, argv = int(sys.argv[1]), sys.argv[2:]
t0 = time.monotonic()
pids = [os.posix_spawn(argv[0], argv, os.environ) for _ in range(n)]
print(f'{time.monotonic() - t0:.6f}')
for p in pids: os.kill(p, signal.SIGTERM)
for p in pids: os.waitpid(p, 0)
