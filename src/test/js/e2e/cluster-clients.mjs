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
import { runHarness } from "./harness.mjs";

const EVENTS = ["registered", "unregistered", "disconnected", "reconnecting", "reconnected", "error"];

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
  // One after the other: the first answer sets the affinity cookie, which pins the next ones. They
  // start once the module is loaded and go on after "ready"; no commands besides quit.
  return import(moduleUrl).then(({ Client }) => {
    window.harnessRun = async (command) => ({ ok: false, error: { code: "HARNESS", message: `unknown command ${command}` } });
    window.clients = [];
    startInOrder(Client);
  });

  async function startInOrder(Client) {
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
  }
}

runHarness({
  name: "cluster-clients",
  parseArgs,
  loopbackOnly: () => false,
  pageUrl: (args) => `${args.url}/health/live`,
  install: startClients,
  installArg: (args) => ({
    moduleUrl: `${args.url}/js/webrtc-gateway.js`, url: args.url, dns: args.dns, reconnect: args.reconnect, events: EVENTS,
  }),
  ready: () => ({}),
});
