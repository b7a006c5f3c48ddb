// One call of the WebRTC Gateway client library: its RTCPeerConnection and its part of WebSocket
// protocol v1 ("Calls" in docs/protocol.md). Calls are made by the Client (client.call(), the
// `incoming` event); applications never construct them. Documented in docs/js-library.md.
//
// ICE: the browser waits up to `iceGatheringTimeout` for its candidates so that the SDP it sends
// usually carries all of them (the gateway then needs nothing more), and trickles whatever it finds
// later with `candidate` requests (RFC 8838). The gateway does not trickle: its candidates are in its
// SDP. When ICE fails (iceConnectionState "failed") the browser offers an ICE restart (RFC 8445 §9).
import { GatewayError } from "./errors.js";
import { candidateToWire, gatheringComplete, summarizeStats } from "./rtc.js";

/** Only the Client holds this: `new Call()` in an application throws. */
export const CALL_KEY = Symbol("webrtc-gateway Call");

/** The Client's handles on a Call (symbols, so they stay out of the public API). */
export const CALL = Object.freeze({
  prepareOffer: Symbol("prepareOffer"),
  bind: Symbol("bind"),
  onEvent: Symbol("onEvent"),
  abort: Symbol("abort"),
  end: Symbol("end"),
});

// RFC 4733 events the gateway sends (docs/protocol.md: `dtmf`, at most 32 digits).
const DTMF_DIGITS = /^[0-9*#A-D]{1,32}$/i;
// ITU-T Q.24: a tone shorter than 40 ms may not be recognised; longer than seconds is not DTMF.
const DTMF_MIN_MS = 40;
const DTMF_MAX_MS = 6000;
// ICE restarts tried in a row without ICE connecting in between; then the gateway's media timeout
// ends the call (`ice-failed`), rather than the browser restarting forever.
const MAX_ICE_RESTARTS = 3;
// States in which the gateway serves `dtmf` and `ice-restart`.
const MEDIA_STATES = new Set(["early", "connected", "held"]);

function defined(object) {
  const out = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined && value !== null) out[key] = value;
  return out;
}

function nextTask() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * One call. Fields: `id`, `direction` (`outgoing`|`incoming`), `remote`, `remoteName`, `data`,
 * `state` (`calling`|`ringing`|`early`|`connected`|`held`|`ended`), `remoteStream`, `localStream`,
 * `muted`, `localHold`, `remoteHold`, `connectedAt`, `endReason`.
 *
 * Events (`CustomEvent`, data in `detail`): `ringing` `{sipStatus}`, `early` `{sipStatus?}`,
 * `connected` `{}`, `held`/`resumed` `{by}`, `dtmf` `{digit}`, `info` `{contentType, body}`,
 * `remote-control` `{action}`, `track` `{track, streams, remoteStream}`,
 * `ended` `{reason, sipStatus?, sipReason?, message?}` (once).
 */
export class Call extends EventTarget {
  #ctx;
  #id;
  #direction;
  #remote;
  #remoteName;
  #data;
  #offer; // incoming: the gateway's offer, until answered
  #state;
  #endReason = null;
  #connectedAt = null;

  #pc = null;
  #localStream = null;
  #ownsLocalTracks = false; // tracks from our getUserMedia are stopped at the end; the application's are not
  #remoteStream = null;
  #muted = false;
  #localHold = false;
  #remoteHold = false;
  #answering = false;
  #remoteAnswered = false; // outgoing: the gateway's answer is applied

  // Candidates found before the SDP was read are in it; later ones are trickled.
  #sdpTaken = false;
  #endOfCandidatesSent = false;
  /** Trickled candidates of an outgoing call found before its id arrived. */
  #unsentCandidates = [];
  #iceRestarts = 0;

  // Gateway events and the local steps that touch the RTCPeerConnection's descriptions run one at a
  // time in arrival order, so an `early` answer is applied before the `connected` that follows it.
  #queue = Promise.resolve();
  // While events that came before `client.call()` resolved are replayed, `ended` waits its turn too.
  #replaying = false;

