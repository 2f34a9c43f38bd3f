#!/usr/bin/env python3
"""Memory-limit replacement under probes: a new connection every INTERVAL ms (each on its own, as probe.py does) while
the resident memory of each worker in PIDS is sampled every 100 ms. Ends once a worker that was not in PIDS has answered
and one of PIDS is gone (or at END seconds), one more second later; prints one JSON summary.

usage: memory_probe.py PORT LIMIT_MIB INTERVAL_MS END LEAK_FILE PID...
LEAK_FILE is created first: the workers leak while it exists (worker.js, BENCH_LEAK_WHILE), so every one starts below
the limit, whatever the manager's start took.
"victim": the first of PIDS to go (else the first to cross the limit). "cross_s": when the victim's first sample above
LIMIT_MIB was taken (null if it was above at the first sample: no crossing seen). "replacement_ms": from that sample to
the first 200 from a pid not in PIDS. "peak_mib": the victim's largest sample. A probe "fails" if its connection is
refused/reset or its answer is not a 200.
"""
import asyncio, json, sys, time
from httpprobe import probe_into

port, limit_mib, interval, end = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]) / 1000, float(sys.argv[4])
leak_file, pids = sys.argv[5], sys.argv[6:]
results = []  # (start, latency, status or error, pid)
samples = {p: [] for p in pids}  # pid -> [(t, MiB)]
gone = {}  # pid -> first t it was seen gone

def rss_mib(pid):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('State:') and line.split()[1] == 'Z':
                    return None
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


async def sample(t0):
    while True:
        now = time.monotonic() - t0
        for p in pids:
            if p not in gone:
                mib = rss_mib(p)
                if mib is None:
                    gone[p] = now
                else:
                    samples[p].append((now, mib))
        await asyncio.sleep(0.1)

def replaced():
    return bool(gone) and any(st == '200' and pid not in pids for s, l, st, pid in results)

async def main():
    t0 = time.monotonic()
    open(leak_file, 'w').close()
    sampler = asyncio.create_task(sample(t0))
    tasks, n, done_at = [], 0, None
    while (now := time.monotonic() - t0) < end and (done_at is None or now < done_at + 1.0):
        if done_at is None and replaced():
            done_at = now
        tasks.append(asyncio.create_task(probe_into(results, port, t0)))
        n += 1
        await asyncio.sleep(max(0, n * interval - (time.monotonic() - t0)))
    await asyncio.gather(*tasks)
    sampler.cancel()

asyncio.run(main())

def crossing(p):
    first_above = next((i for i, (t, mib) in enumerate(samples[p]) if mib > limit_mib), None)
    return None if first_above is None else (None if first_above == 0 else samples[p][first_above][0])

above = [p for p in pids if any(mib > limit_mib for t, mib in samples[p])]
victim = min(gone, key=gone.get) if gone else (min(above, key=lambda p: next(t for t, m in samples[p] if m > limit_mib)) if above else None)
cross = crossing(victim) if victim else None
first_new = min((s + l for s, l, st, pid in results if st == '200' and pid not in pids), default=None)
print(json.dumps({
    'probes': len(results),
    'failed': sum(1 for r in results if r[2] != '200'),
    'errors': sorted({r[2] for r in results if r[2] != '200'}),
    'victim': victim,
    'cross_s': round(cross, 2) if cross is not None else None,
    'peak_mib': round(max(m for t, m in samples[victim]), 1) if victim and samples[victim] else None,
    'replacement_ms': round((first_new - cross) * 1000) if first_new is not None and cross is not None else None,
    'victim_gone_s': round(gone[victim], 2) if victim in gone else None,
}))
