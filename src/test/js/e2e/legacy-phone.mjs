// A Genesys grtc.js-style phone for integration tests: headless Chromium whose page speaks the legacy
// hanging-GET protocol (SPEC §4, docs/legacy-protocol.md) with fetch() and a raw RTCPeerConnection, the
// way the deployed grtc.js 8.5 library does, driven over stdin/stdout (LegacyPhone.java is the Java driver).
//
//   node src/test/js/e2e/legacy-phone.mjs --gateway http://127.0.0.1:<port>[/t/<token>] --port <page port>
//        [--polling-timeout ms] [--ice-timeout ms]
//
// The page is served from http://127.0.0.1:<page port>/, a different origin than the gateway, as grtc.js
// apps are: every request is cross-origin with credentials (the gateway must list the page's origin in
// gateway.cors.allowed-origins). What the page does, as grtc.js does it:
//  - sign-in: GET /sign_in?<dn> (no password) or POST /sign_in "<dn>:<password>"; the session id is what
//    follows "=" on the first line of the answer. Then GET /wait?id=<ssid> in a loop (client timeout 30 s,
//    aborted polls start again). A non-200 poll signs the client out (grtc.js: "peer closing").
//  - POSTs go with jQuery's default Content-Type, application/x-www-form-urlencoded; charset=UTF-8.
//  - call: createOffer, "UDP/TLS/" removed from the SDP (grtc.js does so for every offer it makes, and sets
//    the munged SDP as its local description), ICE gathered completely (non-trickle), then
//    POST /message?from=<ssid>&to=<dn> "RSMP {messageType:OFFER, offererSessionId, answererSessionId,
//    seq, tiebreaker, sdp, Candidates:[...]}". The SDP of a first offer has no candidates: they travel in
//    Candidates as RTCIceCandidate JSON; re-offers carry them in the SDP as well, and grtc.js then also
//    lists those as {candidate: "a=candidate:...", sdpMid: "audio", sdpMLineIndex}.
//  - a /wait body is handled in grtc.js's order: "BYE" at 0 ends the call; "INVITE" at 0; "EVENT-TALK",
//    "EVENT-HOLD"; "INFO-PEER "; "PUT-STATS"; a body containing ERROR, errorType and "{" not at 0 is a
//    gateway error; a body without "OFFER" is parsed from its first "{" (ANSWER -> setRemoteDescription,
//    candidates, then "RSMP {messageType:OK}"); a body starting with "SDP" that contains "OFFER" is an
//    incoming call (or a re-offer within the call, answered at once).
//  - answer (incoming): setRemoteDescription(offer), createAnswer (UDP/TLS/ kept), gather, then the offer's
//    candidates, then "RSMP {messageType:ANSWER, offererSessionId (the offer's), answererSessionId (ours),
//    seq (the offer's), sdp, Candidates}".
//  - hold / resume: a re-offer whose directions say "inactive" (grtc.js) or, with {"direction":"sendonly"},
//    sendonly; resume offers sendrecv.
//  - hangup: "BYE" to the peer; info: "INFO-MAP <form>" / "INFO-PEER <form>"; get-stats: "GET-STATS".
// One difference, for the loopback rule of the tests: candidates are passed through a filter keeping
// loopback addresses only (grtc.js's own filterIceCandidates hook, meant to be overridden by apps), also
// applied to a=candidate lines of the SDP sent. Chromium runs with the loopback-only.so shim, exactly as
// under webrtc-peer.mjs (its header explains why).
//
// stdin: one command per line, "<command> [<json>]", run in order:
//   sign-in {"dn":"1001","password":null}   dn null: anonymous ("anon" + 32 hex digits, GET)
//   call {"to":"5000","data":[{"key":"k","value":"v"}]}
//   hold [{"direction":"inactive"|"sendonly"}]      resume
//   answer                                  the incoming offer (or INVITE: then we offer)
//   hangup      info-map <json object>      info-peer <json object>      get-stats
//   post {"to":"5000","body":"..."}         any body to /message (for bad input)
//   stats       sign-out      quit
// stdout: one JSON object per line, each with "t" (ms since start):
//   {"harness":"ready","origin":"http://127.0.0.1:..","chromium":".."}
//   {"command":"call","seq":3,"ok":true,...}      every command answers once ("ok":false,"error":{..})
//   {"event":"poll","status":200,"pragma":"5000","body":"RSMP {...}"}    every /wait answer with a body
//   {"event":"sent","to":"5000","status":200,"body":"RSMP {...}","answer":".."}  every POST /message
//   {"event":"answer-received","peer":..}  {"event":"incoming","peer":..,"kind":"offer"|"invite"}
//   {"event":"answer-sent","peer":..}      {"event":"bye","peer":..}   {"event":"gateway-error","errorType":..}
//   {"event":"info-peer","data":{..}}      {"event":"put-stats","stats":{..}}   {"event":"notify","what":"talk"}
//   {"event":"poll-ended","status":404}    {"event":"poll-failed","message":".."}
//   {"event":"ignored","reason":"..","body":".."}  a /wait body the library would drop (logged)
//   {"event":"iceconnectionstatechange","state":".."}   also connectionstatechange, signalingstatechange
//   {"harness":"exit"} | {"harness":"fatal","message":".."}
// stats answers {"stats": {iceState, connectionState, dtlsState, inbound, outbound}} like webrtc-peer.mjs.
import { jsonCommand, runHarness } from "./harness.mjs";

