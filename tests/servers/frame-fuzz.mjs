#!/usr/bin/env node
// frame-fuzz.mjs - a structure-aware fuzzer of the client's receive path.
//
// Why: the frame-server cases (tests/integration/test_frames.py) each hold one
// hostile frame up to RFC 6455; this server mixes thousands of them, valid and
// invalid, cut at random points, on connection after connection, so the
// receive path meets the combinations no table lists (a ping between the two
// halves of a split UTF-8 character, an invalid byte at offset 9 MiB of a
// frame, a header flipped right after a large message...).
//
// It does a real RFC 6455 handshake on 127.0.0.1 (path /reports/ws),
// authenticates the client as frame-server.mjs does (first text message
// {"doctor_key":K} with K in env REPORTLINK_TEST_KEYS, then text "ping"
// answered with text "pong"), then streams generated frames until --frames
// frames were written, across as many connections as that takes, and exits.
//
// Usage: node tests/servers/frame-fuzz.mjs --frames N --seed S [--port P]
//        [--first-conn K] [--log-frames]
// stdout: {"event":"listening","port":N} first, {"event":"done",...} last.
// stderr: the log (never a key); with --log-frames, one line per frame planned
// (connection, index, what it is, its first bytes in hex) - the way to find
// the frame sequence behind a crash. --first-conn K starts at connection plan
// K of the seed (the plans of 0..K-1 are skipped), so a failing connection
// replays on the first connection of a fresh run.
//
// Every report-shaped message carries its own check in plaintext_report:
//   "<class><conn>.<n>:<body>:<hash>"   hash = sha256("<class><conn>.<n>:<body>"
// as UTF-8, the body as JSON decodes it), first 16 hex digits. Classes:
//   V  valid, on a connection nothing has tainted yet: must be delivered, once
//   M  valid, after a frame of undefined effect (bad length, flipped header):
//      may be delivered (intact, once)
//   L  a valid report in a frame with a non-minimal length encoding (RFC 6455
//      says MUST be minimal; most clients accept it) or a masked one (a known
//      gap of libwebsockets 4.1.6): may be delivered (intact, once)
//   A  valid, but after a frame the client must fail the link on (or after the
//      server's close): must never be delivered
//   B  inside a frame the RFC forbids (mutated): must never be delivered
// So fuzz_frames.py verifies every delivered report without a log of what was
// sent: the done line carries only the number of V messages per connection.
//
// Memory is bounded: a large payload (up to 17 MiB) is produced piece by piece
// from a 64 KiB pattern and never held whole; small frames are batched up to
// 64 KiB per write and every write waits for the socket to drain.

import crypto from 'node:crypto';
import http from 'node:http';
import { completeHandshake, header, sleep, takeClientFrame, writeDrained } from './wsframes.mjs';

const WS_PATH = '/reports/ws';
const MIB = 1024 * 1024;
const LIMIT = 16 * MIB;                   // RL_MAX_MESSAGE_BYTES
const BATCH_BYTES = 64 * 1024;            // small frames are written together up to this
const PATTERN_BYTES = 64 * 1024;          // a large payload repeats a pattern of this size
const MAX_CLIENT_FRAME_BYTES = 64 * 1024; // the client sends a key, "ping", pongs, a close
const CLOSE_WAIT_MS = 1500;               // the client fails the link within this (10x for large frames)
const END_WAIT_MS = 5000;                 // after our FIN, the client's socket closes within this
const STALL_MS = 30000;                   // no client for this long: give up
const MAX_RECORDED = 20;                  // findings kept in detail in the done line

// ------------------------------------------------------------------ options

const opt = { frames: 20000, seed: 1, port: 0, firstConn: 0, logFrames: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--frames') opt.frames = Number(process.argv[++i]);
  else if (a === '--seed') opt.seed = Number(process.argv[++i]);
  else if (a === '--port') opt.port = Number(process.argv[++i]);
  else if (a === '--first-conn') opt.firstConn = Number(process.argv[++i]);
  else if (a === '--log-frames') opt.logFrames = true;
  else { process.stderr.write(`frame-fuzz: unknown option ${a}\n`); process.exit(2); }
}
const keys = (process.env.REPORTLINK_TEST_KEYS || '').split(',').filter((k) => k.length > 0);
const log = (...a) => process.stderr.write(`frame-fuzz: ${a.join(' ')}\n`);

// ------------------------------------------------------------------ PRNG

// mulberry32: small, fast, good enough to pick frames; one per connection plan,
// seeded from (seed, plan index), so plan K is the same whatever came before.
function mulberry32(a) {
  return () => {
    a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function rngFor(seed, k) {
  const h = crypto.createHash('sha256').update(`frame-fuzz:${seed}:${k}`).digest();
  const r = mulberry32(h.readUInt32LE(0));
  const R = {
    f: r,
    int: (lo, hi) => lo + Math.floor(r() * (hi - lo + 1)),   // inclusive
    chance: (p) => r() < p,
    pick: (arr) => arr[Math.floor(r() * arr.length)],
    bytes: (n) => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256); return b; },
  };
  return R;
}

// ------------------------------------------------------------------ text

