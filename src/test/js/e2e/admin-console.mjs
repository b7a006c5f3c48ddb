// The admin console (/admin/) in headless Chromium, driven step by step by a Java test
// (io.webrtcgateway.admin.AdminConsoleBrowser is the driver, AdminConsoleIT the test).
//
//   node src/test/js/e2e/admin-console.mjs <gatewayUrl> <screenshotDir>
//
// No WebRTC here, so no loopback shim: the page only talks HTTP to the gateway on 127.0.0.1.
//
// stdin: one JSON object per line, {"op": ..., ...}; each answers with exactly one line carrying its
// "seq" (the count of command lines read), in order (commands run one at a time). Selectors are
// Playwright selectors (CSS, plus :has-text() etc.); every wait defaults to 15 s ("timeoutMs").
//   {"op":"goto","path":"/admin/"}                 opens gatewayUrl + path (also a fresh page after "reset")
//   {"op":"reset"}                                 a new browser context: no cookies, no page
//   {"op":"fill","selector":"#dn-filter","value":"1001"}
//   {"op":"click","selector":"#login-submit"}
//   {"op":"press","selector":"#dn-filter","key":"Enter"}
//   {"op":"waitFor","selector":"#app","state":"visible|hidden|attached|detached"}
//   {"op":"waitText","selector":"#b2s-packets","pattern":"^[1-9]"}   polls until textContent matches; value: the text
//   {"op":"text","selector":"#login-error"}         value: textContent of the first match (null if none)
//   {"op":"attr","selector":"#b2s-packets","name":"data-value"}
//   {"op":"count","selector":"#calls-table tbody tr"}
//   {"op":"screenshot","name":"overview"}          <screenshotDir>/<name>.png, full page; value: the path
//   {"op":"viewport","width":820,"height":1180}   resizes the page (a tablet in portrait)
//   {"op":"api"}                                   value: [{method, path, status}] of every /admin/api/ request since goto/reset
//   {"op":"quit"}
// stdout: one JSON object per line, "t" ms since start:
//   {"harness":"ready","chromium":"..."} | {"command":"click","seq":3,"op":"click","ok":true,"value":..}
//   {"command":"waitText","seq":4,"op":"waitText","ok":false,"error":"..."}   ("command" as the other
//   harnesses have it, for testsupport/JsonLineHarness) | {"event":"pageerror","message":".."}
//   {"event":"console","type":"error","text":".."} | {"harness":"exit"} | {"harness":"fatal","message":".."}
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { CHROMIUM_FLAGS } from "./chromium.mjs";
import { emit, playwrightChromium } from "./harness.mjs";

const [gatewayUrl, screenshotDir] = process.argv.slice(2);
const DEFAULT_TIMEOUT_MS = 15000;

if (!gatewayUrl || !screenshotDir) {
  emit({ harness: "fatal", message: "usage: admin-console.mjs <gatewayUrl> <screenshotDir>" });
  process.exit(2);
}

const chromium = await playwrightChromium();

let browser;
let context = null;
let page = null;
let apiCalls = [];
let quitting = false;

async function quit(code, message) {
  if (quitting) return;
  quitting = true;
  if (message) emit({ harness: "fatal", message });
  try {
    await browser?.close();
  } catch (e) {
    process.stderr.write(`closing chromium: ${e.message}\n`);
  }
  if (!message) emit({ harness: "exit" });
  process.exit(code);
}
process.on("SIGTERM", () => quit(0));
process.on("SIGINT", () => quit(0));

async function newContext() {
  await context?.close();
  // A laptop-sized window; screenshots are full-page anyway.
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = null;
  apiCalls = [];
}

async function currentPage() {
  if (!page) {
    page = await context.newPage();
    page.setDefaultTimeout(DEFAULT_TIMEOUT_MS);
    page.on("pageerror", (e) => emit({ event: "pageerror", message: e.message }));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") emit({ event: "console", type: m.type(), text: m.text() });
    });
    page.on("response", (r) => {
      const url = new URL(r.url());
      if (url.pathname.startsWith("/admin/api/")) {
        apiCalls.push({ method: r.request().method(), path: url.pathname + url.search, status: r.status() });
      }
    });
  }
  return page;
}

/** Playwright's message without its ANSI colours, and only the first lines of its call log. */
function plain(message) {
  return message.replace(/\u001b\[[0-9;]*m/g, "").split("\n").slice(0, 8).join("\n");
}

async function waitText(p, selector, pattern, timeoutMs) {
  const regex = new RegExp(pattern);
  const deadline = Date.now() + timeoutMs;
  let last = null;
  for (;;) {
    const locator = p.locator(selector).first();
    last = (await locator.count()) > 0 ? await locator.textContent() : null;
    if (last !== null && regex.test(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${selector} to match /${pattern}/ (text now: ${JSON.stringify(last)})`);
    }
    await p.waitForTimeout(100);
  }
}

async function run(command) {
  const timeout = command.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const p = command.op === "reset" || command.op === "quit" || command.op === "api" ? null : await currentPage();
  switch (command.op) {
    case "goto":
      apiCalls = [];
      await p.goto(new URL(command.path, gatewayUrl).href, { waitUntil: "load" });
      return p.url();
    case "reset":
      await newContext();
      return null;
    case "fill":
      await p.locator(command.selector).fill(command.value, { timeout });
      return null;
    case "click":
      await p.locator(command.selector).click({ timeout });
      return null;
    case "press":
      await p.locator(command.selector).press(command.key, { timeout });
      return null;
    case "waitFor":
      await p.locator(command.selector).first().waitFor({ state: command.state ?? "visible", timeout });
      return null;
    case "waitText":
      return waitText(p, command.selector, command.pattern, timeout);
    case "text": {
      const locator = p.locator(command.selector).first();
      return (await locator.count()) > 0 ? locator.textContent() : null;
    }
    case "attr": {
      const locator = p.locator(command.selector).first();
      return (await locator.count()) > 0 ? locator.getAttribute(command.name) : null;
    }
    case "count":
      return p.locator(command.selector).count();
    case "screenshot": {
      await mkdir(screenshotDir, { recursive: true });
      const path = resolve(join(screenshotDir, `${command.name.replace(/[^A-Za-z0-9._-]/g, "_")}.png`));
      await p.screenshot({ path, fullPage: true });
      return path;
    }
    case "viewport":
      await p.setViewportSize({ width: command.width, height: command.height });
      return null;
    case "api":
      return apiCalls;
    case "quit":
      await quit(0);
      return null;
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [...CHROMIUM_FLAGS],
    headless: true,
  });
  browser.on("disconnected", () => quit(1, "chromium closed"));
  await newContext();
  emit({ harness: "ready", chromium: browser.version() });
} catch (e) {
  await quit(1, `cannot start chromium: ${e.message}`);
}

let seq = 0;
// One command at a time, in order: a click and the wait after it must not overtake each other.
let queue = Promise.resolve();
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (!line.trim()) return;
  const mySeq = ++seq;
  queue = queue.then(async () => {
    let command;
    try {
      command = JSON.parse(line);
    } catch (e) {
      emit({ command: null, seq: mySeq, ok: false, error: `not JSON: ${e.message}` });
      return;
    }
    try {
      const value = await run(command);
      emit({ command: command.op, seq: mySeq, op: command.op, ok: true, value: value ?? null });
    } catch (e) {
      emit({ command: command.op, seq: mySeq, op: command.op, ok: false, error: plain(e.message) });
    }
  });
});
lines.on("close", () => queue.then(() => quit(0)));
