// Node's cluster module with its default policy (SCHED_RR on Linux): the master accepts and hands each connection
// to a worker over IPC. Same worker file as everyone else; it listens on PORT, which the master owns.
'use strict';
const cluster = require('cluster');
const path = require('path');
cluster.setupPrimary({ exec: path.join(__dirname, 'worker.js') });
const n = Number(process.env.WORKERS || 2);
for (let i = 0; i < n; i++) cluster.fork();
cluster.on('exit', (w, code, signal) => { if (!w.exitedAfterDisconnect) cluster.fork(); });
const stop = () => { for (const id in cluster.workers) cluster.workers[id].process.kill('SIGTERM'); setTimeout(() => process.exit(0), 200); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
