// A small stand-in for the browser's WebRTC (RTCPeerConnection, MediaStream, getUserMedia), injected
// into the library through its `RTCPeerConnectionImpl`, `MediaStreamImpl` and `getUserMedia` options.
// It records what the library did and lets a test play the browser's part: ICE candidates, gathering,
// ICE state changes, remote tracks, stats. Like fake-gateway.mjs it delivers events on microtasks (and
// setImmediate) and uses no timers, so tests can mock them.

let counter = 0;

export class FakeTrack {
  constructor(kind) {
    this.kind = kind;
    this.id = `${kind}-${++counter}`;
    this.enabled = true;
    this.readyState = "live";
  }

  stop() {
    this.readyState = "ended";
  }
}

export class FakeMediaStream {
  #tracks;

  constructor(tracks = []) {
    this.id = `stream-${++counter}`;
    this.#tracks = [...tracks];
  }

  getTracks() {
    return [...this.#tracks];
  }

  getAudioTracks() {
    return this.#tracks.filter((t) => t.kind === "audio");
  }

  getVideoTracks() {
    return this.#tracks.filter((t) => t.kind === "video");
  }

  addTrack(track) {
    this.#tracks.push(track);
  }
}

/** One fake WebRTC "browser": `rtc.options` goes into the Client options. */
export class FakeRtc {
  constructor() {
    /** Every RTCPeerConnection made, in order. */
    this.pcs = [];
    /** Constraints of every getUserMedia call. */
    this.userMediaRequests = [];
    /** Set to an Error to make getUserMedia fail. */
    this.userMediaError = null;
    /** `auto`: setLocalDescription gathers one host candidate and completes; `manual`: the test does it. */
    this.gathering = "auto";
    /** Candidates auto gathering finds. */
    this.autoCandidates = ["candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host"];
    const rtc = this;
    this.RTCPeerConnection = class extends FakePeerConnection {
      constructor(config) {
        super(config, rtc);
      }
    };
    this.getUserMedia = async (constraints) => {
      rtc.userMediaRequests.push(constraints);
      if (rtc.userMediaError) throw rtc.userMediaError;
      const tracks = [];
      if (constraints.audio) tracks.push(new FakeTrack("audio"));
      if (constraints.video) tracks.push(new FakeTrack("video"));
      return new FakeMediaStream(tracks);
    };
  }

  get options() {
    return { RTCPeerConnectionImpl: this.RTCPeerConnection, MediaStreamImpl: FakeMediaStream, getUserMedia: this.getUserMedia };
  }

  get lastPc() {
    return this.pcs[this.pcs.length - 1];
  }
}

class FakePeerConnection extends EventTarget {
  #rtc;
  #offers = 0;

  constructor(config, rtc) {
    super();
    this.#rtc = rtc;
    this.config = config;
    this.signalingState = "stable";
    this.iceGatheringState = "new";
    this.iceConnectionState = "new";
    this.localDescription = null;
    this.remoteDescription = null;
    this.closed = false;
    this.senders = [];
    this.transceivers = [];
    /** Every call the library made, e.g. ["createOffer", {iceRestart: true}]. */
    this.log = [];
    /** Set to an Error to make the next setRemoteDescription fail. */
    this.remoteDescriptionError = null;
    /** What getStats() resolves (an array of stats objects; returned as a Map like RTCStatsReport). */
    this.statsEntries = [];
    rtc.pcs.push(this);
  }

  addTrack(track, ...streams) {
    this.log.push(["addTrack", track.kind]);
    const sender = { track, streams };
    this.senders.push(sender);
    return sender;
  }

  addTransceiver(kind, init) {
    this.log.push(["addTransceiver", kind, init]);
    this.transceivers.push({ kind, init });
  }

  getSenders() {
    return [...this.senders];
  }

  async createOffer(options = {}) {
    this.#checkOpen();
    this.log.push(["createOffer", options]);
    const n = ++this.#offers;
    return { type: "offer", sdp: `v=0\r\no=fake offer ${n}${options.iceRestart ? " ice-restart" : ""}\r\n` };
  }

  async createAnswer() {
    this.#checkOpen();
    if (this.signalingState !== "have-remote-offer") throw new Error("InvalidStateError: no remote offer");
    this.log.push(["createAnswer"]);
    return { type: "answer", sdp: "v=0\r\no=fake answer\r\n" };
  }

  async setLocalDescription(desc) {
    this.#checkOpen();
    this.log.push(["setLocalDescription", desc.type, desc.sdp]);
    if (desc.type === "rollback") {
      this.signalingState = "stable";
      return;
    }
    this.localDescription = { type: desc.type, sdp: desc.sdp };
    this.signalingState = desc.type === "offer" ? "have-local-offer" : "stable";
    this.iceGatheringState = "gathering";
    this.#fire("icegatheringstatechange");
    if (this.#rtc.gathering === "auto") {
      queueMicrotask(() => {
        for (const c of this.#rtc.autoCandidates) this.emitCandidate(c);
        this.completeGathering();
      });
    }
  }

  async setRemoteDescription(desc) {
    this.#checkOpen();
    this.log.push(["setRemoteDescription", desc.type, desc.sdp]);
    if (this.remoteDescriptionError) {
      const e = this.remoteDescriptionError;
      this.remoteDescriptionError = null;
      throw e;
    }
    if (desc.type === "answer" && this.signalingState !== "have-local-offer") {
      throw new Error("InvalidStateError: answer without a local offer");
    }
    const first = this.remoteDescription === null;
    this.remoteDescription = { type: desc.type, sdp: desc.sdp };
    this.signalingState = desc.type === "offer" ? "have-remote-offer" : "stable";
    if (first) {
      const track = new FakeTrack("audio");
      const stream = new FakeMediaStream([track]);
      queueMicrotask(() => this.#fire("track", { track, streams: [stream] }));
    }
  }

  async getStats() {
    this.log.push(["getStats"]);
    return new Map(this.statsEntries.map((s) => [s.id, s]));
  }

  restartIce() {
    this.log.push(["restartIce"]);
  }

  close() {
    this.log.push(["close"]);
    this.closed = true;
    this.signalingState = "closed";
  }

  // ---- the test plays the browser ----

  /** A local candidate found: appended to the local SDP (as browsers do) and announced. */
  emitCandidate(line, sdpMid = "0", sdpMLineIndex = 0) {
    if (this.localDescription) this.localDescription = { ...this.localDescription, sdp: `${this.localDescription.sdp}a=${line}\r\n` };
    this.#fire("icecandidate", { candidate: { candidate: line, sdpMid, sdpMLineIndex } });
  }

  /** As Chrome does: the state change, then the null candidate as a separate task. */
  completeGathering() {
    this.iceGatheringState = "complete";
    this.#fire("icegatheringstatechange");
    setImmediate(() => this.#fire("icecandidate", { candidate: null }));
  }

  setIceConnectionState(state) {
    this.iceConnectionState = state;
    this.#fire("iceconnectionstatechange");
  }

  calls(name) {
    return this.log.filter((entry) => entry[0] === name).map((entry) => entry.slice(1));
  }

  #fire(name, fields = {}) {
    this.dispatchEvent(Object.assign(new Event(name), fields));
  }

  #checkOpen() {
    if (this.closed) throw new Error("InvalidStateError: closed");
  }
}
