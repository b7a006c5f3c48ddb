// Unit tests of /js/webrtc-gateway.js against an in-memory gateway: `node --test src/test/js/`.
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import { Client, GatewayError } from "../../main/webapp/js/webrtc-gateway.js";
import { FakeGateway } from "./fake-gateway.mjs";
import { advance, rejection, settle } from "./support.mjs";

function recorder(client) {
  const events = [];
  for (const name of ["registered", "unregistered", "disconnected", "reconnecting", "reconnected", "error", "incoming"]) {
    client.addEventListener(name, (e) => events.push({ name, detail: e.detail }));
  }
  events.names = () => events.map((e) => e.name);
  events.of = (name) => events.filter((e) => e.name === name).map((e) => e.detail);
  return events;
}

let gw;
beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  mock.method(Math, "random", () => 1); // jitter at its top: delay == the exponential base
  gw = new FakeGateway();
});
afterEach(() => {
  mock.timers.reset();
  mock.restoreAll();
});

function newClient(options = {}) {
  return new Client({
    url: "http://gw.test:8086",
    WebSocketImpl: gw.WebSocket,
    reconnect: { minDelay: 500, maxDelay: 4000, maxAttempts: 5 },
    ...options,
  });
}

async function connected(options) {
  const client = newClient(options);
  const events = recorder(client);
  const promise = client.connect();
  await settle();
  await promise;
  return { client, events };
}

async function registered(options) {
  const { client, events } = await connected(options);
  const promise = client.register("1001", "secret");
  await settle();
  await promise;
  return { client, events };
}

describe("construction", () => {
  test("WebSocket URL is the base URL with ws(s) scheme and /ws", () => {
    const ws = (url) => new Client({ url, WebSocketImpl: gw.WebSocket }).webSocketUrl;
    assert.equal(ws("http://gw.test:8086"), "ws://gw.test:8086/ws");
    assert.equal(ws("https://gw.test"), "wss://gw.test/ws");
    assert.equal(ws("https://gw.test/gateway/"), "wss://gw.test/gateway/ws");
    assert.equal(ws("wss://gw.test/x?a=1#f"), "wss://gw.test/x/ws");
    assert.throws(() => ws("ftp://gw.test"), TypeError);
  });

  test("url defaults to the page origin", () => {
    globalThis.location = { origin: "https://page.test", href: "https://page.test/app/index.html" };
    try {
      assert.equal(new Client({ WebSocketImpl: gw.WebSocket }).webSocketUrl, "wss://page.test/ws");
    } finally {
      delete globalThis.location;
    }
  });

  test("bad reconnect options are refused", () => {
    assert.throws(() => newClient({ reconnect: { minDelay: 0 } }), TypeError);
    assert.throws(() => newClient({ reconnect: { minDelay: 1000, maxDelay: 10 } }), TypeError);
    assert.throws(() => newClient({ reconnect: { maxAttempts: 0 } }), TypeError);
  });
});

