// The demo phone: /js/webrtc-gateway.js with a dial pad. One call at a time; a second incoming call
// while busy is declined with 486 Busy Here.
import { Client } from "/js/webrtc-gateway.js";
import { LevelMeter, Sounds } from "./audio.js";

const $ = (id) => document.getElementById(id);
const KEYS = [
  ["1", ""], ["2", "ABC"], ["3", "DEF"],
  ["4", "GHI"], ["5", "JKL"], ["6", "MNO"],
  ["7", "PQRS"], ["8", "TUV"], ["9", "WXYZ"],
  ["*", ""], ["0", "+"], ["#", ""],
];
const STATE_LABELS = {
  calling: "Calling…", ringing: "Ringing…", early: "Early media", connected: "Connected", held: "On hold", ended: "Ended",
};
const IN_CALL = new Set(["early", "connected", "held"]);

const sounds = new Sounds();
let client = null;
/** The current call, or null. */
let call = null;
/** True between the Call button and client.call() resolving (no Call to hang up yet). */
let placing = false;
let hangupWhenPlaced = false;
let meter = null;
let ticker = null;
let clearEnded = null;
let gatewayStats = true;

function log(text) {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("log").prepend(li);
  while ($("log").children.length > 200) $("log").lastChild.remove();
}

function pill(el, text, cls) {
  el.textContent = text;
  el.className = `pill ${cls}`;
}

function sip(e) {
  return e.sipStatus ? ` (SIP ${e.sipStatus}${e.sipReason ? ` ${e.sipReason}` : ""})` : "";
}

// ---- sign-in ------------------------------------------------------------------------------------

function setOnline(online) {
  $("register").disabled = online;
  $("unregister").disabled = !online;
  $("signin").hidden = online;
  $("account").hidden = !online;
  $("me").textContent = $("dn").value.trim();
  updateButtons();
}

function attach(c) {
  c.addEventListener("registered", (e) => {
    pill($("reg"), `registered ${e.detail.dn}`, "on");
    log(`registered ${e.detail.dn} (expires ${e.detail.expires} s)`);
  });
  c.addEventListener("unregistered", (e) => {
    pill($("reg"), "not registered", "off");
    log(`unregistered ${e.detail.dn ?? ""} (${e.detail.reason ?? ""})${sip(e.detail)}`);
  });
  c.addEventListener("reconnecting", (e) => {
    pill($("conn"), "reconnecting…", "warn");
    log(`reconnecting (attempt ${e.detail.attempt}, in ${e.detail.delay} ms)`);
  });
  c.addEventListener("reconnected", (e) => {
    pill($("conn"), "online", "on");
    $("instance").textContent = c.instance ? `· instance ${c.instance}` : "";
    log(`reconnected${e.detail.resumed ? " (session resumed)" : ""}`);
  });
  c.addEventListener("disconnected", (e) => {
    pill($("conn"), "offline", "off");
    pill($("reg"), "not registered", "off");
    setOnline(false);
    log(`disconnected (${e.detail.reason})`);
  });
  c.addEventListener("error", (e) => log(`error ${e.detail.code}: ${e.detail.message}`));
  c.addEventListener("incoming", (e) => onIncoming(e.detail.call));
}

$("signin").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  sounds.unlock(); // a user gesture: later ring tones may play
  $("register").disabled = true;
  try {
    client = new Client({});
    attach(client);
    const info = await client.connect();
    pill($("conn"), "online", "on");
    $("instance").textContent = info.instance ? `· instance ${info.instance}` : "";
    log(`connected, session ${info.session}`);
    setOnline(true);
    await client.register($("dn").value.trim(), $("password").value || undefined);
  } catch (e) {
    log(`sign-in failed: ${e.code ?? ""} ${e.message}${sip(e)}`);
    if (client) await client.disconnect().catch(() => {});
    setOnline(false);
  }
});

$("unregister").addEventListener("click", async () => {
  $("unregister").disabled = true;
  if (client?.registration) await client.unregister().catch((e) => log(`unregister failed: ${e.code ?? ""} ${e.message}`));
  await client?.disconnect().catch(() => {});
});

// ---- dial pad -----------------------------------------------------------------------------------

for (const [digit, letters] of KEYS) {
  const key = document.createElement("button");
  key.type = "button";
  key.className = "key";
  key.dataset.digit = digit;
  key.setAttribute("aria-label", digit);
  key.innerHTML = `<span class="digit"></span><span class="letters"></span>`;
  key.querySelector(".digit").textContent = digit;
  key.querySelector(".letters").textContent = letters || "\u00a0";
  key.addEventListener("click", () => press(digit));
  $("pad").append(key);
}

function press(digit) {
  sounds.key(digit);
  if (call && IN_CALL.has(call.state)) {
    const sent = $("dtmf-sent");
    sent.textContent = (sent.textContent + digit).slice(-24);
    call.sendDtmf(digit).catch((e) => log(`DTMF ${digit} failed: ${e.code} ${e.message}`));
    return;
  }
  if (!call) $("number").value += digit;
  updateButtons();
}

