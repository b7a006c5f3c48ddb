// Unit tests of the call part of /js/webrtc-gateway.js: an in-memory gateway (fake-gateway.mjs) and a
// fake WebRTC (fake-rtc.mjs). `node --test src/test/js/`.
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import { Call, Client, GatewayError } from "../../main/webapp/js/webrtc-gateway.js";
import { FakeGateway } from "./fake-gateway.mjs";
import { FakeMediaStream, FakeRtc, FakeTrack } from "./fake-rtc.mjs";
import { advance, rejection, settle } from "./support.mjs";

const CALL_EVENTS = ["ringing", "early", "connected", "held", "resumed", "dtmf", "info", "remote-control", "track", "ended"];
const ANSWER_SDP = "v=0\r\no=gateway answer\r\n";

let gw;
let rtc;
beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  mock.method(Math, "random", () => 1);
  gw = new FakeGateway();
  rtc = new FakeRtc();
});
afterEach(() => {
  mock.timers.reset();
  mock.restoreAll();
});

function recorder(target, names) {
  const events = [];
  for (const name of names) target.addEventListener(name, (e) => events.push({ name, detail: e.detail }));
  events.names = () => events.map((e) => e.name);
  events.of = (name) => events.filter((e) => e.name === name).map((e) => e.detail);
  return events;
}

async function registeredClient(options = {}) {
  const client = new Client({
    url: "http://gw.test:8086",
    WebSocketImpl: gw.WebSocket,
    iceServers: [{ urls: "stun:stun.test:3478" }],
    reconnect: { minDelay: 500, maxDelay: 4000, maxAttempts: 5 },
    ...rtc.options,
    ...options,
  });
  const clientEvents = recorder(client, ["incoming", "error", "reconnecting", "reconnected", "disconnected"]);
  const connecting = client.connect();
  await settle();
  await connecting;
  const registering = client.register("1001", "secret");
  await settle();
  await registering;
  return { client, clientEvents };
}

/** An outgoing call placed and its Call in hand, events recorded. */
async function placed(options = {}, callOptions = {}) {
  const { client, clientEvents } = await registeredClient(options);
  const promise = client.call("5000", callOptions);
  await settle();
  const call = await promise;
  return { client, clientEvents, call, events: recorder(call, CALL_EVENTS), pc: rtc.lastPc };
}

async function connectedCall(options) {
  const placedCall = await placed(options);
  gw.event(gw.lastSocket, "connected", { call: placedCall.call.id, sdp: ANSWER_SDP });
  await settle();
  assert.equal(placedCall.call.state, "connected");
  return placedCall;
}

/** An incoming call announced and its Call in hand, events recorded. */
async function offered(fields) {
  const { client, clientEvents } = await registeredClient();
  const id = gw.incoming(gw.lastSocket, fields);
  await settle();
  const [{ call }] = clientEvents.of("incoming");
  assert.equal(call.id, id);
  return { client, clientEvents, call, events: recorder(call, CALL_EVENTS) };
}

const requestsAbout = (type, call) => gw.requestsOf(type).filter((m) => m.call === call.id);

