#!/usr/bin/env python3
"""A worker that floods its own NOTIFY_SOCKET: READY=1; once DIR/flood.go exists, SECONDS of 3 KiB datagrams
(WATCHDOG=1 and a constant STATUS=) as fast as one connected socket takes them; then it idles. It writes
DIR/flood.started when it begins and DIR/flood.done ("datagrams seconds") when it stops, for bench/notify.sh.
usage: notify_flood.py DIR SECONDS"""
import os, signal, socket, sys, time

out, seconds = sys.argv[1], float(sys.argv[2])
path = os.environ['NOTIFY_SOCKET']
if path.startswith('@'):
    path = '\0' + path[1:]  # an abstract name (clusterd before per-group sockets): lets the same bench run against it
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(path)
s.send(b'READY=1')
while not os.path.exists(os.path.join(out, 'flood.go')):
    time.sleep(0.01)
datagram = b'WATCHDOG=1\nSTATUS=flooding ' + b'x' * 3000
open(os.path.join(out, 'flood.started'), 'w').close()
sent, start = 0, time.monotonic()
end = start + seconds
while True:
    for _ in range(1000):
        s.send(datagram)
    sent += 1000
    if time.monotonic() >= end:
        break
with open(os.path.join(out, 'flood.done'), 'w') as f:
    f.write(f'{sent} {time.monotonic() - start:.3f}\n')
signal.pause()
