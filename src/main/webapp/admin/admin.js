// The admin console (docs/admin.md): sign-in, the cluster overview, lists of sessions, registrations,
// calls and failures, a live call view, and the operator's actions. Talks only to /admin/api/ on its
// own origin. The session is the HttpOnly GWADMIN cookie; the CSRF token the login (or /me) returns is
// kept in memory only and sent as X-CSRF-Token on every state-changing request.

const $ = (id) => document.getElementById(id);
const API = "/admin/api";
const PAGE_SIZE = 25;
const OVERVIEW_EVERY_MS = 5000;
const DETAIL_EVERY_MS = 1000;
const TABS = ["sessions", "registrations", "calls", "failures"];
const num = new Intl.NumberFormat();

const state = {
  csrfToken: null,
  username: null,
  /** The instance serving this console (GET /instance), marked on its card. */
  self: null,
  tab: "calls",
  offset: 0,
  dn: "",
  scope: "cluster",
  /** The last list response, for paging. */
  total: 0,
  shown: 0,
  ticker: null,
  /** Bumped on every list request: an older answer arriving late is dropped. */
  listSeq: 0,
  /** The same for the overview (cluster cards and totals). Both are bumped at sign-out too. */
  overviewSeq: 0,
  detail: null,
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** One request to the admin API; resolves to the JSON body (null for 204), rejects with ApiError. */
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // Required on state-changing requests; sent on all of them, as it also tells the API this is the
  // console (no HTTP Basic challenge, so no browser password pop-up once the session has ended).
  if (state.csrfToken) headers["X-CSRF-Token"] = state.csrfToken;
  let response;
  try {
    response = await fetch(API + path, {
      method, headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "NETWORK", `The gateway did not answer (${e.message}).`);
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    // an error page that is not JSON
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data?.code ?? `HTTP_${response.status}`,
      data?.message ?? `${response.status} ${response.statusText}`);
    // Expired or revoked session: back to the login form (but not for the login attempt itself).
    if (response.status === 401 && path !== "/login" && state.username) signedOut("Your session has ended; please sign in again.");
    throw error;
  }
  return data;
}

// ---- small DOM and format helpers ---------------------------------------------------------------

/** An element; text children become text nodes (never HTML), null/false ones are skipped. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d > 0) return `${d} d ${hr} h`;
  if (hr > 0) return `${hr} h ${String(m).padStart(2, "0")} min`;
  return `${m}:${String(sec).padStart(2, "0")}`;
}

function bytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

function count(n) {
  return n === null || n === undefined ? "—" : num.format(n);
}

/** An SSRC (unsigned 32-bit) as "0x0b0b0b0b", or "?" while unknown. */
function ssrcHex(n) {
  return n === null || n === undefined ? "?" : `0x${n.toString(16).padStart(8, "0")}`;
}

/** "12:03:04" today, else the date too; with the full timestamp as the title. */
function when(iso) {
  if (!iso) return "—";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const sameDay = t.toDateString() === new Date().toDateString();
  const text = sameDay ? t.toLocaleTimeString() : t.toLocaleString();
  return h("time", { datetime: iso, title: t.toString() }, text);
}

function relative(iso) {
  if (!iso) return "—";
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  if (Number.isNaN(seconds)) return iso;
  return seconds >= 0 ? `in ${duration(seconds)}` : `${duration(-seconds)} ago`;
}

const STATE_CLASS = {
  ready: "ok", connected: "ok", completed: "ok", registered: "ok", offered: "warn", checking: "warn", draining: "warn", "not-ready": "warn", ringing: "warn",
  calling: "warn", early: "warn", held: "warn", registering: "warn", stopping: "bad", unreachable: "bad",
  failed: "bad", ended: "bad",
};

function badge(text) {
  return h("span", { class: `badge ${STATE_CLASS[text] ?? ""}` }, text ?? "—");
}

// ---- notices and confirmation -------------------------------------------------------------------

let noticeTimer = null;

