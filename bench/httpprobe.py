"""One probe, shared by probe.py and memory_probe.py: a new connection to 127.0.0.1:PORT, one GET with
Connection: close, and the answer's status and X-Worker-Pid (or the error's name: refused, reset, timeout)."""
import asyncio

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
