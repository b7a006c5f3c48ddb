// The scaffold every Chromium harness of the integration tests shares (webrtc-peer.mjs, phone.mjs,
// legacy-phone.mjs, register-failover.mjs, cluster-clients.mjs): one headless Chromium with one page,
// a function installed in that page, and a line protocol on stdin/stdout that the Java drivers
// (testsupport/JsonLineHarness and its subclasses) speak.
//
// stdout: one JSON object per line, each with "t" (ms since the harness started):
//   {"harness":"ready", ...}                  the page is loaded and installed; commands work from now on
//   {"command":"<name>","seq":n,"ok":true,...} or {...,"ok":false,"error":{..}}   one per command line
//   {"harness":"exit"} before exit 0; {"harness":"fatal","message":".."} before exit 1 (2: bad arguments)
//   whatever the page reports through window.harnessReport(jsonText)
// stdin: one command per line, run by the page's window.harnessRun(command, arg) → {ok, value|error}.
// "seq" counts the command lines read (blank lines do not count). "quit", end of input, SIGTERM and
// SIGINT close Chromium and exit 0 (after the commands in flight finish, at most `drainTimeout` ms).
// Diagnostics (page console, page errors) go to stderr.
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromiumLaunch } from "./chromium.mjs";

const started = Date.now();

export function emit(object) {
  process.stdout.write(JSON.stringify({ ...object, t: Date.now() - started }) + "\n");
}

/** "cmd a b c" → ["cmd", ["a", "b", "c"]]. */
export function wordsCommand(line) {
  const [command, ...rest] = line.trim().split(/\s+/);
  return [command, rest];
}

/** "cmd {json}" → ["cmd", parsed] ("cmd" alone → ["cmd", null]); a bad JSON argument throws. */
export function jsonCommand(line) {
  const trimmed = line.trim();
  const space = trimmed.search(/\s/);
  const command = space < 0 ? trimmed : trimmed.slice(0, space);
  const rest = space < 0 ? "" : trimmed.slice(space + 1).trim();
  return [command, rest === "" ? null : JSON.parse(rest)];
}

/**
 * Runs a harness until it quits. `spec`:
 *   name          prefix of the throw-away Chromium profile directory
 *   parseArgs     argv → options; a throw ends the harness with a "fatal" line and exit code 2
 *   loopbackOnly  options → whether Chromium gets the loopback shim (chromium.mjs); default true
 *   pageUrl       options → the URL the page opens; it must answer 2xx. Without it the harness serves a
 *                 blank page itself on 127.0.0.1:`servePort(options)` (0: any), and the page has that origin
 *   install       a function evaluated in the page with `installArg(options, origin)`; it defines
 *                 window.harnessRun (and may report through window.harnessReport)
 *   ready         (options, origin, chromiumVersion) → the fields of the "ready" line
 *   parseCommand  line → [command, arg]; default wordsCommand; a throw answers that command with ok:false
 *   sequential    commands run one after the other (true) or concurrently (false, the default)
 *   drainTimeout  options → ms to let commands in flight finish when quitting; default 0
 *   afterReady    async (run) → anything to do once ready; run(command, arg) runs a command as if read
 */
/** playwright-core's chromium, or a fatal line and exit 1 when the package is missing. */
export async function playwrightChromium() {
  try {
    return (await import("playwright-core")).chromium;
  } catch (e) {
    emit({ harness: "fatal", message: `playwright-core is not installed (scripts/install-test-peers.sh): ${e.message}` });
    process.exit(1);
  }
}

