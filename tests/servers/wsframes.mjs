// wsframes.mjs - RFC 6455 pieces shared by the raw-frame test servers
// (frame-server.mjs and frame-fuzz.mjs): the handshake, a frame header written
// exactly as asked (including what the RFC forbids), reading a client's frames.

import crypto from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptFor(key) {
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
}

// Answers the HTTP upgrade request req on socket: true when the WebSocket is
// open (the 101 is written), false when it was refused with a 400.
export function completeHandshake(req, socket, path) {
  const key = req.headers['sec-websocket-key'];
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== path || !key || (req.headers.upgrade || '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return false;
  }
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
               `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`);
  socket.setNoDelay(true);
  return true;
}

// The header of frame f ({fin, rsv, op, mask, len_form, declared_len}) for a
// payload of payloadLen bytes, as a list of Buffers (without the masking key).
export function header(f, payloadLen) {
  const b0 = ((f.fin ?? 1) ? 0x80 : 0) | (((f.rsv ?? 0) & 7) << 4) | ((f.op ?? 1) & 0x0f);
  const mask = f.mask ? 0x80 : 0;
  let len = f.declared_len !== undefined ? BigInt(f.declared_len) : BigInt(payloadLen);
  let form = f.len_form;
  if (!form) form = len < 126n ? 7 : len < 65536n ? 16 : 64;
  const parts = [];
  if (form === 7) parts.push(Buffer.from([b0, mask | Number(len)]));
  else if (form === 16) {
    const h = Buffer.alloc(4);
    h[0] = b0; h[1] = mask | 126; h.writeUInt16BE(Number(len), 2);
    parts.push(h);
  } else {
    const h = Buffer.alloc(10);
    h[0] = b0; h[1] = mask | 127; h.writeBigUInt64BE(BigInt.asUintN(64, len), 2);
    parts.push(h);
  }
  return parts;
}

// Writes buf on socket, waiting for it to drain when its buffer is full;
// resolves false when the socket is gone. Never holds more than one buffer.
export function writeDrained(socket, buf) {
  return new Promise((resolve) => {
    if (socket.destroyed || socket.writableEnded) return resolve(false);
    const ok = socket.write(buf, (err) => { if (err) resolve(false); });
    if (ok) resolve(true);
    else {
      const done = () => { socket.off('close', gone); resolve(!socket.destroyed); };
      const gone = () => { socket.off('drain', done); resolve(false); };
      socket.once('drain', done);
      socket.once('close', gone);
    }
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The next frame a client sent, from the bytes received so far (buf):
//   { fin, op, payload, rest }  a whole frame, unmasked; rest: what follows it
//   { need: true }              not all here yet
//   { error: "..." }            a frame no client may send: unmasked, or longer
//                               than maxLen (the client only sends its key and "ping")
export function takeClientFrame(buf, maxLen) {
  if (buf.length < 2) return { need: true };
  const fin = buf[0] & 0x80, op = buf[0] & 0x0f, masked = buf[1] & 0x80;
  let len = buf[1] & 0x7f, at = 2;
  if (len === 126) {
    if (buf.length < 4) return { need: true };
    len = buf.readUInt16BE(2); at = 4;
  } else if (len === 127) {
    if (buf.length < 10) return { need: true };
    const big = buf.readBigUInt64BE(2);
    len = big > BigInt(maxLen) ? maxLen + 1 : Number(big); at = 10;
  }
  if (len > maxLen) return { error: 'client frame too long' };
  if (!masked) return { error: 'unmasked client frame' };
  if (buf.length < at + 4 + len) return { need: true };
  const key = buf.subarray(at, at + 4);
  const payload = Buffer.from(buf.subarray(at + 4, at + 4 + len));
  for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
  return { fin, op, payload, rest: buf.subarray(at + 4 + len) };
}
