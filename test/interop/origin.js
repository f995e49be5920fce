// origin.js - the Node.js `http` server of the interop matrix
// (test/interop/run), and the origin behind haproxy, varnish, squid and
// tinyproxy there. Listens on 127.0.0.1, port chosen by the system, and
// prints "port N" once it does. Only Node's built-in modules.
//
//   node origin.js ROOT LOG [MAX_REQUESTS_PER_SOCKET]
//
//   GET|HEAD /NAME          the file ROOT/NAME, with Content-Length
//   GET /chunked/NAME       the same bytes in 16 KiB writes and no length:
//                           Node frames them with chunked
//   POST /sha               "SHA256HEX LENGTH\n" of the request body
//
// LOG gets one line per request as it arrives, before any answer:
// "CLIENT_PORT METHOD URI EXPECT" (EXPECT "-" when absent). The client's
// port tells its connection apart from others.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

const [root, logPath, maxRequests] = process.argv.slice(2);
if (!root || !logPath) {
	process.stderr.write('usage: node origin.js ROOT LOG [MAX_REQUESTS_PER_SOCKET]\n');
	process.exit(2);
}
const log = fs.openSync(logPath, 'a');

// The file a request names, or null: one name, no directories.
function fileOf(name) {
	if (!name || name.includes('/') || name.startsWith('.'))
		return null;
	const p = path.join(root, name);
	try {
		return fs.statSync(p).isFile() ? p : null;
	} catch (e) {
		return null;
	}
}

function answer(res, status, text) {
	res.writeHead(status, {'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text)});
	res.end(text);
}

const server = http.createServer((req, res) => {
	fs.writeSync(log, `${req.socket.remotePort} ${req.method} ${req.url} ${req.headers.expect || '-'}\n`);
	const where = new URL(req.url, 'http://origin');
	if (req.method === 'POST' && where.pathname === '/sha') {
		const h = crypto.createHash('sha256');
		let n = 0;
		req.on('data', (d) => { h.update(d); n += d.length; });
		req.on('end', () => answer(res, 200, `${h.digest('hex')} ${n}\n`));
		return;
	}
	if (req.method !== 'GET' && req.method !== 'HEAD') {
		req.resume();
		return answer(res, 405, 'method not allowed\n');
	}
	const chunked = where.pathname.startsWith('/chunked/');
	const file = fileOf(where.pathname.slice(chunked ? 9 : 1));
	if (!file)
		return answer(res, 404, 'not found\n');
	const head = {'Content-Type': 'application/octet-stream'};
	if (!chunked)
		head['Content-Length'] = fs.statSync(file).size;
	res.writeHead(200, head);
	if (req.method === 'HEAD')
		return res.end();
	fs.createReadStream(file, {highWaterMark: 16384}).pipe(res);
});
server.keepAliveTimeout = 30000; // no idle close while a test runs
if (maxRequests)
	server.maxRequestsPerSocket = Number(maxRequests);
server.listen(0, '127.0.0.1', () => {
	process.stdout.write(`port ${server.address().port}\n`);
});
