#!/usr/bin/env python3
"""Times round trips of two clusterctl commands, alternating, until SECONDS have passed or STOPFILE exists, and
writes {"scale": [ms...], "status": [ms...]} to OUT. Alternating puts both under the same conditions; a window
(not a count) keeps every sample inside the phase being measured (e.g. a flood of known length).
usage: roundtrip.py OUT SECONDS STOPFILE CLUSTERCTL SOCKET"""
import json, os, subprocess, sys, time

out, seconds, stopfile, ctl, sock = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
commands = {'scale': [ctl, '-s', sock, 'scale', 'idle', '2'], 'status': [ctl, '-s', sock, 'status']}
times = {name: [] for name in commands}
end = time.monotonic() + seconds
while time.monotonic() < end and not os.path.exists(stopfile):
    for name, argv in commands.items():
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times[name].append((time.perf_counter() - t0) * 1000)
json.dump(times, open(out, 'w'))