export async function runHarness(spec) {
  let options;
  try {
    options = spec.parseArgs(process.argv.slice(2));
  } catch (e) {
    emit({ harness: "fatal", message: e.message });
    process.exit(2);
  }

  const chromium = await playwrightChromium();

  const userDataDir = await mkdtemp(join(tmpdir(), `gw-${spec.name}-`));
  const server = spec.pageUrl ? null : http.createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    response.end(`<!doctype html><meta charset=utf-8><title>${spec.name}</title>`);
  });
  let context = null;
  let quitting = false;
  const quit = async (code, message) => {
    if (quitting) return;
    quitting = true;
    try {
      await context?.close();
    } catch (e) {
      process.stderr.write(`closing chromium: ${e.message}\n`);
    }
    server?.close();
    try {
      // Chromium's last processes may still be writing to the profile when close() returns: retry.
      await rm(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch (e) {
      process.stderr.write(`removing ${userDataDir}: ${e.message}\n`);
    }
    emit(code === 0 ? { harness: "exit" } : { harness: "fatal", message });
    process.exit(code);
  };
  process.on("SIGTERM", () => quit(0));
  process.on("SIGINT", () => quit(0));

  try {
    const loopbackOnly = spec.loopbackOnly ? spec.loopbackOnly(options) : true;
    const { args, env } = await chromiumLaunch({ loopbackOnly });
    let url;
    if (server) {
      const port = spec.servePort ? spec.servePort(options) : 0;
      await new Promise((resolve, reject) => server.listen(port, "127.0.0.1", resolve).once("error", reject));
      url = `http://127.0.0.1:${server.address().port}/`;
    } else {
      url = spec.pageUrl(options);
    }
    const origin = new URL(url).origin;
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      headless: true,
      args,
      env,
    });
    const cookies = spec.cookies ? spec.cookies(options) : [];
    if (cookies.length > 0) await context.addCookies(cookies);
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (m) => process.stderr.write(`[page ${m.type()}] ${m.text()}\n`));
    page.on("pageerror", (e) => process.stderr.write(`[page error] ${e.stack ?? e}\n`));
    page.on("crash", () => quit(1, "the page crashed"));
    context.on("close", () => quit(1, "chromium closed"));
    await page.exposeFunction("harnessReport", (line) => emit(JSON.parse(line)));
    const loaded = await page.goto(url);
    if (loaded && !loaded.ok()) throw new Error(`${url} answered ${loaded.status()}`);
    await page.evaluate(spec.install, spec.installArg ? spec.installArg(options, origin) : options);
    const version = context.browser()?.version() ?? null;
    emit({ harness: "ready", ...(spec.ready ? spec.ready(options, origin, version) : { chromium: version }) });

    let queue = Promise.resolve();
    const inFlight = new Set();
    const execute = async (number, command, arg) => {
      let outcome;
      try {
        outcome = await page.evaluate(([c, a]) => window.harnessRun(c, a), [command, arg]);
      } catch (e) {
        if (quitting) return null;
        outcome = { ok: false, error: { name: "HarnessError", code: "HARNESS", message: e.message } };
      }
      emit(number === null ? { command, auto: true, ...outcome } : { command, seq: number, ...outcome });
      return outcome;
    };
    const submit = (number, command, arg) => {
      const done = spec.sequential ? (queue = queue.then(() => execute(number, command, arg))) : execute(number, command, arg);
      inFlight.add(done);
      done.finally(() => inFlight.delete(done));
      return done;
    };
    const drainTimeout = spec.drainTimeout ? spec.drainTimeout(options) : 0;
    const drainThenQuit = () =>
      Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, drainTimeout))])
        .finally(() => quit(0));

    let seq = 0;
    const parse = spec.parseCommand ?? wordsCommand;
    const lines = createInterface({ input: process.stdin });
    lines.on("line", (line) => {
      if (!line.trim()) return;
      const number = ++seq;
      let command;
      let arg;
      try {
        [command, arg] = parse(line);
      } catch (e) {
        const name = line.trim().split(/\s/)[0];
        emit({ command: name, seq: number, ok: false, error: { name: "SyntaxError", code: "HARNESS", message: `bad argument: ${e.message}` } });
        return;
      }
      if (command === "quit") drainThenQuit();
      else submit(number, command, arg);
    });
    lines.on("close", drainThenQuit);

    // Commands of its own carry "auto": true instead of a seq, so the driver's count of lines sent stays right.
    if (spec.afterReady) await spec.afterReady((command, arg) => submit(null, command, arg), options);
  } catch (e) {
    await quit(1, e.message);
  }
}
