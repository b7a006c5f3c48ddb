// A real WebRTC peer for integration tests: headless Chromium with its fake microphone (and camera),
// one RTCPeerConnection at a time, driven over stdin/stdout (ChromiumPeer.java is the Java driver).
//
//   node src/test/js/e2e/webrtc-peer.mjs [--ice-servers <json>] [--relay-only] [--video] [--trickle]
//        [--audio-codecs PCMU,telephone-event] [--video-codecs H264] [--gather-timeout ms] [--all-interfaces]
//
//   --ice-servers <json>  RTCIceServer list, e.g. [{"urls":"turn:127.0.0.1:3478","username":"u","credential":"p"}]
//   --relay-only          iceTransportPolicy "relay": only TURN-relayed candidates
//   --video               also send the fake camera (VP8/H.264 as Chromium offers them)
//   --trickle             answer create-offer/set-offer/restart-ice at once and print candidates as they come;
//                         without it the SDP is printed once gathering is complete (candidates inside)
//   --audio-codecs <list> setCodecPreferences for audio, in this order (mime subtypes: opus, PCMU, PCMA,
//                         G722, telephone-event, ...); the default is Chromium's own list
//   --video-codecs <list> the same for video (VP8, H264, VP9, AV1): only those, every variant of each
//                         (H264: all packetization-modes and profiles), no rtx/red/ulpfec; needs --video
//   --gather-timeout ms   how long a non-trickle SDP waits for gathering to complete (default 10000)
//   --all-interfaces      keep Chromium's ICE on every interface (for a test's own network namespace);
//                         the default keeps it on loopback, see "Loopback" below
//
// The page is served by a tiny HTTP server on 127.0.0.1:<free port> (a potentially trustworthy origin,
// so getUserMedia works); Chromium is /usr/bin/chromium (or $CHROMIUM) with a fresh profile, driven by
// playwright-core from the project's node_modules.
//
// stdin: one command per line, run one after the other in the order received. <json> is one JSON value
// on the rest of the line (an SDP as a JSON string, so its CRLFs are escaped).
//   create-offer                 creates an RTCPeerConnection if there is none (or it was closed), offers
//   set-answer <json sdp>        applies the far end's answer
//   set-offer <json sdp>         creates an RTCPeerConnection if needed, applies the offer, answers
//   add-candidate <json>         an RTCIceCandidateInit ({"candidate":"candidate:..","sdpMid":"0"}) or just
//                                the candidate string (then sdpMLineIndex 0: everything is bundled)
//   end-of-candidates            the far end has no more candidates
//   stats                        the connection's state and counters (see below)
//   restart-ice                  a new offer with createOffer({iceRestart:true}); answer with set-answer
//   dtmf <tones> [ms [gap]]      RTCDTMFSender.insertDTMF on the audio sender (RFC 4733 events)
//   close                        RTCPeerConnection.close(); the next create-offer/set-offer starts a new one
//   quit                         closes Chromium and exits 0 once the commands read before it have
//                                answered (also at end of input); SIGTERM and SIGINT quit at once
//
// stdout: one JSON object per line, each with "t" (ms since start).
//   {"harness":"ready","chromium":"156.0...","loopbackOnly":true}     Chromium is up, commands welcome
//   {"command":"create-offer","seq":1,"ok":true,"offer":"v=0\r\n..."}  every command answers exactly once;
//   {"command":"set-offer","seq":2,"ok":true,"answer":"v=0\r\n..."}   seq counts the command lines read
//   {"command":"restart-ice","seq":3,"ok":true,"offer":"..."}
//   {"command":"stats","seq":4,"ok":true,"stats":{..}}
//   {"command":"set-answer","seq":5,"ok":true}                        (add-candidate, dtmf, close alike)
//   {"command":"..","seq":6,"ok":false,"error":{"name":"InvalidStateError","message":".."}}
//   {"candidate":{"candidate":"candidate:..","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":".."}}
//                                with --trickle only; gathering done = icegatheringstatechange "complete"
//   {"event":"iceconnectionstatechange","state":"checking"}   also connectionstatechange,
//        icegatheringstatechange, signalingstatechange, dtlsstatechange ({"state":"connected"});
//        close reports the first three as "closed" itself (RTCPeerConnection.close() fires no events)
//   {"event":"track","kind":"audio","mid":"0","id":".."}
//   {"event":"tonechange","tone":"1"}                          a DTMF tone started ("" when all are sent)
//   {"event":"icecandidateerror","url":"turn:..","errorCode":701,"errorText":".."}
//   {"harness":"exit"} before exit 0;  {"harness":"fatal","message":".."} before exit 1
// stats: {iceState, connectionState, iceGatheringState, signalingState, dtlsState,
//   dtls: {role, tlsVersion, dtlsCipher, srtpCipher},
//   selectedPair: {localType, localAddress, localPort, localProtocol, relayProtocol, remoteType,
//                  remoteAddress, remotePort, state, currentRoundTripTime, bytesSent, bytesReceived} | null,
//   inbound: {ssrc, codec, packetsReceived, bytesReceived, packetsLost, jitter, audioLevel,
//             totalAudioEnergy, totalSamplesReceived, concealedSamples} | null,
//   outbound: {ssrc, codec, packetsSent, bytesSent} | null,
//   remoteInbound: {packetsLost, fractionLost, jitter, roundTripTime} | null   (the far end's RTCP RR)
//   video: {inbound: {ssrc, codec, packetsReceived, bytesReceived, framesDecoded} | null,
//           outbound: {ssrc, codec, packetsSent, bytesSent, framesEncoded, keyFramesEncoded,
//                      pliCount, firCount} | null}   (with --video; pliCount/firCount: keyframe requests received)}
// Counters of the audio streams; packetsReceived counts packets that passed SRTP authentication;
// codec as in a=rtpmap ("opus/48000/2", "PCMU/8000"). Before create-offer/set-offer every field is null.
// Diagnostics (page console, errors, the compiler) go to stderr.
//
// Loopback: tests may only use 127.0.0.0/8 and ::1. Chromium gathers no loopback host candidates
// (--allow-loopback-in-peer-connection adds them, but keeps gathering on eth0 too, and its eth0
// socket then checks the far end's loopback candidates, which answer to eth0's address). So Chromium
// runs with LD_PRELOAD=loopback-only.so (chromium.mjs compiles loopback-only.c next to this file with
// `cc`, cached under target/webrtc-peer/): every socket it binds to an interface address is bound to
// 127.0.0.1 / ::1 instead, so each interface yields a loopback candidate and all ICE, STUN and TURN
// traffic stays on loopback. Candidates naming another address (TCP "active" ones, port 9, never
// bound) are left out of what this harness prints. --allow-loopback-in-peer-connection is added only
// when the machine has no other interface (then Chromium would have no network at all).
// Host candidates are plain addresses, never mDNS ".local" names (which would need multicast to
// resolve): Chromium hides addresses only from pages without media permission, and the fake UI grants
// it. (--disable-features=WebRtcHideLocalIpsWithMdns is not used: a second --disable-features would
// replace the list playwright passes.)
// ICE server URLs must name a loopback address unless --all-interfaces.
import { isLoopback } from "./chromium.mjs";
import { jsonCommand, runHarness } from "./harness.mjs";

