// An in-memory stand-in for the gateway's WebSocket endpoint (docs/protocol.md), injected into the
// library through its `WebSocketImpl` option. Every socket event is delivered on a microtask, never
// synchronously, as a browser would; nothing here uses timers, so tests can mock them freely.

class FakeSocket extends EventTarget {
  constructor(url, gateway) {
    super();
    this.url = url;
    this.gateway = gateway;
    this.readyState = 0;
    this.session = null;
    this.closedBy = null;
    gateway.sockets.push(this);
    queueMicrotask(() => {
      if (this.readyState !== 0) return;
      if (gateway.up) {
        this.readyState = 1;
        this.dispatchEvent(new Event("open"));
      } else {
        this.#drop(1006, "");
        this.dispatchEvent(new Event("error"));
        this.#fireClose(1006, "");
      }
    });
  }

  send(text) {
    if (this.readyState !== 1) throw new Error("InvalidStateError: socket not open");
    this.gateway.receive(this, JSON.parse(text));
  }

  close(code = 1000, reason = "") {
    if (this.readyState >= 2) return;
    this.#drop(code, reason);
    this.closedBy = "client";
    queueMicrotask(() => this.#fireClose(code, reason));
  }

  // ---- the server side ----

  deliver(message) {
    if (this.readyState !== 1) return;
    queueMicrotask(() => {
      if (this.readyState !== 1) return;
      const event = new Event("message");
      event.data = typeof message === "string" ? message : JSON.stringify(message);
      this.dispatchEvent(event);
    });
  }

  serverClose(code = 1006, reason = "") {
    if (this.readyState >= 2) return;
    this.#drop(code, reason);
    this.closedBy = "server";
    queueMicrotask(() => this.#fireClose(code, reason));
  }

  #drop(code, reason) {
    this.readyState = 3;
    this.closeCode = code;
    this.closeReason = reason;
  }

  #fireClose(code, reason) {
    const event = new Event("close");
    event.code = code;
    event.reason = reason;
    event.wasClean = code === 1000;
    this.dispatchEvent(event);
  }
}

/** A request about an existing call of this session: `{}`, or `CALL_UNKNOWN`. */
function callRequest(msg, socket, session) {
  if (!session) return { error: { code: "NOT_SIGNED_IN", message: "hello first" } };
  if (!session.calls?.has(msg.call)) return { error: { code: "CALL_UNKNOWN", message: `no call ${msg.call}` } };
  return {};
}

/**
 * Sessions, registrations and default answers like the real gateway. Tests change behaviour with
 * `handlers[type] = (msg, socket, session) => answer` (return a result object, or `{error: {...}}`, or
 * `undefined` to leave the request unanswered) and inspect `requests`.
 */
export class FakeGateway {
  constructor({ instance = "gw1", keepaliveInterval = 20, idleTimeout = 60 } = {}) {
    this.instance = instance;
    this.keepaliveInterval = keepaliveInterval;
    this.idleTimeout = idleTimeout;
    this.up = true;
    this.sockets = [];
    this.sessions = new Map();
    this.requests = [];
    this.handlers = {};
    this.sessionCounter = 0;
    this.callCounter = 0;
    const gateway = this;
    this.WebSocket = class extends FakeSocket {
      constructor(url) {
        super(url, gateway);
      }
    };
  }

  get lastSocket() {
    return this.sockets[this.sockets.length - 1];
  }

  openSockets() {
    return this.sockets.filter((s) => s.readyState === 1);
  }

  requestsOf(type) {
    return this.requests.filter((r) => r.msg.type === type).map((r) => r.msg);
  }

  /** The instance dies: sockets break, sessions are gone; it comes back when `up` is set again. */
  crash({ staysDown = false } = {}) {
    this.sessions.clear();
    this.up = !staysDown;
    for (const s of this.sockets) s.serverClose(1006);
  }

  event(socket, name, fields = {}) {
    socket.deliver({ type: "event", name, ...fields });
  }