describe("outgoing calls", () => {
  test("call() sends the offer with its gathered candidates and resolves with a Call once the gateway answered", async () => {
    const { client } = await registeredClient();
    const promise = client.call("5000", { data: { case: 42, queue: "sales" } });
    await settle();
    const call = await promise;
    assert.ok(call instanceof Call);
    assert.ok(call instanceof EventTarget);
    assert.deepEqual(rtc.userMediaRequests, [{ audio: true, video: false }]);
    const pc = rtc.lastPc;
    assert.deepEqual(pc.config, {
      iceServers: [{ urls: "stun:stun.test:3478" }],
      bundlePolicy: "max-bundle",
      rtcpMuxPolicy: "require",
    });
    assert.deepEqual(pc.calls("addTrack"), [["audio"]]);
    const [request] = gw.requestsOf("call");
    assert.equal(request.to, "5000");
    assert.deepEqual(request.data, { case: "42", queue: "sales" });
    assert.match(request.sdp, /^v=0\r\no=fake offer 1\r\n/);
    assert.match(request.sdp, /a=candidate:1 1 udp .* typ host/, "non-trickle: the gathered candidate is in the SDP");
    assert.equal(gw.requestsOf("candidate").length, 0, "nothing left to trickle");
    assert.equal(call.id, "c1.gw1");
    assert.equal(call.direction, "outgoing");
    assert.equal(call.remote, "5000");
    assert.equal(call.state, "calling");
    assert.deepEqual(call.data, { case: "42", queue: "sales" });
    assert.deepEqual(client.calls, [call]);
  });

  test("ringing, then connected with the answer: setRemoteDescription, remote track, connected", async () => {
    const { call, events, pc } = await placed();
    gw.event(gw.lastSocket, "ringing", { call: call.id, sipStatus: 180 });
    await settle();
    assert.equal(call.state, "ringing");
    gw.event(gw.lastSocket, "connected", { call: call.id, sdp: ANSWER_SDP });
    await settle();
    assert.deepEqual(pc.calls("setRemoteDescription"), [["answer", ANSWER_SDP]]);
    assert.equal(call.state, "connected");
    assert.equal(typeof call.connectedAt, "number");
    assert.deepEqual(events.names(), ["ringing", "track", "connected"]);
    assert.deepEqual(events.of("ringing"), [{ sipStatus: 180 }]);
    const [track] = events.of("track");
    assert.equal(track.track.kind, "audio");
    assert.equal(call.remoteStream, track.remoteStream);
    assert.deepEqual(call.remoteStream.getTracks(), [track.track]);
  });

  test("early media: the 183 answer is applied; connected without sdp keeps it", async () => {
    const { call, events, pc } = await placed();
    gw.event(gw.lastSocket, "early", { call: call.id, sdp: ANSWER_SDP, sipStatus: 183 });
    await settle();
    assert.equal(call.state, "early");
    assert.deepEqual(pc.calls("setRemoteDescription"), [["answer", ANSWER_SDP]]);
    gw.event(gw.lastSocket, "connected", { call: call.id });
    await settle();
    assert.equal(call.state, "connected");
    assert.equal(pc.calls("setRemoteDescription").length, 1);
    assert.deepEqual(events.names(), ["track", "early", "connected"]);
    assert.deepEqual(events.of("early"), [{ sipStatus: 183 }]);
  });

  test("a final answer that differs from the early one is applied to a new local offer", async () => {
    const { call, pc } = await placed();
    gw.event(gw.lastSocket, "early", { call: call.id, sdp: ANSWER_SDP });
    gw.event(gw.lastSocket, "connected", { call: call.id, sdp: "v=0\r\no=gateway final\r\n" });
    await settle();
    assert.equal(call.state, "connected");
    assert.deepEqual(pc.calls("setRemoteDescription").map((c) => c[1]), [ANSWER_SDP, "v=0\r\no=gateway final\r\n"]);
    assert.equal(pc.calls("createOffer").length, 2);
  });

  test("events that arrive before the call's result reach the application's listeners", async () => {
    const { client } = await registeredClient();
    gw.handlers.call = function (msg, socket) {
      this.event(socket, "ringing", { call: "c9.gw1", sipStatus: 180 });
      this.event(socket, "early", { call: "c9.gw1", sdp: ANSWER_SDP, sipStatus: 183 });
      this.event(socket, "ringing", { call: "someone-else.gw1", sipStatus: 180 });
      return { call: "c9.gw1" };
    };
    const promise = client.call("5000");
    await settle();
    const call = await promise;
    const events = recorder(call, CALL_EVENTS);
    await advance(10);
    assert.deepEqual(events.names(), ["ringing", "track", "early"]);
    assert.equal(call.state, "early");
  });

  test("the call ends with the SIP status: ended once, media released, forgotten by the client", async () => {
    const { client, call, events, pc } = await placed();
    const localTrack = call.localStream.getAudioTracks()[0];
    gw.event(gw.lastSocket, "ended", { call: call.id, reason: "rejected", sipStatus: 486, sipReason: "Busy Here" });
    gw.event(gw.lastSocket, "ended", { call: call.id, reason: "rejected", sipStatus: 486, sipReason: "Busy Here" });
    await settle();
    assert.deepEqual(events.names(), ["ended"]);
    assert.deepEqual(events.of("ended"), [{ reason: "rejected", sipStatus: 486, sipReason: "Busy Here" }]);
    assert.equal(call.state, "ended");
    assert.equal(call.endReason, "rejected");
    assert.equal(pc.closed, true);
    assert.equal(localTrack.readyState, "ended", "the microphone is released");
    assert.deepEqual(client.calls, []);
  });

  test("hangup ends the call at once and tells the gateway; its ended event changes nothing", async () => {
    const { call, events, pc } = await connectedCall();
    const promise = call.hangup();
    assert.equal(call.state, "ended");
    assert.deepEqual(events.of("ended"), [{ reason: "local-hangup" }]);
    await settle();
    await promise;
    assert.equal(requestsAbout("hangup", call).length, 1);
    gw.event(gw.lastSocket, "ended", { call: call.id, reason: "local-hangup" });
    await settle();
    assert.equal(events.of("ended").length, 1);
    assert.equal(pc.closed, true);
    await call.hangup();
    assert.equal(requestsAbout("hangup", call).length, 1, "a second hangup sends nothing");
  });

  test("a failed getUserMedia rejects call() with USER_MEDIA_FAILED and sends nothing", async () => {
    const { client } = await registeredClient();
    rtc.userMediaError = Object.assign(new Error("Permission denied"), { name: "NotAllowedError" });
    const e = await rejection(client.call("5000"));
    assert.ok(e instanceof GatewayError);
    assert.equal(e.code, "USER_MEDIA_FAILED");
    assert.match(e.message, /NotAllowedError/);
    assert.equal(gw.requestsOf("call").length, 0);
    assert.equal(rtc.pcs.length, 0);
  });

  test("a refused call request rejects with the gateway's code and releases the media", async () => {
    const { client } = await registeredClient();
    gw.handlers.call = () => ({ error: { code: "TOO_MANY_CALLS", message: "limit reached" } });
    const promise = rejection(client.call("5000"));
    await settle();
    const e = await promise;
    assert.equal(e.code, "TOO_MANY_CALLS");
    assert.equal(rtc.lastPc.closed, true);
    assert.equal(rtc.lastPc.senders[0].track.readyState, "ended");
    assert.deepEqual(client.calls, []);
  });

  test("audio: false asks for no microphone but still receives audio", async () => {
    const { pc } = await placed({}, { audio: false });
    assert.deepEqual(rtc.userMediaRequests, []);
    assert.deepEqual(pc.calls("addTransceiver"), [["audio", { direction: "recvonly" }]]);
  });

  test("a stream given by the application is sent and not stopped at the end", async () => {
    const track = new FakeTrack("audio");
    const { call, pc } = await placed({}, { stream: new FakeMediaStream([track]) });
    assert.deepEqual(rtc.userMediaRequests, []);
    assert.equal(pc.senders[0].track, track);
    call.mute(true);
    await call.hangup();
    assert.equal(track.readyState, "live");
    assert.equal(track.enabled, true, "handed back as it was given");
  });

  test("bad arguments and a client that is not connected are refused", async () => {
    const idle = new Client({ url: "http://gw.test", WebSocketImpl: gw.WebSocket, ...rtc.options });
    assert.equal((await rejection(idle.call("5000"))).code, "NOT_CONNECTED");
    const { client } = await registeredClient();
    assert.equal((await rejection(client.call(""))).code, "BAD_REQUEST");
    assert.equal((await rejection(client.call("5000", { data: "case=42" }))).code, "BAD_REQUEST");
    assert.equal(gw.requestsOf("call").length, 0);
    assert.throws(() => new Call(), TypeError);
  });
});