function parseArgs(argv) {
  const options = {
    iceServers: [], relayOnly: false, video: false, trickle: false, audioCodecs: null, videoCodecs: null,
    gatherTimeout: 10000, loopbackOnly: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--ice-servers") {
      options.iceServers = JSON.parse(value());
      if (!Array.isArray(options.iceServers)) throw new Error("--ice-servers must be a JSON array");
    } else if (arg === "--relay-only") options.relayOnly = true;
    else if (arg === "--video") options.video = true;
    else if (arg === "--trickle") options.trickle = true;
    else if (arg === "--audio-codecs") options.audioCodecs = value().split(",").map((c) => c.trim()).filter(Boolean);
    else if (arg === "--video-codecs") options.videoCodecs = value().split(",").map((c) => c.trim()).filter(Boolean);
    else if (arg === "--gather-timeout") {
      options.gatherTimeout = Number(value());
      if (!Number.isFinite(options.gatherTimeout) || options.gatherTimeout <= 0) {
        throw new Error("--gather-timeout needs a positive number of ms");
      }
    } else if (arg === "--all-interfaces") options.loopbackOnly = false;
    else throw new Error(`unknown option ${arg}`);
  }
  if (options.loopbackOnly) {
    for (const server of options.iceServers) {
      for (const url of [].concat(server.urls ?? server.url ?? [])) {
        const host = /^(?:stuns?|turns?):(\[[^\]]+\]|[^:?]+)/.exec(url)?.[1];
        if (!host || !isLoopback(host.replace(/^\[|\]$/g, ""))) {
          throw new Error(`ICE server ${url} is not on loopback (use --all-interfaces in a network namespace)`);
        }
      }
    }
  }
  return options;
}

