#!/usr/bin/env python3
"""Probes across an operation on the manager (bench/upgrade.sh): a new connection every INTERVAL ms (each on its own,
as probe.py does). After one second of probing it creates GO_FILE (the operation starts then); it goes on until
DONE_FILE exists, then one more second (or until END seconds); one JSON summary.

usage: upgrade_probe.py PORT INTERVAL_MS GO_FILE DONE_FILE [END=60]
A probe "fails" if its connection is refused/reset or its answer is not a 200; it is "slow" if it takes over 100 ms,
"hung" over 1 s (its own deadline is 10 s). "outage_ms": from the start of the first failed probe to the end of the
last one (0 when none failed). "max_gap_ms": the longest time between two probes' starts (a starved probe misses
what happens meanwhile). "pids_before": the X-Worker-Pid values that answered probes started before GO_FILE.
"""
import asyncio, json, os, sys, time
from httpprobe import probe_into

port, interval, go_file, done_file = int(sys.argv[1]), float(sys.argv[2]) / 1000, sys.argv[3], sys.argv[4]
end = float(sys.argv[5]) if len(sys.argv) > 5 else 60.0
GO_AT = 1.0
results = []  # (start, latency, status or error, pid)


async def main():
    t0 = time.monotonic()
    tasks, n, done_at, gone = [], 0, None, False
    while (now := time.monotonic() - t0) < end and (done_at is None or now < done_at + 1.0):
        if now >= GO_AT and not gone:
            open(go_file, 'w').close()
            gone = True
        if done_at is None and os.path.exists(done_file):
            done_at = now
        tasks.append(asyncio.create_task(probe_into(results, port, t0)))
        n += 1
        await asyncio.sleep(max(0, n * interval - (time.monotonic() - t0)))
    await asyncio.gather(*tasks)
    return done_at

done_at = asyncio.run(main())
failed = [r for r in results if r[2] != '200']
lat = sorted(r[1] for r in results)
starts = sorted(r[0] for r in results)
print(json.dumps({
    'probes': len(results),
    'failed': len(failed),
    'slow': sum(1 for r in results if r[1] > 0.1),
    'hung': sum(1 for r in results if r[1] > 1.0),
    'errors': sorted({r[2] for r in failed}),
    'max_ms': round(lat[-1] * 1000, 2),
    'outage_ms': round((max(s + l for s, l, *_ in failed) - min(s for s, *_ in failed)) * 1000) if failed else 0,
    'max_gap_ms': round(max(b - a for a, b in zip(starts, starts[1:])) * 1000, 1),
    'probes_before': sum(1 for s in starts if s < GO_AT),
    'pids_before': sorted({r[3] for r in results if r[0] < GO_AT and r[3]}),
    'done_seen': done_at is not None,
}))
