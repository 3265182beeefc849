#!/usr/bin/env node
// ws-server.mjs - a second, independent implementation of the report service,
// built on the `ws` package, for ReportLink's integration tests.
//
// Why a second server: the C devserver and the C client are written by the same
// team from the same reading of the spec. A server written in another language,
// on another WebSocket stack, catches the misreadings they share. This one also
// lets the tests script faults that the devserver does not offer (fragmented and
// oversize messages, a handshake that never completes, connection history).
//
// Usage: node tests/servers/ws-server.mjs --port 0 [--auth-timeout-ms N]
//                                         [--no-handshake] [--no-pong]
// Keys: env REPORTLINK_TEST_KEYS, comma-separated. It listens on 127.0.0.1 only.
// stdout carries exactly one line, {"event":"listening","port":N}; the human log
// goes to stderr and never contains a key value.
//
// Protocol (shared/spec/report-service-websocket.en.md), WebSocket path /reports/ws:
// the first message, within the auth timeout, must be {"doctor_key":"..."} with a
// known key, or the server closes with 1008. Then text "ping" is answered with
// text "pong". One connection per key: when a key authenticates again, the older
// connection receives {"type":"error","message":"replaced","code":4000} and is
// closed with 4000.
//
// Control API on the same port (every route answers JSON; ?key=KEY, or the header
// X-Doctor-Key, picks the authenticated connection of that key, else 404):
//   POST /control/send[?binary=1|?fragments=N]  the body as one message
//   POST /control/close?code=N&reason=TEXT      a close frame
//   POST /control/drop                          the TCP socket destroyed, no close frame
//   POST /control/pong?enabled=0|1              without key: server-wide, with key:
//                                               that connection only
//   POST /control/oversize?bytes=N              one text message of N bytes, streamed
//   POST /control/partial?bytes=N&sent=M        the header of a text frame of N bytes and
//                                               M bytes of its payload, then the TCP
//                                               socket destroyed mid-frame
//   POST /control/burst?count=N                 N report_ready messages back to back, the
//                                               i-th with json_report.seq = "i" (from 1)
//   POST /control/handshake?enabled=0|1         server-wide: leave WebSocket upgrades
//                                               unanswered (0) or answer them (1)
//   GET  /control/state                         connections, messages, close codes

import http from 'node:http';
import { WebSocketServer } from 'ws';

const WS_PATH = '/reports/ws';
// The client only ever sends its key and "ping": anything bigger is a client bug,
// and ws answers it with close 1009.
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
// Large enough for the tests' 1 MiB fields and fragmented bodies.
const MAX_CONTROL_BODY_BYTES = 64 * 1024 * 1024;
// Oversize messages are streamed in chunks of this size, so the server never
// holds the whole message in memory.
const OVERSIZE_CHUNK_BYTES = 64 * 1024;
const MAX_OVERSIZE_BYTES = 1024 * 1024 * 1024;
const MAX_FRAGMENTS = 100000;
const MAX_BURST = 100000;
// The burst waits for the socket every this many messages, so its memory stays
// bounded however slowly the client reads.
const BURST_WINDOW = 64;
// Bounded history, so a long session cannot grow the state without limit.
const MAX_CONNECTIONS_KEPT = 1000;
const MAX_MESSAGES_KEPT = 200;
const DEFAULT_AUTH_TIMEOUT_MS = 10000; // the spec's 10 seconds

// ---------------------------------------------------------------- arguments