describe("connect", () => {
  test("sends hello v1 with the token and resolves with the session", async () => {
    const { client } = await connected({ token: "t0k" });
    const [hello] = gw.requestsOf("hello");
    assert.deepEqual({ ...hello, id: undefined }, { type: "hello", version: 1, token: "t0k", id: undefined });
    assert.equal(client.state, "connected");
    assert.equal(client.session, "s1.gw1");
    assert.equal(client.instance, "gw1");
    assert.equal(gw.lastSocket.url, "ws://gw.test:8086/ws");
  });

  test("resolves with what hello answered", async () => {
    const client = newClient();
    const p = client.connect();
    await settle();
    assert.deepEqual(await p, { session: "s1.gw1", instance: "gw1", resumed: false, keepaliveInterval: 20, idleTimeout: 60 });
  });

  test("a socket that does not open rejects with CONNECT_FAILED and leaves the client disconnected", async () => {
    gw.up = false;
    const client = newClient();
    const p = rejection(client.connect());
    await settle();
    const e = await p;
    assert.ok(e instanceof GatewayError);
    assert.equal(e.code, "CONNECT_FAILED");
    assert.equal(client.state, "disconnected");
  });

  test("a refused hello rejects with the gateway's code", async () => {
    gw.handlers.hello = () => ({ error: { code: "TOO_MANY_SESSIONS", message: "limit 10" } });
    const client = newClient();
    const p = rejection(client.connect());
    await settle();
    assert.deepEqual({ ...(await p) }, { name: "GatewayError", code: "TOO_MANY_SESSIONS" });
    assert.equal((await p).message, "limit 10");
    assert.equal(client.state, "disconnected");
    assert.equal(gw.lastSocket.readyState, 3, "socket closed");
  });

  test("a socket closing before hello is answered rejects with CONNECT_FAILED", async () => {
    gw.handlers.hello = (msg, socket) => void socket.serverClose(1011);
    const client = newClient();
    const p = rejection(client.connect());
    await settle();
    assert.equal((await p).code, "CONNECT_FAILED");
    assert.equal(client.state, "disconnected");
  });

  test("connect twice is refused", async () => {
    const { client } = await connected();
    await assert.rejects(client.connect(), { code: "ALREADY_CONNECTED" });
  });

  test("register before connect is NOT_CONNECTED", async () => {
    await assert.rejects(newClient().register("1001"), { code: "NOT_CONNECTED" });
  });
});

describe("requests", () => {
  test("answers are matched to requests by id, whatever their order", async () => {
    const { client } = await connected();
    const held = [];
    gw.handlers.register = (msg, socket) => void held.push({ msg, socket });
    gw.handlers.unregister = (msg, socket) => void held.push({ msg, socket });
    const reg = client.register("1001");
    const unreg = rejection(client.unregister());
    await settle();
    assert.equal(held.length, 2);
    assert.notEqual(held[0].msg.id, held[1].msg.id);
    gw.answer(held[1].socket, held[1].msg.id, { error: { code: "REGISTRATION_IN_PROGRESS", message: "busy" } });
    gw.answer(held[0].socket, held[0].msg.id, { dn: "1001", expires: 1800 });
    await settle();
    assert.deepEqual(await reg, { dn: "1001", expires: 1800 });
    assert.equal((await unreg).code, "REGISTRATION_IN_PROGRESS");
  });

  test("register sends dn and password; password is omitted when not given", async () => {
    const { client } = await connected();
    client.register("1001", "secret");
    await settle();
    await client.unregister();
    client.register("1002");
    await settle();
    const [first, second] = gw.requestsOf("register");
    assert.equal(first.dn, "1001");
    assert.equal(first.password, "secret");
    assert.equal(second.dn, "1002");
    assert.ok(!("password" in second));
  });

  test("a SIP refusal rejects with code, sipStatus and sipReason", async () => {
    const { client, events } = await connected();
    gw.handlers.register = () => ({
      error: { code: "SIP_REJECTED", message: "SIP Server refused the registration: 403 Forbidden", sipStatus: 403, sipReason: "Forbidden" },
    });
    const p = rejection(client.register("1001", "wrong"));
    await settle();
    const e = await p;
    assert.ok(e instanceof Error);
    assert.ok(e instanceof GatewayError);
    assert.equal(e.code, "SIP_REJECTED");
    assert.equal(e.sipStatus, 403);
    assert.equal(e.sipReason, "Forbidden");
    assert.match(e.message, /403 Forbidden/);
    assert.deepEqual(events.names(), []);
    assert.equal(client.registration, null);
  });

  test("a request without an answer rejects with TIMEOUT after requestTimeout", async () => {
    const { client } = await connected({ requestTimeout: 3000 });
    gw.handlers.register = () => undefined;
    let outcome = null;
    client.register("1001").catch((e) => (outcome = e));
    await advance(2990);
    assert.equal(outcome, null);
    await advance(20);
    assert.equal(outcome?.code, "TIMEOUT");
  });

  test("an error frame without id becomes an error event", async () => {
    const { events } = await connected();
    gw.lastSocket.deliver({ type: "error", id: null, code: "BAD_JSON", message: "not JSON" });
    gw.lastSocket.deliver("garbage");
    await settle();
    assert.deepEqual(events.of("error").map((d) => d.code), ["BAD_JSON", "BAD_MESSAGE"]);
  });
});