// Runs in the page. Everything it hands back must survive JSON.
function installPeer(options) {
  const report = (object) => window.harnessReport(JSON.stringify(object));
  let pc = null;
  let media = null;

  const loopback = (address) => /^127\./.test(address) || address === "::1";
  // candidate:<foundation> <component> <transport> <priority> <address> <port> typ ... (RFC 8839 §5.1)
  const candidateAddress = (line) => line.replace(/^a=/, "").split(" ")[4] ?? "";
  const keep = (line) => !options.loopbackOnly || loopback(candidateAddress(line));
  const filterSdp = (sdp) =>
    sdp.split("\r\n").filter((line) => !line.startsWith("a=candidate:") || keep(line)).join("\r\n");

  // setCodecPreferences lists for the audio and the video transceiver, by mime subtype in the given order
  // (every variant of a name: H264 comes in several packetization-modes and profiles).
  const codecPreferences = (kind, names) => {
    if (!names) return null;
    const all = RTCRtpReceiver.getCapabilities(kind).codecs;
    const wanted = [];
    for (const name of names) {
      const mime = (name.includes("/") ? name : `${kind}/${name}`).toLowerCase();
      const matching = all.filter((c) => c.mimeType.toLowerCase() === mime);
      if (matching.length === 0) throw new Error(`Chromium has no ${kind} codec ${name}`);
      wanted.push(...matching);
    }
    return wanted;
  };

  const play = (track) => {
    const element = document.createElement("audio");
    element.srcObject = new MediaStream([track]);
    element.autoplay = true;
    document.body.append(element);
    element.play().catch((e) => console.warn(`playing received audio: ${e.message}`));
    track.addEventListener("ended", () => element.remove());
  };

  const open = async () => {
    if (pc && pc.signalingState !== "closed") return pc;
    media ??= await navigator.mediaDevices.getUserMedia({ audio: true, video: options.video });
    const connection = new RTCPeerConnection({
      iceServers: options.iceServers,
      iceTransportPolicy: options.relayOnly ? "relay" : "all",
      bundlePolicy: "max-bundle",
      rtcpMuxPolicy: "require",
    });
    pc = connection;
    // Events of a connection closed and replaced since are not reported: they would read as the new one's.
    const current = () => pc === connection;
    const stateEvent = (name, state) => () => current() && report({ event: name, state: state() });
    connection.oniceconnectionstatechange = stateEvent("iceconnectionstatechange", () => connection.iceConnectionState);
    connection.onconnectionstatechange = stateEvent("connectionstatechange", () => connection.connectionState);
    connection.onicegatheringstatechange = stateEvent("icegatheringstatechange", () => connection.iceGatheringState);
    connection.onsignalingstatechange = stateEvent("signalingstatechange", () => connection.signalingState);
    connection.onicecandidate = (e) => {
      if (current() && options.trickle && e.candidate?.candidate && keep(e.candidate.candidate)) {
        report({ candidate: e.candidate.toJSON() });
      }
    };
    connection.onicecandidateerror = (e) =>
      current() && report({ event: "icecandidateerror", url: e.url, errorCode: e.errorCode, errorText: e.errorText });
    connection.ontrack = (e) => {
      if (!current()) return;
      report({ event: "track", kind: e.track.kind, id: e.track.id, mid: e.transceiver?.mid ?? null });
      // Received audio is decoded only when something plays it: without a sink, audioLevel,
      // totalAudioEnergy and totalSamplesReceived stay 0 even as packets arrive.
      if (e.track.kind === "audio") play(e.track);
    };
    const preferences = {
      audio: codecPreferences("audio", options.audioCodecs),
      video: codecPreferences("video", options.videoCodecs),
    };
    for (const track of media.getTracks()) {
      const sender = connection.addTrack(track, media);
      const wanted = preferences[track.kind];
      if (wanted) connection.getTransceivers().find((t) => t.sender === sender).setCodecPreferences(wanted);
      if (track.kind === "audio") {
        sender.dtmf.ontonechange = (e) => current() && report({ event: "tonechange", tone: e.tone });
      }
    }
    return connection;
  };

  const watchDtls = (connection) => {
    const transport = connection.getSenders().find((s) => s.transport)?.transport;
    if (transport && !transport.onstatechange) {
      transport.onstatechange = () => pc === connection && report({ event: "dtlsstatechange", state: transport.state });
    }
  };

  const gathered = (connection) => {
    if (options.trickle || connection.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(Object.assign(
        new Error(`ICE gathering not complete after ${options.gatherTimeout} ms`), { name: "GatheringTimeout" })),
        options.gatherTimeout);
      connection.addEventListener("icegatheringstatechange", () => {
        if (connection.iceGatheringState === "complete") {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  };

  const describe = async (connection, description) => {
    await connection.setLocalDescription(description);
    watchDtls(connection);
    await gathered(connection);
    return filterSdp(connection.localDescription.sdp);
  };

  const requirePc = () => {
    if (!pc || pc.signalingState === "closed") {
      throw Object.assign(new Error("no open RTCPeerConnection (create-offer or set-offer first)"), { name: "InvalidStateError" });
    }
    return pc;
  };

  const candidateInit = (value) => {
    const init = typeof value === "string" ? { candidate: value } : { ...value };
    init.candidate = String(init.candidate ?? "").replace(/^a=/, "");
    if (init.sdpMid == null && init.sdpMLineIndex == null) init.sdpMLineIndex = 0;
    return init;
  };

  const number = (v) => (v === undefined ? null : v);
  const stats = async () => {
    const connection = pc;
    const result = {
      iceState: connection?.iceConnectionState ?? null,
      connectionState: connection?.connectionState ?? null,
      iceGatheringState: connection?.iceGatheringState ?? null,
      signalingState: connection?.signalingState ?? null,
      dtlsState: null, dtls: null, selectedPair: null, inbound: null, outbound: null, remoteInbound: null,
    };
    if (options.video) result.video = { inbound: null, outbound: null };
    if (!connection || connection.signalingState === "closed") return result;
    const report = await connection.getStats();
    const codec = (id) => {
      const c = id && report.get(id);
      // As in a=rtpmap (RFC 8866 §6.6): channels only when more than one.
      return c ? `${c.mimeType.replace(/^[a-z]+\//, "")}/${c.clockRate}${c.channels > 1 ? "/" + c.channels : ""}` : null;
    };
    report.forEach((s) => {
      if (s.type === "transport") {
        result.dtlsState = s.dtlsState ?? null;
        result.dtls = { role: number(s.dtlsRole), tlsVersion: number(s.tlsVersion), dtlsCipher: number(s.dtlsCipher), srtpCipher: number(s.srtpCipher) };
        const pair = s.selectedCandidatePairId && report.get(s.selectedCandidatePairId);
        if (pair) {
          const local = report.get(pair.localCandidateId) ?? {};
          const remote = report.get(pair.remoteCandidateId) ?? {};
          result.selectedPair = {
            localType: local.candidateType ?? null, localAddress: local.address ?? null, localPort: number(local.port),
            localProtocol: local.protocol ?? null, relayProtocol: local.relayProtocol ?? null,
            remoteType: remote.candidateType ?? null, remoteAddress: remote.address ?? null, remotePort: number(remote.port),
            state: pair.state, currentRoundTripTime: number(pair.currentRoundTripTime),
            bytesSent: number(pair.bytesSent), bytesReceived: number(pair.bytesReceived),
          };
        }
      } else if (s.type === "inbound-rtp" && s.kind === "audio") {
        result.inbound = {
          ssrc: s.ssrc, codec: codec(s.codecId), packetsReceived: s.packetsReceived ?? 0, bytesReceived: s.bytesReceived ?? 0,
          packetsLost: s.packetsLost ?? 0, jitter: number(s.jitter), audioLevel: number(s.audioLevel),
          totalAudioEnergy: number(s.totalAudioEnergy), totalSamplesReceived: number(s.totalSamplesReceived),
          concealedSamples: number(s.concealedSamples),
        };
      } else if (s.type === "outbound-rtp" && s.kind === "audio") {
        result.outbound = { ssrc: s.ssrc, codec: codec(s.codecId), packetsSent: s.packetsSent ?? 0, bytesSent: s.bytesSent ?? 0 };
      } else if (s.type === "remote-inbound-rtp" && s.kind === "audio") {
        result.remoteInbound = {
          packetsLost: number(s.packetsLost), fractionLost: number(s.fractionLost), jitter: number(s.jitter),
          roundTripTime: number(s.roundTripTime),
        };
      } else if (options.video && s.type === "inbound-rtp" && s.kind === "video") {
        result.video.inbound = {
          ssrc: s.ssrc, codec: codec(s.codecId), packetsReceived: s.packetsReceived ?? 0, bytesReceived: s.bytesReceived ?? 0,
          framesDecoded: number(s.framesDecoded),
        };
      } else if (options.video && s.type === "outbound-rtp" && s.kind === "video") {
        result.video.outbound = {
          ssrc: s.ssrc, codec: codec(s.codecId), packetsSent: s.packetsSent ?? 0, bytesSent: s.bytesSent ?? 0,
          framesEncoded: number(s.framesEncoded), keyFramesEncoded: number(s.keyFramesEncoded),
          pliCount: number(s.pliCount), firCount: number(s.firCount),
        };
      }
    });
    return result;
  };

  const commands = {
    "create-offer": async () => {
      const connection = await open();
      return { offer: await describe(connection, await connection.createOffer()) };
    },
    "set-answer": async (arg) => {
      await requirePc().setRemoteDescription({ type: "answer", sdp: arg });
      return {};
    },
    "set-offer": async (arg) => {
      const connection = await open();
      await connection.setRemoteDescription({ type: "offer", sdp: arg });
      return { answer: await describe(connection, await connection.createAnswer()) };
    },
    "add-candidate": async (arg) => {
      await requirePc().addIceCandidate(candidateInit(arg));
      return {};
    },
    "end-of-candidates": async () => {
      await requirePc().addIceCandidate();
      return {};
    },
    stats: async () => ({ stats: await stats() }),
    "restart-ice": async () => {
      const connection = requirePc();
      return { offer: await describe(connection, await connection.createOffer({ iceRestart: true })) };
    },
    dtmf: async (arg) => {
      const [tones, duration, gap] = String(arg ?? "").split(/\s+/);
      const sender = requirePc().getSenders().find((s) => s.track?.kind === "audio");
      if (!tones) throw new Error("dtmf needs tones, e.g. dtmf 123#");
      if (!sender?.dtmf?.canInsertDTMF) {
        throw Object.assign(new Error("cannot send DTMF now (no telephone-event negotiated, or not connected)"), { name: "InvalidStateError" });
      }
      sender.dtmf.insertDTMF(tones, duration ? Number(duration) : 100, gap ? Number(gap) : 70);
      return {};
    },
    close: async () => {
      if (pc && pc.signalingState !== "closed") {
        pc.close();
        // close() sets the states without firing events (W3C webrtc-pc, close()); report them so the last state read is not
        // the closed connection's "connected".
        for (const name of ["signalingstatechange", "iceconnectionstatechange", "connectionstatechange"]) {
          report({ event: name, state: "closed" });
        }
      }
      return {};
    },
  };

  window.harnessRun = async (command, arg) => {
    try {
      const run = commands[command];
      if (!run) throw Object.assign(new Error(`unknown command ${command}`), { name: "HarnessError" });
      return { ok: true, ...(await run(arg)) };
    } catch (e) {
      return { ok: false, error: { name: e.name ?? "Error", message: e.message ?? String(e) } };
    }
  };
}

// "set-offer {..json..}" -> ["set-offer", parsed json]; "dtmf 12 100" -> ["dtmf", "12 100"].
function parseCommand(line) {
  const [command] = line.trim().split(/\s/, 1);
  if (command === "dtmf") return [command, line.trim().slice(command.length).trim() || null];
  return jsonCommand(line);
}

runHarness({
  name: "webrtc-peer",
  parseArgs,
  loopbackOnly: (options) => options.loopbackOnly,
  install: installPeer,
  ready: (options, origin, chromium) => ({ chromium, loopbackOnly: options.loopbackOnly }),
  parseCommand,
  // Offer/answer/candidates only make sense in sequence.
  sequential: true,
  // Commands read before quit still answer; one stuck (a gathering timeout at most) does not keep us.
  drainTimeout: (options) => options.gatherTimeout + 5000,
});
