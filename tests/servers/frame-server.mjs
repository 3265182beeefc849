#!/usr/bin/env node
// frame-server.mjs - a hostile report service that writes raw WebSocket frames.
//
// Why: a server library (ws, the devserver) only ever sends well-formed frames
// in the form it prefers. This server does a real RFC 6455 handshake, speaks the
// service's protocol well enough to authenticate a client (the key, then text
// "ping" answered with text "pong"), and then writes whatever bytes a test asks
// for on the upgraded socket: oversize single frames, reserved bits and opcodes,
// masked frames, bad lengths, broken fragmentation, invalid UTF-8, bad closes,
// a frame one byte at a time. It records what the client sends back, above all
// its close frame's code, so a test can hold it to RFC 6455.
//
// Usage: node tests/servers/frame-server.mjs --port 0
// Keys: env REPORTLINK_TEST_KEYS, comma-separated. Listens on 127.0.0.1 only.
// stdout carries exactly one line, {"event":"listening","port":N}; the log goes
// to stderr and never contains a key.
//
// Control API (HTTP on the same port, JSON answers):
//   POST /control/play   body {"steps":[STEP, ...]}: played on the newest open,
//                        authenticated connection; answers when the steps are
//                        written (or the socket went away: "aborted": true).
//   GET  /control/state  every connection: id, authenticated, open, the client's
//                        close code/reason, its pongs (payload hex), texts count.
// STEP is one of
//   {"frame": FRAME, "chunk": N, "delay_ms": M, "repeat": R}  one frame (R times),
//                        written N bytes at a time (default: all at once) with
//                        M ms between pieces
//   {"raw_hex": "..."}   bytes as they are
//   {"wait_ms": N}
//   {"end": true}        the TCP socket destroyed
// FRAME: {"fin": 1, "rsv": 0..7, "op": 0..15, "mask": false,
//         "text": "..." | "hex": "..." |
//         "fill": {"len": N, "byte": 120, "prefix": "...", "suffix": "..."}
//                  (N bytes in all: prefix, then the byte repeated, then suffix),
//         "len_form": 7|16|64 (force an encoding of the length),
//         "declared_len": "decimal string" (a length that is not the payload's)}
// A "fill" payload is generated piece by piece, never held whole, so a 64 MiB
// frame costs the server no 64 MiB.

import crypto from 'node:crypto';
import http from 'node:http';
import { completeHandshake, header, sleep, takeClientFrame, writeDrained } from './wsframes.mjs';

const WS_PATH = '/reports/ws';
const MAX_CONTROL_BODY_BYTES = 4 * 1024 * 1024;
const MAX_CLIENT_FRAME_BYTES = 64 * 1024;   // the client sends a key and "ping"
const FILL_PIECE_BYTES = 1024 * 1024;
const MAX_CONNECTIONS_KEPT = 1000;

const keys = (process.env.REPORTLINK_TEST_KEYS || '').split(',').filter((k) => k.length > 0);
let port = 0;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--port') port = Number(process.argv[++i]);
}

const log = (...a) => process.stderr.write(`frame-server: ${a.join(' ')}\n`);
const connections = [];
let nextId = 1;

// ------------------------------------------------------------ frames out

function payloadOf(f) {
  if (f.text !== undefined) return Buffer.from(f.text, 'utf8');
  if (f.hex !== undefined) return Buffer.from(f.hex, 'hex');
  if (f.b64 !== undefined) return Buffer.from(f.b64, 'base64');
  return null;
}

// Writes buf, waiting for the socket to drain; false when the socket is gone.
const write = (conn, buf) => writeDrained(conn.socket, buf);


async function writePieces(conn, buf, chunk, delay) {
  if (!chunk) return write(conn, buf);
  for (let i = 0; i < buf.length; i += chunk) {
    if (!(await write(conn, buf.subarray(i, i + chunk)))) return false;
    if (delay) await sleep(delay);
  }
  return true;
}

async function playFrame(conn, f, chunk, delay) {
  const payload = payloadOf(f);
  const len = payload ? payload.length : (f.fill ? f.fill.len : 0);
  let maskKey = null;
  const head = Buffer.concat(header(f, len));
  const pieces = [head];
  if (f.mask) { maskKey = crypto.randomBytes(4); pieces.push(maskKey); }
  if (payload || !f.fill) {
    const p = Buffer.from(payload || Buffer.alloc(0));
    if (maskKey) for (let i = 0; i < p.length; i++) p[i] ^= maskKey[i & 3];
    pieces.push(p);
    return writePieces(conn, Buffer.concat(pieces), chunk, delay);
  }
  // A generated payload: written in pieces, never held whole.
  if (!(await writePieces(conn, Buffer.concat(pieces), chunk, delay))) return false;
  const prefix = Buffer.from(f.fill.prefix || '', 'utf8');
  const suffix = Buffer.from(f.fill.suffix || '', 'utf8');
  const middle = f.fill.len - prefix.length - suffix.length;
  if (middle < 0) throw new Error('fill.len is shorter than its prefix and suffix');
  if (prefix.length && !(await writePieces(conn, prefix, chunk, delay))) return false;
  const piece = Buffer.alloc(Math.min(FILL_PIECE_BYTES, Math.max(1, middle)), f.fill.byte ?? 120);
  for (let left = middle; left > 0; left -= piece.length) {
    const part = left >= piece.length ? piece : piece.subarray(0, left);
    if (!(await writePieces(conn, part, chunk, delay))) return false;
  }
  if (suffix.length && !(await writePieces(conn, suffix, chunk, delay))) return false;
  return true;
}