// Pieces of a JSON string: raw (as written in the JSON) and dec (what it means).
const CHAR_POOLS = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e],      // ASCII, often
  [0x7f, 0x7f], [0x80, 0x7ff], [0xe0, 0xff],      // DEL, 2-byte, Latin-1
  [0x800, 0xfff], [0x4e00, 0x9fff], [0xe000, 0xfffd], [0xfeff, 0xffff],  // 3-byte (no surrogates)
  [0x10000, 0x1ffff], [0x1f300, 0x1faff], [0x10fff0, 0x10ffff],          // 4-byte, up to U+10FFFF
];
const EDGE_CHARS = [0x7f, 0x80, 0x7ff, 0x800, 0xfffd, 0xffff, 0x10000, 0x10ffff, 0x20ac, 0x1d11e, 0x1f600];
const ESCAPES = [['\\n', '\n'], ['\\t', '\t'], ['\\r', '\r'], ['\\"', '"'], ['\\\\', '\\'], ['\\/', '/'],
  ['\\b', '\b'], ['\\f', '\f'], ['\\u00e9', '\u00e9'], ['\\u20AC', '\u20ac'], ['\\u0001', '\u0001'],
  ['\\ud83d\\ude00', '\u{1f600}'], ['\\uD834\\uDD1E', '\u{1d11e}'], ['\\u001f', '\u001f']];
// ':' is left out of the body so the check splits it without ambiguity.

function randomChar(R) {
  if (R.chance(0.05)) return String.fromCodePoint(R.pick(EDGE_CHARS));
  const [lo, hi] = R.pick(CHAR_POOLS);
  for (;;) {
    const cp = R.int(lo, hi);
    if (cp === 0x22 || cp === 0x5c || cp === 0x3a) continue;        // " \ :
    return String.fromCodePoint(cp);
  }
}

// A body of about n bytes: {raw, dec} strings.
function randomBody(R, n) {
  let raw = '', dec = '', size = 0;
  while (size < n) {
    if (R.chance(0.04)) {
      const [r, d] = R.pick(ESCAPES);
      raw += r; dec += d; size += r.length;
    } else {
      const c = randomChar(R);
      raw += c; dec += c; size += Buffer.byteLength(c);
    }
  }
  return { raw, dec };
}

const HEAD = '{"type":"report_ready","plaintext_report":"';
function hash16(s) { return crypto.createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 16); }

// A report message of class cls: Buffer.
function reportMessage(R, cls, id, bodyBytes) {
  const tag = `${cls}${id}:`;
  const { raw, dec } = randomBody(R, bodyBytes);
  let tail = '"}';
  if (R.chance(0.2)) tail = `","json_report":{"findings":"${randomBody(R, R.int(0, 40)).raw}","x":null}}`;
  else if (R.chance(0.1)) tail = '", "html_content": null }  ';
  return Buffer.from(`${HEAD}${tag}${raw}:${hash16(tag + dec)}${tail}`, 'utf8');
}