  /** @internal Made by the Client only. */
  constructor(key, ctx, init) {
    if (key !== CALL_KEY) throw new TypeError("Calls are made by Client.call() and the incoming event");
    super();
    this.#ctx = ctx;
    this.#id = init.id ?? null;
    this.#direction = init.direction;
    this.#remote = init.remote;
    this.#remoteName = init.remoteName ?? null;
    this.#data = init.data ?? null;
    this.#offer = init.offer ?? null;
    this.#state = init.direction === "incoming" ? "ringing" : "calling";
  }

  /** The gateway's call id (null only while `client.call()` has not resolved). */
  get id() {
    return this.#id;
  }

  /** `"outgoing"` or `"incoming"`. */
  get direction() {
    return this.#direction;
  }

  /** The other party: the DN or URI called, or the caller (`from`) of an incoming call. */
  get remote() {
    return this.#remote;
  }

  /** The caller's display name (incoming calls), or null. */
  get remoteName() {
    return this.#remoteName;
  }

  /** Attached data: what `client.call()` was given, or what SIP Server attached to an incoming call. */
  get data() {
    return this.#data;
  }

  /** `calling`, `ringing`, `early`, `connected`, `held` or `ended`. */
  get state() {
    return this.#state;
  }

  /** The `ended` event's reason once the call is over, else null. */
  get endReason() {
    return this.#endReason;
  }

  /** `Date.now()` when the call was connected, or null. */
  get connectedAt() {
    return this.#connectedAt;
  }

  /** The remote audio (and video), once the first track arrived; else null. */
  get remoteStream() {
    return this.#remoteStream;
  }

  /** The local stream sent (from getUserMedia or the `stream` option), or null. */
  get localStream() {
    return this.#localStream;
  }

  get muted() {
    return this.#muted;
  }

  /** This side put the call on hold. */
  get localHold() {
    return this.#localHold;
  }

  /** The SIP side put the call on hold. */
  get remoteHold() {
    return this.#remoteHold;
  }

  // ---- the application's methods ----------------------------------------------------------------

  /**
   * Answers an incoming call: getUserMedia, answer SDP, `answer` request. Resolves when the gateway
   * accepted the answer (state `connected`). If it fails the call keeps ringing (answer again or reject).
   * @param {{audio?: boolean|MediaTrackConstraints, video?: boolean|MediaTrackConstraints, stream?: MediaStream}} [options]
   */
  async answer(options = {}) {
    if (this.#direction !== "incoming") throw new GatewayError("WRONG_STATE", "only incoming calls are answered");
    if (this.#state !== "ringing" || this.#answering) {
      throw new GatewayError("WRONG_STATE", `answer() while the call is ${this.#answering ? "being answered" : this.#state}`);
    }
    this.#answering = true;
    let sent = false;
    try {
      await this.#serial(async () => {
        this.#alive();
        await this.#openMedia(options, false);
        const pc = this.#pc;
        await pc.setRemoteDescription({ type: "offer", sdp: this.#offer });
        this.#alive();
        await pc.setLocalDescription(await pc.createAnswer());
        const sdp = await this.#localSdpAfterGathering();
        sent = true;
        await this.#ctx.request("answer", { call: this.#id, sdp });
        this.#alive();
        this.#offer = null;
        this.#setConnected();
      });
    } catch (e) {
      this.#answering = false;
      if (this.#state === "ended") throw e;
      if (sent && (e.code === "CONNECTION_LOST" || e.code === "TIMEOUT")) {
        // The gateway may have connected the call with our answer: end it rather than ring on
        // while the SIP side talks to nobody.
        this.#end({ reason: "connection-lost" });
        this.#ctx.request("hangup", { call: this.#id }).catch(() => {});
      } else {
        this.#closeMedia(); // ringing still: answer again or reject
      }
      throw e;
    }
  }

  /**
   * Refuses an incoming call (486 Busy Here unless `status` says otherwise, e.g. 603 Decline, 480).
   * Ends the call at once (`ended` with reason `rejected`); resolves when the gateway answered.
   */
  async reject(status = 486) {
    if (this.#direction !== "incoming") throw new GatewayError("WRONG_STATE", "only incoming calls are rejected; use hangup()");
    if (!Number.isInteger(status) || status < 400 || status > 699) {
      throw new GatewayError("BAD_REQUEST", "status must be a SIP final status 400-699");
    }
    if (this.#state !== "ringing" || this.#answering) {
      throw new GatewayError("WRONG_STATE", `reject() while the call is ${this.#answering ? "being answered" : this.#state}`);
    }
    this.#end({ reason: "rejected", sipStatus: status });
    await this.#ctx.request("reject", { call: this.#id, status }).catch(() => {
      // Gone on the gateway already (cancelled, or the session was lost): over either way.
    });
  }

  /** Ends the call (BYE, or CANCEL before answer). `ended` (`local-hangup`) fires at once. Never rejects. */
  async hangup() {
    if (this.#state === "ended") return;
    this.#end({ reason: "local-hangup" });
    await this.#ctx.request("hangup", { call: this.#id }).catch(() => {
      // CALL_UNKNOWN or a lost session: the call is over either way.
    });
  }