describe("trickle ICE", () => {
  test("the SDP goes after the gathering cap; later candidates are trickled with the call id, end once", async () => {
    rtc.gathering = "manual";
    const { client } = await registeredClient({ iceGatheringTimeout: 2000 });
    let call = null;
    client.call("5000").then((c) => (call = c));
    await settle();
    const pc = rtc.lastPc;
    pc.emitCandidate("candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host");
    await advance(1990);
    assert.equal(gw.requestsOf("call").length, 0, "waits for gathering");
    const held = [];
    gw.handlers.call = (msg, socket) => void held.push({ msg, socket });
    await advance(20);
    assert.equal(held.length, 1, "sent when the cap ran out");
    assert.match(held[0].msg.sdp, /192\.0\.2\.10 50000/);
    pc.emitCandidate("candidate:2 1 udp 1686052607 198.51.100.7 61000 typ srflx", "0", 0);
    await settle();
    assert.equal(gw.requestsOf("candidate").length, 0, "no call id yet: kept");
    gw.answer(held[0].socket, held[0].msg.id, { call: "c1.gw1" });
    gw.handlers.call = undefined;
    await settle();
    assert.equal(call.id, "c1.gw1");
    pc.completeGathering(); // browsers report the end twice: as state and as the null candidate
    pc.emitCandidate(""); // and some with an empty candidate
    await settle();
    assert.deepEqual(
      gw.requestsOf("candidate").map((m) => [m.call, m.candidate]),
      [
        ["c1.gw1", { candidate: "candidate:2 1 udp 1686052607 198.51.100.7 61000 typ srflx", sdpMid: "0", sdpMLineIndex: 0 }],
        ["c1.gw1", null],
      ],
    );
  });
});

