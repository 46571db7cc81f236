// GiftDesk test tracker on Node, run the way the real gift tracker runs: `node index.js` as
// PID 1 (unless the container has an init process) with NO SIGTERM handler, so without
// `init: true` every `docker stop` waits for its whole timeout. Serves the real tracker's
// unauthenticated routes: GET /api/state, POST /api/connect and /api/disconnect (at most one
// call a second, as the real tracker). Calls nothing outside: tests talk to it over 127.0.0.1.
'use strict';
const http = require('http');

const port = Number(process.env.PORT || 3000);
const username = process.env.TIKTOK_USERNAME || '';
const stats = {
  liveStatus: 'DISCONNECTED', username, liveViewers: 0, uniqueJoins: 0,
  totalGifts: Number(process.env.TRACKER_GIFTS || 0), totalDiamonds: Number(process.env.TRACKER_DIAMONDS || 0),
  errorCount: 0, lastError: null,
};
let lastCall = 0;

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/api/state') {
    return send(res, 200, { counters: {}, groups: {}, target: username, stats });
  }
  if (req.method === 'POST' && (req.url === '/api/connect' || req.url === '/api/disconnect')) {
    const now = Date.now();
    if (now - lastCall < 1000) return send(res, 429, { success: false, message: 'one call a second' });
    lastCall = now;
    const connect = req.url === '/api/connect';
    stats.liveStatus = connect ? 'ONLINE' : 'DISCONNECTED';
    if (connect) stats.liveViewers = 42;
    console.log(`tracker: ${connect ? 'connected to' : 'disconnected from'} @${username}`);
    return send(res, 200, { success: true, liveStatus: stats.liveStatus });
  }
  send(res, 404, { success: false, message: 'not found' });
});

server.listen(port, () => console.log(`tracker: node ${process.version} pid ${process.pid} listening on ${port}`));