async function play(conn, steps) {
  conn.playing = true;
  try {
    for (const s of steps) {
      if (s.frame) {
        for (let r = 0; r < (s.repeat || 1); r++)
          if (!(await playFrame(conn, s.frame, s.chunk, s.delay_ms))) return false;
      }
      else if (s.raw_hex !== undefined) { if (!(await writePieces(conn, Buffer.from(s.raw_hex, 'hex'), s.chunk, s.delay_ms))) return false; }
      else if (s.wait_ms) await sleep(s.wait_ms);
      else if (s.end) { conn.socket.destroy(); return true; }
    }
    return true;
  } finally {
    conn.playing = false;
    if (conn.closeSeen && !conn.socket.destroyed) finishClose(conn);
  }
}

function sendFrame(conn, op, payload) {
  if (conn.socket.destroyed) return;
  conn.socket.write(Buffer.concat([...header({ op }, payload.length), payload]));
}

// The client closed: echo its close and end, unless a play is writing a frame,
// whose bytes must not be cut by another frame: then only the TCP socket ends.
function finishClose(conn) {
  if (conn.playing) { conn.socket.destroy(); return; }
  const echo = conn.closeCode ? Buffer.from([conn.closeCode >> 8, conn.closeCode & 0xff]) : Buffer.alloc(0);
  sendFrame(conn, 8, echo);
  conn.socket.end();
}

// ------------------------------------------------------------- frames in

function onData(conn, chunk) {
  conn.inbuf = Buffer.concat([conn.inbuf, chunk]);
  for (;;) {
    const f = takeClientFrame(conn.inbuf, MAX_CLIENT_FRAME_BYTES);
    if (f.need) return;
    if (f.error) return protocolFault(conn, f.error);
    conn.inbuf = f.rest;
    onFrame(conn, f.fin, f.op, f.payload);
    if (conn.socket.destroyed) return;
  }
}

function protocolFault(conn, why) {
  log(`connection #${conn.id}: ${why}`);
  conn.fault = why;
  conn.socket.destroy();
}

function onFrame(conn, fin, op, payload) {
  if (op === 8) {
    conn.closeSeen = true;
    conn.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    conn.closeReason = payload.subarray(2).toString('latin1');
    log(`connection #${conn.id}: client closed with ${conn.closeCode}`);
    finishClose(conn);
  } else if (op === 9) {
    sendFrame(conn, 10, payload);
  } else if (op === 10) {
    conn.pongs.push(payload.toString('hex'));
  } else if (op === 1) {
    conn.texts++;
    const text = payload.toString('utf8');
    if (conn.refused) return;
    if (!conn.authenticated) {
      let key = null;
      try { key = JSON.parse(text).doctor_key; } catch { /* not JSON */ }
      if (typeof key === 'string' && keys.includes(key)) {
        conn.authenticated = true;
        log(`connection #${conn.id}: authenticated`);
      } else {
        log(`connection #${conn.id}: unknown key`);
        conn.refused = true;
        sendFrame(conn, 8, Buffer.from([0x03, 0xf0]));   // 1008
        conn.socket.end();
      }
    } else if (text === 'ping') {
      if (!conn.playing) sendFrame(conn, 1, Buffer.from('pong'));
    }
  }
}

// -------------------------------------------------------------- handshake

function upgrade(req, socket) {
  if (!completeHandshake(req, socket, WS_PATH)) return;
  const conn = { id: nextId++, socket, inbuf: Buffer.alloc(0), authenticated: false, open: true,
                 closeSeen: false, closeCode: null, closeReason: '', pongs: [], texts: 0,
                 playing: false, fault: null };
  connections.push(conn);
  if (connections.length > MAX_CONNECTIONS_KEPT) connections.shift();
  log(`connection #${conn.id} opened`);
  socket.on('data', (d) => onData(conn, d));
  socket.on('error', () => {});
  // The client's TCP FIN ends the connection (the HTTP server allows half-open
  // sockets: this one must not stay half-open).
  socket.on('end', () => socket.destroy());
  socket.on('close', () => { conn.open = false; log(`connection #${conn.id} ended`); });
}

// ---------------------------------------------------------------- control

function answer(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function describe(c) {
  return { id: c.id, authenticated: c.authenticated, open: c.open, close_code: c.closeCode,
           close_reason: c.closeReason, pongs: c.pongs, texts: c.texts, fault: c.fault };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = []; let size = 0;
    req.on('data', (d) => {
      size += d.length;
      if (size > MAX_CONTROL_BODY_BYTES) { reject(new Error('control body too large')); req.destroy(); }
      else parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  try {
    if (req.method === 'GET' && url.pathname === '/control/state')
      return answer(res, 200, { connections: connections.map(describe) });
    if (req.method === 'POST' && url.pathname === '/control/play') {
      const { steps } = JSON.parse((await readBody(req)).toString('utf8'));
      const conn = [...connections].reverse().find((c) => c.open && c.authenticated);
      if (!conn) return answer(res, 404, { error: 'no open authenticated connection' });
      const done = await play(conn, steps);
      return answer(res, 200, { conn: conn.id, aborted: !done });
    }
    return answer(res, 404, { error: 'no such route' });
  } catch (e) {
    return answer(res, 400, { error: String(e.message || e) });
  }
});
server.on('upgrade', upgrade);
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ event: 'listening', port: server.address().port }) + '\n');
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