describe("incoming calls", () => {
  test("incoming creates a ringing Call; answer() sends the answer SDP and connects", async () => {
    const { client, call, events } = await offered({ from: "5000", fromName: "Customer", data: { case: "42" } });
    assert.equal(call.direction, "incoming");
    assert.equal(call.remote, "5000");
    assert.equal(call.remoteName, "Customer");
    assert.deepEqual(call.data, { case: "42" });
    assert.equal(call.state, "ringing");
    assert.deepEqual(client.calls, [call]);
    gw.handlers.answer = function (msg, socket) {
      this.event(socket, "connected", { call: msg.call }); // the gateway reports it before the result
      return {};
    };
    const promise = call.answer({ audio: true });
    await settle();
    await promise;
    const pc = rtc.lastPc;
    assert.deepEqual(rtc.userMediaRequests, [{ audio: true, video: false }]);
    assert.deepEqual(pc.calls("setRemoteDescription"), [["offer", "v=0\r\no=gateway offer\r\n"]]);
    assert.equal(pc.calls("createAnswer").length, 1);
    const [answer] = requestsAbout("answer", call);
    assert.match(answer.sdp, /^v=0\r\no=fake answer\r\n/);
    assert.match(answer.sdp, /typ host/, "with the gathered candidates");
    await settle();
    assert.equal(call.state, "connected");
    assert.deepEqual(events.names(), ["track", "connected"], "connected once, though reported twice");
  });

  test("an answer the gateway refuses rejects; the call keeps ringing and can be answered again", async () => {
    const { call } = await offered();
    gw.handlers.answer = () => ({ error: { code: "NO_COMMON_CODEC", message: "no codec in common" } });
    const failed = rejection(call.answer());
    await settle();
    assert.equal((await failed).code, "NO_COMMON_CODEC");
    assert.equal(call.state, "ringing");
    assert.equal(rtc.pcs[0].closed, true);
    assert.equal(rtc.pcs[0].senders[0].track.readyState, "ended");
    delete gw.handlers.answer;
    const again = call.answer();
    await settle();
    await again;
    assert.equal(call.state, "connected");
    assert.equal(rtc.pcs.length, 2);
  });

  test("an answer whose fate is unknown (connection lost) ends the call and hangs up once back", async () => {
    const { call, events } = await offered();
    gw.handlers.answer = () => undefined;
    const failed = rejection(call.answer());
    await settle();
    gw.lastSocket.serverClose(1006);
    assert.equal((await failed).code, "CONNECTION_LOST");
    assert.deepEqual(events.of("ended"), [{ reason: "connection-lost" }]);
    assert.equal(rtc.lastPc.closed, true);
    await advance(510); // resumed: the hangup goes out
    assert.equal(requestsAbout("hangup", call).length, 1);
  });

  test("answer twice, or on an outgoing call, is WRONG_STATE", async () => {
    const { call } = await offered();
    const first = call.answer();
    assert.equal((await rejection(call.answer())).code, "WRONG_STATE");
    await settle();
    await first;
    assert.equal((await rejection(call.answer())).code, "WRONG_STATE");
    const outgoing = await placed();
    assert.equal((await rejection(outgoing.call.answer())).code, "WRONG_STATE");
    assert.equal((await rejection(outgoing.call.reject())).code, "WRONG_STATE");
  });

  test("reject sends 486 by default (or the status given) and ends the call", async () => {
    const { call, events } = await offered();
    const promise = call.reject();
    assert.deepEqual(events.of("ended"), [{ reason: "rejected", sipStatus: 486 }]);
    await settle();
    await promise;
    assert.deepEqual(requestsAbout("reject", call).map((m) => m.status), [486]);
    assert.equal(call.state, "ended");
    assert.equal((await rejection(call.hangup().then(() => call.reject()))).code, "WRONG_STATE");
  });

  test("reject(603) and bad statuses", async () => {
    const { call } = await offered();
    assert.equal((await rejection(call.reject(200))).code, "BAD_REQUEST");
    await call.reject(603);
    assert.deepEqual(requestsAbout("reject", call).map((m) => m.status), [603]);
    assert.equal((await rejection(call.reject(486))).code, "WRONG_STATE");
  });

  test("SIP Server cancels before the answer: ended with reason cancelled", async () => {
    const { call, events } = await offered();
    gw.event(gw.lastSocket, "ended", { call: call.id, reason: "cancelled", sipStatus: 487, sipReason: "Request Terminated" });
    await settle();
    assert.deepEqual(events.of("ended"), [{ reason: "cancelled", sipStatus: 487, sipReason: "Request Terminated" }]);
    assert.equal((await rejection(call.answer())).code, "WRONG_STATE");
  });

  test("the call ends while answer() waits for the gateway: answer rejects, ended once", async () => {
    const { call, events } = await offered();
    gw.handlers.answer = () => undefined;
    const promise = rejection(call.answer());
    await settle();
    gw.event(gw.lastSocket, "ended", { call: call.id, reason: "cancelled", sipStatus: 487 });
    await settle();
    assert.deepEqual(events.of("ended"), [{ reason: "cancelled", sipStatus: 487 }]);
    assert.equal(rtc.lastPc.closed, true);
    const [request] = requestsAbout("answer", call);
    gw.answer(gw.lastSocket, request.id, { error: { code: "WRONG_STATE", message: "ended" } });
    assert.equal((await promise).code, "WRONG_STATE");
    assert.equal(call.state, "ended");
  });

  test("remote-control, dtmf and info events are passed on", async () => {
    const { call, events } = await offered();
    gw.event(gw.lastSocket, "remote-control", { call: call.id, action: "talk" });
    gw.event(gw.lastSocket, "info", { call: call.id, contentType: "application/json", body: "{}" });
    gw.event(gw.lastSocket, "dtmf", { call: call.id, digit: "5" });
    await settle();
    assert.deepEqual(events.names(), ["remote-control", "info", "dtmf"]);
    assert.deepEqual(events.of("remote-control"), [{ action: "talk" }]);
    assert.deepEqual(events.of("info"), [{ contentType: "application/json", body: "{}" }]);
    assert.deepEqual(events.of("dtmf"), [{ digit: "5" }]);
  });
});

