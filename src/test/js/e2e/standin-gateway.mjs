// A stand-in for the gateway's browser side, for trying the Chromium harness without the Java gateway:
//
//   node src/test/js/e2e/standin-gateway.mjs [port]      (0 or nothing: a free port; prints {"url": ...})
//
// It serves /health/live, /js/webrtc-gateway.js from src/main/webapp and WebSocket protocol v1 on /ws
// (hello, register, unregister, ping, bye) with an in-memory registrar that accepts every DN. A
// restart is done by killing the process and starting it again on the same port: sessions are lost,
// as with the real gateway. Loopback only. Not a test of the gateway; a tool for the harness.
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const LIBRARY = fileURLToPath(new URL("../../../main/webapp/js/webrtc-gateway.js", import.meta.url));
const INSTANCE = `standin${process.pid}`;
const sessions = new Map();
let counter = 0;

const server = createServer(async (req, res) => {
  if (req.url === "/health/live") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"UP"}');
  } else if (req.url === "/js/webrtc-gateway.js") {
    res.writeHead(200, { "content-type": "text/javascript" }).end(await readFile(LIBRARY));
  } else {
    res.writeHead(404).end();
  }
});

// RFC 6455 §4.2.2: the accept key is base64(SHA-1(key + GUID)).
server.on("upgrade", (req, socket) => {
  if (req.url !== "/ws") return socket.destroy();
  const accept = createHash("sha1").update(req.headers["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const conn = { socket, session: null };
  let buffer = Buffer.alloc(0);
  socket.on("data", (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const frame = parseFrame(buffer);
      if (!frame) break;
      buffer = buffer.subarray(frame.length);
      if (frame.opcode === 0x8) {
        send(socket, 0x8, frame.payload.subarray(0, 2));
        socket.end();
        return;
      }
      if (frame.opcode === 0x9) send(socket, 0xa, frame.payload);
      if (frame.opcode === 0x1) onMessage(conn, frame.payload.toString("utf8"));
    }
  });
  socket.on("error", () => socket.destroy());
});

// RFC 6455 §5.2 base framing; client frames are masked, unfragmented here.
function parseFrame(buf) {
  if (buf.length < 2) return null;
  const opcode = buf[0] & 0x0f;
  let len = buf[1] & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    offset = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    len = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const masked = (buf[1] & 0x80) !== 0;
  const maskOffset = offset;
  if (masked) offset += 4;
  if (buf.length < offset + len) return null;
  const payload = Buffer.from(buf.subarray(offset, offset + len));
  if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskOffset + (i % 4)];
  return { opcode, payload, length: offset + len };
}

function send(socket, opcode, payload) {
  const len = payload.length;
  const header = len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]);
  socket.write(Buffer.concat([header, payload]));
}

function reply(conn, msg) {
  send(conn.socket, 0x1, Buffer.from(JSON.stringify(msg)));
}

function onMessage(conn, text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    return reply(conn, { type: "error", id: null, code: "BAD_JSON", message: "not JSON" });
  }
  const { id } = msg;
  const error = (code, message) => reply(conn, { type: "error", id, code, message });
  const session = conn.session && sessions.get(conn.session);
  switch (msg.type) {
    case "hello": {
      if (conn.session) return error("ALREADY_SIGNED_IN", "hello twice");
      let s;
      if (msg.session) {
        s = sessions.get(msg.session);
        if (!s) return error("SESSION_UNKNOWN", `no session ${msg.session}`);
      } else {
        s = { id: `s${++counter}.${INSTANCE}`, dn: null };
        sessions.set(s.id, s);
      }
      conn.session = s.id;
      return reply(conn, {
        type: "result", id, session: s.id, instance: INSTANCE, resumed: Boolean(msg.session),
        keepaliveInterval: 20, idleTimeout: 60, registration: s.dn ? { dn: s.dn, state: "registered" } : null,
      });
    }
    case "register":
      if (!session) return error("NOT_SIGNED_IN", "hello first");
      if (session.dn) return error("ALREADY_REGISTERED", session.dn);
      session.dn = msg.dn;
      return reply(conn, { type: "result", id, dn: msg.dn, expires: 3600 });
    case "unregister": {
      if (!session) return error("NOT_SIGNED_IN", "hello first");
      if (!session.dn) return error("NOT_REGISTERED", "nothing registered");
      const dn = session.dn;
      session.dn = null;
      return reply(conn, { type: "result", id, dn });
    }
    case "ping":
      return reply(conn, { type: "result", id, time: Date.now() });
    case "bye":
      if (session) sessions.delete(session.id);
      reply(conn, { type: "result", id });
      send(conn.socket, 0x8, Buffer.from([0x03, 0xe8]));
      return conn.socket.end();
    default:
      return error("UNKNOWN_TYPE", String(msg.type));
  }
}

server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` }));
});
