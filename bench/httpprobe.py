"""One probe, shared by probe.py, memory_probe.py and upgrade_probe.py: a new connection to 127.0.0.1:PORT, one GET with
Connection: close, and the answer's status and X-Worker-Pid (or the error's name: refused, reset, timeout)."""
import asyncio
import time

REQUEST = b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'


async def probe_once(port):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port), 10)
        writer.write(REQUEST)
        data = await asyncio.wait_for(reader.read(-1), 10)
        writer.close()
        head = data.split(b'\r\n\r\n', 1)[0].decode(errors='replace').split('\r\n')
        status = head[0].split(' ')[1] if head and head[0].startswith('HTTP/') else 'empty'
        pid = next((l.split(':', 1)[1].strip() for l in head[1:] if l.lower().startswith('x-worker-pid:')), None)
        return status, pid
    except Exception as e:  # refused, reset, timeout
        return type(e).__name__, None


async def probe_into(results, port, t0):
    """One probe, appended to results as (start, latency, status or error, pid), times in seconds since t0."""
    start = time.monotonic() - t0
    status, pid = await probe_once(port)
    results.append((start, time.monotonic() - t0 - start, status, pid))
