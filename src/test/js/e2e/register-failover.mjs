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
import { runHarness } from "./harness.mjs";

const EVENTS = ["registered", "unregistered", "incoming", "disconnected", "reconnecting", "reconnected", "error"];

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

runHarness({
  name: "register-failover",
  parseArgs,
  // No media: WebRTC is not used, so no loopback shim.
  loopbackOnly: () => false,
  pageUrl: ({ gatewayUrl }) => `${gatewayUrl}/health/live`,
  install: installClient,
  installArg: (args) => ({
    moduleUrl: `${args.gatewayUrl}/js/webrtc-gateway.js`,
    options: { url: args.gatewayUrl, reconnect: args.reconnect, keepalive: args.keepalive, events: EVENTS },
  }),
  ready: () => ({}),
  afterReady: async (run, args) => {
    if (!args.dn) return;
    const connected = await run("connect", []);
    if (connected?.ok) await run("register", [args.dn, args.password]);
  },
});