$("backspace").addEventListener("click", () => {
  $("number").value = $("number").value.slice(0, -1);
  updateButtons();
});
$("number").addEventListener("input", updateButtons);
$("number").addEventListener("keydown", (e) => {
  if (e.key === "Enter") dial();
});

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const target = e.target;
  const typing = target instanceof HTMLInputElement;
  if (/^[0-9*#]$/.test(e.key) && (!typing || (call && target.id === "number"))) {
    e.preventDefault();
    press(e.key);
  } else if (e.key === "Escape" && call) {
    if (call.direction === "incoming" && call.state === "ringing") decline();
    else hangup();
  } else if (e.key === "Enter" && !typing && !call) {
    dial();
  }
});

// ---- calls --------------------------------------------------------------------------------------

function updateButtons() {
  const online = client !== null && client.state !== "disconnected" && client.state !== "idle";
  const active = call !== null || placing;
  $("call").hidden = active;
  $("hangup").hidden = !active || (call?.direction === "incoming" && call.state === "ringing");
  $("call").disabled = !online || $("number").value.trim() === "";
  $("display").hidden = active;
  // The incoming banner says who calls; timer, level and stats only once media flows.
  $("call-panel").hidden = (!active && clearEnded === null) || !$("incoming").hidden;
  if (call) $("call-panel").classList.toggle("media", IN_CALL.has(call.state));
  $("in-call").hidden = !(call && IN_CALL.has(call.state));
  $("mute").setAttribute("aria-pressed", String(Boolean(call?.muted)));
  $("mute").textContent = call?.muted ? "Unmute" : "Mute";
  $("hold").setAttribute("aria-pressed", String(Boolean(call?.localHold)));
  $("hold").textContent = call?.localHold ? "Resume" : "Hold";
  $("hold").disabled = !(call && (call.state === "connected" || call.state === "held"));
  document.body.classList.toggle("in-call", active);
}

function showState(text) {
  $("call-state").textContent = text;
}

function resetPanel(peer) {
  clearTimeout(clearEnded);
  clearEnded = null;
  $("peer").textContent = peer;
  $("timer").textContent = "00:00";
  $("stats").textContent = "—";
  $("level").style.width = "0";
  $("dtmf-sent").textContent = "";
  $("call-panel").classList.remove("ended", "media");
}

async function dial() {
  const to = $("number").value.trim();
  if (!to || !client || call || placing) return;
  sounds.unlock();
  placing = true;
  hangupWhenPlaced = false;
  resetPanel(to);
  showState(STATE_LABELS.calling);
  updateButtons();
  log(`calling ${to}`);
  try {
    const placed = await client.call(to, { audio: true, video: false });
    placing = false;
    adopt(placed);
    if (hangupWhenPlaced) placed.hangup();
  } catch (e) {
    placing = false;
    log(`call to ${to} failed: ${e.code ?? ""} ${e.message}${sip(e)}`);
    showEnded(`Failed: ${e.code ?? e.message}`);
  }
}

function onIncoming(c) {
  log(`incoming call ${c.id} from ${c.remoteName ? `${c.remoteName} ` : ""}${c.remote}`);
  if (call || placing) {
    log("busy: declined with 486");
    c.reject(486).catch(() => {});
    return;
  }
  adopt(c);
  resetPanel(c.remoteName ? `${c.remoteName} (${c.remote})` : c.remote);
  showState("Incoming call");
  $("in-name").textContent = c.remoteName ?? c.remote;
  $("in-number").textContent = c.remoteName ? c.remote : "";
  $("incoming").hidden = false;
  sounds.ring();
  navigator.vibrate?.([400, 200, 400]);
  updateButtons();
}

/** The page follows this call until it ends. */
function adopt(c) {
  call = c;
  const on = (name, handler) => c.addEventListener(name, (e) => {
    if (call === c) handler(e.detail);
  });
  on("ringing", (d) => {
    showState(STATE_LABELS.ringing);
    sounds.ringback();
    log(`ringing${d.sipStatus ? ` (${d.sipStatus})` : ""}`);
  });
  on("early", () => {
    sounds.stop();
    showState(STATE_LABELS.early);
    log("early media");
    startTicker();
    updateButtons();
  });
  on("connected", () => {
    sounds.stop();
    showState(STATE_LABELS.connected);
    log(`connected to ${c.remote}`);
    startTicker();
    updateButtons();
  });
  on("held", (d) => {
    showState(d.by === "remote" ? "Held by the other side" : STATE_LABELS.held);
    log(`held (${d.by})`);
    updateButtons();
  });
  on("resumed", (d) => {
    showState(c.state === "held" ? STATE_LABELS.held : STATE_LABELS.connected);
    log(`resumed (${d.by})`);
    updateButtons();
  });
  on("dtmf", (d) => log(`DTMF received: ${d.digit}`));
  on("info", (d) => log(`INFO ${d.contentType}: ${d.body.slice(0, 80)}`));
  on("remote-control", (d) => {
    log(`remote control: ${d.action}`);
    // SIP Server answers or holds the call on the agent's behalf (NOTIFY Event: talk / hold).
    if (d.action === "talk" && c.direction === "incoming" && c.state === "ringing") answer();
    else if (d.action === "hold" && c.state === "connected") toggleHold();
  });
  on("track", () => {
    const audio = $("remote-audio");
    if (audio.srcObject !== c.remoteStream) {
      audio.srcObject = c.remoteStream;
      audio.play().catch((e) => log(`remote audio does not play: ${e.message}`));
    }
    startMeter(c.remoteStream);
  });
  on("ended", (d) => {
    log(`call ended: ${d.reason}${sip(d)}${d.message ? ` ${d.message}` : ""}`);
    showEnded(`Ended: ${d.reason.replaceAll("-", " ")}${sip(d)}`);
  });
  updateButtons();
}

