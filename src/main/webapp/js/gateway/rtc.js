// WebRTC helpers of the client library: waiting for ICE gathering with a cap, and a summary of
// RTCPeerConnection.getStats() (https://www.w3.org/TR/webrtc-stats/) that applications can show.

/**
 * Resolves once `pc` has gathered its ICE candidates, or after `capMs` if gathering takes longer
 * (an unreachable STUN/TURN server can hold it for many seconds). Resolves `true` when gathering
 * completed, `false` when the cap ran out; candidates found later are trickled by the caller.
 */
export function gatheringComplete(pc, capMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (complete) => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", onState);
      pc.removeEventListener("icecandidate", onCandidate);
      resolve(complete);
    };
    const onState = () => {
      if (pc.iceGatheringState === "complete") done(true);
    };
    // Some browsers signal the end only through the null candidate (RFC 8838 §4.4 end-of-candidates).
    const onCandidate = (e) => {
      if (!e.candidate || !e.candidate.candidate) done(true);
    };
    const timer = setTimeout(() => done(false), capMs);
    pc.addEventListener("icegatheringstatechange", onState);
    pc.addEventListener("icecandidate", onCandidate);
  });
}

/** An `RTCIceCandidate` as the protocol's `candidate` field, or null for end-of-candidates. */
export function candidateToWire(candidate) {
  if (!candidate || !candidate.candidate) return null;
  return { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null };
}

function statsEntries(report) {
  if (!report) return [];
  if (typeof report.values === "function") return [...report.values()];
  if (Array.isArray(report)) return report;
  return Object.values(report);
}

function defined(object) {
  const out = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined && value !== null) out[key] = value;
  return out;
}

function candidateSummary(candidate) {
  if (!candidate) return undefined;
  return defined({
    address: candidate.address ?? candidate.ip,
    port: candidate.port,
    protocol: candidate.protocol,
    type: candidate.candidateType,
  });
}

/**
 * Summarises an `RTCStatsReport` for the audio of one call. Times are seconds (as in the report);
 * fields the browser did not report are absent.
 * @returns {{inbound: object, outbound: object, rtt?: number, candidatePair: object|null}}
 */
export function summarizeStats(report) {
  const entries = statsEntries(report);
  const byId = new Map(entries.map((s) => [s.id, s]));
  const first = (type, kind = "audio") =>
    entries.find((s) => s.type === type && (s.kind ?? s.mediaType ?? "audio") === kind);

  const inbound = first("inbound-rtp");
  const outbound = first("outbound-rtp");
  const remoteInbound = first("remote-inbound-rtp");
  const source = first("media-source");
  const codecOf = (rtp) => {
    const codec = rtp?.codecId ? byId.get(rtp.codecId) : undefined;
    return codec?.mimeType;
  };

  // The selected pair: named by the transport (Chrome, Safari), else the nominated succeeded one.
  const transport = entries.find((s) => s.type === "transport" && s.selectedCandidatePairId);
  let pair = transport ? byId.get(transport.selectedCandidatePairId) : undefined;
  pair ??= entries.find((s) => s.type === "candidate-pair" && (s.selected || (s.nominated && s.state === "succeeded")));

  const summary = {
    inbound: defined({
      packets: inbound?.packetsReceived,
      bytes: inbound?.bytesReceived,
      packetsLost: inbound?.packetsLost,
      jitter: inbound?.jitter,
      audioLevel: inbound?.audioLevel,
      codec: codecOf(inbound),
    }),
    outbound: defined({
      packets: outbound?.packetsSent,
      bytes: outbound?.bytesSent,
      audioLevel: source?.audioLevel,
      packetsLost: remoteInbound?.packetsLost,
      jitter: remoteInbound?.jitter,
      codec: codecOf(outbound),
    }),
    candidatePair: pair
      ? defined({
          state: pair.state,
          local: candidateSummary(byId.get(pair.localCandidateId)),
          remote: candidateSummary(byId.get(pair.remoteCandidateId)),
          rtt: pair.currentRoundTripTime,
        })
      : null,
  };
  const rtt = pair?.currentRoundTripTime ?? remoteInbound?.roundTripTime;
  if (rtt !== undefined) summary.rtt = rtt;
  return summary;
}
