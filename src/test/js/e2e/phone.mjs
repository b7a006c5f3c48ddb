// A phone made of OUR client library (/js/webrtc-gateway.js) in headless Chromium, for integration
// tests and benchmarks (BrowserPhone.java is the Java driver).
//
//   node src/test/js/e2e/phone.mjs <gatewayUrl> [<cookie name>=<value>]
//
// The cookie, if given, is in the browser's jar for <gatewayUrl> before the page loads: a browser that
// a load balancer already pinned to an instance (e.g. GWINSTANCE=gw2, docs/deployment.md).
// The page is <gatewayUrl>/health/live (so it has the gateway's origin; http://127.0.0.1 counts as
// secure, so getUserMedia works), which imports <gatewayUrl>/js/webrtc-gateway.js and creates one
// Client for <gatewayUrl>. Microphone: Chromium's fake device (a beep). Every call's remote stream
// plays in an <audio> element, so received audio is decoded and its energy shows in getStats().
// Chromium runs with the loopback shim of chromium.mjs: all ICE stays on 127.0.0.1 (the gateway
// under test needs gateway.media.ice-addresses = ["127.0.0.1"]).
//
// stdin: one command per line; commands run concurrently, each answers with exactly one line carrying
// its "seq" (the count of command lines read). Call commands act on the current call: the last one
// placed with `call` or announced by `incoming`.
//   connect | register <dn> [password] | unregister | disconnect
//   token [<jwt>]                  a new Client (before connect) with this static token (none: no token)
//   tokens <jwt> [<jwt>...]        a new Client (before connect) whose getToken() hands these out in order,
//                                  the last one again and again; each call is reported as event "getToken"
//   call <to>                      client.call(to, {audio: true}); value {call, startedAt, resolvedAt}
//   answer | reject [status] | hangup | hold | resume | mute [true|false]
//   dtmf <tones> [durationMs]      call.sendDtmf (RTCDTMFSender in the browser; see docs/js-library.md)
//   info <contentType> <body...>   call.sendInfo (the body is the rest of the line)
//   stats [local]                  call.stats() (`local`: {gateway: false}); value as documented
//   state                          {client, session, registration, current, calls: [{id, state, ...}]}
//   quit                           closes Chromium, exits 0 (also at end of input, SIGTERM, SIGINT)
//
// stdout: one JSON object per line. "t": ms since the harness started; "at": the page's clock
// (performance.timeOrigin + performance.now(), epoch ms with a fraction) where the page saw it.
//   {"harness":"ready","chromium":"156..."}
//   {"command":"call","seq":3,"ok":true,"value":{..},"at":..}
//   {"command":"hold","seq":4,"ok":false,"error":{"code":"SIP_REJECTED","message":"..","sipStatus":488},"at":..}
//   {"event":"registered","detail":{"dn":"1001","expires":3600},"at":..}           Client events
//   {"event":"ringing","call":"k2V9x1.gw1","detail":{"sipStatus":180},"at":..}    Call events (track:
//        detail {kind, id}; incoming: detail {call, remote, remoteName, data})
//   {"wire":"out","type":"call","id":7,"at":..}            WebSocket frames of the calls, without SDP
//   {"wire":"in","type":"event","name":"connected","call":"..","at":..}   (pings are left out)
//   {"harness":"exit"} before exit 0; {"harness":"fatal","message":".."} before exit 1
// Diagnostics (page console, errors) go to stderr.
import { runHarness } from "./harness.mjs";