describe("during a call", () => {
  test("hold and resume: requests, state, held/resumed once each, outgoing track off while held", async () => {
    const { call, events, pc } = await connectedCall();
    const track = pc.senders[0].track;
    gw.handlers.hold = function (msg, socket) {
      this.event(socket, "held", { call: msg.call, by: "local" });
      return {};
    };
    const holding = call.hold();
    await settle();
    await holding;
    assert.equal(call.state, "held");
    assert.equal(call.localHold, true);
    assert.equal(track.enabled, false);
    call.mute(false);
    assert.equal(track.enabled, false, "unmuting does not send while held");
    const resuming = call.resume();
    await settle();
    await resuming;
    assert.equal(call.state, "connected");
    assert.equal(track.enabled, true);
    assert.deepEqual(requestsAbout("hold", call).length, 1);
    assert.deepEqual(requestsAbout("resume", call).length, 1);
    assert.deepEqual(events.names().filter((n) => n !== "track" && n !== "connected"), ["held", "resumed"]);
    assert.deepEqual(events.of("held"), [{ by: "local" }]);
    assert.equal(pc.calls("createOffer").length, 1, "the browser leg is not renegotiated");
  });

  test("hold by the SIP side: held by remote; both holds must end before connected", async () => {
    const { call, events, pc } = await connectedCall();
    gw.event(gw.lastSocket, "held", { call: call.id, by: "remote" });
    await settle();
    assert.equal(call.state, "held");
    assert.equal(call.remoteHold, true);
    assert.equal(pc.senders[0].track.enabled, true, "only a local hold stops sending");
    const holding = call.hold();
    await settle();
    await holding;
    gw.event(gw.lastSocket, "resumed", { call: call.id, by: "remote" });
    await settle();
    assert.equal(call.state, "held", "still held locally");
    const resuming = call.resume();
    await settle();
    await resuming;
    assert.equal(call.state, "connected");
    assert.deepEqual(
      events.filter((e) => e.name === "held" || e.name === "resumed").map((e) => `${e.name}:${e.detail.by}`),
      ["held:remote", "held:local", "resumed:remote", "resumed:local"],
    );
  });

  test("hold refused by SIP Server rejects with its status; the call stays connected", async () => {
    const { call } = await connectedCall();
    gw.handlers.hold = () => ({ error: { code: "SIP_REJECTED", message: "488", sipStatus: 488, sipReason: "Not Acceptable Here" } });
    const e = await rejection(call.hold());
    assert.equal(e.code, "SIP_REJECTED");
    assert.equal(e.sipStatus, 488);
    assert.equal(call.state, "connected");
  });

  test("hold before connected is WRONG_STATE, locally", async () => {
    const { call } = await placed();
    assert.equal((await rejection(call.hold())).code, "WRONG_STATE");
    assert.equal(gw.requestsOf("hold").length, 0);
  });

  test("sendDtmf sends the digits (upper case, optional duration); bad tones are refused locally", async () => {
    const { call } = await connectedCall();
    const first = call.sendDtmf("12#");
    const second = call.sendDtmf("*9ad", { duration: 160 });
    await settle();
    await Promise.all([first, second]);
    assert.deepEqual(
      requestsAbout("dtmf", call).map((m) => [m.digits, m.duration]),
      [["12#", undefined], ["*9AD", 160]],
    );
    for (const [tones, options] of [[""], ["12x"], ["1".repeat(33)], [12], ["1", { duration: 10 }], ["1", { duration: 1.5 }]]) {
      const e = await rejection(call.sendDtmf(tones, options));
      assert.equal(e.code, "BAD_REQUEST", `${JSON.stringify(tones)} ${JSON.stringify(options)}`);
    }
    assert.equal(requestsAbout("dtmf", call).length, 2);
    const ringing = await placed();
    assert.equal((await rejection(ringing.call.sendDtmf("1"))).code, "WRONG_STATE");
  });

  test("mute toggles the microphone track without signaling", async () => {
    const { call, pc } = await connectedCall();
    const before = gw.requests.length;
    call.mute(true);
    assert.equal(call.muted, true);
    assert.equal(pc.senders[0].track.enabled, false);
    call.mute(false);
    assert.equal(pc.senders[0].track.enabled, true);
    assert.equal(gw.requests.length, before);
  });

  test("sendInfo sends an info request", async () => {
    const { call } = await connectedCall();
    const p = call.sendInfo("application/json", '{"a":1}');
    await settle();
    await p;
    assert.deepEqual(requestsAbout("info", call).map((m) => [m.contentType, m.body]), [["application/json", '{"a":1}']]);
    assert.equal((await rejection(call.sendInfo("", "x"))).code, "BAD_REQUEST");
  });

  test("stats merges the browser's getStats summary with the gateway's stats", async () => {
    const { call, pc } = await connectedCall();
    pc.statsEntries = [
      { id: "IT01", type: "inbound-rtp", kind: "audio", packetsReceived: 480, bytesReceived: 77000, packetsLost: 2, jitter: 0.004, audioLevel: 0.25, codecId: "CIT01" },
      { id: "OT01", type: "outbound-rtp", kind: "audio", packetsSent: 500, bytesSent: 80000, codecId: "COT01" },
      { id: "RI01", type: "remote-inbound-rtp", kind: "audio", packetsLost: 1, jitter: 0.002, roundTripTime: 0.031 },
      { id: "SA01", type: "media-source", kind: "audio", audioLevel: 0.5 },
      { id: "CIT01", type: "codec", mimeType: "audio/opus" },
      { id: "COT01", type: "codec", mimeType: "audio/opus" },
      { id: "T01", type: "transport", selectedCandidatePairId: "CP01" },
      { id: "CP01", type: "candidate-pair", state: "succeeded", localCandidateId: "L1", remoteCandidateId: "R1", currentRoundTripTime: 0.012 },
      { id: "CP02", type: "candidate-pair", state: "failed", localCandidateId: "L1", remoteCandidateId: "R1" },
      { id: "L1", type: "local-candidate", address: "192.0.2.10", port: 50000, protocol: "udp", candidateType: "host" },
      { id: "R1", type: "remote-candidate", address: "192.0.2.20", port: 40000, protocol: "udp", candidateType: "host" },
    ];
    const p = call.stats();
    await settle();
    const stats = await p;
    assert.deepEqual({ ...stats, timestamp: undefined }, {
      inbound: { packets: 480, bytes: 77000, packetsLost: 2, jitter: 0.004, audioLevel: 0.25, codec: "audio/opus" },
      outbound: { packets: 500, bytes: 80000, audioLevel: 0.5, packetsLost: 1, jitter: 0.002, codec: "audio/opus" },
      candidatePair: {
        state: "succeeded",
        local: { address: "192.0.2.10", port: 50000, protocol: "udp", type: "host" },
        remote: { address: "192.0.2.20", port: 40000, protocol: "udp", type: "host" },
        rtt: 0.012,
      },
      rtt: 0.012,
      gateway: { state: "connected", outbound: { packets: 50 }, inbound: { packets: 48 } },
      timestamp: undefined,
    });
    assert.equal(typeof stats.timestamp, "number");
    assert.equal(requestsAbout("stats", call).length, 1);
    const local = call.stats({ gateway: false });
    await settle();
    assert.equal((await local).gateway, null);
    assert.equal(requestsAbout("stats", call).length, 1, "gateway: false asks only the browser");
  });

  test("stats without a selected pair: rtt from remote-inbound-rtp, candidatePair null", async () => {
    const { call, pc } = await connectedCall();
    pc.statsEntries = [{ id: "RI01", type: "remote-inbound-rtp", kind: "audio", roundTripTime: 0.05 }];
    const p = call.stats({ gateway: false });
    await settle();
    const stats = await p;
    assert.equal(stats.rtt, 0.05);
    assert.equal(stats.candidatePair, null);
    assert.deepEqual(stats.inbound, {});
  });
});