function parseArgs(argv) {
  const options = { gateway: null, port: 0, pollingTimeout: 30000, iceTimeout: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--gateway") options.gateway = value().replace(/\/$/, "");
    else if (arg === "--port") options.port = Number(value());
    else if (arg === "--polling-timeout") options.pollingTimeout = Number(value());
    else if (arg === "--ice-timeout") options.iceTimeout = Number(value());
    else throw new Error(`unknown option ${arg}`);
  }
  // A /t/<token> path is the token-carrying base URL of docs/legacy-protocol.md ("Tokens").
  if (!options.gateway || !/^https?:\/\/(127\.[0-9.]+|\[::1\]|localhost)(:\d+)?(\/t\/[A-Za-z0-9_.\-]+)?$/.test(options.gateway)) {
    throw new Error("--gateway http://127.0.0.1:<port>[/t/<token>] is required (loopback only)");
  }
  return options;
}

// Runs in the page: the grtc.js-style client. Everything it reports must survive JSON.
function installLegacyClient(options) {
  const report = (object) => window.harnessReport(JSON.stringify(object));
  const gateway = options.gateway;
  // jQuery's $.post sends strings with this type; the gateway must still read the body as text.
  const FORM = "application/x-www-form-urlencoded; charset=UTF-8";
  const IDLE = 0, STARTED = 2, CONNECTED = 3;

  let ssid = null;
  let pollGeneration = 0;
  let media = null;
  let pc = null;
  let callState = IDLE;
  let onHold = false;
  let holdDirection = "inactive";
  let pcCaller = null;
  let incomingMsg = null;
  let nextSessionId = 101;
  let session = null;

  const newSession = () => ({
    state: "new", sessionId: ++nextSessionId, otherSessionId: null, seq: 0, peer: null, incoming: null,
    outSdp: null, localCandidates: [], gathering: null, offerCandidates: null, data: null,
  });
  session = newSession();

  const loopback = (address) => /^127\./.test(address) || address === "::1";
  const candidateAddress = (line) => line.replace(/^a=/, "").split(" ")[4] ?? "";
  // grtc.js's filterIceCandidates hook, as a loopback-only test app would override it.
  const keepCandidate = (line) => loopback(candidateAddress(line));
  const filterSdp = (sdp) => sdp.split("\r\n").filter((l) => !l.startsWith("a=candidate:") || keepCandidate(l)).join("\r\n");

  const request = async (method, path, body, timeoutMs) => {
    const controller = new AbortController();
    const timer = timeoutMs ? setTimeout(() => controller.abort(), timeoutMs) : null;
    try {
      const init = { method, credentials: "include", signal: controller.signal, cache: "no-store" };
      if (body !== undefined) {
        init.body = body;
        init.headers = { "Content-Type": FORM };
      }
      const response = await fetch(gateway + path, init);
      return { status: response.status, body: await response.text(), pragma: response.headers.get("Pragma") };
    } finally {
      if (timer) clearTimeout(timer);
    }
  };

  const sendToPeer = async (peer, body) => {
    const r = await request("POST", `/message?from=${ssid}&to=${peer}`, body);
    report({ event: "sent", to: peer, status: r.status, body, answer: r.body });
    return r;
  };

  // ---- media --------------------------------------------------------------------------------------

  const play = (track) => {
    const element = document.createElement("audio");
    element.srcObject = new MediaStream([track]);
    element.autoplay = true;
    document.body.append(element);
    element.play().catch((e) => console.warn(`playing received audio: ${e.message}`));
  };

  const openPeerConnection = async () => {
    if (pc && pc.signalingState !== "closed") return pc;
    media ??= await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    const connection = new RTCPeerConnection({ iceServers: [] });
    pc = connection;
    const current = () => pc === connection;
    const stateEvent = (name, state) => () => current() && report({ event: name, state: state() });
    connection.oniceconnectionstatechange = stateEvent("iceconnectionstatechange", () => connection.iceConnectionState);
    connection.onconnectionstatechange = stateEvent("connectionstatechange", () => connection.connectionState);
    connection.onsignalingstatechange = stateEvent("signalingstatechange", () => connection.signalingState);
    connection.onicecandidate = (e) => {
      if (!current()) return;
      if (e.candidate && e.candidate.candidate) {
        session.localCandidates.push(e.candidate);
      } else {
        session.gathering?.done();
      }
    };
    connection.ontrack = (e) => {
      if (current() && e.track.kind === "audio") play(e.track);
    };
    for (const track of media.getTracks()) connection.addTrack(track, media);
    return connection;
  };

  const closePeerConnection = () => {
    if (pc && pc.signalingState !== "closed") {
      pc.close();
      for (const name of ["signalingstatechange", "iceconnectionstatechange", "connectionstatechange"]) {
        report({ event: name, state: "closed" });
      }
    }
    pc = null;
  };

  // grtc.js waits for the end of gathering, or gives up after ice_timeout once it has a candidate.
  const awaitGathering = (connection) => new Promise((resolve) => {
    if (connection.iceGatheringState === "complete") return resolve();
    let finished = false;
    const finish = () => {
      if (!finished) {
        finished = true;
        clearInterval(timer);
        session.gathering = null;
        resolve();
      }
    };
    const timer = setInterval(() => {
      if (session.localCandidates.length > 0 || connection.iceGatheringState === "complete") finish();
    }, options.iceTimeout);
    session.gathering = { done: finish };
  });

  const candidatesOfSdp = (sdp) => {
    const out = [];
    let index = -1;
    let mid = "";
    for (const line of sdp.split("\r\n")) {
      if (line.startsWith("m=audio")) { index++; mid = "audio"; }
      else if (line.startsWith("m=video")) { index++; mid = "video"; }
      else if (line.startsWith("a=candidate")) out.push({ sdpMLineIndex: index, sdpMid: mid, candidate: line });
    }
    return out;
  };

  const sendRoap = async (operation, withSdp) => {
    const message = { messageType: operation };
    if (withSdp) {
      message.sdp = filterSdp(session.outSdp);
      let candidates = message.sdp.includes("a=candidate") ? candidatesOfSdp(message.sdp) : [];
      candidates = candidates.concat(session.localCandidates.map((c) => c.toJSON()));
      session.localCandidates = [];
      message.Candidates = candidates.filter((c) => keepCandidate(c.candidate));
    }
    if (operation === "OFFER") {
      message.offererSessionId = session.sessionId;
      message.answererSessionId = session.otherSessionId;
      message.seq = ++session.seq;
      message.tiebreaker = Math.floor(Math.random() * 429496723 + 1);
    } else {
      message.offererSessionId = session.incoming.offererSessionId;
      message.answererSessionId = session.sessionId;
      message.seq = session.incoming.seq;
    }
    if (session.data) message.attacheddata = session.data;
    return sendToPeer(session.peer, "RSMP " + JSON.stringify(message));
  };

  const makeOffer = async () => {
    if (session.state !== "new" && session.state !== "established") {
      throw Object.assign(new Error(`cannot offer in state ${session.state}`), { name: "InvalidStateError" });
    }
    if (callState !== CONNECTED) callState = STARTED;
    session.state = "preparing-offer";
    const connection = await openPeerConnection();
    const offer = await connection.createOffer();
    let sdp = offer.sdp.replace(/UDP\/TLS\//gi, "");
    if (onHold) sdp = sdp.replace(/a=(sendrecv|sendonly|recvonly)/gmi, `a=${holdDirection}`);
    session.outSdp = sdp;
    const gathered = awaitGathering(connection);
    await connection.setLocalDescription({ type: "offer", sdp });
    await gathered;
    session.state = "offer-sent";
    return sendRoap("OFFER", true);
  };

  const answerOffer = async (msg) => {
    session.incoming = msg;
    session.offerCandidates = msg.Candidates;
    session.state = "offer-received";
    const connection = await openPeerConnection();
    await connection.setRemoteDescription({ type: "offer", sdp: msg.sdp });
    const answer = await connection.createAnswer();
    session.outSdp = answer.sdp;
    const gathered = awaitGathering(connection);
    await connection.setLocalDescription(answer);
    await gathered;
    for (const c of session.offerCandidates ?? []) {
      try {
        await connection.addIceCandidate({ candidate: c.candidate.replace(/^a=/, ""), sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
      } catch (e) {
        console.warn(`offer candidate not added: ${e.message}`);
      }
    }
    session.offerCandidates = null;
    const sent = await sendRoap("ANSWER", true);
    session.state = "established";
    callState = CONNECTED;
    report({ event: "answer-sent", peer: session.peer });
    return sent;
  };

  const closeSession = async (sendBye) => {
    if (sendBye && session.peer) {
      await sendToPeer(session.peer, "BYE");
    }
    closePeerConnection();
    callState = IDLE;
    onHold = false;
    pcCaller = null;
    incomingMsg = null;
    session = newSession();
  };

  // ---- messages from the gateway ------------------------------------------------------------------

  const processSignalingMessage = async (peer, text) => {
    const start = text.search("{");
    let msg;
    try {
      msg = JSON.parse(start > 0 ? text.substr(start) : text);
    } catch (e) {
      report({ event: "ignored", reason: `not JSON: ${e.message}`, body: text });
      return;
    }
    if (session.state === "new" || session.state === "established") {
      if (msg.messageType === "OFFER") {
        session.peer ??= peer;
        await answerOffer(msg);
      } else if (msg.messageType === "OK" && session.state === "established") {
        report({ event: "ok-received", peer });
      } else {
        report({ event: "ignored", reason: `illegal ${msg.messageType} in state ${session.state}`, body: text });
      }
    } else if (session.state === "offer-sent") {
      if (msg.messageType === "ANSWER") {
        session.incoming = msg;
        await pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
        for (const c of msg.Candidates ?? []) {
          try {
            await pc.addIceCandidate({ candidate: c.candidate.replace(/^a=/, ""), sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
          } catch (e) {
            console.warn(`answer candidate not added: ${e.message}`);
          }
        }
        session.state = "established";
        await sendRoap("OK", false);
        callState = CONNECTED;
        report({ event: "answer-received", peer, sdp: msg.sdp });
      } else {
        report({ event: "ignored", reason: `illegal ${msg.messageType} in state offer-sent`, body: text });
      }
    } else {
      report({ event: "ignored", reason: `message in state ${session.state}`, body: text });
    }
  };

  const handlePeerMessage = async (peer, msg) => {
    if (msg.search("BYE") === 0) {
      report({ event: "bye", peer });
      await closeSession(false);
    } else if (msg.search("INVITE") === 0) {
      if (peer && callState === IDLE) {
        pcCaller = peer;
        report({ event: "incoming", peer, kind: "invite" });
      } else {
        await makeOffer();
      }
    } else if (msg.search("EVENT-TALK") === 0) {
      report({ event: "notify", what: "talk", peer });
    } else if (msg.search("EVENT-HOLD") === 0) {
      report({ event: "notify", what: "hold", peer });
    } else if (msg.search("INFO-PEER ") === 0) {
      const data = {};
      for (const pair of msg.substr(10).replace(/\n/g, "").split("&")) {
        if (pair.search("=") > 0) {
          const [k, v] = pair.split("=");
          data[k] = v;
        }
      }
      report({ event: "info-peer", peer, data });
    } else if (msg.search("PUT-STATS") === 0) {
      report({ event: "put-stats", peer, stats: JSON.parse(msg.substr(9)) });
    } else if (msg.search("ERROR") > 0 && msg.search("errorType") > 0 && msg.search("{") > 0) {
      const json = JSON.parse(msg.substr(msg.search("{")));
      report({ event: "gateway-error", peer, errorType: json.errorType, body: msg });
    } else {
      const offerAt = msg.search("OFFER");
      if (offerAt < 0) {
        await processSignalingMessage(peer, msg);
      } else if (msg.search("SDP") === 0 && offerAt > 0 && peer) {
        incomingMsg = msg;
        if (callState === IDLE) {
          pcCaller = peer;
          report({ event: "incoming", peer, kind: "offer" });
        } else {
          report({ event: "reoffer-received", peer });
          incomingMsg = null;
          await processSignalingMessage(peer, msg);
        }
      } else {
        report({ event: "ignored", reason: "unexpected message", body: msg });
      }
    }
  };

  let handling = Promise.resolve();
  const poll = async (generation) => {
    while (ssid && generation === pollGeneration) {
      let r;
      try {
        r = await request("GET", `/wait?id=${ssid}`, undefined, options.pollingTimeout);
      } catch (e) {
        if (generation !== pollGeneration) return;
        if (e.name === "AbortError") continue; // the client's own poll timeout: poll again
        report({ event: "poll-failed", message: e.message });
        return;
      }
      if (generation !== pollGeneration) return;
      if (r.status !== 200) {
        report({ event: "poll-ended", status: r.status, body: r.body });
        await signOut();
        return;
      }
      if (r.body !== "") report({ event: "poll", status: r.status, pragma: r.pragma, body: r.body });
      // Handled in order, but the next poll goes out at once (as grtc.js polls again right away).
      handling = handling.then(() => handlePeerMessage(r.pragma, r.body)).catch((e) =>
        report({ event: "handler-failed", message: e.message, body: r.body }));
    }
  };

  const signOut = async () => {
    if (!ssid) return {};
    if (session.peer) await closeSession(true);
    pollGeneration++;
    const r = await request("GET", `/sign_out?id=${ssid}`);
    ssid = null;
    return { status: r.status };
  };

  const anonymousId = () => "anon" + Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

  const commands = {
    "sign-in": async ({ dn, password }) => {
      const id = dn ?? anonymousId();
      const r = password
        ? await request("POST", "/sign_in", `${id}:${password}`)
        : await request("GET", `/sign_in?${id}`);
      if (r.status !== 200) return { status: r.status, body: r.body };
      ssid = r.body.split("\n")[0].split("=")[1];
      const generation = ++pollGeneration;
      poll(generation);
      return { status: r.status, body: r.body, id, ssid };
    },
    call: async ({ to, data }) => {
      session.peer = to;
      session.data = data ?? null;
      const r = await makeOffer();
      return { status: r.status, sent: r.body ?? null };
    },
    hold: async (arg) => {
      holdDirection = arg?.direction ?? "inactive";
      onHold = true;
      const r = await makeOffer();
      return { status: r.status };
    },
    resume: async () => {
      onHold = false;
      const r = await makeOffer();
      return { status: r.status };
    },
    answer: async () => {
      if (!pcCaller) throw Object.assign(new Error("no incoming call"), { name: "InvalidStateError" });
      session.peer = pcCaller;
      pcCaller = null;
      if (incomingMsg === null) {
        const r = await makeOffer();
        return { status: r.status };
      }
      const text = incomingMsg;
      incomingMsg = null;
      const r = await answerOffer(JSON.parse(text.substr(text.search("{"))));
      return { status: r.status };
    },
    hangup: async () => {
      await closeSession(true);
      return {};
    },
    "info-map": async (data) => ({ status: (await sendToPeer(session.peer, "INFO-MAP " + new URLSearchParams(data))).status }),
    "info-peer": async (data) => ({ status: (await sendToPeer(session.peer, "INFO-PEER " + new URLSearchParams(data))).status }),
    "get-stats": async () => ({ status: (await sendToPeer(session.peer, "GET-STATS")).status }),
    post: async ({ to, body }) => {
      const r = await sendToPeer(to, body);
      return { status: r.status, answer: r.body };
    },
    stats: async () => ({ stats: await stats() }),
    "sign-out": async () => signOut(),
  };

  const stats = async () => {
    const connection = pc;
    const result = {
      iceState: connection?.iceConnectionState ?? null, connectionState: connection?.connectionState ?? null,
      dtlsState: null, inbound: null, outbound: null,
    };
    if (!connection || connection.signalingState === "closed") return result;
    const all = await connection.getStats();
    const codec = (id) => {
      const c = id && all.get(id);
      return c ? `${c.mimeType.replace(/^[a-z]+\//, "")}/${c.clockRate}${c.channels > 1 ? "/" + c.channels : ""}` : null;
    };
    all.forEach((s) => {
      if (s.type === "transport") {
        result.dtlsState = s.dtlsState ?? null;
      } else if (s.type === "inbound-rtp" && s.kind === "audio") {
        result.inbound = {
          codec: codec(s.codecId), packetsReceived: s.packetsReceived ?? 0, bytesReceived: s.bytesReceived ?? 0,
          packetsLost: s.packetsLost ?? 0, jitter: s.jitter ?? null, audioLevel: s.audioLevel ?? null,
          totalAudioEnergy: s.totalAudioEnergy ?? null, totalSamplesReceived: s.totalSamplesReceived ?? null,
        };
      } else if (s.type === "outbound-rtp" && s.kind === "audio") {
        result.outbound = { codec: codec(s.codecId), packetsSent: s.packetsSent ?? 0, bytesSent: s.bytesSent ?? 0 };
      }
    });
    return result;
  };

  window.harnessRun = async (command, arg) => {
    try {
      const run = commands[command];
      if (!run) throw Object.assign(new Error(`unknown command ${command}`), { name: "HarnessError" });
      return { ok: true, ...(await run(arg ?? {})) };
    } catch (e) {
      return { ok: false, error: { name: e.name ?? "Error", message: e.message ?? String(e) } };
    }
  };
}

runHarness({
  name: "legacy-phone",
  parseArgs,
  // The page's own origin (cross-origin to the gateway, as grtc.js apps are).
  servePort: (options) => options.port,
  install: installLegacyClient,
  ready: (options, origin, chromium) => ({ origin, chromium }),
  parseCommand: jsonCommand,
  sequential: true,
  drainTimeout: () => 15000,
});
