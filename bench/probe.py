#!/usr/bin/env python3
"""kill -9 under probes: a new connection every INTERVAL ms (each on its own, not waiting for the previous one),
SIGKILL one worker at KILL_AT seconds, keep probing until END seconds; print one JSON summary.

usage: probe.py PORT VICTIM_PID [INTERVAL_MS=5] [KILL_AT=1.0] [END=3.0]
A probe "fails" if its connection is refused/reset or its answer is not a 200; it is "slow" if it takes over 100 ms
(it waited for something: a replacement worker, a backoff); it "hangs" if it takes over 1 s (its own deadline is
10 s). "max_ms" is the slowest probe. "replacement_ms" is the time from the kill to the first answer from a pid that
had not answered before the kill (the new worker), measured on the probes' own clock. "killed_at" is the kill's wall
clock time (seconds since the epoch), to set it against the times in a manager's log. "first_answer_probe_ms" is how
long the probe that got the new worker's first answer took: a cold first request, or a wait in its queue.
"""
import asyncio, json, os, signal, sys, time
from httpprobe import probe_into

port, victim = int(sys.argv[1]), int(sys.argv[2])
interval = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.005
kill_at = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
end = float(sys.argv[5]) if len(sys.argv) > 5 else 3.0
results = []  # (start, latency, status or error, pid)


async def main():
    t0 = time.monotonic()
    tasks, killed, killed_at, n = [], None, None, 0
    while (now := time.monotonic() - t0) < end:
        if killed is None and now >= kill_at:
            os.kill(victim, signal.SIGKILL)
            killed, killed_at = now, time.time()
        tasks.append(asyncio.create_task(probe_into(results, port, t0)))
        n += 1
        await asyncio.sleep(max(0, n * interval - (time.monotonic() - t0)))
    await asyncio.gather(*tasks)
    return killed, killed_at

killed, killed_at = asyncio.run(main())
before = {pid for s, l, st, pid in results if s + l < killed and pid}
after = sorted((s + l, l, pid) for s, l, st, pid in results if st == '200' and pid not in before and s + l >= killed)
lat = sorted(l for s, l, st, pid in results)
def pct(p): return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
print(json.dumps({
    'probes': len(results),
    'failed': sum(1 for r in results if r[2] != '200'),
    'slow': sum(1 for r in results if r[1] > 0.1),
    'hung': sum(1 for r in results if r[1] > 1.0),
    'errors': sorted({r[2] for r in results if r[2] != '200'}),
    'p50_ms': round(pct(0.5), 2), 'p99_ms': round(pct(0.99), 2), 'max_ms': round(lat[-1] * 1000, 2),
    'replacement_ms': round((after[0][0] - killed) * 1000, 1) if after else None,
    'victim_answers': sum(1 for r in results if r[3] == str(victim)),
    'killed_at': round(killed_at, 3),
    'first_answer_probe_ms': round(after[0][1] * 1000, 1) if after else None,
}))