  /** SIP Server offers a call to the session on `socket`: the `incoming` event; the call is known from now on. */
  incoming(socket, fields = {}) {
    const id = fields.call ?? `p${++this.callCounter}.${this.instance}`;
    const session = this.sessions.get(socket.session);
    session.calls ??= new Set();
    session.calls.add(id);
    this.event(socket, "incoming", { call: id, from: "5000", fromName: "Customer", to: session.dn, sdp: "v=0\r\no=gateway offer\r\n", data: {}, ...fields });
    return id;
  }

  answer(socket, id, answer) {
    if (answer && answer.error) socket.deliver({ type: "error", id, ...answer.error });
    else socket.deliver({ type: "result", id, ...answer });
  }

  receive(socket, msg) {
    const entry = { msg, socket };
    this.requests.push(entry);
    const session = socket.session ? this.sessions.get(socket.session) : null;
    const handler = this.handlers[msg.type] ?? this.#defaults[msg.type];
    const answer = handler ? handler.call(this, msg, socket, session) : { error: { code: "UNKNOWN_TYPE", message: msg.type } };
    if (answer !== undefined) this.answer(socket, msg.id, answer);
  }

  #defaults = {
    hello(msg, socket) {
      if (socket.session) return { error: { code: "ALREADY_SIGNED_IN", message: "hello twice" } };
      let session;
      if (msg.session) {
        session = this.sessions.get(msg.session);
        if (!session) return { error: { code: "SESSION_UNKNOWN", message: `no session ${msg.session}` } };
        for (const other of this.sockets) {
          if (other !== socket && other.session === session.id && other.readyState === 1) {
            other.serverClose(4000, "session resumed elsewhere");
          }
        }
      } else {
        session = { id: `s${++this.sessionCounter}.${this.instance}`, dn: null, token: msg.token };
        this.sessions.set(session.id, session);
      }
      socket.session = session.id;
      return {
        session: session.id,
        instance: this.instance,
        resumed: Boolean(msg.session),
        keepaliveInterval: this.keepaliveInterval,
        idleTimeout: this.idleTimeout,
        registration: session.dn ? { dn: session.dn, state: "registered" } : null,
      };
    },
    register(msg, socket, session) {
      if (!session) return { error: { code: "NOT_SIGNED_IN", message: "hello first" } };
      if (session.dn) return { error: { code: "ALREADY_REGISTERED", message: session.dn } };
      session.dn = msg.dn;
      return { dn: msg.dn, expires: 3600 };
    },
    unregister(msg, socket, session) {
      if (!session) return { error: { code: "NOT_SIGNED_IN", message: "hello first" } };
      if (!session.dn) return { error: { code: "NOT_REGISTERED", message: "nothing registered" } };
      const dn = session.dn;
      session.dn = null;
      return { dn };
    },
    ping() {
      return { time: 1764012345678 };
    },
    // Calls (docs/protocol.md, "Calls"): ids `c<n>.<instance>`, kept per session, so a crash loses them.
    call(msg, socket, session) {
      if (!session) return { error: { code: "NOT_SIGNED_IN", message: "hello first" } };
      const id = `c${++this.callCounter}.${this.instance}`;
      session.calls ??= new Set();
      session.calls.add(id);
      return { call: id };
    },
    answer: callRequest,
    reject(msg, socket, session) {
      const known = callRequest(msg, socket, session);
      session?.calls?.delete(msg.call);
      return known;
    },
    hangup(msg, socket, session) {
      const known = callRequest(msg, socket, session);
      session?.calls?.delete(msg.call);
      return known;
    },
    hold: callRequest,
    resume: callRequest,
    dtmf: callRequest,
    info: callRequest,
    candidate: callRequest,
    "ice-restart"(msg, socket, session) {
      const known = callRequest(msg, socket, session);
      return known.error ? known : { sdp: "v=0\r\no=gateway ice-restart answer\r\n" };
    },
    stats(msg, socket, session) {
      const known = callRequest(msg, socket, session);
      return known.error ? known : { stats: { state: "connected", outbound: { packets: 50 }, inbound: { packets: 48 } } };
    },
    bye(msg, socket, session) {
      if (session) this.sessions.delete(session.id);
      this.answer(socket, msg.id, {});
      queueMicrotask(() => queueMicrotask(() => socket.serverClose(1000)));
      return undefined;
    },
  };
}