describe("registration events", () => {
  test("registered is emitted once although both the result and the event report it", async () => {
    const { client, events } = await connected();
    gw.handlers.register = function (msg, socket, session) {
      session.dn = msg.dn;
      this.event(socket, "registered", { dn: msg.dn, expires: 3600 });
      return { dn: msg.dn, expires: 3600 };
    };
    const p = client.register("1001");
    await settle();
    await p;
    assert.deepEqual(events.of("registered"), [{ dn: "1001", expires: 3600 }]);
    assert.deepEqual(client.registration, { dn: "1001", expires: 3600 });
  });

  test("unregister emits unregistered with reason requested", async () => {
    const { client, events } = await registered();
    const p = client.unregister();
    await settle();
    assert.deepEqual(await p, { dn: "1001" });
    assert.deepEqual(events.of("unregistered"), [{ dn: "1001", reason: "requested" }]);
    assert.equal(client.registration, null);
  });

  test("the gateway's unregistered event is passed on with its SIP status", async () => {
    const { client, events } = await registered();
    gw.event(gw.lastSocket, "unregistered", { dn: "1001", reason: "refresh-failed", sipStatus: 503, sipReason: "Service Unavailable" });
    await settle();
    assert.deepEqual(events.of("unregistered"), [
      { dn: "1001", reason: "refresh-failed", sipStatus: 503, sipReason: "Service Unavailable" },
    ]);
    assert.equal(client.registration, null);
  });
});

describe("keepalive", () => {
  test("pings every keepaliveInterval from hello", async () => {
    gw.keepaliveInterval = 5;
    await connected();
    await advance(4990);
    assert.equal(gw.requestsOf("ping").length, 0);
    await advance(20);
    assert.equal(gw.requestsOf("ping").length, 1);
    await advance(5000);
    assert.equal(gw.requestsOf("ping").length, 2);
  });

  test("an unanswered ping counts as a lost connection", async () => {
    gw.keepaliveInterval = 5;
    const { events } = await registered({ keepalive: { timeout: 2000 } });
    gw.handlers.ping = () => undefined;
    await advance(5000 + 1990);
    assert.deepEqual(events.of("reconnecting"), []);
    await advance(20);
    const [reconnecting] = events.of("reconnecting");
    assert.equal(reconnecting.attempt, 1);
    assert.match(reconnecting.reason, /ping/);
    assert.equal(gw.sockets[0].closedBy, "client");
  });
});

