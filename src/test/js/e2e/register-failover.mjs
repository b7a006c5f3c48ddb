// Drives /js/webrtc-gateway.js in headless Chromium for integration tests (BrowserReconnectIT).
//
//   node src/test/js/e2e/register-failover.mjs <gatewayUrl> [dn [password]]
//        [--min-delay ms] [--max-delay ms] [--max-attempts n] [--keepalive-timeout ms]
//
// Opens <gatewayUrl>/health/live (so the page has the gateway's origin), imports
// <gatewayUrl>/js/webrtc-gateway.js and creates a Client for <gatewayUrl>. With a DN it connects and
// registers at once. Chromium: $CHROMIUM or /usr/bin/chromium; playwright-core from node_modules.
//
// stdout: one JSON object per line.
//   {"harness":"ready","t":..}                                  page loaded, Client created
//   {"event":"<name>","detail":{..},"t":..}                     every Client event, in order
//   {"command":"<name>","ok":true,"value":{..},"t":..}          a command finished
//   {"command":"<name>","ok":false,"error":{"code":..,"message":..,"sipStatus":..,"sipReason":..},"t":..}
//   {"harness":"exit","t":..}                                   about to exit 0
//   {"harness":"fatal","message":"..","t":..}                   about to exit 1 (no browser, page died, ...)
// stdin: one command per line; commands run concurrently, each answers with one "command" line.
//   connect | register <dn> [password] | unregister | disconnect | state | quit
//   End of input and SIGTERM/SIGINT are `quit`. Diagnostics (page console, errors) go to stderr.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const EVENTS = ["registered", "unregistered", "incoming", "disconnected", "reconnecting", "reconnected", "error"];
const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
];
const started = Date.now();

function emit(object) {
  process.stdout.write(JSON.stringify({ ...object, t: Date.now() - started }) + "\n");
}

function parseArgs(argv) {
  const positional = [];
  const reconnect = {};
  const keepalive = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const number = () => {
      const value = Number(argv[++i]);
      if (!Number.isFinite(value) || value <= 0) throw new Error(`${arg} needs a positive number`);
      return value;
    };
    if (arg === "--min-delay") reconnect.minDelay = number();
    else if (arg === "--max-delay") reconnect.maxDelay = number();
    else if (arg === "--max-attempts") reconnect.maxAttempts = number();
    else if (arg === "--keepalive-timeout") keepalive.timeout = number();
    else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
    else positional.push(arg);
  }
  const [gatewayUrl, dn, password] = positional;
  if (!gatewayUrl) throw new Error("usage: register-failover.mjs <gatewayUrl> [dn [password]] [options]");
  return { gatewayUrl: gatewayUrl.replace(/\/+$/, ""), dn, password, reconnect, keepalive };
}

// Runs in the page. Everything it hands back must survive JSON.
function installClient({ moduleUrl, options }) {
  const plain = (value) =>
    JSON.parse(
      JSON.stringify(value ?? null, (key, v) => {
        if (v instanceof Error) {
          const out = { name: v.name, code: v.code, message: v.message };
          if (v.sipStatus !== undefined) out.sipStatus = v.sipStatus;
          if (v.sipReason !== undefined) out.sipReason = v.sipReason;
          return out;
        }
        return v;
      }),
    );
  return import(moduleUrl).then(({ Client }) => {
    const client = new Client(options);
    for (const name of options.events) {
      client.addEventListener(name, (e) => window.harnessReport(JSON.stringify({ event: name, detail: plain(e.detail) })));
    }
    window.harnessRun = async (command, args) => {
      try {
        let value;
        if (command === "connect") value = await client.connect();
        else if (command === "register") value = await client.register(args[0], args[1]);
        else if (command === "unregister") value = await client.unregister();
        else if (command === "disconnect") value = await client.disconnect();
        else if (command === "state") {
          value = { state: client.state, session: client.session, instance: client.instance, registration: client.registration };
        } else throw Object.assign(new Error(`unknown command ${command}`), { code: "HARNESS" });
        return { ok: true, value: plain(value) };
      } catch (e) {
        return { ok: false, error: plain(e) };
      }
    };
  });
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    emit({ harness: "fatal", message: e.message });
    process.exit(2);
  }

  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch (e) {
    emit({ harness: "fatal", message: `playwright-core is not installed (npm install): ${e.message}` });
    process.exit(1);
  }

  const userDataDir = await mkdtemp(join(tmpdir(), "gw-chromium-"));
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
    await rm(userDataDir, { recursive: true, force: true });
    emit(code === 0 ? { harness: "exit" } : { harness: "fatal", message });
    process.exit(code);
  };
  process.on("SIGTERM", () => quit(0));
  process.on("SIGINT", () => quit(0));

  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_FLAGS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (m) => process.stderr.write(`[page ${m.type()}] ${m.text()}\n`));
    page.on("pageerror", (e) => process.stderr.write(`[page error] ${e.stack ?? e}\n`));
    page.on("crash", () => quit(1, "the page crashed"));
    context.on("close", () => quit(1, "chromium closed"));
    await page.exposeFunction("harnessReport", (line) => emit(JSON.parse(line)));
    const health = await page.goto(`${args.gatewayUrl}/health/live`);
    if (!health?.ok()) throw new Error(`${args.gatewayUrl}/health/live answered ${health?.status()}`);
    await page.evaluate(installClient, {
      moduleUrl: `${args.gatewayUrl}/js/webrtc-gateway.js`,
      options: { url: args.gatewayUrl, reconnect: args.reconnect, keepalive: args.keepalive, events: EVENTS },
    });
    emit({ harness: "ready" });

    const run = async (command, commandArgs) => {
      let outcome;
      try {
        outcome = await page.evaluate(([c, a]) => window.harnessRun(c, a), [command, commandArgs]);
      } catch (e) {
        if (quitting) return null;
        outcome = { ok: false, error: { code: "HARNESS", message: e.message } };
      }
      emit({ command, ...outcome });
      return outcome;
    };

    const lines = createInterface({ input: process.stdin });
    lines.on("line", (line) => {
      const [command, ...rest] = line.trim().split(/\s+/);
      if (!command) return;
      if (command === "quit") quit(0);
      else run(command, rest);
    });
    lines.on("close", () => quit(0));

    if (args.dn) {
      const connected = await run("connect", []);
      if (connected?.ok) await run("register", [args.dn, args.password]);
    }
  } catch (e) {
    await quit(1, e.message);
  }
}

main();
