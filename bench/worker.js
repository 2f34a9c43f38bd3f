// The one worker every configuration serves: Node's "Hello World!" with its pid in a header.
// - LISTEN_FDS set and LISTEN_PID = our pid (clusterd, the trivial launcher): listen on the inherited fd 3.
// - otherwise (Node cluster, PM2): listen(PORT), which the cluster master turns into its round-robin handle.
// Fairness: each worker writes its request count to $BENCH_COUNTS/<pid> every 200 ms (no work on the request path
// beyond an increment). Shutdown: BENCH_DRAIN=1 drains on SIGTERM/SIGINT (stop accepting, answer in-flight requests
// with "Connection: close", exit when the last connection closed); otherwise the worker simply exits.
// Readiness: `ready` to a cluster master; READY=1 to clusterd's NOTIFY_SOCKET when it gives one, as BENCH_NOTIFY says:
// - "addon" (the default): through bench/notify/sd_notify.c (at BENCH_NOTIFY_ADDON, built by lib.sh), one datagram from
//   this process, as a Node app under systemd sends it (the npm sd-notify package is such an addon);
// - "systemd-notify": by running it, a fork of this ~40 MB process just as it starts to accept (Node has no AF_UNIX
//   datagrams); kept to measure that cost against the addon;
// - "0": not at all.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const pid = String(process.pid);
const notifyBy = process.env.NOTIFY_SOCKET ? (process.env.BENCH_NOTIFY || 'addon') : '0';
if (!['addon', 'systemd-notify', '0'].includes(notifyBy)) {
  throw new Error(`BENCH_NOTIFY=${notifyBy}: say addon, systemd-notify or 0`);
}
if (notifyBy === 'addon' && !process.env.BENCH_NOTIFY_ADDON) {
  throw new Error('BENCH_NOTIFY=addon needs BENCH_NOTIFY_ADDON, the path of the built bench/notify/sd_notify.c');
}
// loaded at start, so that a worker whose addon is missing fails at once, with the reason
const addon = notifyBy === 'addon' ? require(process.env.BENCH_NOTIFY_ADDON) : null;
const countsDir = process.env.BENCH_COUNTS;
let served = 0, written = -1, draining = false;

const server = http.createServer((req, res) => {
  served++;
  const headers = { 'Content-Type': 'text/plain', 'Content-Length': '13', 'X-Worker-Pid': pid };
  if (draining) headers['Connection'] = 'close';
  res.writeHead(200, headers);
  res.end('Hello World!\n');
});
server.keepAliveTimeout = 65000;

function flush() {
  if (countsDir && served !== written) {
    fs.writeFileSync(path.join(countsDir, pid), String(served));
    written = served;
  }
}
if (countsDir) setInterval(flush, 200).unref();

// memory.sh: while the file BENCH_LEAK_WHILE exists, hold BENCH_LEAK_MIB_PER_S more MiB every second, written to so
// that they are resident.
const leakWhile = process.env.BENCH_LEAK_WHILE, leakMiB = Number(process.env.BENCH_LEAK_MIB_PER_S || 5);
const leaked = [];
if (leakWhile) setInterval(() => { if (fs.existsSync(leakWhile)) leaked.push(Buffer.alloc((leakMiB << 20) / 10, 1)); }, 100).unref();

function stop() {
  flush();
  if (process.env.BENCH_DRAIN !== '1') process.exit(0);
  if (draining) return;
  draining = true;
  // Stop accepting now, but not http.Server#close, which also drops idle keep-alive connections: a client may be
  // sending its next request on one at that very moment. Instead every connection's next answer says
  // "Connection: close", and the worker exits once the last connection has closed.
  require('net').Server.prototype.close.call(server, () => { flush(); process.exit(0); });
  setTimeout(() => { flush(); process.exit(0); }, 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

if (process.env.LISTEN_FDS && process.env.LISTEN_PID === pid) {
  server.listen({ fd: 3 });
} else {
  server.listen(Number(process.env.PORT || 8080), '127.0.0.1');
}
server.on('listening', () => {
  // wall-clock seconds, as a manager's log has them (bench/faults.sh kill sets them against the kill's)
  console.log(`worker ${pid}: started ${(performance.timeOrigin / 1000).toFixed(3)}, listening ${(Date.now() / 1000).toFixed(3)}`);
  if (process.send) process.send('ready');
  // clusterd with ready = "notify" (bench/faults.sh kill) waits for READY=1; systemd-notify sends it from this
  // worker's session, which clusterd accepts
  if (addon && !addon.notify('READY=1')) console.error(`READY=1 not sent to ${process.env.NOTIFY_SOCKET}`);
  if (notifyBy === 'systemd-notify') require('child_process').execFile('systemd-notify', ['--ready'], () => {});
});