describe("failover", () => {
  test("a dropped socket resumes the session: no second REGISTER, no second registered", async () => {
    const { client, events } = await registered();
    gw.lastSocket.serverClose(1006);
    await settle();
    assert.equal(client.state, "reconnecting");
    assert.deepEqual(events.of("reconnecting"), [{ attempt: 1, delay: 500, maxAttempts: 5, reason: "socket closed (1006)" }]);
    await advance(490);
    assert.equal(gw.sockets.length, 1, "waits for the backoff delay");
    await advance(20);
    assert.equal(gw.sockets.length, 2);
    assert.equal(gw.requestsOf("hello")[1].session, "s1.gw1");
    assert.deepEqual(events.of("reconnected"), [
      { attempt: 1, resumed: true, session: "s1.gw1", instance: "gw1", registered: true, dn: "1001" },
    ]);
    assert.equal(gw.requestsOf("register").length, 1);
    assert.deepEqual(events.names(), ["registered", "reconnecting", "reconnected"]);
    assert.equal(client.state, "connected");
  });

  test("an unknown session gets a fresh hello and the same DN registered with the same password", async () => {
    const { client, events } = await registered();
    gw.instance = "gw2";
    gw.crash();
    await advance(510);
    const hellos = gw.requestsOf("hello");
    assert.equal(hellos.length, 3);
    assert.equal(hellos[1].session, "s1.gw1");
    assert.equal(hellos[2].session, undefined);
    const helloSockets = gw.requests.filter((r) => r.msg.type === "hello").map((r) => r.socket);
    assert.equal(helloSockets[2], helloSockets[1], "the fresh hello goes on the same socket");
    const registers = gw.requestsOf("register");
    assert.equal(registers.length, 2);
    assert.equal(registers[1].dn, "1001");
    assert.equal(registers[1].password, "secret");
    assert.deepEqual(events.names(), ["registered", "reconnecting", "registered", "reconnected"]);
    assert.deepEqual(events.of("reconnected")[0], {
      attempt: 1, resumed: false, session: "s2.gw2", instance: "gw2", registered: true, dn: "1001",
    });
    assert.equal(client.session, "s2.gw2");
  });

  test("backoff doubles from minDelay up to maxDelay, then gives up with error and disconnected", async () => {
    const { client, events } = await registered();
    gw.crash({ staysDown: true });
    await advance(500 + 1000 + 2000 + 4000 + 4000 + 100);
    assert.deepEqual(events.of("reconnecting").map((d) => [d.attempt, d.delay]), [[1, 500], [2, 1000], [3, 2000], [4, 4000], [5, 4000]]);
    assert.equal(gw.sockets.length, 1 + 5, "one socket per attempt");
    const [error] = events.of("error");
    assert.equal(error.code, "RECONNECT_FAILED");
    assert.ok(error.error instanceof GatewayError);
    assert.equal(events.names().slice(-3).join(), "error,unregistered,disconnected");
    assert.deepEqual(events.of("unregistered"), [{ dn: "1001", reason: "disconnected" }]);
    assert.equal(events.of("disconnected")[0].reason, "reconnect-failed");
    assert.equal(client.state, "disconnected");
    gw.up = true;
    await advance(60000, 1000);
    assert.equal(gw.sockets.length, 6, "no attempt after giving up");
  });

  test("jitter draws the delay from [base/2, base]", async () => {
    Math.random.mock.mockImplementation(() => 0);
    const { events } = await registered();
    gw.crash({ staysDown: true });
    await advance(250 + 500 + 1000 + 100);
    assert.deepEqual(events.of("reconnecting").map((d) => d.delay), [250, 500, 1000, 2000]);
  });

  test("the next attempt resumes after a failed one", async () => {
    const { events } = await registered();
    gw.crash({ staysDown: true });
    await advance(510);
    assert.equal(events.of("reconnecting").length, 2);
    gw.up = true;
    await advance(1010);
    assert.deepEqual(events.of("reconnected").map((d) => [d.attempt, d.resumed, d.registered]), [[2, false, true]]);
  });

  test("a reconnect refused RATE_LIMITED waits the retryAfter it was given, not just the backoff", async () => {
    const { events } = await registered();
    gw.crash();
    gw.handlers.hello = function (msg) {
      if (msg.session) return { error: { code: "SESSION_UNKNOWN", message: "gone with the crash" } };
      delete gw.handlers.hello; // the next fresh hello is let in
      return { error: { code: "RATE_LIMITED", message: "too many sign-ins", retryAfter: 5 } };
    };
    await advance(510);
    // Math.random() is 1: the backoff is its base, the retryAfter gets its full quarter of jitter.
    assert.deepEqual(events.of("reconnecting").map((d) => [d.attempt, d.delay]), [[1, 500], [2, 6250]]);
    assert.equal(events.of("reconnecting")[1].reason, "RATE_LIMITED");
    await advance(6000);
    assert.equal(events.of("reconnected").length, 0, "no attempt before retryAfter");
    await advance(300);
    assert.deepEqual(events.of("reconnected").map((d) => [d.attempt, d.registered]), [[2, true]]);
  });

  test("an error frame's retryAfter is kept on the GatewayError", () => {
    const e = GatewayError.fromWire({ type: "error", id: 1, code: "RATE_LIMITED", message: "slow down", retryAfter: 3 });
    assert.equal(e.retryAfter, 3);
    assert.equal(GatewayError.fromWire({ code: "BAD_REQUEST", message: "x" }).retryAfter, undefined);
  });

  test("the shutdown event starts failover", async () => {
    const { client, events } = await registered();
    gw.event(gw.lastSocket, "shutdown", { reason: "stopping" });
    await settle();
    assert.equal(client.state, "reconnecting");
    assert.equal(gw.sockets[0].closedBy, "client");
    assert.match(events.of("reconnecting")[0].reason, /stopping/);
    await advance(510);
    assert.equal(events.of("reconnected").length, 1);
  });

  for (const code of ["SESSION_UNKNOWN", "NOT_READY"]) {
    test(`a request answered ${code} fails over and is retried after the reconnect`, async () => {
      const { client, events } = await connected();
      gw.handlers.register = () => ({ error: { code, message: "go elsewhere" } });
      const p = client.register("1001", "pw");
      await settle();
      assert.equal(client.state, "reconnecting");
      delete gw.handlers.register;
      await advance(510);
      assert.deepEqual(await p, { dn: "1001", expires: 3600 });
      assert.deepEqual(events.names(), ["reconnecting", "registered", "reconnected"]);
      assert.equal(gw.requestsOf("register").length, 2);
    });
  }

  test("register called while reconnecting waits for the reconnect", async () => {
    const { client, events } = await connected();
    gw.crash();
    await settle();
    let result = null;
    client.register("1001").then((r) => (result = r));
    await settle();
    assert.equal(gw.requestsOf("register").length, 0);
    await advance(510);
    assert.deepEqual(result, { dn: "1001", expires: 3600 });
    assert.deepEqual(events.names(), ["reconnecting", "reconnected", "registered"]);
  });

  test("requests waiting for a reconnect that fails reject with RECONNECT_FAILED", async () => {
    const { client } = await connected({ reconnect: { minDelay: 100, maxDelay: 100, maxAttempts: 2 } });
    gw.crash({ staysDown: true });
    await settle();
    const p = rejection(client.register("1001"));
    await advance(300);
    assert.equal((await p).code, "RECONNECT_FAILED");
  });

  test("re-registering refused by SIP Server: error and unregistered events, then reconnected unregistered", async () => {
    const { client, events } = await registered();
    gw.crash();
    gw.handlers.register = () => ({ error: { code: "SIP_REJECTED", message: "403 Forbidden", sipStatus: 403, sipReason: "Forbidden" } });
    await advance(510);
    assert.deepEqual(events.names(), ["registered", "reconnecting", "error", "unregistered", "reconnected"]);
    const [error] = events.of("error");
    assert.equal(error.code, "SIP_REJECTED");
    assert.equal(error.sipStatus, 403);
    assert.equal(error.dn, "1001");
    assert.deepEqual(events.of("unregistered"), [{ dn: "1001", reason: "reregister-failed", sipStatus: 403, sipReason: "Forbidden" }]);
    assert.equal(events.of("reconnected")[0].registered, false);
    assert.equal(client.registration, null);
    gw.crash();
    await advance(510);
    assert.equal(gw.requestsOf("register").length, 2, "not retried on later reconnects");
  });

  test("re-registering failing for a passing reason fails the attempt; the next one registers", async () => {
    const { events } = await registered();
    gw.crash();
    let refusals = 1;
    gw.handlers.register = function (msg, socket, session) {
      if (refusals-- > 0) return { error: { code: "SIP_UNAVAILABLE", message: "no SIP Server" } };
      session.dn = msg.dn;
      return { dn: msg.dn, expires: 3600 };
    };
    await advance(510 + 1010);
    assert.deepEqual(events.names(), ["registered", "reconnecting", "reconnecting", "registered", "reconnected"]);
    const hellos = gw.requestsOf("hello");
    assert.equal(hellos.at(-1).session, "s2.gw1", "second attempt resumes the fresh session of the first");
  });

  test("close code 4008 (too slow) is a lost connection: the session is resumed", async () => {
    const { client, events } = await registered();
    gw.lastSocket.serverClose(4008, "too slow: queue-full");
    await settle();
    assert.equal(client.state, "reconnecting");
    assert.equal(events.of("reconnecting")[0].reason, "socket closed (4008 too slow: queue-full)");
    await advance(510);
    assert.equal(gw.requestsOf("hello")[1].session, "s1.gw1");
    assert.deepEqual(events.of("reconnected"), [
      { attempt: 1, resumed: true, session: "s1.gw1", instance: "gw1", registered: true, dn: "1001" },
    ]);
    assert.equal(gw.requestsOf("register").length, 1, "no second REGISTER");
    assert.equal(client.state, "connected");
  });

  test("close code 4000 (resumed elsewhere) stops without reconnecting", async () => {
    const { client, events } = await registered();
    gw.lastSocket.serverClose(4000, "session resumed elsewhere");
    await advance(5000, 100);
    assert.deepEqual(events.names(), ["registered", "error", "unregistered", "disconnected"]);
    assert.equal(events.of("disconnected")[0].reason, "resumed-elsewhere");
    assert.equal(gw.sockets.length, 1);
    assert.equal(client.state, "disconnected");
  });
});