describe("ICE restart", () => {
  test("ICE failure: a restart offer goes in ice-restart and the gateway's answer is applied", async () => {
    const { call, pc } = await connectedCall();
    pc.setIceConnectionState("failed");
    await settle();
    assert.deepEqual(pc.calls("createOffer").at(-1), [{ iceRestart: true }]);
    const [restart] = requestsAbout("ice-restart", call);
    assert.match(restart.sdp, /ice-restart/);
    assert.match(restart.sdp, /typ host/);
    assert.deepEqual(pc.calls("setRemoteDescription").at(-1), ["answer", "v=0\r\no=gateway ice-restart answer\r\n"]);
    assert.equal(call.state, "connected");
  });

  test("a refused restart rolls the offer back; after three in a row without ICE connecting it stops", async () => {
    const { call, pc } = await connectedCall();
    gw.handlers["ice-restart"] = () => ({ error: { code: "WRONG_STATE", message: "not now" } });
    for (let i = 0; i < 5; i++) {
      pc.setIceConnectionState("checking");
      pc.setIceConnectionState("failed");
      await settle();
    }
    assert.equal(requestsAbout("ice-restart", call).length, 3);
    assert.equal(pc.calls("setLocalDescription").filter((c) => c[0] === "rollback").length, 3);
    pc.setIceConnectionState("connected");
    pc.setIceConnectionState("failed");
    await settle();
    assert.equal(requestsAbout("ice-restart", call).length, 4, "ICE connected in between: restarts again");
  });

  test("no restart before the call has media", async () => {
    const { call, pc } = await placed();
    pc.setIceConnectionState("failed");
    await settle();
    assert.equal(requestsAbout("ice-restart", call).length, 0);
  });
});

