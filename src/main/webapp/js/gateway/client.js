// The signaling session of the WebRTC Gateway client library: connect, register, keepalive,
// failover (docs/js-library.md), speaking WebSocket protocol v1 (docs/protocol.md).
import { GatewayError } from "./errors.js";
import { CALL, CALL_KEY, Call } from "./call.js";

const PROTOCOL_VERSION = 1;
const WS_OPEN = 1; // WebSocket.OPEN, spelled out so injected implementations need not define it
const WS_CONNECTING = 0;

// Close code the gateway uses when this session was resumed on another socket (docs/protocol.md).
// Reconnecting then would fight the other socket for the session, so the client stops instead.
// Every other close is a lost connection (reconnect and resume), 4008 included: the gateway cut off a
// client that did not read what it was sent (a frozen tab), and kept its session for it.
const CLOSE_RESUMED_ELSEWHERE = 4000;

// Answers that mean "this instance cannot serve this session": fail over as if the socket broke.
const FAILOVER_CODES = new Set(["SESSION_UNKNOWN", "NOT_READY"]);
// A request that failed with one of these is retried once the client has reconnected.
const RETRY_AFTER_RECONNECT = new Set(["CONNECTION_LOST", "SESSION_UNKNOWN", "NOT_READY"]);
// Re-registering after a fresh hello failed for a reason another attempt will not fix.
const PERMANENT_REGISTER_CODES = new Set(["SIP_REJECTED", "INVALID_DN", "BAD_REQUEST", "ALREADY_REGISTERED",
  "FORBIDDEN_DN", "DN_IN_USE"]);
// A hello that fails like this will fail on every instance: stop reconnecting.
const FATAL_HELLO_CODES = new Set(["UNSUPPORTED_VERSION", "BAD_REQUEST"]);
// A hello refused for its token: fatal unless getToken() can supply another one.
const TOKEN_CODES = new Set(["AUTH_REQUIRED", "AUTH_INVALID", "FORBIDDEN_DN"]);
// A token is renewed when this share of its lifetime is left (at least TOKEN_MARGIN_MIN ms before it runs out).
const TOKEN_REFRESH_SHARE = 0.2;
const TOKEN_MARGIN_MIN = 30000;
const TOKEN_RETRY_MAX = 30000;

const DEFAULT_RECONNECT = Object.freeze({ minDelay: 500, maxDelay: 30000, maxAttempts: 10 });
const DEFAULT_KEEPALIVE_TIMEOUT = 10000;
const DEFAULT_REQUEST_TIMEOUT = 45000; // above SIP's 32 s transaction timeout (RFC 3261 §17.1.2.2, Timer F)
const BYE_TIMEOUT = 5000;
const DEFAULT_ICE_GATHERING_TIMEOUT = 2000;
// Events for a call id not known yet, kept while a `call` request waits for its result (the gateway
// may send `ringing` before the result reaches us). Bounded: a confused gateway cannot fill memory.
const MAX_EARLY_EVENTS_PER_CALL = 16;
const MAX_EARLY_CALLS = 8;

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential from `minDelay`, capped at `maxDelay`,
 * then drawn uniformly from [base/2, base] so browsers that lost the same instance spread out.
 */