// A large report, generated as it is written: {len, pieces()}.
// plaintext_report = tag + (pattern repeated, then 'x' padding) + ':' + hash.
function largeReport(R, cls, id, totalLen) {
  const tag = `${cls}${id}:`;
  const pat = Buffer.from(randomBody(R, PATTERN_BYTES).dec.replace(/[\u0000-\u001f"\\:]/g, 'y'), 'utf8');
  const pre = Buffer.from(HEAD + tag, 'utf8');
  const post = (h) => Buffer.from(`:${h}"}`, 'utf8');
  const bodyLen = totalLen - pre.length - 16 - 3;
  if (bodyLen < 0) throw new Error('large report too short');
  const reps = Math.floor(bodyLen / pat.length);
  const pad = Buffer.alloc(bodyLen - reps * pat.length, 'x');
  return {
    len: totalLen,
    async *pieces() {
      const h = crypto.createHash('sha256');
      h.update(tag, 'utf8');
      yield pre;
      for (let i = 0; i < reps; i++) { h.update(pat); yield pat; }
      h.update(pad); yield pad;
      yield post(h.digest('hex').slice(0, 16));
    },
  };
}

// A large payload with an invalid UTF-8 sequence at byte `at` (or at the end).
function largeInvalid(R, totalLen, bad) {
  const at = R.chance(0.3) ? totalLen - bad.length : R.int(0, totalLen - bad.length);
  const pat = Buffer.alloc(PATTERN_BYTES, 'x');
  return {
    len: totalLen,
    async *pieces() {
      let off = 0;
      const emit = function* (n) {
        while (n > 0) { const k = Math.min(n, pat.length); yield pat.subarray(0, k); n -= k; off += k; }
      };
      yield* emit(at);
      yield bad;
      yield* emit(totalLen - at - bad.length);
    },
  };
}

const INVALID_UTF8 = [
  'c080', 'c1bf', 'e08080', 'e09fbf', 'f0808080', 'f08fbfbf',     // overlong
  'eda080', 'edbfbf', 'edaf bf'.replace(' ', ''),                  // surrogates
  'f4908080', 'f5808080', 'f7bfbfbf', 'fe', 'ff',                  // above U+10FFFF, never UTF-8
  'c3', 'e282', 'f09f98', 'c328', 'e28228', '80', 'bf', 'e2a0',    // truncated, lone continuation
].map((h) => Buffer.from(h, 'hex'));

// A B-class report with an invalid UTF-8 sequence somewhere in its body
// (or at its very end, where only the end of the message reveals it).
function invalidUtf8Message(R, id) {
  const good = reportMessage(R, 'B', id, R.int(0, 200));
  const bad = R.pick(INVALID_UTF8);
  if (R.chance(0.15)) return Buffer.concat([good, bad]);
  const at = R.int(HEAD.length, good.length - 2);
  // Never inside a valid multi-byte character, so the sequence stays invalid.
  let cut = at;
  while (cut > 0 && (good[cut] & 0xc0) === 0x80) cut--;
  return Buffer.concat([good.subarray(0, cut), bad, good.subarray(cut)]);
}

// ------------------------------------------------------------------ frames

// A frame: {fin, rsv, op, mask, len_form, declared_len, payload: Buffer | {len, pieces}}
//          plus what the fuzzer knows of it: what (a name), cls.
function F(op, payload, extra = {}) { return { fin: 1, rsv: 0, op, mask: false, payload, ...extra }; }

// Splits buf into n >= 1 parts at random points (parts may be empty).
function cuts(R, buf, n) {
  const pts = [];
  for (let i = 1; i < n; i++) pts.push(R.int(0, buf.length));
  pts.sort((a, b) => a - b);
  const parts = []; let prev = 0;
  for (const p of pts) { parts.push(buf.subarray(prev, p)); prev = p; }
  parts.push(buf.subarray(prev));
  return parts;
}

function controlPayload(R) { return R.bytes(R.chance(0.3) ? R.pick([0, 125]) : R.int(0, 125)); }

// A message as fragments, with valid control frames sometimes between them.
function fragmented(R, msg, what, cls) {
  const parts = cuts(R, msg, R.int(2, 8));
  const frames = [];
  parts.forEach((p, i) => {
    frames.push(F(i === 0 ? 1 : 0, p, { fin: i === parts.length - 1 ? 1 : 0, what, cls }));
    if (i < parts.length - 1 && R.chance(0.2))
      frames.push(F(R.chance(0.7) ? 9 : 10, controlPayload(R), { what: 'ping between fragments', cls: 'C' }));
  });
  return frames;
}

// ------------------------------------------------------------------ the plan

// Item kinds. "fail": RFC 6455 makes the client fail the link; "undef": what
// the client does is not ours to say (the stream may be out of step), only
// that it survives and delivers nothing mutated; "close": the server's valid
// close; null: the link goes on.
//
// Each generator returns {frames, end}. A connection's plan is made lazily,
// item by item, from its own PRNG.

const P_LARGE = 1 / 4000;    // an item is a large frame (1..17 MiB)
const P_END = 1 / 45;        // an item ends the connection (a mutation or a close)

function* connectionPlan(k) {
  const R = rngFor(opt.seed, k);
  let nV = 0, nM = 0, nA = 0, nB = 0, nL = 0;
  let tainted = false;       // an undefined frame went out: later valid messages are M
  const id = (cls) => {
    const n = cls === 'V' ? nV++ : cls === 'M' ? nM++ : cls === 'A' ? nA++ : cls === 'L' ? nL++ : nB++;
    return `${k}.${n}`;
  };
  const validCls = () => (tainted ? 'M' : 'V');
  const small = () => R.int(0, R.chance(0.1) ? 3000 : 300);

  // The ordinary traffic.
  const valid = () => {
    const x = R.f();
    if (x < 0.55) {
      const cls = validCls();
      const msg = reportMessage(R, cls, id(cls), small());
      return { frames: [F(1, msg, { what: 'report', cls })], cls };
    }
    if (x < 0.8) {
      const cls = validCls();
      const msg = reportMessage(R, cls, id(cls), small());
      return { frames: fragmented(R, msg, 'report in fragments', cls), cls };
    }
    if (x < 0.9) return { frames: [F(9, controlPayload(R), { what: 'ping', cls: 'C' })] };
    if (x < 0.94) return { frames: [F(10, controlPayload(R), { what: 'unsolicited pong', cls: 'C' })] };
    // Refused messages that keep the link: binary, not JSON, not a report, empty.
    const junk = R.pick([
      () => F(2, reportMessage(R, 'B', id('B'), small()), { what: 'binary message', cls: 'B' }),
      () => F(1, Buffer.from(`{"type":"report_ready","plaintext_report":5,"x":"B${k}"}`), { what: 'report with a number', cls: 'B' }),
      () => F(1, Buffer.from('{"type":"report_ready"}'), { what: 'report with no representation', cls: 'B' }),
      () => F(1, Buffer.from(`${reportMessage(R, 'B', id('B'), small())}junk`), { what: 'text after the JSON', cls: 'B' }),
      () => F(1, Buffer.alloc(0), { what: 'empty text', cls: 'B' }),
      () => F(1, Buffer.from('{"type":"report_ready","plaintext_report":"B\\u0000"}'), { what: 'escaped NUL', cls: 'B' }),
      () => F(1, Buffer.from('{"type":"report_ready","plaintext_report":"B\\ud800"}'), { what: 'lone surrogate escape', cls: 'B' }),
      () => F(1, Buffer.from('['.repeat(R.int(10, 3000))), { what: 'deep nesting', cls: 'B' }),
    ]);
    return { frames: [junk()] };
  };

  const largeValid = () => {
    const cls = validCls();
    const len = R.int(MIB, LIMIT - 1);
    const big = largeReport(R, cls, id(cls), len);
    if (R.chance(0.5)) return { frames: [F(1, big, { what: `report of ${len} bytes`, cls })], cls };
    // In two frames: a large lazy start, then a small continuation ends the message
    // (the lazy payload cannot be cut, so it is the first fragment whole).
    return { frames: [F(1, big, { fin: 0, what: `report of ${len} bytes, fragment 1`, cls }),
                      F(0, Buffer.alloc(0), { what: 'empty last fragment', cls })], cls };
  };

  const largeFail = () => {
    const x = R.f();
    if (x < 0.4) {
      const len = R.int(LIMIT + 1, 17 * MIB);
      return { frames: [F(1, largeReport(R, 'B', id('B'), len), { what: `oversize text frame of ${len} bytes`, cls: 'B' })], end: 'fail' };
    }
    if (x < 0.8) {
      const len = R.int(MIB, 17 * MIB);
      const bad = R.pick(INVALID_UTF8);
      return { frames: [F(1, largeInvalid(R, len, bad), { what: `invalid UTF-8 (${bad.toString('hex')}) in a ${len}-byte frame`, cls: 'B' })], end: 'fail' };
    }
    // Fragments that are each fine but together pass the limit.
    const a = R.int(8 * MIB, LIMIT - 1), b = R.int(LIMIT - a + 1, LIMIT - a + 2 * MIB);
    return { frames: [F(1, largeReport(R, 'B', id('B'), a), { fin: 0, what: `fragment of ${a} bytes`, cls: 'B' }),
                      F(0, largeInvalid(R, b, Buffer.from('78', 'hex')), { what: `fragment of ${b} bytes past the limit`, cls: 'B' })], end: 'fail' };
  };

  // Frames RFC 6455 forbids: the client must fail the link.
  const mustFail = () => {
    const bad = () => reportMessage(R, 'B', id('B'), small());
    const m = R.pick([
      () => ({ frames: [F(R.pick([1, 0, 9]), R.chance(0.5) ? bad().subarray(0, 125) : Buffer.from('x'), { rsv: R.int(1, 7), what: 'RSV bits set', cls: 'B' })] }),
      () => { const op = R.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]);
              return { frames: [F(op, R.chance(0.5) ? bad() : controlPayload(R), { what: `reserved opcode ${op}`, cls: 'B' })] }; },
      () => ({ frames: [F(R.pick([8, 9, 10]), R.bytes(R.int(126, 400)), { what: 'control frame over 125 bytes', cls: 'C' })] }),
      () => ({ frames: [F(R.pick([9, 10]), controlPayload(R), { fin: 0, what: 'control frame with FIN=0', cls: 'C' })] }),
      () => ({ frames: [F(0, bad(), { what: 'continuation without a start', cls: 'B' })] }),
      () => { const parts = cuts(R, bad(), 2);
              return { frames: [F(1, parts[0], { fin: 0, what: 'fragment', cls: 'B' }),
                                F(R.pick([1, 2]), bad(), { what: 'new message inside a fragmented one', cls: 'B' })] }; },
      () => ({ frames: [F(1, invalidUtf8Message(R, id('B')), { what: 'invalid UTF-8', cls: 'B' })] }),
      () => { const msg = invalidUtf8Message(R, id('B'));
              return { frames: fragmented(R, msg, 'invalid UTF-8 in fragments', 'B') }; },
      () => ({ frames: [F(8, Buffer.from([R.int(0, 255)]), { what: 'close with a 1-byte payload', cls: 'C' })] }),
      () => { const code = R.pick([0, 999, 1004, 1005, 1006, 1015, 5000, 5001, 65535]);
              return { frames: [F(8, Buffer.concat([Buffer.from([code >> 8, code & 255]), Buffer.from(randomBody(R, R.int(0, 40)).dec.slice(0, 40)).subarray(0, 60)]), { what: `close with code ${code}`, cls: 'C' })] }; },
      () => { const text = Buffer.from('bye '.repeat(R.int(0, 12)), 'utf8');
              const at = R.int(0, text.length);
              const reason = Buffer.concat([text.subarray(0, at), R.pick(INVALID_UTF8), text.subarray(at)]);
              return { frames: [F(8, Buffer.concat([Buffer.from([0x03, 0xe9]), reason]), { what: 'close reason not UTF-8', cls: 'C' })] }; },
      () => ({ frames: [F(1, Buffer.from('x'), { declared_len: (2n ** 63n) + BigInt(R.int(0, 1000)), len_form: 64, what: '64-bit length with its top bit set', cls: 'B' })] }),
      // Enough bytes to fill the client's receive buffer, so its callback runs
      // (libwebsockets hands a frame over only by the buffer-full or at its end).
      () => ({ frames: [F(1, Buffer.concat([Buffer.from('{"t'), Buffer.alloc(R.int(70000, 140000), 'x')]), { declared_len: BigInt(R.int(64 * MIB + 1, 2 ** 40)), len_form: 64, what: 'length far past the limit', cls: 'B' })] }),
    ]);
    return { ...m(), end: 'fail' };
  };

  // Frames whose effect is undefined: the stream may be out of step after them.
  const undefinedFrame = () => {
    const bad = reportMessage(R, 'B', id('B'), small());
    const x = R.f();
    if (x < 0.35) {
      const d = R.chance(0.5) ? R.int(1, 40) : R.int(1, 70000);
      const declared = R.chance(0.5) ? bad.length + d : Math.max(0, bad.length - d);
      return { frames: [F(1, bad, { declared_len: BigInt(declared), what: `declared length ${declared} for ${bad.length} bytes`, cls: 'B' })], end: 'undef' };
    }
    if (x < 0.6) {
      const f = F(R.pick([1, 1, 1, 0, 9, 8]), bad.subarray(0, R.chance(0.3) ? 125 : bad.length), { what: 'header with flipped bits', cls: 'B' });
      f.flips = R.int(1, 3);
      f.flipSeed = R.int(0, 2 ** 31);
      return { frames: [f], end: 'undef' };
    }
    if (x < 0.8) {
      const cls = 'L';
      const msg = reportMessage(R, cls, id(cls), R.int(0, 400));
      const form = msg.length < 126 ? R.pick([16, 64]) : 64;
      return { frames: [F(1, msg, { len_form: form, what: `${form}-bit length for ${msg.length} bytes`, cls })], end: 'lax' };
    }
    if (x < 0.85) {
      // RFC 6455 5.1 makes the client fail the link on a masked server frame;
      // libwebsockets 4.1.6 unmasks it and passes it on (a known gap, see
      // test_frames.py), so what it carries may be delivered, intact.
      const msg = reportMessage(R, 'L', id('L'), R.int(0, 400));
      return { frames: [F(1, msg, { mask: true, what: 'masked frame', cls: 'L' })], end: 'lax' };
    }
    if (x < 0.9) return { frames: [F(9, controlPayload(R), { len_form: R.pick([16, 64]), what: 'ping with a non-minimal length', cls: 'C' })], end: 'lax' };
    if (x < 0.93) return { frames: [F(1, Buffer.from('{"t'), { declared_len: BigInt(R.int(LIMIT + 1, 2 ** 40)), len_form: 64, what: 'length past the limit, 3 bytes sent', cls: 'B' })], end: 'undef' };
    // A message left unfinished by the server's FIN.
    const parts = cuts(R, bad, 2);
    return { frames: [F(1, parts[0], { fin: 0, what: 'unfinished message', cls: 'B' })], end: 'undef' };
  };

  const validClose = () => {
    const code = R.pick([1001, 1011, 1012, 1013, R.int(3000, 3999)]);
    let reason = Buffer.from(randomBody(R, R.int(0, 130)).dec.replace(/[\u0000-\u001f]/g, ''), 'utf8');
    // At most 123 bytes, cut at a character boundary.
    let n = Math.min(reason.length, R.chance(0.2) ? 123 : 60);
    while (n > 0 && n < reason.length && (reason[n] & 0xc0) === 0x80) n--;
    reason = reason.subarray(0, n);
    return { frames: [F(8, Buffer.concat([Buffer.from([code >> 8, code & 255]), reason]), { what: `close ${code} with a ${n}-byte reason`, cls: 'C' })], end: 'close' };
  };

  for (;;) {
    let item;
    if (R.chance(P_LARGE)) item = R.chance(0.4) ? largeValid() : largeFail();
    else if (R.chance(P_END)) {
      const x = R.f();
      item = x < 0.6 ? mustFail() : x < 0.9 ? undefinedFrame() : validClose();
    } else item = valid();
    if (item.end === 'lax') { tainted = true; item.end = null; item.lax = true; }
    yield item;
    if (item.end) {
      // Whatever follows the end on this connection: after a failure or a
      // close it must never be delivered (A); after an undefined frame, M.
      const cls = item.end === 'undef' ? 'M' : 'A';
      const trail = [];
      for (let i = R.int(0, 3); i > 0; i--) {
        const msg = reportMessage(R, cls, id(cls), small());
        trail.push(F(1, msg, { what: `report after the end (${cls})`, cls }));
      }
      if (trail.length) yield { frames: trail, trailing: true };
      return;
    }
  }
}

// ------------------------------------------------------------------ stats

const stats = {
  frames: 0, frames_planned: 0, connections: 0, bytes: 0, valid_sent: 0, maybe_sent: 0,
  lax_sent: 0, after_end_sent: 0, bad_sent: 0, large_frames: 0, ends: { fail: 0, undef: 0, close: 0, budget: 0 },
  must_fail_kept: 0, failed_without_close_frame: 0, unexpected_closes: 0, bad_pongs: 0, pongs: 0, client_close_codes: {},
};
const findings = [];               // {kind, conn, frame, what}
const recent = [];                 // the last frames begun: where a crash happened
const vPerConn = [];               // V messages fully written, per connection plan (index - firstConn)
const vUnwritten = [];             // V ids planned but not fully written (a close mid-way)
let nextPlan = opt.firstConn;
let finished = false;
let lastActivity = Date.now();
const t0 = Date.now();

function record(kind, conn, f, extra = {}) {
  const entry = { kind, conn: conn.plan, frame: f ? f.index : null, what: f ? f.what : null, ...extra };
  log(`FINDING ${JSON.stringify(entry)}`);
  if (findings.length < MAX_RECORDED) findings.push(entry);
}

// ------------------------------------------------------------------ writing

const rawWrite = (conn, buf) => writeDrained(conn.socket, buf);

const tick = () => new Promise((r) => setImmediate(r));

// The batch of small frames not written yet, and the frames it completes.
async function flush(conn) {
  if (!conn.batch.length) return !conn.gone;
  const buf = Buffer.concat(conn.batch), done = conn.batchFrames;
  conn.batch = []; conn.batchBytes = 0; conn.batchFrames = [];
  const ok = await rawWrite(conn, buf);
  if (ok) for (const f of done) wrote(conn, f);
  else conn.gone = true;
  return ok;
}

function wrote(conn, f) {
  stats.frames++;
  const c = f.cls;
  if (f.lastOfMessage) {
    if (c === 'V') { stats.valid_sent++; conn.vWritten++; }
    else if (c === 'M') stats.maybe_sent++;
    else if (c === 'L') stats.lax_sent++;
    else if (c === 'A') stats.after_end_sent++;
  }
  if (c === 'B') stats.bad_sent++;
  if (f.large) stats.large_frames++;
}

// Whether head is the header of an unmasked, final text frame of len bytes
// without RSV bits: a frame that delivers its payload as it is.
function wellFormedText(head, len) {
  if (head[0] !== 0x81 || (head[1] & 0x80)) return false;
  const l7 = head[1] & 0x7f;
  if (l7 < 126) return l7 === len;
  if (l7 === 126) return head.length >= 4 && head.readUInt16BE(2) === len;
  return head.length >= 10 && head.readBigUInt64BE(2) === BigInt(len);
}

function headerBytes(conn, f, len) {
  let head = Buffer.concat(header(f, len));
  if (f.flips) {
    const r = mulberry32(f.flipSeed);
    head = Buffer.from(head);
    // Distinct bits, so two flips never cancel out into the frame as it was.
    const bits = new Set();
    while (bits.size < Math.min(f.flips, head.length * 8)) bits.add(Math.floor(r() * head.length * 8));
    for (const b of bits) head[b >> 3] ^= 1 << (b & 7);
    // A flip can also make a well-formed text frame of the payload (a ping's
    // 0x89 becomes 0x81): then one more bit, until it is not one.
    for (let i = 0; i < 64 && wellFormedText(head, len); i++) {
      const b = Math.floor(r() * head.length * 8);
      head[b >> 3] ^= 1 << (b & 7);
    }
  }
  return head;
}

async function writeFrame(conn, f) {
  if (f.op === 9 && Buffer.isBuffer(f.payload)) conn.pingsSent.add(f.payload.toString('hex'));
  const lazy = !Buffer.isBuffer(f.payload);
  const len = lazy ? f.payload.len : f.payload.length;
  const head = headerBytes(conn, f, len);
  if (lazy) {
    f.large = true;
    if (!(await flush(conn))) return false;
    if (!(await rawWrite(conn, head))) return (conn.gone = true, false);
    stats.bytes += head.length;
    for await (const piece of f.payload.pieces()) {
      if (conn.clientClosed || !(await rawWrite(conn, piece))) {
        // Cut in the middle of a frame: nothing else can follow on this socket.
        conn.gone = true;
        conn.socket.destroy();
        return false;
      }
      stats.bytes += piece.length;
    }
    wrote(conn, f);
    return true;
  }
  let bytes;
  if (f.mask) {
    const key = conn.R.bytes(4);
    const p = Buffer.from(f.payload);
    for (let i = 0; i < p.length; i++) p[i] ^= key[i & 3];
    bytes = Buffer.concat([head, key, p]);
  } else bytes = Buffer.concat([head, f.payload]);
  stats.bytes += bytes.length;
  if (f.split) {
    // Written a few bytes at a time, with tiny pauses: the client reads the
    // frame in pieces cut anywhere (inside the header, inside a character).
    if (!(await flush(conn))) return false;
    for (const piece of cuts(conn.R, bytes, conn.R.int(2, 6))) {
      if (!piece.length) continue;
      if (!(await rawWrite(conn, piece))) return (conn.gone = true, false);
      if (conn.R.chance(0.5)) await tick(); else await sleep(conn.R.int(0, 2));
    }
    wrote(conn, f);
    return true;
  }
  conn.batch.push(bytes); conn.batchBytes += bytes.length; conn.batchFrames.push(f);
  if (conn.batchBytes >= BATCH_BYTES) return flush(conn);
  return true;
}

// Replies owed to the client (pongs, the text "pong"): written between messages only.
async function writeOwed(conn) {
  while (conn.owed.length) {
    const [op, payload] = conn.owed.shift();
    conn.batch.push(Buffer.concat([...header({ op }, payload.length), payload]));
    conn.batchBytes += payload.length + 2;
  }
}

function waitFor(conn, pred, ms) {
  return new Promise((resolve) => {
    if (pred()) return resolve(true);
    const timer = setTimeout(() => { conn.waiters.delete(check); resolve(false); }, ms);
    const check = () => { if (pred()) { clearTimeout(timer); conn.waiters.delete(check); resolve(true); } };
    conn.waiters.add(check);
  });
}
function wake(conn) { for (const w of [...conn.waiters]) w(); }

function logFrame(conn, f, bytesHead) {
  if (!opt.logFrames) return;
  const len = Buffer.isBuffer(f.payload) ? f.payload.length : f.payload.len;
  const first = Buffer.isBuffer(f.payload) ? f.payload.subarray(0, 48).toString('hex') : '(generated)';
  log(`frame ${JSON.stringify({ conn: conn.plan, index: f.index, what: f.what, cls: f.cls, len, flips: f.flips, head: bytesHead.toString('hex'), payload: first })}`);
}

async function stream(conn) {
  const R = rngFor(opt.seed, `w${conn.plan}`);     // cuts and pauses, apart from the plan
  conn.R = R;
  const plan = connectionPlan(conn.plan);
  let end = null, endFrame = null, index = 0;
  let vPlanned = 0;
  for (const item of plan) {
    if (conn.gone || conn.clientClosed) break;
    if (stats.frames_planned >= opt.frames && !item.trailing) { end = 'budget'; break; }
    if (!item.trailing) await writeOwed(conn);
    // From here on the client may close the link, or see frames we never meant.
    if (item.end || item.lax || item.trailing) conn.ended = true;
    const frames = item.frames;
    frames.forEach((f, i) => {
      f.index = index++;
      f.lastOfMessage = (f.op === 1 || f.op === 0) && f.fin && (f.cls !== 'C');
      if (f.cls === 'V' && f.lastOfMessage) vPlanned++;
      f.split = Buffer.isBuffer(f.payload) && R.chance(0.04);
    });
    let cut = false;
    for (const f of frames) {
      stats.frames_planned++;
      recent.push({ conn: conn.plan, frame: f.index, what: f.what, cls: f.cls, t_ms: Date.now() - t0 });
      if (recent.length > 8) recent.shift();
      if (opt.logFrames) logFrame(conn, f, headerBytes(conn, f, Buffer.isBuffer(f.payload) ? f.payload.length : f.payload.len));
      if (!(await writeFrame(conn, f))) { cut = true; break; }
      if (conn.clientClosed) {
        await flush(conn);
        cut = f !== frames[frames.length - 1] || !item.end;
        break;
      }
    }
    if (R.chance(0.3) && !(await flush(conn))) cut = true;
    lastActivity = Date.now();
    if (item.end) { end = item.end; endFrame = frames[frames.length - 1]; }
    if (cut) break;
    if (R.chance(0.02)) await tick();   // let the reader side breathe now and then
  }
  if (!conn.gone && !conn.clientClosed && (end === null || end === 'budget')) {
    // Out of budget (or a plan that ended without an end): a clean close.
    end = 'budget';
    const f = F(8, Buffer.from([0x03, 0xe9]), { what: 'final close 1001', cls: 'C', index: index++ });
    conn.ended = true;
    stats.frames_planned++;
    endFrame = f;
    await writeFrame(conn, f);
  }
  await flush(conn);
  const how = end || (conn.clientClosed ? 'client_closed' : 'cut');
  stats.ends[how] = (stats.ends[how] || 0) + 1;
  if (how === 'cut' && !conn.ended) record('the connection ended before any invalid frame, without a close frame', conn,
                            recent[recent.length - 1] && { index: recent[recent.length - 1].frame, what: recent[recent.length - 1].what });

  // Valid messages the client did not close on: V ones must all have gone out
  // before the end (only a close the client started on its own can cut them).
  if (conn.vWritten < vPlanned && !end) {
    vUnwritten.push({ conn: conn.plan, planned: vPlanned, written: conn.vWritten });
  }
  vPerConn[conn.plan - opt.firstConn] = conn.vWritten;

  if (end === 'fail' || end === 'close' || end === 'budget') {
    // The client fails the link (or answers the server's close) with its close frame.
    const ms = CLOSE_WAIT_MS * (endFrame && endFrame.large ? 10 : 1);
    const closed = await waitFor(conn, () => conn.clientClosed || conn.socket.destroyed, ms);
    if (closed && end === 'fail' && !conn.clientClosed) stats.failed_without_close_frame++;
    if (!closed && end === 'fail') {
      stats.must_fail_kept++;
      record('the client kept the link after a frame it must fail it on', conn, endFrame);
    } else if (!closed) {
      record(`no close from the client after the server's close (${end})`, conn, endFrame);
    }
  } else if (!conn.clientClosed && !conn.socket.destroyed) {
    conn.socket.end();
  }
  if (!conn.socket.destroyed) {
    if (conn.clientClosed && !conn.socket.writableEnded) {
      const echo = conn.clientCloseCode && conn.clientCloseCode !== 1005
        ? Buffer.from([conn.clientCloseCode >> 8, conn.clientCloseCode & 0xff]) : Buffer.alloc(0);
      conn.socket.write(Buffer.concat([...header({ op: 8 }, echo.length), echo]));
      conn.socket.end();
    } else if (!conn.socket.writableEnded) conn.socket.end();
    const gone = await waitFor(conn, () => conn.socket.destroyed, END_WAIT_MS);
    if (!gone) conn.socket.destroy();
  }
  conn.streamDone = true;
  lastActivity = Date.now();
  if (stats.frames_planned >= opt.frames) finish();
}

// ------------------------------------------------------------------ reading

function onData(conn, chunk) {
  conn.inbuf = conn.inbuf.length ? Buffer.concat([conn.inbuf, chunk]) : chunk;
  for (;;) {
    const f = takeClientFrame(conn.inbuf, MAX_CLIENT_FRAME_BYTES);
    if (f.need) return;
    if (f.error) {
      record(f.error, conn, null);
      conn.gone = true; conn.socket.destroy(); return;
    }
    conn.inbuf = f.rest;
    onFrame(conn, f.fin, f.op, f.payload);
    if (conn.socket.destroyed) return;
  }
}

function onFrame(conn, fin, op, payload) {
  if (op === 8) {
    if (conn.clientClosed) return;
    conn.clientClosed = true;
    conn.clientCloseCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    stats.client_close_codes[conn.clientCloseCode] = (stats.client_close_codes[conn.clientCloseCode] || 0) + 1;
    if (conn.streaming && !conn.ended) {
      // The client failed a link on which nothing invalid had been sent yet.
      stats.unexpected_closes++;
      record(`the client closed (${conn.clientCloseCode}) a link that carried only valid frames`,
             conn, null, { reason: payload.subarray(2).toString('utf8').slice(0, 120) });
    }
    if (!conn.streaming) conn.socket.end();
    wake(conn);
  } else if (op === 9) {
    conn.owed.push([10, payload]);
  } else if (op === 10) {
    stats.pongs++;
    // Once an undefined frame went out, the client may see pings we never sent.
    if (!conn.ended && !conn.pingsSent.has(payload.toString('hex'))) {
      stats.bad_pongs++;
      record('a pong whose payload no ping had', conn, null, { payload: payload.toString('hex').slice(0, 64) });
    }
  } else if (op === 1) {
    const text = payload.toString('utf8');
    if (!conn.authenticated) {
      let key = null;
      try { key = JSON.parse(text).doctor_key; } catch { /* not JSON */ }
      if (typeof key === 'string' && keys.includes(key)) conn.authenticated = true;
      else {
        log(`connection #${conn.id}: unknown key`);
        conn.socket.write(Buffer.concat([...header({ op: 8 }, 2), Buffer.from([0x03, 0xf0])]));
        conn.socket.end();
      }
    } else if (text === 'ping') {
      if (!conn.streaming) {
        conn.socket.write(Buffer.concat([...header({ op: 1 }, 4), Buffer.from('pong')]));
        startStreaming(conn);
      } else conn.owed.push([1, Buffer.from('pong')]);
    }
  }
}

function startStreaming(conn) {
  if (finished || stats.frames_planned >= opt.frames) { conn.socket.end(); return; }
  conn.streaming = true;
  conn.plan = nextPlan++;
  stats.connections++;
  stream(conn).catch((e) => {
    log(`connection plan ${conn.plan}: ${e.stack || e}`);
    record(`fuzzer error: ${e.message}`, conn, null);
    conn.socket.destroy();
  });
}

// ------------------------------------------------------------------ handshake

function upgrade(req, socket) {
  if (!completeHandshake(req, socket, WS_PATH)) return;
  lastActivity = Date.now();
  const conn = {
    id: stats.connections + 1, socket, inbuf: Buffer.alloc(0), authenticated: false, streaming: false,
    clientClosed: false, clientCloseCode: null, gone: false, owed: [], batch: [], batchBytes: 0,
    batchFrames: [], waiters: new Set(), vWritten: 0, pingsSent: new Set(), ended: false,
  };
  socket.on('data', (d) => onData(conn, d));
  socket.on('error', () => {});
  socket.on('end', () => { if (!conn.streaming || conn.streamDone) socket.destroy(); else { conn.gone = true; socket.destroy(); } });
  socket.on('close', () => { conn.gone = true; wake(conn); });
}

// ------------------------------------------------------------------ the end

function finish(stalled = false) {
  if (finished) return;
  finished = true;
  const done = {
    event: 'done', seed: opt.seed, first_conn: opt.firstConn, ...stats, stalled,
    duration_ms: Date.now() - t0, findings, recent, v_unwritten: vUnwritten.slice(0, MAX_RECORDED),
    v_per_conn: vPerConn.map((n) => n || 0),
  };
  process.stdout.write(JSON.stringify(done) + '\n', () => process.exit(0));
}

const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
server.on('upgrade', upgrade);
server.listen(opt.port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ event: 'listening', port: server.address().port }) + '\n');
});
let ticks = 0;
setInterval(() => {
  if (!finished && Date.now() - lastActivity > STALL_MS) { log('no progress: giving up'); finish(true); }
  if (++ticks % 10 === 0 && !finished)
    process.stdout.write(JSON.stringify({ event: 'progress', frames: stats.frames, connections: stats.connections,
                                          valid_sent: stats.valid_sent, t_ms: Date.now() - t0 }) + '\n');
}, 1000).unref();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => finish(true));
