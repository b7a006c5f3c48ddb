import { Client } from "/js/webrtc-gateway.js";

const $ = (id) => document.getElementById(id);
const log = (text) => {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $("log").prepend(li);
};
const pill = (el, text, cls) => { el.textContent = text; el.className = `pill ${cls}`; };

let client = null;

function attach(c) {
  c.addEventListener("registered", (e) => { pill($("reg"), `registered ${e.detail.dn}`, "on"); log(`registered ${e.detail.dn} (expires ${e.detail.expires} s)`); });
  c.addEventListener("unregistered", (e) => { pill($("reg"), "not registered", "off"); log(`unregistered ${e.detail.dn ?? ""} (${e.detail.reason ?? ""})`); });
  c.addEventListener("reconnecting", (e) => { pill($("conn"), "reconnecting…", "warn"); log(`reconnecting (attempt ${e.detail.attempt ?? "?"})`); });
  c.addEventListener("reconnected", (e) => { pill($("conn"), "connected", "on"); $("instance").textContent = c.instance ?? "—"; log(`reconnected${e.detail.resumed ? " (session resumed)" : ""}`); });
  c.addEventListener("disconnected", (e) => { pill($("conn"), "disconnected", "off"); pill($("reg"), "not registered", "off"); $("register").disabled = false; $("unregister").disabled = true; log(`disconnected (${e.detail.reason})`); });
  c.addEventListener("error", (e) => log(`error ${e.detail.code}: ${e.detail.message}`));
}

$("signin").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("register").disabled = true;
  try {
    client = new Client({});
    attach(client);
    const info = await client.connect();
    pill($("conn"), "connected", "on");
    $("instance").textContent = info?.instance ?? client.instance ?? "—";
    log(`connected, session ${info?.session ?? ""}`);
    await client.register($("dn").value.trim(), $("password").value || undefined);
    $("unregister").disabled = false;
  } catch (e) {
    log(`failed: ${e.code ?? ""} ${e.message}${e.sipStatus ? ` (SIP ${e.sipStatus} ${e.sipReason})` : ""}`);
    if (client) await client.disconnect().catch(() => {});
    $("register").disabled = false;
  }
});

$("unregister").addEventListener("click", async () => {
  $("unregister").disabled = true;
  try {
    await client.unregister();
  } catch (e) {
    log(`unregister failed: ${e.code ?? ""} ${e.message}`);
  }
  await client.disconnect().catch(() => {});
});
