// wsframes.mjs - RFC 6455 pieces shared by the raw-frame test servers
// (frame-server.mjs and frame-fuzz.mjs): the handshake's accept value and a
// frame header written exactly as asked, including what the RFC forbids.

import crypto from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptFor(key) {
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
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