function showEnded(text) {
  sounds.stop();
  stopTicker();
  meter?.stop();
  meter = null;
  $("remote-audio").srcObject = null;
  $("incoming").hidden = true;
  call = null;
  showState(text);
  $("call-panel").classList.add("ended");
  clearTimeout(clearEnded);
  clearEnded = setTimeout(() => {
    clearEnded = null;
    $("call-panel").classList.remove("ended");
    updateButtons();
  }, 4000);
  updateButtons();
}

async function answer() {
  const c = call;
  if (!c || c.direction !== "incoming" || c.state !== "ringing") return;
  sounds.stop();
  sounds.unlock();
  $("incoming").hidden = true;
  showState("Answering…");
  updateButtons();
  try {
    await c.answer({ audio: true, video: false });
  } catch (e) {
    log(`answer failed: ${e.code ?? ""} ${e.message}`);
    if (c.state === "ringing" && call === c) {
      $("incoming").hidden = false;
      showState("Incoming call");
      updateButtons();
    }
  }
}

function decline() {
  call?.reject(486).catch((e) => log(`decline failed: ${e.code} ${e.message}`));
}

function hangup() {
  if (placing) {
    hangupWhenPlaced = true;
    return;
  }
  call?.hangup();
}

async function toggleHold() {
  const c = call;
  if (!c) return;
  $("hold").disabled = true;
  try {
    if (c.localHold) await c.resume();
    else await c.hold();
  } catch (e) {
    log(`${c.localHold ? "resume" : "hold"} failed: ${e.code ?? ""} ${e.message}${sip(e)}`);
  }
  updateButtons();
}

$("call").addEventListener("click", dial);
$("hangup").addEventListener("click", hangup);
$("answer").addEventListener("click", answer);
$("decline").addEventListener("click", decline);
$("hold").addEventListener("click", toggleHold);
$("mute").addEventListener("click", () => {
  if (!call) return;
  call.mute(!call.muted);
  log(call.muted ? "microphone muted" : "microphone on");
  updateButtons();
});

// ---- timer, stats, level ------------------------------------------------------------------------

function startTicker() {
  if (ticker !== null) return;
  const tick = async () => {
    const c = call;
    if (!c) return;
    if (c.connectedAt) {
      const s = Math.floor((Date.now() - c.connectedAt) / 1000);
      const hh = Math.floor(s / 3600);
      const mmss = `${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
      $("timer").textContent = hh ? `${hh}:${mmss}` : mmss;
    }
    try {
      const st = await c.stats({ gateway: gatewayStats });
      if (call === c) $("stats").textContent = statsLine(st);
    } catch (e) {
      if (gatewayStats && e.code !== "WRONG_STATE") gatewayStats = false; // e.g. an older gateway: the browser's view only
    }
  };
  tick();
  ticker = setInterval(tick, 1000);
}

function stopTicker() {
  clearInterval(ticker);
  ticker = null;
}

function statsLine(st) {
  const parts = [];
  if (st.inbound.packets !== undefined) parts.push(`↓ ${st.inbound.packets} pkts`);
  if (st.outbound.packets !== undefined) parts.push(`↑ ${st.outbound.packets} pkts`);
  if (st.inbound.packetsLost) parts.push(`lost ${st.inbound.packetsLost}`);
  if (st.inbound.jitter !== undefined) parts.push(`jitter ${Math.round(st.inbound.jitter * 1000)} ms`);
  if (st.rtt !== undefined) parts.push(`RTT ${Math.round(st.rtt * 1000)} ms`);
  if (st.inbound.codec) parts.push(st.inbound.codec.replace(/^audio\//, ""));
  return parts.length ? parts.join(" · ") : "waiting for media…";
}

function startMeter(stream) {
  meter?.stop();
  meter = null;
  const ctx = sounds.unlock();
  if (!ctx || !stream || stream.getAudioTracks().length === 0) return;
  try {
    let shown = 0;
    meter = new LevelMeter(ctx, stream, (level) => {
      shown = Math.max(level, shown * 0.85); // rise at once, fall slowly, like a VU meter
      $("level").style.width = `${Math.round(shown * 100)}%`;
    });
  } catch (e) {
    log(`no level meter: ${e.message}`);
  }
}

window.addEventListener("pagehide", () => client?.disconnect());
updateButtons();