const CLIENT_EVENTS = ["registered", "unregistered", "incoming", "disconnected", "reconnecting", "reconnected", "error"];
const CALL_EVENTS = ["ringing", "early", "connected", "held", "resumed", "dtmf", "info", "remote-control", "track", "ended"];
// Runs in the page. Everything it hands back must survive JSON.
function installPhone({ moduleUrl, gatewayUrl, clientEvents, callEvents }) {
  const now = () => performance.timeOrigin + performance.now();
  const report = (object) => window.harnessReport(JSON.stringify({ ...object, at: now() }));
  const plain = (value) =>
    JSON.parse(
      JSON.stringify(value ?? null, (key, v) => {
        if (v instanceof Error) {
          const out = { name: v.name, code: v.code, message: v.message };
          if (v.sipStatus !== undefined) out.sipStatus = v.sipStatus;
          if (v.sipReason !== undefined) out.sipReason = v.sipReason;
          return out;
        }
        if (typeof MediaStreamTrack !== "undefined" && v instanceof MediaStreamTrack) return { kind: v.kind, id: v.id };
        if (typeof MediaStream !== "undefined" && v instanceof MediaStream) return { id: v.id };
        return v;
      }),
    );

  // The library's WebSocket with its call frames reported (type, name, call, id: never the SDP), for
  // latency break-downs: when the `call` request left, when `connected` arrived.
  const wireFields = (text) => {
    try {
      const m = JSON.parse(text);
      if (m.type === "ping" || (m.type === "result" && m.time !== undefined)) return null;
      const out = { type: m.type };
      for (const key of ["name", "call", "id", "code"]) if (m[key] !== undefined && typeof m[key] !== "object") out[key] = m[key];
      return out;
    } catch {
      return null;
    }
  };
  class ReportingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const fields = typeof e.data === "string" ? wireFields(e.data) : null;
        if (fields) report({ wire: "in", ...fields });
      });
    }

    send(data) {
      const fields = typeof data === "string" ? wireFields(data) : null;
      if (fields) report({ wire: "out", ...fields });
      super.send(data);
    }
  }

  let current = null;
  const players = new Map(); // call -> <audio>

  const play = (call) => {
    let element = players.get(call);
    if (!element) {
      element = document.createElement("audio");
      element.autoplay = true;
      document.body.append(element);
      players.set(call, element);
    }
    if (element.srcObject !== call.remoteStream) {
      element.srcObject = call.remoteStream;
      element.play().catch((e) => console.warn(`playing received audio: ${e.message}`));
    }
  };

  const watch = (call) => {
    current = call;
    for (const name of callEvents) {
      call.addEventListener(name, (e) => {
        if (name === "track") play(call);
        if (name === "ended") {
          players.get(call)?.remove();
          players.delete(call);
        }
        report({ event: name, call: call.id, detail: plain(e.detail) });
      });
    }
  };

  const requireCall = () => {
    if (!current) throw Object.assign(new Error("no call yet"), { code: "HARNESS" });
    return current;
  };

  return import(moduleUrl).then(({ Client }) => {
    let client;
    const makeClient = (auth) => {
      client = new Client({ url: gatewayUrl, WebSocketImpl: ReportingWebSocket, ...auth });
      listen(client);
      return { client: client.state };
    };
    const listen = (client) => {
    for (const name of clientEvents) {
      client.addEventListener(name, (e) => {
        if (name === "incoming") {
          const call = e.detail.call;
          watch(call);
          report({ event: name, call: call.id, detail: { call: call.id, remote: call.remote, remoteName: call.remoteName, data: call.data } });
          return;
        }
        report({ event: name, detail: plain(e.detail) });
      });
    }
    };
    makeClient({});

    const commands = {
      token: ([token]) => makeClient(token === undefined ? {} : { token }),
      tokens: (list) => {
        if (list.length === 0) throw Object.assign(new Error("tokens needs at least one token"), { code: "HARNESS" });
        let handedOut = 0;
        return makeClient({
          getToken: async () => {
            const token = list[Math.min(handedOut, list.length - 1)];
            handedOut++;
            report({ event: "getToken", detail: { n: handedOut } });
            return token;
          },
        });
      },
      connect: () => client.connect(),
      register: ([dn, password]) => client.register(dn, password),
      unregister: () => client.unregister(),
      disconnect: () => client.disconnect(),
      call: async ([to]) => {
        const startedAt = now();
        const call = await client.call(to, { audio: true });
        const resolvedAt = now();
        watch(call);
        return { call: call.id, state: call.state, startedAt, resolvedAt };
      },
      answer: async () => {
        const call = requireCall();
        await call.answer({ audio: true });
        return { call: call.id, state: call.state };
      },
      reject: ([status]) => requireCall().reject(status === undefined ? undefined : Number(status)),
      hangup: () => requireCall().hangup(),
      hold: () => requireCall().hold(),
      resume: () => requireCall().resume(),
      mute: ([on]) => requireCall().mute(on !== "false"),
      dtmf: ([tones, duration]) => requireCall().sendDtmf(tones, duration === undefined ? {} : { duration: Number(duration) }),
      info: ([contentType, ...body]) => requireCall().sendInfo(contentType, body.join(" ")),
      stats: ([scope]) => requireCall().stats({ gateway: scope !== "local" }),
      state: () => ({
        client: client.state,
        session: client.session,
        registration: client.registration,
        current: current?.id ?? null,
        calls: client.calls.map((c) => ({ id: c.id, state: c.state, direction: c.direction, remote: c.remote })),
      }),
    };

    window.harnessRun = async (command, args) => {
      try {
        const run = commands[command];
        if (!run) throw Object.assign(new Error(`unknown command ${command}`), { code: "HARNESS" });
        const value = await run(args);
        return { ok: true, value: plain(value), at: now() };
      } catch (e) {
        return { ok: false, error: plain(e), at: now() };
      }
    };
  });
}

runHarness({
  name: "phone",
  parseArgs: (argv) => {
    const gatewayUrl = (argv[0] ?? "").replace(/\/+$/, "");
    const cookie = argv[1]?.match(/^([^=;\s]+)=([^;\s]*)$/);
    if (!/^https?:\/\//.test(gatewayUrl) || argv.length > 2 || (argv[1] !== undefined && !cookie)) {
      throw new Error("usage: phone.mjs <gatewayUrl> [<cookie name>=<value>]");
    }
    return { gatewayUrl, cookie };
  },
  cookies: ({ gatewayUrl, cookie }) => (cookie ? [{ name: cookie[1], value: cookie[2], url: gatewayUrl }] : []),
  // The gateway's origin: http://127.0.0.1 counts as secure, so getUserMedia works.
  pageUrl: ({ gatewayUrl }) => `${gatewayUrl}/health/live`,
  install: installPhone,
  installArg: ({ gatewayUrl }) => ({
    moduleUrl: `${gatewayUrl}/js/webrtc-gateway.js`,
    gatewayUrl,
    clientEvents: CLIENT_EVENTS,
    callEvents: CALL_EVENTS,
  }),
});