describe("disconnect", () => {
  test("sends bye, emits unregistered and disconnected, and never reconnects", async () => {
    gw.keepaliveInterval = 5;
    const { client, events } = await registered();
    const p = client.disconnect();
    await settle();
    await p;
    assert.equal(gw.requestsOf("bye").length, 1);
    assert.deepEqual(events.names(), ["registered", "unregistered", "disconnected"]);
    assert.deepEqual(events.of("unregistered"), [{ dn: "1001", reason: "signed-out" }]);
    assert.deepEqual(events.of("disconnected"), [{ reason: "client" }]);
    assert.equal(client.state, "disconnected");
    await advance(120000, 1000);
    assert.equal(gw.requestsOf("ping").length, 0, "keepalive stopped");
    assert.equal(gw.sockets.length, 1);
    assert.equal(gw.sockets[0].readyState, 3);
  });

  test("during a reconnect it cancels the backoff and rejects waiting calls with DISCONNECTED", async () => {
    const { client, events } = await registered();
    gw.crash({ staysDown: true });
    await settle();
    const waiting = rejection(client.unregister());
    await client.disconnect();
    assert.equal((await waiting).code, "DISCONNECTED");
    await advance(60000, 1000);
    assert.equal(gw.sockets.length, 1, "no attempt after disconnect");
    assert.deepEqual(events.names(), ["registered", "reconnecting", "unregistered", "disconnected"]);
  });

  test("while connecting it aborts the connect", async () => {
    const client = newClient();
    const p = rejection(client.connect());
    const d = client.disconnect();
    await settle();
    await d;
    assert.equal((await p).code, "DISCONNECTED");
    assert.equal(gw.sockets[0].readyState, 3);
    assert.equal(client.state, "disconnected");
  });

  test("a disconnected client can connect again, with a new session", async () => {
    const { client } = await registered();
    await client.disconnect();
    const p = client.connect();
    await settle();
    assert.equal((await p).session, "s2.gw1");
    assert.equal(gw.requestsOf("hello").at(-1).session, undefined);
  });
});

