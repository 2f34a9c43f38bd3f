#!/usr/bin/env python3
"""Waits until clusterd's journal holds N `online` events, through one `clusterctl --json events --follow`: no
polling, so the wait adds no load to the start it times (scraping /metrics every 20 ms, 200 KiB at 1000 workers, plus
a curl, grep and awk per poll, made a 1000-worker start ~13 % slower). usage: wait_online.py N CLUSTERCTL SOCKET"""
import subprocess, sys, time

n, clusterctl, socket = int(sys.argv[1]), sys.argv[2], sys.argv[3]
online = 0
while online < n:
    # The journal from its start, then live; clusterd may not be listening yet: try again.
    follow = subprocess.Popen([clusterctl, '-s', socket, '--json', 'events', '--follow'], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    online = 0
    for line in follow.stdout:
        # clusterctl writes compact JSON: a substring test instead of parsing each of ~3 events per worker keeps this
        # observer's CPU (it shares the cores with the start it times) to a minimum.
        if '"kind":"online"' in line:
            online += 1
            if online == n:
                break
    follow.kill()
    follow.wait()
    if online < n:
        time.sleep(0.02)