function notify(text, kind = "ok") {
  const box = $("notice");
  $("notice-text").textContent = text;
  box.dataset.kind = kind;
  box.setAttribute("aria-live", kind === "error" ? "assertive" : "polite");
  box.hidden = false;
  clearTimeout(noticeTimer);
  // Results go away by themselves; errors stay until dismissed.
  if (kind !== "error") noticeTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

function describe(error) {
  if (!(error instanceof ApiError)) return error.message ?? String(error);
  return error.code && !error.code.startsWith("HTTP_") ? `${error.message} (${error.code})` : error.message;
}

/** Shows the confirmation dialog; resolves true only for the confirm button. */
function confirmAction({ title, message, ok, danger = true }) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-message").textContent = message;
  $("confirm-ok").textContent = ok;
  $("confirm-ok").className = danger ? "red" : "";
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      if (opener?.isConnected) opener.focus();
    }, { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

/** Asks, runs the request, reports the outcome, refreshes what it changed. */
async function act({ title, message, ok, danger, run, done }) {
  if (!(await confirmAction({ title, message, ok, danger }))) return;
  try {
    const result = await run();
    notify(done(result));
  } catch (e) {
    notify(`${title} failed: ${describe(e)}`, "error");
  }
  refresh();
}

// ---- sign-in ------------------------------------------------------------------------------------

function signedIn(me) {
  state.username = me.username;
  state.csrfToken = me.csrfToken;
  $("whoami").textContent = me.username;
  $("login-view").hidden = true;
  $("login-error").hidden = true;
  $("login-password").value = "";
  $("app").hidden = false;
  $("account").hidden = false;
  selectTab(state.tab, false);
  api("GET", "/instance").then((i) => { state.self = i.instance; }, () => {}).finally(refresh);
  clearInterval(state.ticker);
  state.ticker = setInterval(() => { if (!document.hidden) refresh(); }, OVERVIEW_EVERY_MS);
}

/** Forgets everything the session showed: no operational data stays on a signed-out page. */
function signedOut(message) {
  // An overview or list answer still on its way must not fill the signed-out page again.
  state.overviewSeq++;
  state.listSeq++;
  state.username = null;
  state.csrfToken = null;
  clearInterval(state.ticker);
  closeDetail();
  $("app").hidden = true;
  $("account").hidden = true;
  $("instance-cards").replaceChildren();
  $("history-chart").replaceChildren();
  for (const table of document.querySelectorAll("table.list:not(.media) tbody")) table.replaceChildren();
  for (const id of ["total-ready", "total-calls", "total-registrations", "total-sessions"]) $(id).textContent = "—";
  $("login-view").hidden = false;
  if (message) showLoginError(message);
  $("login-username").focus();
}

function showLoginError(text) {
  $("login-error").textContent = text;
  $("login-error").hidden = false;
}

async function login(event) {
  event.preventDefault();
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  if (!username || !password) {
    showLoginError("Enter the user name and the password.");
    return;
  }
  $("login-submit").disabled = true;
  $("login-error").hidden = true;
  try {
    signedIn(await api("POST", "/login", { username, password }));
  } catch (e) {
    $("login-password").value = "";
    $("login-password").focus();
    showLoginError(e.status === 401 ? "Wrong user name or password." : `Cannot sign in: ${describe(e)}`);
  } finally {
    $("login-submit").disabled = false;
  }
}

async function logout() {
  try {
    await api("POST", "/logout");
  } catch {
    // the cookie is gone or expired anyway
  }
  signedOut();
  notify("Logged out.");
}

// ---- overview -----------------------------------------------------------------------------------

async function refreshOverview() {
  const seq = ++state.overviewSeq;
  let cluster;
  try {
    cluster = await api("GET", "/cluster");
  } catch (e) {
    if (seq !== state.overviewSeq) return;
    if (e.status !== 401) $("instance-cards").replaceChildren(h("p", { class: "error", role: "alert" }, `Cluster status unavailable: ${describe(e)}`));
    return;
  }
  if (seq !== state.overviewSeq) return;
  // Stable order whoever answers first: by id, unreachable peers last.
  const instances = [...(cluster.instances ?? [])].sort((a, b) =>
    (a.instance ? 0 : 1) - (b.instance ? 0 : 1) || String(a.instance ?? a.url).localeCompare(String(b.instance ?? b.url)));
  const up = instances.filter((i) => i.instance);
  const sum = (key) => up.reduce((total, i) => total + (i.load?.[key] ?? 0), 0);
  $("total-ready").textContent = `${up.filter((i) => i.ready).length} / ${instances.length}`;
  $("total-calls").textContent = count(sum("calls"));
  $("total-registrations").textContent = count(sum("registrations"));
  $("total-sessions").textContent = count(sum("sessions"));
  $("history-chart").replaceChildren(historyChart(up.map((i) => i.history ?? [])));
  keepFocus($("instance-cards"), () => $("instance-cards").replaceChildren(...instances.map(instanceCard)));
  $("refreshed").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

function meter(label, value, max, text) {
  const share = max > 0 ? Math.min(1, value / max) : 0;
  return [
    h("span", {}, label),
    h("div", { class: "bar", role: "meter", "aria-label": label, "aria-valuemin": 0, "aria-valuemax": max || 1, "aria-valuenow": value ?? 0 },
      bar(share)),
    h("span", { class: "value" }, text),
  ];
}

/** The filled part of a meter; sized through CSSOM, which the page's CSP allows (a style attribute it would not). */
function bar(share) {
  const fill = h("div", { class: share > 0.8 ? "high" : null });
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  return fill;
}

function instanceCard(i) {
  if (!i.instance) {
    return h("article", { class: "card instance-card", dataset: { state: "unreachable", url: i.url ?? "" } },
      h("header", {}, h("h3", {}, i.url ?? "peer"), badge("unreachable")),
      h("p", { class: "error" }, `${i.error ?? "ERROR"}: ${i.message ?? "no answer"}`));
  }
  const load = i.load ?? {};
  const active = (i.sipServers ?? []).find((s) => s.active);
  const sipState = (i.sipServers ?? []).length === 0 ? "—" : active ? (active.reachable ? "reachable" : "unreachable") : "none active";
  const drain = i.draining
    ? h("button", { type: "button", class: "small", dataset: { action: "undrain", instance: i.instance } }, "Undrain")
    : h("button", { type: "button", class: "amber small", dataset: { action: "drain", instance: i.instance } }, "Drain");
  return h("article", { class: "card instance-card", id: `instance-${i.instance}`, dataset: { instance: i.instance, state: i.state } },
    h("header", {}, h("h3", {}, i.instance, i.instance === state.self ? h("span", { class: "muted self" }, " · this console") : null),
      h("span", { class: "instance-state" }, badge(i.state))),
    h("div", { class: "meta" }, `up ${duration(i.uptimeSeconds)} · version ${i.version ?? "?"} · started `, when(i.startedAt)),
    (i.readyReasons ?? []).length ? h("div", { class: "reasons" }, `Not ready: ${i.readyReasons.join(", ")}`) : null,
    h("div", { class: "meters" },
      meter("Sessions", load.sessions, load.maxSessions, `${count(load.sessions)} / ${count(load.maxSessions)}`),
      meter("Calls", load.calls, load.maxCalls, `${count(load.calls)} / ${count(load.maxCalls)}`),
      meter("CPU", load.cpu ?? 0, 1, load.cpu === undefined || load.cpu === null ? "—" : `${Math.round(load.cpu * 100)} %`),
      meter("Heap", load.heapUsedBytes, load.heapMaxBytes, `${bytes(load.heapUsedBytes)} / ${bytes(load.heapMaxBytes)}`)),
    h("div", { class: "meta" }, `Registrations: ${count(load.registrations)} · SIP Server: `,
      h("span", { class: "sip-state" }, badgeFor(sipState))),
    h("ul", { class: "sip-servers", "aria-label": "SIP Servers" }, (i.sipServers ?? []).map((s) =>
      h("li", {}, h("span", { class: "mono" }, s.uri), ` ${s.role ?? ""}${s.active ? " · active" : ""} · `,
        s.reachable ? "reachable" : h("strong", {}, "unreachable")))),
    h("div", { class: "actions" }, drain));
}

function badgeFor(sipState) {
  const b = badge(sipState);
  b.className = `badge ${sipState === "reachable" ? "ok" : sipState === "—" ? "" : "bad"}`;
  return b;
}

/** Setups and failures per minute, summed over the instances by minute, as an inline SVG. */
function historyChart(histories) {
  const byMinute = new Map();
  for (const history of histories) {
    for (const point of history) {
      const m = byMinute.get(point.at) ?? { setups: 0, failures: 0 };
      m.setups += point.setups ?? 0;
      m.failures += point.failures ?? 0;
      byMinute.set(point.at, m);
    }
  }
  const minutes = [...byMinute.keys()].sort().slice(-30);
  const points = minutes.map((at) => ({ at, ...byMinute.get(at) }));
  if (points.length === 0) return h("p", { class: "muted" }, "No history yet.");
  const W = 300, H = 80, top = 4, bottom = 2;
  const max = Math.max(1, ...points.map((p) => Math.max(p.setups, p.failures)));
  const slots = Math.max(points.length, 30);
  const first = slots - points.length;
  const x = (i) => ((first + i) / (slots - 1)) * (W - 2) + 1;
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const line = (key) => points.map((p, i) => `${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
  const setups = points.reduce((t, p) => t + p.setups, 0);
  const failures = points.reduce((t, p) => t + p.failures, 0);
  const NS = "http://www.w3.org/2000/svg";
  const svg = (tag, attrs = {}, ...children) => {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    node.append(...children);
    return node;
  };
  const area = `${x(0).toFixed(1)},${y(0)} ${line("setups")} ${x(points.length - 1).toFixed(1)},${y(0)}`;
  const summary = `Last ${points.length} minutes: ${setups} call setups, ${failures} failures; peak ${max} per minute.`;
  const hover = points.map((p, i) => svg("rect", { x: (x(i) - W / slots / 2).toFixed(1), y: 0, width: (W / slots).toFixed(1), height: H, fill: "transparent" },
    svg("title", {}, `${new Date(p.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}: ${p.setups} setups, ${p.failures} failures`)));
  // Stretched to the card's width (preserveAspectRatio none, strokes kept thin), so the labels are HTML.
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": summary,
    id: "history-svg", "data-setups": setups, "data-failures": failures },
  svg("title", {}, summary),
  svg("line", { class: "grid", x1: 0, x2: W, y1: y(0), y2: y(0) }),
  svg("line", { class: "grid", x1: 0, x2: W, y1: y(max), y2: y(max), "stroke-dasharray": "3 3" }),
  svg("polygon", { class: "setups-area", points: area }),
  svg("polyline", { class: "setups", points: line("setups") }),
  svg("polyline", { class: "failures", points: line("failures") }),
  ...hover);
  return h("div", { class: "plot" },
    h("span", { class: "axis max", "aria-hidden": "true" }, `${max}/min`), chart,
    h("span", { class: "axis from", "aria-hidden": "true" }, "−30 min"),
    h("span", { class: "axis to", "aria-hidden": "true" }, "now"));
}

// ---- lists --------------------------------------------------------------------------------------

const COLUMNS = {
  sessions: (s) => [
    s.dn ?? "—", s.instance, s.kind, relative(s.since), h("span", { class: "num" }, count(s.calls)), s.remoteAddress ?? "—",
    h("span", { class: "ua", title: s.userAgent ?? "" }, s.userAgent ?? "—"),
  ],
  registrations: (r) => [
    r.dn, r.instance, badge(r.state), r.sipServer ?? "—", r.expiresAt ? relative(r.expiresAt) : "—",
    r.lastResult ? [`${r.lastResult.status} ${r.lastResult.reason ?? ""} · `, when(r.lastResult.at)] : "—",
  ],
  calls: (c) => [
    c.dn ?? "—", c.remote ?? "—", c.direction, badge(c.state), c.instance, duration(c.durationSeconds), c.codec ?? "—",
  ],
  failures: (f) => [
    when(f.at), f.kind, f.dn ?? "—", f.remote ?? "—", f.sipStatus ? `${f.sipStatus} ${f.sipReason ?? ""}` : "—", f.cause ?? "—",
    f.instance,
  ],
};
const NUMERIC = { sessions: [4], calls: [5] };

function rowActions(tab, item) {
  if (tab === "calls") {
    return [
      h("button", { type: "button", class: "secondary small", dataset: { action: "details", id: item.id } }, "Details"),
      h("button", { type: "button", class: "red small", dataset: { action: "hangup", id: item.id } }, "Hang up"),
    ];
  }
  const session = tab === "sessions" ? item.id : item.sessionId;
  if ((tab === "sessions" || tab === "registrations") && session) {
    return [h("button", { type: "button", class: "secondary small", dataset: { action: "sign-out", id: session, dn: item.dn ?? "" } }, "Sign out")];
  }
  return null;
}

function selectTab(tab, load = true) {
  state.tab = tab;
  for (const button of document.querySelectorAll('[role="tab"]')) {
    const selected = button.dataset.tab === tab;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
  }
  $("list-panel").setAttribute("aria-labelledby", `tab-${tab}`);
  for (const table of document.querySelectorAll("#list-panel table.list")) table.hidden = table.dataset.tab !== tab;
  if (load) {
    state.offset = 0;
    refreshList();
  }
}

async function refreshList() {
  const tab = state.tab;
  const seq = ++state.listSeq;
  const query = new URLSearchParams({ offset: state.offset, limit: PAGE_SIZE, scope: state.scope });
  if (state.dn) query.set("dn", state.dn);
  let page;
  try {
    page = await api("GET", `/${tab}?${query}`);
  } catch (e) {
    if (seq !== state.listSeq) return;
    $("list-error").textContent = `Cannot load ${tab}: ${describe(e)}`;
    $("list-error").hidden = e.status === 401;
    return;
  }
  if (seq !== state.listSeq) return;
  $("list-error").hidden = true;
  const items = page.items ?? [];
  state.total = page.total ?? items.length;
  state.shown = items.length;
  const tbody = document.querySelector(`#${tab}-table tbody`);
  keepFocus(tbody, () => tbody.replaceChildren(...items.map((item) => {
    const cells = COLUMNS[tab](item).map((value, i) => h("td", { class: NUMERIC[tab]?.includes(i) ? "num" : null }, value));
    const actions = rowActions(tab, item);
    if (tab !== "failures") cells.push(h("td", { class: "actions" }, actions));
    return h("tr", { dataset: { id: item.id ?? item.sessionId ?? "", dn: item.dn ?? "", instance: item.instance ?? "" } }, cells);
  })));
  $("list-empty").hidden = items.length > 0;
  $("list-empty").textContent = state.dn ? `No ${tab} with a DN containing “${state.dn}”.` : `No ${tab}.`;
  $("page-info").textContent = items.length
    ? `${state.offset + 1}–${state.offset + items.length} of ${count(state.total)}` : `${count(state.total)} in all`;
  $("page-prev").disabled = state.offset === 0;
  $("page-next").disabled = state.offset + items.length >= state.total;
}

/** Re-renders `container` and puts the focus back on the same button (by its data-action and data-id). */
function keepFocus(container, render) {
  const active = document.activeElement;
  const key = container.contains(active) && active.dataset?.action
    ? `[data-action="${CSS.escape(active.dataset.action)}"][data-${active.dataset.id ? "id" : "instance"}="${CSS.escape(active.dataset.id ?? active.dataset.instance ?? "")}"]`
    : null;
  render();
  if (key) container.querySelector(key)?.focus();
}

function refresh() {
  if (!state.username) return;
  refreshOverview();
  refreshList();
}

// ---- call detail --------------------------------------------------------------------------------

function openDetail(id) {
  closeDetail();
  state.detail = { id, timer: null, previous: null, ended: false };
  $("detail-id").textContent = id;
  $("detail-status").textContent = "Loading…";
  $("call-detail").classList.remove("ended");
  $("detail-hangup").disabled = false;
  for (const cell of document.querySelectorAll("#media-table td, #call-detail dd")) cell.textContent = "—";
  $("call-detail").hidden = false;
  $("call-detail").scrollIntoView({ block: "nearest", behavior: "smooth" });
  $("detail-title").tabIndex = -1;
  $("detail-title").focus({ preventScroll: true });
  pollDetail();
}

function closeDetail() {
  if (state.detail) clearTimeout(state.detail.timer);
  state.detail = null;
  $("call-detail").hidden = true;
}

async function pollDetail() {
  const detail = state.detail;
  if (!detail) return;
  try {
    const call = await api("GET", `/calls/${encodeURIComponent(detail.id)}`);
    if (state.detail !== detail) return;
    showDetail(call, detail);
  } catch (e) {
    if (state.detail !== detail) return;
    if (e.status === 404) {
      detail.ended = true;
      $("call-detail").classList.add("ended");
      $("detail-state").replaceChildren(badge("ended"));
      $("detail-hangup").disabled = true;
      $("detail-status").textContent = `The call has ended (no longer on the gateway) — last seen ${new Date().toLocaleTimeString()}.`;
      for (const id of ["b2s-rate", "s2b-rate"]) $(id).textContent = "—";
      return;
    }
    $("detail-status").textContent = `Update failed: ${describe(e)}; retrying…`;
  }
  if (state.detail === detail && !detail.ended) detail.timer = setTimeout(pollDetail, DETAIL_EVERY_MS);
}

function showDetail(call, detail) {
  const media = call.media ?? {};
  const now = performance.now();
  $("detail-dn").textContent = call.dn ?? "—";
  $("detail-remote").textContent = call.remote ?? "—";
  $("detail-direction").textContent = call.direction ?? "—";
  $("detail-state").replaceChildren(badge(call.state));
  $("detail-instance").textContent = call.instance ?? "—";
  $("detail-duration").textContent = duration(call.durationSeconds);
  $("detail-codec").textContent = call.codec ?? "—";
  $("detail-rtt").textContent = media.rttMs === null || media.rttMs === undefined ? "—" : `${Math.round(media.rttMs)} ms`;
  $("detail-ice").replaceChildren(badge(media.ice?.state));
  $("detail-dtls").replaceChildren(badge(media.dtls?.state), media.dtls?.srtpProfile ? ` ${media.dtls.srtpProfile}` : "");
  $("detail-pair").textContent = media.ice?.localCandidate || media.ice?.remoteCandidate
    ? `${media.ice.localCandidate ?? "?"} ⇄ ${media.ice.remoteCandidate ?? "?"}` : "—";
  $("detail-sip").textContent = call.sip?.callId ?? "—";
  for (const [prefix, key] of [["b2s", "browserToSip"], ["s2b", "sipToBrowser"]]) {
    const d = media[key] ?? {};
    $(`${prefix}-packets`).textContent = count(d.packets);
    $(`${prefix}-bytes`).textContent = bytes(d.bytes);
    $(`${prefix}-lost`).textContent = count(d.lost);
    $(`${prefix}-jitter`).textContent = d.jitterMs === null || d.jitterMs === undefined ? "—" : `${d.jitterMs.toFixed(1)} ms`;
    // Hexadecimal, as Wireshark shows them.
    $(`${prefix}-ssrc`).textContent = d.ssrc === null || d.ssrc === undefined ? "—" : `${ssrcHex(d.sourceSsrc)} → ${ssrcHex(d.ssrc)}`;
    const before = detail.previous?.[key];
    const seconds = detail.previous ? (now - detail.previous.at) / 1000 : 0;
    $(`${prefix}-rate`).textContent = before && seconds > 0 && d.packets !== undefined
      ? num.format(Math.round((d.packets - before.packets) / seconds)) : "—";
    // The raw counter for scripts and tests (the text is formatted).
    $(`${prefix}-packets`).dataset.value = d.packets ?? "";
  }
  detail.previous = { at: now, browserToSip: media.browserToSip ?? {}, sipToBrowser: media.sipToBrowser ?? {} };
  $("detail-status").textContent = `Live, updated every second — ${new Date().toLocaleTimeString()}`;
}

// ---- actions ------------------------------------------------------------------------------------

function hangup(id) {
  const row = document.querySelector(`#calls-table tr[data-id="${CSS.escape(id)}"]`);
  const who = state.detail?.id === id ? `${$("detail-dn").textContent} ↔ ${$("detail-remote").textContent}`
    : row ? `${row.cells[0].textContent} ↔ ${row.cells[1].textContent}` : id;
  return act({
    title: "Hang up call",
    message: `Hang up the call ${who}? Both sides are disconnected: the SIP side gets a BYE (or CANCEL), the browser an ended event (reason “admin”).`,
    ok: "Hang up",
    run: () => api("POST", `/calls/${encodeURIComponent(id)}/hangup`),
    done: () => `Call ${who} hung up.`,
  });
}

function signOut(id, dn) {
  const who = dn ? `DN ${dn}` : `session ${id}`;
  return act({
    title: "Sign out",
    message: `Sign out ${who}? Its calls end, its registrations are removed (un-REGISTER) and the browser is told (reason “admin”).`,
    ok: "Sign out",
    run: () => api("POST", `/sessions/${encodeURIComponent(id)}/sign-out`),
    done: () => `${who} signed out.`,
  });
}

function drain(instance, on) {
  return act({
    title: on ? `Drain ${instance}` : `Undrain ${instance}`,
    message: on
      ? `Drain ${instance}? It stops taking new sessions and reports not-ready (/health/ready 503) to the load balancer. Existing sessions and calls continue.`
      : `Undrain ${instance}? It takes new sessions again and reports ready when it can.`,
    ok: on ? "Drain" : "Undrain",
    danger: on,
    run: () => api(on ? "POST" : "DELETE", `/instances/${encodeURIComponent(instance)}/drain`),
    done: () => (on ? `${instance} is draining.` : `${instance} takes new sessions again.`),
  });
}

// ---- wiring -------------------------------------------------------------------------------------

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const { action, id, instance, dn } = button.dataset;
  if (action === "details") openDetail(id);
  else if (action === "hangup") hangup(id);
  else if (action === "sign-out") signOut(id, dn);
  else if (action === "drain") drain(instance, true);
  else if (action === "undrain") drain(instance, false);
});

$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", logout);
$("refresh").addEventListener("click", refresh);
$("notice-close").addEventListener("click", () => { $("notice").hidden = true; });
$("detail-close").addEventListener("click", () => {
  const id = state.detail?.id;
  closeDetail();
  document.querySelector(`#calls-table button[data-action="details"][data-id="${CSS.escape(id ?? "")}"]`)?.focus();
});
$("detail-hangup").addEventListener("click", () => state.detail && hangup(state.detail.id));

for (const tab of document.querySelectorAll('[role="tab"]')) {
  tab.addEventListener("click", () => selectTab(tab.dataset.tab));
}
// WAI-ARIA tabs: arrows, Home and End move between tabs and select them.
$("tabs").addEventListener("keydown", (event) => {
  const i = TABS.indexOf(state.tab);
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  const tab = TABS[(next + TABS.length) % TABS.length];
  selectTab(tab);
  $(`tab-${tab}`).focus();
});

let filterTimer = null;
$("dn-filter").addEventListener("input", () => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => {
    state.dn = $("dn-filter").value.trim();
    state.offset = 0;
    refreshList();
  }, 250);
});
$("filter-form").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(filterTimer);
  state.dn = $("dn-filter").value.trim();
  state.offset = 0;
  refreshList();
});
$("scope").addEventListener("change", () => {
  state.scope = $("scope").value;
  state.offset = 0;
  refreshList();
});
$("page-prev").addEventListener("click", () => {
  state.offset = Math.max(0, state.offset - PAGE_SIZE);
  refreshList();
});
$("page-next").addEventListener("click", () => {
  state.offset += PAGE_SIZE;
  refreshList();
});

document.addEventListener("keydown", (event) => {
  if (!state.username || $("confirm-dialog").open) return;
  const typing = event.target.closest("input, select, textarea");
  if (event.key === "/" && !typing) {
    event.preventDefault();
    $("dn-filter").focus();
  } else if (event.key === "Escape" && state.detail) {
    $("detail-close").click();
  }
});

// On load: an existing session (the cookie) goes straight to the console.
(async () => {
  try {
    signedIn(await api("GET", "/me"));
  } catch (e) {
    signedOut(e.status === 401 ? null
      : e.status === 404 ? "The admin API is off on this gateway (set gateway.admin.username and password-hash)."
      : `Cannot reach the admin API: ${describe(e)}`);
  }
})();