describe("tokens", () => {
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  test("getToken supplies the hello's token when none is given", async () => {
    let calls = 0;
    const { client } = await connected({ getToken: async () => `tok${++calls}` });
    assert.equal(gw.requestsOf("hello")[0].token, "tok1");
    assert.equal(client.state, "connected");
  });

  test("getToken that fails rejects connect with AUTH_REQUIRED", async () => {
    const client = newClient({ getToken: async () => { throw new Error("backend down"); } });
    const p = rejection(client.connect());
    await settle();
    const e = await p;
    assert.equal(e.code, "AUTH_REQUIRED");
    assert.match(e.message, /backend down/);
  });

  test("getToken must be a function", () => {
    assert.throws(() => newClient({ getToken: "abc" }), TypeError);
  });

  test("the token is renewed with auth before it runs out", async () => {
    gw.handlers.hello = function (msg, socket) {
      const session = { id: "s1.gw1", dn: null };
      this.sessions.set(session.id, session);
      socket.session = session.id;
      return { session: session.id, instance: "gw1", resumed: false, keepaliveInterval: 1000, idleTimeout: 2000,
        registration: null, tokenExpires: nowSeconds() + 40 };
    };
    gw.handlers.auth = (msg) => ({ tokenExpires: nowSeconds() + 40 });
    let calls = 0;
    const { events } = await connected({ getToken: () => `tok${++calls}` });
    assert.equal(gw.requestsOf("auth").length, 0);
    await advance(11000, 500); // 40 s left, renewed 30 s before the end
    const auths = gw.requestsOf("auth");
    assert.equal(auths.length, 1);
    assert.equal(auths[0].token, "tok2");
    assert.deepEqual(events.of("error"), []);
  });

  test("a refused renewal is reported and tried again", async () => {
    gw.handlers.hello = function (msg, socket) {
      const session = { id: "s1.gw1", dn: null };
      this.sessions.set(session.id, session);
      socket.session = session.id;
      return { session: session.id, instance: "gw1", resumed: false, keepaliveInterval: 1000, idleTimeout: 2000,
        registration: null, tokenExpires: nowSeconds() + 31 };
    };
    let refuse = true;
    gw.handlers.auth = () => (refuse ? { error: { code: "FORBIDDEN_DN", message: "another DN" } } : { tokenExpires: nowSeconds() + 3600 });
    const { events } = await connected({ getToken: () => "t" });
    await advance(1500, 100);
    assert.equal(events.of("error")[0].code, "FORBIDDEN_DN");
    refuse = false;
    await advance(2500, 100);
    assert.equal(gw.requestsOf("auth").length, 2);
    assert.equal(events.of("error").length, 1);
  });

  test("session-ended token-expired stops the client without reconnecting", async () => {
    const { client, events } = await connected({ token: "t" });
    gw.event(gw.lastSocket, "session-ended", { reason: "token-expired" });
    await advance(5000, 100);
    assert.equal(client.state, "disconnected");
    assert.equal(events.of("error")[0].code, "AUTH_INVALID");
    assert.equal(events.of("disconnected")[0].reason, "token-expired");
    assert.equal(gw.sockets.length, 1, "no reconnect");
  });

  test("a reconnect whose token is refused gives up at once without getToken", async () => {
    const { client, events } = await connected({ token: "t" });
    gw.handlers.hello = () => ({ error: { code: "AUTH_INVALID", message: "token refused: expired" } });
    gw.crash();
    await advance(5000, 100);
    assert.equal(client.state, "disconnected");
    assert.equal(gw.requestsOf("hello").length, 2, "one attempt only: another could not succeed");
    assert.equal(events.of("error")[0].code, "RECONNECT_FAILED");
  });

  test("with getToken a refused token is replaced on the next attempt", async () => {
    let calls = 0;
    const { client, events } = await connected({ getToken: () => `tok${++calls}` });
    gw.handlers.hello = function (msg, socket) {
      if (msg.token !== "tok3") return { error: { code: "AUTH_INVALID", message: "token refused: expired" } };
      const session = { id: "s9.gw1", dn: null };
      this.sessions.set(session.id, session);
      socket.session = session.id;
      return { session: session.id, instance: "gw1", resumed: false, keepaliveInterval: 20, idleTimeout: 60, registration: null };
    };
    gw.crash();
    await advance(8000, 100);
    assert.equal(client.state, "connected");
    assert.deepEqual(gw.requestsOf("hello").map((h) => h.token), ["tok1", "tok1", "tok2", "tok3"]);
    assert.equal(events.of("reconnected").length, 1);
  });
});
