#!/usr/bin/env python3
"""Times round trips of two clusterctl commands, alternating, from when STARTFILE exists until STOPFILE does or SECONDS
have passed, and writes {"scale": [ms...], "status": [ms...]} to OUT. Alternating puts both under the same
conditions; a window (not a count) keeps every sample inside the phase measured (e.g. a flood of known length), and
waiting for STARTFILE lets this start (slow on a loaded machine) before the phase does: OUT.ready says it has.
usage: roundtrip.py OUT STARTFILE STOPFILE SECONDS CLUSTERCTL SOCKET"""
import json, os, subprocess, sys, time

out, startfile, stopfile, seconds, ctl, sock = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5], sys.argv[6]
commands = {'scale': [ctl, '-s', sock, 'scale', 'idle', '2'], 'status': [ctl, '-s', sock, 'status']}
times = {name: [] for name in commands}
open(out + '.ready', 'w').close()
while not os.path.exists(startfile):
    time.sleep(0.005)
end = time.monotonic() + seconds
while time.monotonic() < end and not os.path.exists(stopfile):
    for name, argv in commands.items():
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times[name].append((time.perf_counter() - t0) * 1000)
json.dump(times, open(out, 'w'))
