// Several /js/webrtc-gateway.js clients in one headless Chromium page, for the cluster failover test
// (ClusterFailoverIT): they share the page's cookies, so the load balancer pins them all to one instance.
//
//   node src/test/js/e2e/cluster-clients.mjs <gatewayUrl> <dn>... [--min-delay ms] [--max-delay ms]
//        [--max-attempts n]
//
// Opens <gatewayUrl>/health/live (the page then has the load balancer's origin), creates one Client per
// DN with the library's default options (plus the reconnect options given), connects them one after the
// other (the first answer sets the affinity cookie) and registers each.
// Chromium: $CHROMIUM or /usr/bin/chromium; playwright-core from node_modules.
//
// stdout: one JSON object per line.
//   {"harness":"ready","t":..}
//   {"client":<index>,"event":"<name>","detail":{..},"t":..}       every Client event
//   {"client":<index>,"connected":{"session":..,"instance":..},"t":..} after connect()
//   {"client":<index>,"failed":{"code":..,"message":..},"t":..}     connect() or register() failed
//   {"harness":"fatal","message":"..","t":..}
// stdin: "quit" (or end of input, SIGTERM) closes Chromium and exits.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const EVENTS = ["registered", "unregistered", "disconnected", "reconnecting", "reconnected", "error"];
const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const started = Date.now();
const emit = (o) => process.stdout.write(JSON.stringify({ ...o, t: Date.now() - started }) + "\n");

function parseArgs(argv) {
  const dns = [];
  const reconnect = {};
  let url;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const number = () => Number(argv[++i]);
    if (arg === "--min-delay") reconnect.minDelay = number();
    else if (arg === "--max-delay") reconnect.maxDelay = number();
    else if (arg === "--max-attempts") reconnect.maxAttempts = number();
    else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
    else if (url === undefined) url = arg.replace(/\/+$/, "");
    else dns.push(arg);
  }
  if (!url || dns.length === 0) throw new Error("usage: cluster-clients.mjs <gatewayUrl> <dn>... [options]");
  return { url, dns, reconnect };
}

// Runs in the page.
function startClients({ moduleUrl, url, dns, reconnect, events }) {
  const plain = (v) => JSON.parse(JSON.stringify(v ?? null, (k, x) =>
    x instanceof Error ? { name: x.name, code: x.code, message: x.message } : x));
  // One after the other: the first answer sets the affinity cookie, which pins the next ones.
  return import(moduleUrl).then(async ({ Client }) => {
    window.clients = [];
    for (const [index, dn] of dns.entries()) {
      const client = new Client({ url, reconnect });
      window.clients.push(client);
      for (const name of events) {
        client.addEventListener(name, (e) => window.harnessReport(JSON.stringify({ client: index, event: name, detail: plain(e.detail) })));
      }
      try {
        const hello = await client.connect();
        window.harnessReport(JSON.stringify({ client: index, connected: { session: hello.session, instance: hello.instance } }));
        client.register(dn).catch((e) => window.harnessReport(JSON.stringify({ client: index, failed: plain(e) })));
      } catch (e) {
        window.harnessReport(JSON.stringify({ client: index, failed: plain(e) }));
      }
    }
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
    if (code !== 0) emit({ harness: "fatal", message });
    process.exit(code);
  };
  process.on("SIGTERM", () => quit(0));
  process.on("SIGINT", () => quit(0));
  createInterface({ input: process.stdin })
    .on("line", (line) => line.trim() === "quit" && quit(0))
    .on("close", () => quit(0));
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
    await page.exposeFunction("harnessReport", (line) => emit(JSON.parse(line)));
    const health = await page.goto(`${args.url}/health/live`);
    if (!health?.ok()) throw new Error(`${args.url}/health/live answered ${health?.status()}`);
    emit({ harness: "ready" });
    await page.evaluate(startClients, {
      moduleUrl: `${args.url}/js/webrtc-gateway.js`, url: args.url, dns: args.dns, reconnect: args.reconnect, events: EVENTS,
    });
  } catch (e) {
    await quit(1, e.message);
  }
}

main();