  /** Puts the call on hold (the gateway re-INVITEs SIP Server with sendonly); local tracks stop sending. */
  hold() {
    return this.#changeHold(true);
  }

  /** Takes the call off hold. */
  resume() {
    return this.#changeHold(false);
  }

  /**
   * Sends DTMF (RFC 4733 from the gateway, or SIP INFO by its config).
   * @param {string} tones 1-32 of `0-9 * # A-D`
   * @param {{duration?: number}} [options] ms per tone, 40-6000 (gateway default 100)
   */
  async sendDtmf(tones, { duration } = {}) {
    if (typeof tones !== "string" || !DTMF_DIGITS.test(tones)) {
      throw new GatewayError("BAD_REQUEST", "DTMF tones must be 1-32 of 0-9 * # A-D");
    }
    if (duration !== undefined && !(Number.isInteger(duration) && duration >= DTMF_MIN_MS && duration <= DTMF_MAX_MS)) {
      throw new GatewayError("BAD_REQUEST", `DTMF duration must be an integer from ${DTMF_MIN_MS} to ${DTMF_MAX_MS} ms`);
    }
    if (!MEDIA_STATES.has(this.#state)) throw new GatewayError("WRONG_STATE", `sendDtmf() while the call is ${this.#state}`);
    const fields = { call: this.#id, digits: tones.toUpperCase() };
    if (duration !== undefined) fields.duration = duration;
    await this.#ctx.request("dtmf", fields);
  }

  /** Sends a SIP INFO with this body to the SIP side. */
  async sendInfo(contentType, body) {
    if (typeof contentType !== "string" || contentType === "" || typeof body !== "string") {
      throw new GatewayError("BAD_REQUEST", "sendInfo(contentType, body) takes two strings");
    }
    if (this.#state === "ended") throw new GatewayError("WRONG_STATE", "the call has ended");
    await this.#ctx.request("info", { call: this.#id, contentType, body });
  }

  /** Stops (true) or restarts (false) sending the microphone; no signaling. */
  mute(muted = true) {
    this.#muted = Boolean(muted);
    this.#applyTrackState();
  }

  /**
   * The browser's view (`getStats()` summarised: inbound/outbound packets, bytes, packetsLost,
   * jitter and audioLevel, rtt, candidatePair; times in seconds) with the gateway's under `gateway`.
   * @param {{gateway?: boolean}} [options] `gateway: false` skips the request to the gateway
   */
  async stats({ gateway = true } = {}) {
    if (this.#state === "ended") throw new GatewayError("WRONG_STATE", "the call has ended");
    const [report, remote] = await Promise.all([
      this.#pc ? this.#pc.getStats() : null,
      gateway ? this.#ctx.request("stats", { call: this.#id }) : null,
    ]);
    return { ...summarizeStats(report), gateway: remote?.stats ?? null, timestamp: Date.now() };
  }

  // ---- driven by the Client ---------------------------------------------------------------------

  /** Outgoing: media, offer, ICE gathering (capped); resolves the SDP to send in `call`. */
  async [CALL.prepareOffer](options) {
    await this.#openMedia(options, true);
    const pc = this.#pc;
    await pc.setLocalDescription(await pc.createOffer());
    return this.#localSdpAfterGathering();
  }

  /** Outgoing: the gateway's result named the call. `early` are its events that came before the result. */
  [CALL.bind](id, early) {
    this.#id = id;
    for (const candidate of this.#unsentCandidates.splice(0)) this.#sendCandidate(candidate);
    if (early.length === 0) return;
    // The application adds its listeners once client.call() resolved; these events wait until then.
    this.#replaying = true;
    this.#serial(nextTask);
    for (const msg of early) this.#serialEvent(msg);
    this.#serial(() => {
      this.#replaying = false;
    });
  }

  /** A gateway event about this call. */
  [CALL.onEvent](msg) {
    if (msg.name === "ended" && !this.#replaying) {
      this.#handle(msg); // the end does not wait for a pending step; the step sees it and stops
      return;
    }
    this.#serialEvent(msg);
  }

  /** Outgoing: client.call() failed; nothing was announced, so nothing is emitted. */
  [CALL.abort]() {
    this.#state = "ended";
    this.#endReason = "aborted";
    this.#closeMedia();
  }

  /** The Client ends the call (session lost or ended). */
  [CALL.end](detail) {
    this.#end(detail);
  }

  // ---- gateway events ---------------------------------------------------------------------------

  #serialEvent(msg) {
    this.#serial(() => this.#handle(msg)).catch((e) => this.#failed(e));
  }

  async #handle(msg) {
    if (this.#state === "ended") return;
    switch (msg.name) {
      case "ringing":
        if (this.#state !== "calling") return;
        this.#state = "ringing";
        this.#emit("ringing", defined({ sipStatus: msg.sipStatus }));
        return;
      case "early":
        if (this.#direction !== "outgoing" || (this.#state !== "calling" && this.#state !== "ringing")) return;
        if (typeof msg.sdp !== "string" || msg.sdp === "") return;
        await this.#applyAnswer(msg.sdp);
        if (this.#state === "ended") return;
        this.#state = "early";
        this.#emit("early", defined({ sipStatus: msg.sipStatus }));
        return;
      case "connected":
        // Incoming: the result of our `answer` says the same; this event waits behind that step.
        if (this.#direction === "incoming") return;
        if (this.#state !== "calling" && this.#state !== "ringing" && this.#state !== "early") return;
        if (typeof msg.sdp === "string" && msg.sdp !== "") {
          await this.#applyAnswer(msg.sdp);
        } else if (!this.#remoteAnswered) {
          throw new GatewayError("BAD_MESSAGE", "connected without an answer SDP, and no early answer before it");
        }
        if (this.#state === "ended") return;
        this.#setConnected();
        return;
      case "held":
      case "resumed":
        this.#holdChanged(msg.by === "remote" ? "remote" : "local", msg.name === "held");
        return;
      case "dtmf":
        if (typeof msg.digit === "string") this.#emit("dtmf", { digit: msg.digit });
        return;
      case "info":
        this.#emit("info", { contentType: String(msg.contentType ?? ""), body: String(msg.body ?? "") });
        return;
      case "remote-control":
        if (typeof msg.action === "string") this.#emit("remote-control", { action: msg.action });
        return;
      case "ended":
        this.#end(
          defined({
            reason: typeof msg.reason === "string" ? msg.reason : "unknown",
            sipStatus: typeof msg.sipStatus === "number" ? msg.sipStatus : undefined,
            sipReason: typeof msg.sipReason === "string" ? msg.sipReason : undefined,
          }),
        );
        return;
      default:
        return; // unknown call events are ignored (forward compatibility)
    }
  }

  /** The gateway's answer to our offer (early or final). */
  async #applyAnswer(sdp) {
    const pc = this.#pc;
    if (pc.signalingState === "have-local-offer") {
      await pc.setRemoteDescription({ type: "answer", sdp });
    } else if (pc.remoteDescription?.sdp !== sdp) {
      // A final answer that differs from the early one (RFC 3261 §13.2.1 lets the 2xx differ): the
      // browser takes a second answer only to a new offer of its own.
      await pc.setLocalDescription(await pc.createOffer());
      await pc.setRemoteDescription({ type: "answer", sdp });
    }
    this.#remoteAnswered = true;
  }

  /** A step failed in a way the call cannot survive (e.g. the browser refused the gateway's SDP). */
  #failed(error) {
    if (this.#state === "ended") return;
    const id = this.#id;
    this.#end({ reason: "bad-sdp", message: String(error?.message ?? error) });
    this.#ctx.request("hangup", { call: id }).catch(() => {});
  }

  #setConnected() {
    if (this.#state === "connected" || this.#state === "held" || this.#state === "ended") return;
    this.#answering = false;
    this.#connectedAt = Date.now();
    this.#state = this.#localHold || this.#remoteHold ? "held" : "connected";
    this.#emit("connected", {});
  }

  async #changeHold(on) {
    if (this.#state !== "connected" && this.#state !== "held") {
      throw new GatewayError("WRONG_STATE", `${on ? "hold" : "resume"}() while the call is ${this.#state}`);
    }
    await this.#ctx.request(on ? "hold" : "resume", { call: this.#id });
    // The gateway also sends held/resumed (before or after this result); whichever comes first counts.
    this.#holdChanged("local", on);
  }

  #holdChanged(by, on) {
    if (this.#state !== "connected" && this.#state !== "held") return;
    if ((by === "local" ? this.#localHold : this.#remoteHold) === on) return;
    if (by === "local") this.#localHold = on;
    else this.#remoteHold = on;
    // The browser leg is not renegotiated on hold (the gateway re-INVITEs the SIP side only); not
    // sending while held keeps the gateway from forwarding anything meanwhile.
    this.#applyTrackState();
    this.#state = this.#localHold || this.#remoteHold ? "held" : "connected";
    this.#emit(on ? "held" : "resumed", { by });
  }

  // ---- media ------------------------------------------------------------------------------------

  async #openMedia(options, offering) {
    const { RTCPeerConnection, getUserMedia } = this.#ctx.rtc;
    if (typeof RTCPeerConnection !== "function") throw new GatewayError("NOT_SUPPORTED", "this browser has no RTCPeerConnection");
    const audio = options.audio ?? true;
    const video = options.video ?? false;
    let stream = options.stream ?? null;
    let owns = false;
    if (!stream && (audio || video)) {
      if (typeof getUserMedia !== "function") throw new GatewayError("NOT_SUPPORTED", "this browser has no getUserMedia (needs https)");
      try {
        stream = await getUserMedia({ audio, video });
      } catch (e) {
        throw new GatewayError("USER_MEDIA_FAILED", `no microphone/camera: ${e?.name ?? ""} ${e?.message ?? e}`.trim(), { cause: e });
      }
      owns = true;
    }
    if (this.#state === "ended") {
      if (owns) for (const track of stream.getTracks()) track.stop();
      throw new GatewayError("WRONG_STATE", "the call has ended");
    }
    const pc = new RTCPeerConnection({
      iceServers: this.#ctx.iceServers,
      bundlePolicy: "max-bundle",
      rtcpMuxPolicy: "require",
    });
    this.#pc = pc;
    this.#localStream = stream;
    this.#ownsLocalTracks = owns;
    this.#sdpTaken = false;
    this.#endOfCandidatesSent = false;
    pc.addEventListener("icecandidate", (e) => {
      if (pc === this.#pc) this.#onLocalCandidate(e.candidate);
    });
    pc.addEventListener("track", (e) => {
      if (pc === this.#pc) this.#onTrack(e);
    });
    pc.addEventListener("iceconnectionstatechange", () => {
      if (pc === this.#pc) this.#onIceState();
    });
    if (stream) for (const track of stream.getTracks()) pc.addTrack(track, stream);
    // An offer without a microphone still asks to receive audio.
    if (offering && !stream?.getAudioTracks().length) pc.addTransceiver("audio", { direction: "recvonly" });
    this.#applyTrackState();
  }

  /** Waits for ICE gathering (capped) and reads the local SDP; later candidates are trickled. */
  async #localSdpAfterGathering() {
    const complete = await gatheringComplete(this.#pc, this.#ctx.gatheringTimeout);
    this.#alive();
    this.#sdpTaken = true;
    // The SDP holds every candidate; the end signal that browsers may still fire adds nothing.
    this.#endOfCandidatesSent = complete;
    return this.#pc.localDescription.sdp;
  }

  #onLocalCandidate(candidate) {
    if (!this.#sdpTaken || this.#state === "ended") return; // still to go out inside the SDP
    const wire = candidateToWire(candidate);
    if (wire === null) {
      if (this.#endOfCandidatesSent) return; // browsers signal the end twice (empty and null candidate)
      this.#endOfCandidatesSent = true;
    }
    if (this.#id === null) this.#unsentCandidates.push(wire);
    else this.#sendCandidate(wire);
  }

  #sendCandidate(candidate) {
    this.#ctx.request("candidate", { call: this.#id, candidate }).catch(() => {
      // Trickle is best effort: the SDP carried what was gathered in time.
    });
  }

  #onTrack(event) {
    const stream = event.streams?.[0];
    if (stream) {
      this.#remoteStream = stream;
    } else if (typeof this.#ctx.rtc.MediaStream === "function") {
      this.#remoteStream ??= new this.#ctx.rtc.MediaStream();
      this.#remoteStream.addTrack(event.track);
    }
    this.#emit("track", { track: event.track, streams: [...(event.streams ?? [])], remoteStream: this.#remoteStream });
  }

  #onIceState() {
    const ice = this.#pc.iceConnectionState;
    if (ice === "connected" || ice === "completed") this.#iceRestarts = 0;
    if (ice === "failed") this.#serial(() => this.#restartIce()).catch(() => {});
  }

  /** RFC 8445 §9: new ICE credentials in a new offer; the gateway answers with its own. */
  async #restartIce() {
    const pc = this.#pc;
    if (!MEDIA_STATES.has(this.#state) || !pc || pc.iceConnectionState !== "failed") return;
    if (this.#iceRestarts >= MAX_ICE_RESTARTS || pc.signalingState !== "stable") return;
    this.#iceRestarts++;
    this.#sdpTaken = false;
    this.#endOfCandidatesSent = false;
    await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
    const sdp = await this.#localSdpAfterGathering();
    let result;
    try {
      result = await this.#ctx.request("ice-restart", { call: this.#id, sdp });
      if (typeof result?.sdp !== "string" || result.sdp === "") throw new GatewayError("BAD_MESSAGE", "ice-restart result without sdp");
    } catch (e) {
      if (this.#state === "ended") return;
      await pc.setLocalDescription({ type: "rollback" }).catch(() => {});
      if (e.code === "CALL_UNKNOWN") this.#end({ reason: "connection-lost" });
      return;
    }
    if (this.#state === "ended") return;
    await pc.setRemoteDescription({ type: "answer", sdp: result.sdp });
  }

  #applyTrackState() {
    if (!this.#pc) return;
    for (const sender of this.#pc.getSenders()) {
      const track = sender.track;
      if (!track) continue;
      track.enabled = !this.#localHold && !(track.kind === "audio" && this.#muted);
    }
  }

  #closeMedia() {
    const pc = this.#pc;
    this.#pc = null;
    try {
      pc?.close();
    } catch {
      // already closed
    }
    const stream = this.#localStream;
    this.#localStream = null;
    if (!stream) return;
    for (const track of stream.getTracks()) {
      if (this.#ownsLocalTracks) track.stop();
      else track.enabled = true; // the application's stream, as it was given
    }
  }

  // ---- common -----------------------------------------------------------------------------------

  #end(detail) {
    if (this.#state === "ended") return;
    this.#state = "ended";
    this.#endReason = detail.reason;
    this.#answering = false;
    this.#closeMedia();
    this.#ctx.forget(this);
    this.#emit("ended", detail);
  }

  #alive() {
    if (this.#state === "ended") throw new GatewayError("WRONG_STATE", "the call has ended");
  }

  /** Runs `task` after the ones queued before it; the queue goes on if it fails. */
  #serial(task) {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }

  #emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}