function usage(message) {
  process.stderr.write(`ws-server: ${message}\n` +
    'usage: node ws-server.mjs --port N [--auth-timeout-ms N] [--no-handshake] [--no-pong]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { port: 0, authTimeoutMs: DEFAULT_AUTH_TIMEOUT_MS, noHandshake: false, noPong: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const intValue = (min, max) => {
      const text = argv[++i];
      const n = Number(text);
      if (text === undefined || !Number.isInteger(n) || n < min || n > max) {
        usage(`${arg} needs an integer between ${min} and ${max}`);
      }
      return n;
    };
    if (arg === '--port') opts.port = intValue(0, 65535);
    else if (arg === '--auth-timeout-ms') opts.authTimeoutMs = intValue(1, 3600000);
    else if (arg === '--no-handshake') opts.noHandshake = true;
    else if (arg === '--no-pong') opts.noPong = true;
    else usage(`unknown argument ${JSON.stringify(arg)}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const keys = (process.env.REPORTLINK_TEST_KEYS || '').split(',').filter((k) => k.length > 0);

function log(message) {
  process.stderr.write(`ws-server: ${message}\n`);
}

// ---------------------------------------------------------------- connections

let nextConnId = 1;
let upgradeRequests = 0;           // WebSocket upgrade requests on WS_PATH
let pongEnabled = !opts.noPong;    // server-wide default, see /control/pong
let handshakeEnabled = !opts.noHandshake; // see /control/handshake
const connections = [];            // every connection, oldest first (bounded)
const byKeyIndex = new Map();      // key index -> the authenticated open Conn
const stalledSockets = new Set();  // --no-handshake: upgrades left unanswered
const closeCodesSeen = [];         // close codes, as ws reports them, in order

class Conn {
  constructor(ws, req) {
    this.id = nextConnId++;
    this.ws = ws;
    this.openedAt = Date.now();
    this.remotePort = req.socket.remotePort;
    this.open = true;
    this.keyIndex = null;
    this.authenticated = false;
    this.auth = null;              // "ok" | "unknown_key" | "bad_message" | "timeout"
    this.authMs = null;            // time from open to the auth message
    this.pings = 0;
    this.pongsSent = 0;
    this.pongOverride = null;      // null: follow the server-wide setting
    this.messages = [];            // {type, bytes, kind, at_ms}: never the content
    this.messagesDropped = 0;
    this.error = null;             // protocol error reported by ws, if any
    this.serverCloseCode = null;   // what this server sent, if it closed first
    this.dropped = false;
    this.closeCode = null;         // what ws reports: peer's code, 1005 or 1006
    this.closeReason = null;
    this.closedBy = null;          // "client" | "server" | "drop" | "network"
    this.authTimer = null;
    // Outgoing messages go through one queue: a fragmented or streamed message
    // must not be interleaved with a "pong" or an error message, which would
    // break the frame sequence (RFC 6455 5.4).
    this.outbox = Promise.resolve();
  }

  enqueue(task) {
    const result = this.outbox.then(task);
    this.outbox = result.catch(() => {});
    return result;
  }

  pongs() {
    return this.pongOverride === null ? pongEnabled : this.pongOverride;
  }

  record(isBinary, bytes, kind) {
    if (this.messages.length >= MAX_MESSAGES_KEPT) {
      this.messagesDropped++;
      return;
    }
    this.messages.push({ type: isBinary ? 'binary' : 'text', bytes, kind, at_ms: Date.now() - this.openedAt });
  }

  toJSON() {
    return {
      id: this.id,
      open: this.open,
      remote_port: this.remotePort,
      key_index: this.keyIndex,
      authenticated: this.authenticated,
      auth: this.auth,
      auth_ms: this.authMs,
      pings: this.pings,
      pongs_sent: this.pongsSent,
      pong_enabled: this.pongs(),
      messages: this.messages,
      messages_dropped: this.messagesDropped,
      error: this.error,
      server_close_code: this.serverCloseCode,
      close_code: this.closeCode,
      close_reason: this.closeReason,
      closed_by: this.closedBy
    };
  }
}

// Resolves with null once ws has handed the data to the socket, or with the error.
function sendFrame(ws, data, options) {
  return new Promise((resolve) => ws.send(data, options, (err) => resolve(err || null)));
}

function closeByServer(conn, code, reason) {
  if (!conn.open || conn.serverCloseCode !== null || conn.dropped) return;
  conn.serverCloseCode = code;
  conn.ws.close(code, reason);
}

function onConnection(ws, req) {
  const conn = new Conn(ws, req);
  connections.push(conn);
  if (connections.length > MAX_CONNECTIONS_KEPT) connections.shift();
  log(`conn ${conn.id}: open from port ${conn.remotePort}`);

  conn.authTimer = setTimeout(() => {
    if (conn.authenticated || !conn.open) return;
    conn.auth = 'timeout';
    log(`conn ${conn.id}: no authentication within ${opts.authTimeoutMs} ms`);
    closeByServer(conn, 1008, 'authentication timeout');
  }, opts.authTimeoutMs);

  ws.on('message', (data, isBinary) => onMessage(conn, data, isBinary));

  ws.on('error', (err) => {
    // ws has already answered with the right close code (1007, 1009, 1002...).
    conn.error = err.message;
    log(`conn ${conn.id}: protocol error: ${err.message}`);
  });

  ws.on('close', (code, reason) => {
    clearTimeout(conn.authTimer);
    conn.open = false;
    conn.closeCode = code;
    conn.closeReason = reason.toString('utf8');
    if (conn.dropped) conn.closedBy = 'drop';
    else if (conn.serverCloseCode !== null) conn.closedBy = 'server';
    else if (code === 1006) conn.closedBy = 'network';
    else conn.closedBy = 'client';
    closeCodesSeen.push(code);
    if (conn.keyIndex !== null && byKeyIndex.get(conn.keyIndex) === conn) byKeyIndex.delete(conn.keyIndex);
    log(`conn ${conn.id}: closed ${code} (${conn.closedBy})`);
  });
}

function onMessage(conn, data, isBinary) {
  if (!conn.authenticated) {
    // Only the first message authenticates. What a refused client sends while
    // the close handshake is under way (its "ping", typically) changes nothing.
    if (conn.auth === null) authenticate(conn, data, isBinary);
    else conn.record(isBinary, data.length, 'after_refusal');
    return;
  }
  const isPing = !isBinary && data.length === 4 && data.toString('utf8') === 'ping';
  conn.record(isBinary, data.length, isPing ? 'ping' : 'other');
  if (!isPing) return; // the service ignores anything else a client sends
  conn.pings++;
  if (!conn.pongs()) return;
  conn.enqueue(async () => {
    if ((await sendFrame(conn.ws, 'pong', { binary: false })) === null) conn.pongsSent++;
  });
}

// The first message decides: a known key, or close 1008. Nothing else is
// accepted first, not even "ping", because the service requires the key first.
function authenticate(conn, data, isBinary) {
  clearTimeout(conn.authTimer);
  conn.authMs = Date.now() - conn.openedAt;
  let key = null;
  if (!isBinary) {
    try {
      const msg = JSON.parse(data.toString('utf8'));
      if (msg !== null && typeof msg === 'object' && typeof msg.doctor_key === 'string') key = msg.doctor_key;
    } catch {
      key = null;
    }
  }
  if (key === null) {
    conn.record(isBinary, data.length, 'invalid_auth');
    conn.auth = 'bad_message';
    log(`conn ${conn.id}: first message is not an authentication message`);
    closeByServer(conn, 1008, 'authentication required');
    return;
  }
  conn.record(isBinary, data.length, 'auth');
  const index = keys.indexOf(key);
  if (index < 0) {
    conn.auth = 'unknown_key';
    log(`conn ${conn.id}: unknown key`);
    closeByServer(conn, 1008, 'invalid doctor key');
    return;
  }
  conn.auth = 'ok';
  conn.authenticated = true;
  conn.keyIndex = index;
  log(`conn ${conn.id}: authenticated with key #${index}`);

  // One active connection per key. The spec does not say which one loses; this
  // server keeps the newer one, so a client that reconnects in a loop would
  // fight another client forever - which is what the client must detect.
  const older = byKeyIndex.get(index);
  byKeyIndex.set(index, conn);
  if (older && older.open) {
    log(`conn ${older.id}: replaced by conn ${conn.id}`);
    older.enqueue(async () => {
      await sendFrame(older.ws, JSON.stringify({ type: 'error', message: 'replaced', code: 4000 }), { binary: false });
      closeByServer(older, 4000, 'replaced');
    });
  }
}

// ---------------------------------------------------------------- control API

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function intParam(url, name, min, max) {
  const text = url.searchParams.get(name);
  const n = Number(text);
  if (text === null || text === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new HttpError(400, `${name} must be an integer between ${min} and ${max}`);
  }
  return n;
}

function lookupConn(req, url) {
  const key = url.searchParams.get('key') ?? req.headers['x-doctor-key'];
  if (key === undefined || key === null) return null;
  const index = keys.indexOf(key);
  const conn = index < 0 ? undefined : byKeyIndex.get(index);
  if (!conn || !conn.open) throw new HttpError(404, 'no authenticated connection for this key');
  return conn;
}

// Sends body as one text message, one binary message, or one text message in
// N fragments (the split may fall inside a UTF-8 sequence, which RFC 6455 allows).
async function controlSend({ conn, url, body }) {
  const binary = url.searchParams.get('binary') === '1';
  const fragments = url.searchParams.has('fragments') ? intParam(url, 'fragments', 1, MAX_FRAGMENTS) : 1;
  const err = await conn.enqueue(async () => {
    if (fragments === 1) return sendFrame(conn.ws, body, { binary });
    for (let i = 0; i < fragments; i++) {
      const start = Math.floor((body.length * i) / fragments);
      const end = Math.floor((body.length * (i + 1)) / fragments);
      const e = await sendFrame(conn.ws, body.subarray(start, end), { binary, fin: i === fragments - 1 });
      if (e) return e;
    }
    return null;
  });
  if (err) throw new HttpError(404, `connection closed while sending: ${err.message}`);
  return { bytes: body.length, fragments };
}

async function controlClose({ conn, url }) {
  const code = intParam(url, 'code', 0, 65535);
  const reason = url.searchParams.get('reason') ?? '';
  try {
    closeByServer(conn, code, reason);
  } catch (err) {
    // ws refuses codes a peer may not send (1005, 1006, 2999...) and long reasons.
    conn.serverCloseCode = null;
    throw new HttpError(400, err.message);
  }
  return { code };
}

async function controlDrop({ conn }) {
  conn.dropped = true;
  conn.ws.terminate();
  return {};
}

async function controlPong({ conn, url }) {
  const enabled = url.searchParams.get('enabled');
  if (enabled !== '0' && enabled !== '1') throw new HttpError(400, 'enabled must be 0 or 1');
  if (conn) conn.pongOverride = enabled === '1';
  else pongEnabled = enabled === '1';
  return { enabled: enabled === '1', scope: conn ? 'connection' : 'server' };
}

// One text message of exactly N bytes, a JSON report whose html_content is 'a'
// repeated; each fragment waits for the previous one to reach the socket, so at
// most one chunk is in memory. A client that enforces a size cap closes while
// the stream is under way: the stream then stops.
async function controlOversize({ conn, url }) {
  const total = intParam(url, 'bytes', 1, MAX_OVERSIZE_BYTES);
  const head = Buffer.from('{"type":"report_ready","url":"","html_content":"');
  const tail = Buffer.from('"}');
  const filler = Buffer.alloc(OVERSIZE_CHUNK_BYTES, 'a');
  function* pieces() {
    let fill = total;
    if (total >= head.length + tail.length) {
      yield head;
      fill -= head.length + tail.length;
    }
    while (fill > 0) {
      const n = Math.min(fill, filler.length);
      yield filler.subarray(0, n);
      fill -= n;
    }
    if (total >= head.length + tail.length) yield tail;
  }
  return conn.enqueue(async () => {
    let sent = 0;
    let previous = null;
    // One piece of look-ahead, to know which piece carries fin.
    for (const piece of pieces()) {
      if (previous) {
        const err = await sendFrame(conn.ws, previous, { binary: false, fin: false });
        if (err) return { bytes_sent: sent, complete: false };
        sent += previous.length;
      }
      previous = piece;
    }
    const err = await sendFrame(conn.ws, previous, { binary: false, fin: true });
    if (!err) sent += previous.length;
    return { bytes_sent: sent, complete: !err };
  });
}

// A frame that never ends: the header announces `bytes` of text payload, only
// `sent` of them follow, then the TCP connection is destroyed without a close
// frame - a network that dies in the middle of a large message.
async function controlPartial({ conn, url }) {
  const total = intParam(url, 'bytes', 126, MAX_OVERSIZE_BYTES);
  const sent = intParam(url, 'sent', 0, total - 1);
  return conn.enqueue(async () => {
    const socket = conn.ws._socket; // ws keeps the net.Socket here; it has no public accessor
    if (!socket || socket.destroyed) throw new HttpError(404, 'the connection has no socket any more');
    const header = Buffer.alloc(10);
    header[0] = 0x81; // FIN + text
    header[1] = 127;  // 64-bit length follows, server frames are not masked
    header.writeBigUInt64BE(BigInt(total), 2);
    const payload = Buffer.alloc(sent, 'a');
    conn.dropped = true;
    await new Promise((resolve) => socket.write(Buffer.concat([header, payload]), () => resolve()));
    socket.destroy();
    return { announced: total, sent };
  });
}

// count reports, written as fast as the socket takes them; each carries its
// sequence number so the client's output can be checked for order, gaps and
// duplicates.
async function controlBurst({ conn, url }) {
  const count = intParam(url, 'count', 1, MAX_BURST);
  return conn.enqueue(async () => {
    let pending = [];
    for (let i = 1; i <= count; i++) {
      const msg = JSON.stringify({
        type: 'report_ready',
        url: `https://storage.invalid/burst/${i}.docx`,
        plaintext_report: `Compte rendu n° ${i}`,
        json_report: { seq: String(i), diagnosis: `Céphalées, rapport ${i}` }
      });
      pending.push(sendFrame(conn.ws, msg, { binary: false }));
      if (pending.length === BURST_WINDOW || i === count) {
        const errs = (await Promise.all(pending)).filter((e) => e);
        if (errs.length) throw new HttpError(404, `connection closed during the burst: ${errs[0].message}`);
        pending = [];
      }
    }
    return { count };
  });
}

async function controlHandshake({ url }) {
  const enabled = url.searchParams.get('enabled');
  if (enabled !== '0' && enabled !== '1') throw new HttpError(400, 'enabled must be 0 or 1');
  handshakeEnabled = enabled === '1';
  return { enabled: handshakeEnabled };
}

async function controlState() {
  return {
    upgrade_requests: upgradeRequests,
    handshake_enabled: handshakeEnabled,
    stalled_handshakes: stalledSockets.size,
    pong_enabled: pongEnabled,
    auth_timeout_ms: opts.authTimeoutMs,
    key_count: keys.length,
    connections: connections.map((c) => c.toJSON()),
    close_codes_seen: closeCodesSeen
  };
}

// conn: "required" -> ?key= must name an authenticated connection;
//       "optional" -> used when given; "none" -> ignored.
const routes = {
  'POST /control/send': { conn: 'required', run: controlSend },
  'POST /control/close': { conn: 'required', run: controlClose },
  'POST /control/drop': { conn: 'required', run: controlDrop },
  'POST /control/pong': { conn: 'optional', run: controlPong },
  'POST /control/oversize': { conn: 'required', run: controlOversize },
  'POST /control/partial': { conn: 'required', run: controlPartial },
  'POST /control/burst': { conn: 'required', run: controlBurst },
  'POST /control/handshake': { conn: 'none', run: controlHandshake },
  'GET /control/state': { conn: 'none', run: controlState }
};

function reply(res, status, object) {
  const text = JSON.stringify(object);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_CONTROL_BODY_BYTES) {
        reject(new HttpError(413, `body larger than ${MAX_CONTROL_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function onRequest(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  try {
    if (url.pathname === WS_PATH) throw new HttpError(426, 'this path takes a WebSocket upgrade');
    const route = routes[`${req.method} ${url.pathname}`];
    if (!route) throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
    const body = await readBody(req);
    let conn = null;
    if (route.conn !== 'none') {
      conn = lookupConn(req, url);
      if (route.conn === 'required' && !conn) throw new HttpError(400, 'key required (?key= or X-Doctor-Key)');
    }
    reply(res, 200, { ok: true, ...(await route.run({ req, url, conn, body })) });
  } catch (err) {
    if (!(err instanceof HttpError)) log(`control ${req.method} ${url.pathname}: ${err.stack}`);
    reply(res, err instanceof HttpError ? err.status : 500, { ok: false, error: err.message });
  }
}

// ---------------------------------------------------------------- server

// No permessage-deflate: the sizes the tests send must be the sizes on the wire,
// and the C client does not negotiate it.
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
const server = http.createServer(onRequest);

server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => {}); // a reset by the peer is not this server's failure
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname !== WS_PATH) {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  upgradeRequests++;
  if (!handshakeEnabled) {
    // A server that accepted TCP and then hangs: the client's connect timeout
    // is what must get it out.
    stalledSockets.add(socket);
    socket.on('close', () => stalledSockets.delete(socket));
    log('upgrade request left unanswered (handshake disabled)');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
});

server.on('error', (err) => {
  log(`cannot listen: ${err.message}`);
  process.exit(1);
});

server.listen(opts.port, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);
  log(`listening on 127.0.0.1:${port}${WS_PATH}, ${keys.length} key(s), auth timeout ${opts.authTimeoutMs} ms` +
    `${handshakeEnabled ? '' : ', no handshake'}${pongEnabled ? '' : ', no pong'}`);
});

// A test stops the server with SIGTERM, or SIGKILL to simulate a crash. On
// SIGTERM the process exits at once: the kernel closes every socket, which is
// what a crashed service looks like to the client too.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    log(`${signal}: exiting`);
    process.exit(0);
  });
}