describe("calls and the signaling connection", () => {
  test("failover to another instance ends active calls with connection-lost", async () => {
    const { client, call, events, pc } = await connectedCall();
    gw.instance = "gw2";
    gw.crash();
    await settle();
    assert.equal(call.state, "connected", "the call waits while the client reconnects");
    await advance(510);
    assert.equal(client.state, "connected");
    assert.deepEqual(events.of("ended"), [{ reason: "connection-lost" }]);
    assert.equal(pc.closed, true);
    assert.deepEqual(client.calls, []);
  });

  test("a resumed session keeps its calls; one the gateway no longer knows ends", async () => {
    const { client } = await registeredClient();
    const p1 = client.call("5000");
    await settle();
    const alive = await p1;
    const p2 = client.call("5001");
    await settle();
    const gone = await p2;
    gw.event(gw.lastSocket, "connected", { call: alive.id, sdp: ANSWER_SDP });
    await settle();
    const goneEvents = recorder(gone, ["ended"]);
    gw.sessions.get("s1.gw1").calls.delete(gone.id); // ended while no socket was attached
    gw.lastSocket.serverClose(1006);
    await advance(510);
    assert.equal(client.state, "connected");
    assert.equal(alive.state, "connected");
    assert.deepEqual(goneEvents.of("ended"), [{ reason: "connection-lost" }]);
    assert.deepEqual(client.calls, [alive]);
  });

  test("hangup during a reconnect is sent once the session is back", async () => {
    const { call } = await connectedCall();
    gw.lastSocket.serverClose(1006);
    await settle();
    const hangup = call.hangup();
    assert.equal(call.state, "ended");
    await advance(510);
    await hangup;
    assert.equal(requestsAbout("hangup", call).length, 1);
  });

  test("disconnect() ends the calls with session-ended", async () => {
    const { client, call, events } = await connectedCall();
    const p = client.disconnect();
    await settle();
    await p;
    assert.deepEqual(events.of("ended"), [{ reason: "session-ended" }]);
  });

  test("giving up reconnecting ends the calls with connection-lost", async () => {
    const { call, events } = await connectedCall({ reconnect: { minDelay: 100, maxDelay: 100, maxAttempts: 2 } });
    gw.crash({ staysDown: true });
    await advance(400);
    assert.deepEqual(events.of("ended"), [{ reason: "connection-lost" }]);
    assert.equal(call.state, "ended");
  });
});