function backoffDelay(attempt, { minDelay, maxDelay }) {
  const base = Math.min(maxDelay, minDelay * 2 ** (attempt - 1));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

/**
 * The wait a `RATE_LIMITED` answer asks for (its `retryAfter`, seconds), in ms, with up to a quarter more drawn at
 * random so that browsers refused together do not come back together; 0 for any other error.
 */
function retryAfterDelay(error) {
  if (error?.code !== "RATE_LIMITED" || !(error.retryAfter > 0)) return 0;
  const ms = error.retryAfter * 1000;
  return Math.round(ms + (Math.random() * ms) / 4);
}

/** `http(s)://host/path` -> `ws(s)://host/path/ws`. */
function webSocketUrl(base) {
  const url = new URL(base, globalThis.location?.href);
  const schemes = { "http:": "ws:", "https:": "wss:", "ws:": "ws:", "wss:": "wss:" };
  const scheme = schemes[url.protocol];
  if (!scheme) throw new TypeError(`url must be http(s) or ws(s): ${base}`);
  url.protocol = scheme;
  url.pathname = url.pathname.replace(/\/+$/, "") + "/ws";
  url.search = "";
  url.hash = "";
  return url.href;
}

/** `data` of client.call(): a plain object whose values become strings (SIP header values). */
function attachedData(data) {
  if (data === undefined || data === null) return null;
  if (typeof data !== "object" || Array.isArray(data)) throw new GatewayError("BAD_REQUEST", "data must be an object of strings");
  const out = {};
  for (const [key, value] of Object.entries(data)) out[key] = typeof value === "string" ? value : String(value);
  return out;
}

function positive(value, name) {
  if (typeof value !== "number" || !(value > 0)) throw new TypeError(`${name} must be a positive number`);
  return value;
}

/**
 * One browser's signaling session with the gateway.
 *
 * Events (`CustomEvent`, data in `detail`):
 * - `registered` `{dn, expires}`
 * - `unregistered` `{dn, reason, sipStatus?, sipReason?}`
 * - `reconnecting` `{attempt, delay, maxAttempts, reason}`
 * - `reconnected` `{attempt, resumed, session, instance, registered, dn}`
 * - `disconnected` `{reason, error?}`
 * - `error` `{code, message, error, sipStatus?, sipReason?, dn?}`
 * - `incoming` `{call}`: a {@link Call} with direction `incoming`, ringing
 */
export class Client extends EventTarget {
  #wsUrl;
  #token;
  /** options.getToken: () => string | Promise<string>, or undefined. */
  #getToken;
  /** When the current token runs out (ms since the epoch, from the gateway's `tokenExpires`), or null. */
  #tokenExpiresAt = null;
  #tokenTimer = null;
  #iceServers;
  #WebSocket;
  #reconnectOptions;
  #keepaliveOptions;
  #requestTimeout;
  /** What every Call needs from this client; made once. */
  #callContext;

  /** `idle` | `connecting` | `connected` | `reconnecting` | `disconnecting` | `disconnected` */
  #state = "idle";
  // Bumped by connect() and whenever the client stops: async work started under an older epoch
  // (a reconnect loop, a connect) sees the change after its next await and quits.
  #epoch = 0;
  #ws = null;
  #socketHasSession = false;
  #nextId = 1;
  /** id -> {type, resolve, reject, timer} */
  #pending = new Map();
  #session = null;
  #instance = null;
  #serverKeepaliveMs = null;
  #keepaliveTimer = null;
  #sleep = null;
  /** Set while a WebSocket is opening: aborts it (its timer included). */
  #abortOpen = null;
  /** Callers waiting for the client to be connected: {resolve, reject}. */
  #readyWaiters = [];
  /** The registration the application asked for, {dn, password}; failover restores it. */
  #target = null;
  /** The registration last announced with `registered`: {dn, expires, stale}. */
  #registration = null;
  /** Calls not ended yet, by id. */
  #calls = new Map();
  /** `call` requests waiting for their result. */
  #placing = 0;
  /** call id -> events that came before that call's result (only while #placing > 0). */
  #earlyEvents = new Map();

  /**
   * @param {object} [options]
   * @param {string} [options.url] gateway base URL; default the page's origin. The WebSocket is `<url>/ws`.
   * @param {RTCIceServer[]} [options.iceServers] for calls' RTCPeerConnections
   * @param {number} [options.iceGatheringTimeout] ms a call waits for ICE candidates before sending its
   *   SDP (default 2000); later candidates are trickled
   * @param {string} [options.token] sent in `hello` when the gateway requires tokens
   * @param {() => (string|Promise<string>)} [options.getToken] returns a fresh token: called before the first
   *   `hello` when no `token` is given, before the token runs out (the session then presents it with `auth`,
   *   so it outlives its first token) and when reconnecting with an expired or refused token
   * @param {{interval?: number, timeout?: number}} [options.keepalive] ms; `interval` overrides the
   *   gateway's `keepaliveInterval`, `timeout` (default 10000) is how long a ping may stay unanswered
   *   before the connection counts as lost
   * @param {{minDelay?: number, maxDelay?: number, maxAttempts?: number}} [options.reconnect] ms, ms,
   *   count (defaults 500, 30000, 10; `Infinity` retries forever)
   * @param {number} [options.requestTimeout] ms a request may wait for its answer (default 45000)
   */
  constructor(options = {}) {
    super();
    const url = options.url ?? globalThis.location?.origin;
    if (!url) throw new TypeError("options.url is required outside a browser page");
    this.#wsUrl = webSocketUrl(url);
    this.#token = options.token;
    if (options.getToken !== undefined && typeof options.getToken !== "function") {
      throw new TypeError("getToken must be a function returning a token (or a Promise of one)");
    }
    this.#getToken = options.getToken;
    this.#iceServers = options.iceServers ?? [];
    // Not part of the public API: tests inject a fake WebSocket class here.
    this.#WebSocket = options.WebSocketImpl ?? globalThis.WebSocket;
    if (typeof this.#WebSocket !== "function") throw new TypeError("no WebSocket implementation available");
    const reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    positive(reconnect.minDelay, "reconnect.minDelay");
    positive(reconnect.maxAttempts, "reconnect.maxAttempts");
    if (!(reconnect.maxDelay >= reconnect.minDelay)) throw new TypeError("reconnect.maxDelay must be >= minDelay");
    this.#reconnectOptions = Object.freeze(reconnect);
    const keepalive = options.keepalive ?? {};
    this.#keepaliveOptions = Object.freeze({
      interval: keepalive.interval === undefined ? undefined : positive(keepalive.interval, "keepalive.interval"),
      timeout: positive(keepalive.timeout ?? DEFAULT_KEEPALIVE_TIMEOUT, "keepalive.timeout"),
    });
    this.#requestTimeout = positive(options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT, "requestTimeout");
    // Not part of the public API either: tests inject fake WebRTC here. Looked up when a call needs them.
    const mediaDevices = globalThis.navigator?.mediaDevices;
    this.#callContext = Object.freeze({
      rtc: Object.freeze({
        RTCPeerConnection: options.RTCPeerConnectionImpl ?? globalThis.RTCPeerConnection,
        MediaStream: options.MediaStreamImpl ?? globalThis.MediaStream,
        getUserMedia: options.getUserMedia ?? (mediaDevices?.getUserMedia ? (c) => mediaDevices.getUserMedia(c) : undefined),
      }),
      iceServers: this.#iceServers,
      gatheringTimeout: positive(options.iceGatheringTimeout ?? DEFAULT_ICE_GATHERING_TIMEOUT, "iceGatheringTimeout"),
      // Call requests wait out a reconnect: a hangup must reach the gateway if the session resumes.
      request: async (type, fields) => {
        await this.#whenReady();
        return this.#request(type, fields);
      },
      forget: (call) => {
        if (this.#calls.get(call.id) === call) this.#calls.delete(call.id);
      },
    });
  }

  /** `idle`, `connecting`, `connected`, `reconnecting`, `disconnecting` or `disconnected`. */
  get state() {
    return this.#state;
  }

  /** The gateway session id, or null before `connect()` resolved. */
  get session() {
    return this.#session;
  }

  /** The id of the gateway instance serving the session. */
  get instance() {
    return this.#instance;
  }

  /** `{dn, expires}` while the DN is registered, else null. */
  get registration() {
    const reg = this.#registration;
    return reg && !reg.stale ? { dn: reg.dn, expires: reg.expires } : null;
  }

  /** The `iceServers` option, for calls. */
  get iceServers() {
    return this.#iceServers;
  }

  /** The WebSocket URL the client connects to. */
  get webSocketUrl() {
    return this.#wsUrl;
  }

  /** The calls not ended yet. */
  get calls() {
    return [...this.#calls.values()];
  }

  /**
   * Opens the WebSocket and signs in (`hello`).
   * @returns {Promise<{session: string, instance: string, resumed: boolean, keepaliveInterval: number, idleTimeout: number}>}
   *   rejects with `ALREADY_CONNECTED`, `CONNECT_FAILED`, `DISCONNECTED` (disconnect() called meanwhile)
   *   or the gateway's code (`TOO_MANY_SESSIONS`, `NOT_READY`, ...)
   */
  async connect() {
    if (this.#state !== "idle" && this.#state !== "disconnected") {
      throw new GatewayError("ALREADY_CONNECTED", `connect() while ${this.#state}`);
    }
    const epoch = ++this.#epoch;
    this.#state = "connecting";
    this.#session = null;
    try {
      await this.#open(epoch);
      if (this.#token === undefined && this.#getToken) await this.#fetchToken();
      const hello = await this.#request("hello", this.#helloFields(null));
      this.#adoptSession(hello);
      this.#state = "connected";
      this.#startKeepalive();
      this.#settleReady(null);
      return {
        session: hello.session,
        instance: hello.instance,
        resumed: Boolean(hello.resumed),
        keepaliveInterval: hello.keepaliveInterval,
        idleTimeout: hello.idleTimeout,
      };
    } catch (e) {
      if (epoch === this.#epoch) {
        this.#epoch++;
        this.#dropSocket("connect failed");
        this.#state = "disconnected";
        this.#session = null;
        this.#settleReady(e);
      }
      if (e.code === "CONNECTION_LOST") {
        throw new GatewayError("CONNECT_FAILED", `the connection closed during sign-in (${e.message})`, { cause: e });
      }
      throw e;
    }
  }

  /**
   * Registers a DN with SIP Server; resolves when SIP Server answered 200. While the client is
   * reconnecting the call waits; if the connection breaks before the answer, it is retried after the
   * reconnect.
   * @param {string} dn
   * @param {string} [password] SIP digest password, when SIP Server challenges
   * @returns {Promise<{dn: string, expires: number}>} rejects with a {@link GatewayError}
   *   (`SIP_REJECTED` with `sipStatus`/`sipReason`, `SIP_TIMEOUT`, `INVALID_DN`, `ALREADY_REGISTERED`,
   *   `NOT_CONNECTED`, `RECONNECT_FAILED`, `DISCONNECTED`, ...)
   */
  async register(dn, password) {
    if (typeof dn !== "string" || dn === "") throw new GatewayError("BAD_REQUEST", "dn must be a non-empty string");
    const fields = password === undefined || password === null ? { dn } : { dn, password: String(password) };
    let retried = false;
    for (;;) {
      await this.#whenReady();
      const reg = this.#registration;
      if (retried && reg && !reg.stale && reg.dn === dn) return { dn, expires: reg.expires };
      try {
        const result = await this.#request("register", fields);
        this.#target = { dn, password: fields.password };
        this.#setRegistered(result.dn ?? dn, result.expires);
        return { dn: result.dn ?? dn, expires: result.expires };
      } catch (e) {
        if (!RETRY_AFTER_RECONNECT.has(e.code)) throw e;
        // The reconnect this loss started restores the target; the loop then finds it registered.
        this.#target = { dn, password: fields.password };
        retried = true;
      }
    }
  }

  /**
   * Un-registers the DN (REGISTER with Expires: 0). Failover no longer restores it from this call on.
   * @returns {Promise<{dn: string}>} rejects with `NOT_REGISTERED`, `REGISTRATION_IN_PROGRESS`,
   *   `NOT_CONNECTED`, `RECONNECT_FAILED`, `DISCONNECTED`, ...
   */
  async unregister() {
    const dn = this.#target?.dn ?? this.#registration?.dn ?? null;
    this.#target = null;
    let retried = false;
    for (;;) {
      await this.#whenReady();
      if (retried && !this.#registration) return { dn };
      try {
        const result = await this.#request("unregister", {});
        this.#setUnregistered({ dn: result.dn ?? dn, reason: "requested" });
        return { dn: result.dn ?? dn };
      } catch (e) {
        if (retried && e.code === "NOT_REGISTERED") {
          this.#setUnregistered({ dn, reason: "requested" });
          return { dn };
        }
        if (!RETRY_AFTER_RECONNECT.has(e.code)) throw e;
        retried = true;
      }
    }
  }

  /**
   * Signs out (`bye`: the gateway un-registers the DN and ends the session), closes the socket and
   * stops every timer. No reconnect follows. Emits `unregistered` (if registered) and `disconnected`.
   * Pending calls of this client reject with `DISCONNECTED`.
   * @returns {Promise<void>} never rejects
   */
  async disconnect() {
    if (this.#state === "idle" || this.#state === "disconnected" || this.#state === "disconnecting") return;
    const epoch = ++this.#epoch;
    this.#state = "disconnecting";
    this.#cancelSleep();
    this.#stopKeepalive();
    if (this.#socketHasSession && this.#ws?.readyState === WS_OPEN) {
      try {
        await this.#request("bye", {}, Math.min(BYE_TIMEOUT, this.#requestTimeout));
      } catch {
        // The session then ends by the gateway's idle timeout; nothing more to do here.
      }
    }
    if (epoch === this.#epoch) {
      this.#finish("client", new GatewayError("DISCONNECTED", "disconnect() was called"), "signed-out");
    }
  }

  /**
   * Places a call: getUserMedia, an offer with the ICE candidates gathered within
   * `iceGatheringTimeout`, then the `call` request. Resolves with the {@link Call} once the gateway
   * sent the INVITE (state `calling`); the outcome arrives as Call events (`ringing`, `early`,
   * `connected`, or `ended` with the SIP status).
   * @param {string} to DN or SIP URI
   * @param {{audio?: boolean|MediaTrackConstraints, video?: boolean|MediaTrackConstraints,
   *   stream?: MediaStream, data?: Object<string, string>}} [options] audio defaults to true, video
   *   to false; `stream` replaces getUserMedia; `data` is attached data (SIP headers)
   * @returns {Promise<Call>} rejects with `BAD_REQUEST`, `USER_MEDIA_FAILED`, `NOT_SUPPORTED`,
   *   `NOT_CONNECTED`, `CONNECTION_LOST`, or the gateway's code (`TOO_MANY_CALLS`, `BAD_SDP`,
   *   `SIP_UNAVAILABLE`, ...)
   */
  async call(to, options = {}) {
    if (typeof to !== "string" || to === "") throw new GatewayError("BAD_REQUEST", "to must be a non-empty string");
    const data = attachedData(options.data);
    await this.#whenReady();
    const call = new Call(CALL_KEY, this.#callContext, { direction: "outgoing", remote: to, data });
    this.#placing++;
    try {
      const sdp = await call[CALL.prepareOffer](options);
      await this.#whenReady();
      // Not retried after a lost connection: the INVITE may be out, and a second would ring twice.
      const result = await this.#request("call", data ? { to, sdp, data } : { to, sdp });
      if (typeof result.call !== "string" || result.call === "") {
        throw new GatewayError("BAD_MESSAGE", "the gateway's call result has no call id");
      }
      const early = this.#earlyEvents.get(result.call) ?? [];
      this.#earlyEvents.delete(result.call);
      this.#calls.set(result.call, call);
      call[CALL.bind](result.call, early);
      return call;
    } catch (e) {
      call[CALL.abort]();
      throw e;
    } finally {
      if (--this.#placing === 0) this.#earlyEvents.clear();
    }
  }

  // ---- request/response layer -------------------------------------------------------------------

  /** Sends one request on the current socket; settles with its `result` or rejects with its `error`. */
  #request(type, fields, timeout = this.#requestTimeout) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WS_OPEN) {
      return Promise.reject(new GatewayError("CONNECTION_LOST", `not connected (sending ${type})`));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(String(id));
        reject(new GatewayError("TIMEOUT", `no answer to ${type} within ${timeout} ms`));
      }, timeout);
      this.#pending.set(String(id), { type, resolve, reject, timer });
      try {
        ws.send(JSON.stringify({ ...fields, type, id }));
      } catch (e) {
        clearTimeout(timer);
        this.#pending.delete(String(id));
        reject(new GatewayError("CONNECTION_LOST", `sending ${type} failed: ${e?.message ?? e}`, { cause: e }));
      }
    });
  }

  #rejectPending(error) {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }

  /** Resolves when connected; waits while connecting or reconnecting. */
  #whenReady() {
    if (this.#state === "connected") return Promise.resolve();
    if (this.#state === "connecting" || this.#state === "reconnecting") {
      return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
    }
    if (this.#state === "disconnecting") return Promise.reject(new GatewayError("DISCONNECTED", "disconnecting"));
    return Promise.reject(new GatewayError("NOT_CONNECTED", "call connect() first"));
  }

  #settleReady(error) {
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const w of waiters) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }

  // ---- socket -----------------------------------------------------------------------------------

  /** Opens a WebSocket and makes it the current one. */
  #open(epoch) {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new this.#WebSocket(this.#wsUrl);
      } catch (e) {
        reject(new GatewayError("CONNECT_FAILED", `cannot open ${this.#wsUrl}: ${e?.message ?? e}`, { cause: e }));
        return;
      }
      const settle = (error) => {
        clearTimeout(timer);
        if (this.#abortOpen === settle) this.#abortOpen = null;
        ws.removeEventListener("open", onOpen);
        ws.removeEventListener("close", onFail);
        ws.removeEventListener("error", onFail);
        if (error) {
          try {
            ws.close();
          } catch {
            // already closing
          }
          reject(error);
        }
      };
      const onOpen = () => {
        settle(null);
        if (epoch !== this.#epoch) {
          ws.close(1000);
          reject(new GatewayError("DISCONNECTED", "disconnect() was called"));
          return;
        }
        this.#attach(ws);
        resolve(ws);
      };
      const onFail = () => settle(new GatewayError("CONNECT_FAILED", `cannot open ${this.#wsUrl}`));
      const timer = setTimeout(
        () => settle(new GatewayError("CONNECT_FAILED", `${this.#wsUrl} did not open within ${this.#requestTimeout} ms`)),
        this.#requestTimeout,
      );
      this.#abortOpen = settle;
      ws.addEventListener("open", onOpen);
      ws.addEventListener("close", onFail);
      ws.addEventListener("error", onFail);
    });
  }

  #attach(ws) {
    this.#ws = ws;
    this.#socketHasSession = false;
    ws.addEventListener("message", (event) => {
      if (ws === this.#ws) this.#onFrame(event.data);
    });
    ws.addEventListener("close", (event) => {
      if (ws === this.#ws) this.#onSocketClosed(event);
    });
  }

  /** Forgets the current socket: closes it, fails its requests, stops the keepalive. */
  #dropSocket(why) {
    const ws = this.#ws;
    this.#ws = null;
    this.#socketHasSession = false;
    this.#stopKeepalive();
    if (ws && (ws.readyState === WS_OPEN || ws.readyState === WS_CONNECTING)) {
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
    }
    this.#rejectPending(new GatewayError("CONNECTION_LOST", `connection lost (${why})`));
  }

  #onSocketClosed(event) {
    if (event.code === CLOSE_RESUMED_ELSEWHERE) {
      const error = new GatewayError("RESUMED_ELSEWHERE", "the session was resumed on another connection");
      this.#emit("error", { code: error.code, message: error.message, error });
      this.#finish("resumed-elsewhere", error, "resumed-elsewhere");
      return;
    }
    this.#connectionLost(`socket closed (${event.code ?? "?"}${event.reason ? ` ${event.reason}` : ""})`);
  }

  /**
   * The socket broke, a keepalive went unanswered, or the instance said it cannot serve us. When
   * connected this starts failover; while connecting or reconnecting the attempt under way fails
   * through its rejected requests and the loop decides.
   */
  #connectionLost(why) {
    this.#dropSocket(why);
    if (this.#state === "connected") this.#reconnect(why);
  }

  #onFrame(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      msg = null;
    }
    if (msg === null || typeof msg !== "object" || Array.isArray(msg)) {
      this.#emit("error", { code: "BAD_MESSAGE", message: "the gateway sent a frame that is not a JSON object" });
      return;
    }
    switch (msg.type) {
      case "result":
      case "error": {
        const pending = msg.id === undefined || msg.id === null ? undefined : this.#pending.get(String(msg.id));
        if (!pending) {
          // An error the gateway could not tie to a request (e.g. BAD_JSON), or a late answer.
          if (msg.type === "error") {
            const error = GatewayError.fromWire(msg);
            this.#emit("error", { code: error.code, message: error.message, error });
          }
          return;
        }
        this.#pending.delete(String(msg.id));
        clearTimeout(pending.timer);
        if (msg.type === "result") {
          pending.resolve(msg);
          return;
        }
        const error = GatewayError.fromWire(msg);
        pending.reject(error);
        // hello answers SESSION_UNKNOWN as part of resuming; elsewhere it means this instance lost us.
        if (FAILOVER_CODES.has(error.code) && pending.type !== "hello") this.#connectionLost(error.code);
        return;
      }
      case "event":
        this.#onServerEvent(msg);
        return;
      default:
        return; // unknown message types are ignored (forward compatibility)
    }
  }

  // ---- server events ----------------------------------------------------------------------------

  #onServerEvent(msg) {
    switch (msg.name) {
      case "registered":
        // Also answered as the register result; #setRegistered announces a registration once.
        this.#setRegistered(msg.dn, msg.expires);
        return;
      case "unregistered":
        // The application decides whether to register again (e.g. not after `replaced`).
        if (this.#target?.dn === msg.dn) this.#target = null;
        if (this.#registration) {
          this.#setUnregistered({ dn: msg.dn, reason: msg.reason, sipStatus: msg.sipStatus, sipReason: msg.sipReason });
        }
        return;
      case "shutdown":
        this.#connectionLost(`instance ${msg.reason ?? "shutting down"}`);
        return;
      case "session-ended":
        if (this.#state !== "connected") return; // our own disconnect(), or a failover under way
        if (msg.reason === "token-expired") {
          // Its token ran out and no fresh one reached the gateway: the session is over on every instance.
          const error = new GatewayError("AUTH_INVALID", "the session's token expired and was not renewed");
          this.#emit("error", { code: error.code, message: error.message, error });
          this.#finish("token-expired", error, "token-expired");
        } else if (msg.reason === "signed-out") {
          // Signed out by an operator (or another tab with our session): final, never reconnect.
          const error = new GatewayError("SIGNED_OUT", "the gateway signed this session out");
          this.#emit("error", { code: error.code, message: error.message, error });
          this.#finish("signed-out", error, "signed-out");
        } else {
          this.#connectionLost(`session ended (${msg.reason ?? "unknown"})`);
        }
        return;
      default:
        if (typeof msg.call === "string" && msg.call !== "") this.#onCallEvent(msg);
        return; // unknown events are ignored (forward compatibility)
    }
  }

  #onCallEvent(msg) {
    if (msg.name === "incoming") {
      this.#onIncoming(msg);
      return;
    }
    const call = this.#calls.get(msg.call);
    if (call) {
      call[CALL.onEvent](msg);
      return;
    }
    if (this.#placing > 0) {
      const list = this.#earlyEvents.get(msg.call);
      if (list && list.length < MAX_EARLY_EVENTS_PER_CALL) list.push(msg);
      else if (!list && this.#earlyEvents.size < MAX_EARLY_CALLS) this.#earlyEvents.set(msg.call, [msg]);
    }
    // Otherwise a call this client has ended already (hung up, or lost in a failover): ignored.
  }

  #onIncoming(msg) {
    if (this.#calls.has(msg.call)) return;
    if (typeof msg.sdp !== "string" || msg.sdp === "") {
      this.#emit("error", { code: "BAD_MESSAGE", message: `incoming call ${msg.call} without an offer SDP; ignored` });
      return;
    }
    const data = msg.data && typeof msg.data === "object" && !Array.isArray(msg.data) ? msg.data : null;
    const call = new Call(CALL_KEY, this.#callContext, {
      direction: "incoming",
      id: msg.call,
      remote: typeof msg.from === "string" ? msg.from : String(msg.from ?? ""),
      remoteName: typeof msg.fromName === "string" && msg.fromName !== "" ? msg.fromName : null,
      data,
      offer: msg.sdp,
    });
    this.#calls.set(msg.call, call);
    this.#emit("incoming", { call });
  }

  /** Ends every call locally (the gateway ended them, or they cannot be reached any more). */
  #endCalls(reason) {
    this.#earlyEvents.clear();
    for (const call of [...this.#calls.values()]) call[CALL.end]({ reason });
    this.#calls.clear();
  }

  /**
   * After a resume the calls live on, but their events while no socket was attached are gone
   * (docs/protocol.md, "Session"). A call the gateway no longer knows ended meanwhile.
   */
  #verifyCalls() {
    for (const call of [...this.#calls.values()]) {
      this.#request("stats", { call: call.id }).catch((e) => {
        if (e.code === "CALL_UNKNOWN") call[CALL.end]({ reason: "connection-lost" });
      });
    }
  }

  #setRegistered(dn, expires) {
    const reg = this.#registration;
    if (reg && !reg.stale && reg.dn === dn) {
      if (expires !== undefined) reg.expires = expires;
      return;
    }
    this.#registration = { dn, expires: expires ?? reg?.expires ?? null, stale: false };
    this.#emit("registered", { dn, expires: this.#registration.expires });
  }

  #setUnregistered(detail) {
    const reg = this.#registration;
    if (!reg) return;
    this.#registration = null;
    const clean = { dn: detail.dn ?? reg.dn, reason: detail.reason };
    if (detail.sipStatus !== undefined) clean.sipStatus = detail.sipStatus;
    if (detail.sipReason !== undefined) clean.sipReason = detail.sipReason;
    this.#emit("unregistered", clean);
  }

  // ---- session, keepalive -----------------------------------------------------------------------

  #helloFields(resume) {
    const fields = { version: PROTOCOL_VERSION };
    if (resume) fields.session = resume;
    if (this.#token !== undefined) fields.token = this.#token;
    return fields;
  }

  #adoptSession(hello) {
    this.#adoptTokenExpiry(hello.tokenExpires);
    this.#session = hello.session;
    this.#instance = hello.instance ?? null;
    this.#serverKeepaliveMs = typeof hello.keepaliveInterval === "number" ? hello.keepaliveInterval * 1000 : null;
    this.#socketHasSession = true;
  }

  #startKeepalive() {
    this.#stopKeepalive();
    const interval = this.#keepaliveOptions.interval ?? this.#serverKeepaliveMs;
    if (!interval) return;
    const ws = this.#ws;
    const schedule = () => {
      this.#keepaliveTimer = setTimeout(async () => {
        this.#keepaliveTimer = null;
        if (ws !== this.#ws) return;
        try {
          await this.#request("ping", {}, this.#keepaliveOptions.timeout);
        } catch (e) {
          if (ws !== this.#ws) return; // already dropped and being handled
          if (e.code === "TIMEOUT") {
            this.#connectionLost(`no answer to ping within ${this.#keepaliveOptions.timeout} ms`);
            return;
          }
        }
        if (ws === this.#ws) schedule();
      }, interval);
    };
    schedule();
  }

  #stopKeepalive() {
    if (this.#keepaliveTimer !== null) clearTimeout(this.#keepaliveTimer);
    this.#keepaliveTimer = null;
  }

  // ---- failover ---------------------------------------------------------------------------------

  async #reconnect(why) {
    const epoch = this.#epoch;
    this.#state = "reconnecting";
    const { maxAttempts } = this.#reconnectOptions;
    let reason = why;
    let lastError = null;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      // Never sooner than a RATE_LIMITED refusal of the previous attempt asked.
      const delay = Math.max(backoffDelay(attempt, this.#reconnectOptions), retryAfterDelay(lastError));
      this.#emit("reconnecting", { attempt, delay, maxAttempts, reason });
      if (epoch !== this.#epoch) return;
      await this.#sleepFor(delay);
      if (epoch !== this.#epoch) return;
      try {
        const resumed = await this.#restore(epoch);
        if (epoch !== this.#epoch) return;
        this.#state = "connected";
        this.#startKeepalive();
        const reg = this.registration;
        this.#emit("reconnected", {
          attempt,
          resumed,
          session: this.#session,
          instance: this.#instance,
          registered: reg !== null,
          dn: reg?.dn ?? null,
        });
        this.#settleReady(null);
        if (resumed) this.#verifyCalls();
        return;
      } catch (e) {
        if (epoch !== this.#epoch) return;
        lastError = e;
        this.#dropSocket("reconnect attempt failed");
        if (e.fatal) break;
        reason = e.code ?? String(e);
      }
    }
    const error = new GatewayError(
      "RECONNECT_FAILED",
      `could not reconnect to ${this.#wsUrl}${lastError ? `: ${lastError.code ?? ""} ${lastError.message}` : ""}`,
      { cause: lastError ?? undefined },
    );
    this.#emit("error", { code: error.code, message: error.message, error });
    this.#finish("reconnect-failed", error, "disconnected");
  }

  /** One reconnect attempt: socket, hello (resume, else fresh), registration. Resolves `resumed`. */
  async #restore(epoch) {
    await this.#open(epoch);
    let hello = null;
    await this.#tokenForReconnect();
    if (this.#session) {
      try {
        hello = await this.#request("hello", this.#helloFields(this.#session));
      } catch (e) {
        if (e.code !== "SESSION_UNKNOWN") throw this.#helloFailure(e);
      }
    }
    // A failed hello leaves the socket without a session, so the fresh hello goes on the same socket.
    if (!hello) {
      await this.#tokenForReconnect();
      try {
        hello = await this.#request("hello", this.#helloFields(null));
      } catch (e) {
        throw this.#helloFailure(e);
      }
    }
    this.#adoptSession(hello);
    // Calls belong to the session: with a new one (another instance, or the old one expired) they are gone.
    if (!hello.resumed) this.#endCalls("connection-lost");
    this.#startKeepalive(); // re-registering may take a while; a dead socket must still be noticed
    await this.#restoreRegistration(hello.registration ?? null);
    return Boolean(hello.resumed);
  }

  #helloFailure(e) {
    if (FATAL_HELLO_CODES.has(e.code)) e.fatal = true;
    if (TOKEN_CODES.has(e.code)) {
      // With getToken the next attempt asks for a fresh token; without it, no attempt can succeed.
      if (this.#getToken) this.#tokenExpiresAt = 0;
      else e.fatal = true;
    }
    return e;
  }

  // ---- tokens -----------------------------------------------------------------------------------

  async #fetchToken() {
    let token;
    try {
      token = await this.#getToken();
    } catch (e) {
      throw new GatewayError("AUTH_REQUIRED", `getToken() failed: ${e?.message ?? e}`, { cause: e });
    }
    if (typeof token !== "string" || token === "") {
      throw new GatewayError("AUTH_REQUIRED", "getToken() returned no token");
    }
    this.#token = token;
    return token;
  }

  /** Before a reconnect's hello: a token that ran out (or was refused) is replaced first. */
  async #tokenForReconnect() {
    if (!this.#getToken) return;
    const expiresAt = this.#tokenExpiresAt;
    if (this.#token === undefined || (expiresAt !== null && expiresAt - Date.now() < TOKEN_MARGIN_MIN)) {
      await this.#fetchToken();
    }
  }

  #adoptTokenExpiry(tokenExpires) {
    this.#tokenExpiresAt = typeof tokenExpires === "number" ? tokenExpires * 1000 : null;
    this.#scheduleTokenRefresh();
  }

  #stopTokenRefresh() {
    if (this.#tokenTimer !== null) clearTimeout(this.#tokenTimer);
    this.#tokenTimer = null;
  }

  /** With getToken, renews the token with `auth` before it runs out; retries with backoff until it does. */
  #scheduleTokenRefresh(retryDelay) {
    this.#stopTokenRefresh();
    const expiresAt = this.#tokenExpiresAt;
    if (!this.#getToken || expiresAt === null) return;
    const left = expiresAt - Date.now();
    const margin = Math.max(TOKEN_MARGIN_MIN, left * TOKEN_REFRESH_SHARE);
    // setTimeout fires at once beyond 2^31-1 ms (24.8 days); a longer token is looked at again then.
    const delay = Math.min(2 ** 31 - 1, retryDelay ?? Math.max(1000, left - margin));
    const epoch = this.#epoch;
    this.#tokenTimer = setTimeout(async () => {
      this.#tokenTimer = null;
      if (epoch !== this.#epoch || this.#state !== "connected") return; // a reconnect renews it on its own
      try {
        const token = await this.#fetchToken();
        const result = await this.#request("auth", { token });
        if (epoch !== this.#epoch) return;
        this.#adoptTokenExpiry(result.tokenExpires);
      } catch (e) {
        if (epoch !== this.#epoch) return;
        const error = e instanceof GatewayError ? e : new GatewayError("AUTH_REQUIRED", String(e?.message ?? e), { cause: e });
        this.#emit("error", { code: error.code, message: `renewing the token failed: ${error.message}`, error });
        const next = Math.min(TOKEN_RETRY_MAX, Math.max(1000, (retryDelay ?? 1000) * 2));
        this.#scheduleTokenRefresh(next);
      }
    }, delay);
  }

  async #restoreRegistration(onServer) {
    const serverDn = onServer && onServer.state === "registered" ? onServer.dn : null;
    if (serverDn) {
      const previous = this.#registration?.dn === serverDn ? this.#registration.expires : undefined;
      this.#setRegistered(serverDn, onServer.expires ?? previous);
    } else if (this.#registration) {
      this.#registration.stale = true; // re-announced as `registered` once registered again
    }
    const target = this.#target;
    if (!target) {
      if (!serverDn) this.#setUnregistered({ reason: "session-lost" });
      return;
    }
    if (serverDn) return; // resumed with the registration intact
    let result;
    try {
      result = await this.#request("register", target.password === undefined ? { dn: target.dn } : target);
    } catch (e) {
      if (!PERMANENT_REGISTER_CODES.has(e.code)) throw e; // the attempt fails; the next one retries
      if (this.#target === target) this.#target = null;
      this.#emit("error", {
        code: e.code,
        message: `re-registering ${target.dn} failed: ${e.message}`,
        error: e,
        dn: target.dn,
        ...(e.sipStatus !== undefined && { sipStatus: e.sipStatus }),
        ...(e.sipReason !== undefined && { sipReason: e.sipReason }),
      });
      this.#setUnregistered({ dn: target.dn, reason: "reregister-failed", sipStatus: e.sipStatus, sipReason: e.sipReason });
      return;
    }
    this.#setRegistered(result.dn ?? target.dn, result.expires);
  }

  #sleepFor(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = null;
        resolve();
      }, ms);
      this.#sleep = { timer, resolve };
    });
  }

  #cancelSleep() {
    const sleep = this.#sleep;
    this.#sleep = null;
    if (sleep) {
      clearTimeout(sleep.timer);
      sleep.resolve();
    }
  }

  /** Stops for good: no socket, no timer, waiters rejected, then `unregistered` and `disconnected`. */
  #finish(reason, error, unregisteredReason) {
    this.#epoch++;
    this.#stopTokenRefresh();
    this.#state = "disconnected";
    this.#cancelSleep();
    this.#abortOpen?.(error);
    this.#rejectPending(error); // before #dropSocket, so callers see why rather than CONNECTION_LOST
    this.#dropSocket(reason);
    this.#settleReady(error);
    this.#session = null;
    this.#target = null;
    // disconnect() and an operator's sign-out end the session and so its calls on the gateway too.
    this.#endCalls(reason === "client" || reason === "signed-out" ? "session-ended" : "connection-lost");
    if (this.#registration) this.#setUnregistered({ reason: unregisteredReason });
    this.#emit("disconnected", reason === "client" ? { reason } : { reason, error });
  }

  #emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}