describe("bad messages from the gateway", () => {
  test("events for unknown calls, without a call id, or out of place are ignored", async () => {
    const { client, clientEvents, call, events, pc } = await placed();
    const socket = gw.lastSocket;
    gw.event(socket, "connected", { call: 42, sdp: ANSWER_SDP });
    gw.event(socket, "connected", { sdp: ANSWER_SDP });
    gw.event(socket, "ended", { call: "nobody.gw1", reason: "remote-hangup" });
    gw.event(socket, "early", { call: call.id }); // no sdp
    gw.event(socket, "early", { call: call.id, sdp: 7 });
    gw.event(socket, "held", { call: call.id, by: "remote" }); // not connected yet
    gw.event(socket, "dtmf", { call: call.id, digit: { x: 1 } });
    gw.event(socket, "surprise", { call: call.id });
    await settle();
    assert.equal(call.state, "calling");
    assert.deepEqual(events.names(), []);
    assert.equal(pc.calls("setRemoteDescription").length, 0);
    gw.event(socket, "connected", { call: call.id, sdp: ANSWER_SDP });
    gw.event(socket, "ringing", { call: call.id, sipStatus: 180 }); // late
    gw.event(socket, "early", { call: call.id, sdp: ANSWER_SDP }); // late
    gw.event(socket, "connected", { call: call.id, sdp: ANSWER_SDP }); // repeated
    await settle();
    assert.equal(call.state, "connected");
    assert.deepEqual(events.names(), ["track", "connected"]);
    assert.equal(pc.calls("setRemoteDescription").length, 1);
    gw.event(socket, "ended", { call: call.id, reason: 5, sipStatus: "486" });
    await settle();
    assert.deepEqual(events.of("ended"), [{ reason: "unknown" }]);
    assert.deepEqual(clientEvents.of("error"), []);
    assert.deepEqual(client.calls, []);
  });

  test("an incoming call without an offer is reported as an error and not offered", async () => {
    const { client, clientEvents } = await registeredClient();
    gw.event(gw.lastSocket, "incoming", { call: "p1.gw1", from: "5000" });
    await settle();
    assert.deepEqual(clientEvents.of("incoming"), []);
    assert.equal(clientEvents.of("error")[0].code, "BAD_MESSAGE");
    assert.deepEqual(client.calls, []);
  });

  test("an incoming event repeated for a known call offers it once", async () => {
    const { clientEvents } = await registeredClient();
    gw.incoming(gw.lastSocket, { call: "p1.gw1" });
    gw.incoming(gw.lastSocket, { call: "p1.gw1" });
    await settle();
    assert.equal(clientEvents.of("incoming").length, 1);
  });

  test("an answer SDP the browser refuses ends the call (bad-sdp) and hangs up on the gateway", async () => {
    const { call, events, pc } = await placed();
    pc.remoteDescriptionError = new Error("InvalidAccessError: bad SDP");
    gw.event(gw.lastSocket, "connected", { call: call.id, sdp: "garbage" });
    await settle();
    assert.deepEqual(events.of("ended"), [{ reason: "bad-sdp", message: "InvalidAccessError: bad SDP" }]);
    assert.equal(requestsAbout("hangup", call).length, 1);
  });

  test("a call result without a call id rejects call()", async () => {
    const { client } = await registeredClient();
    gw.handlers.call = () => ({ call: null });
    const p = rejection(client.call("5000"));
    await settle();
    assert.equal((await p).code, "BAD_MESSAGE");
    assert.equal(rtc.lastPc.closed, true);
  });
});
