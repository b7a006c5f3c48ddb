// A page of another site in headless Chromium, for the cross-site attacks on the gateway
// (io.webrtcgateway.edge.http.CrossSitePage is the Java driver, CrossSiteBrowserIT the test).
//
//   node src/test/js/e2e/cross-site-page.mjs <page host>
//
// The page is served by this script from http://<page host>:<any port>/ (e.g. 127.0.0.2: another site than
// a gateway on 127.0.0.1, since the site of an IP address is the address itself), and does what any web page
// can do without the gateway's consent: load an image, submit a form into an iframe. Chromium then sends its
// own Sec-Fetch-Site and Origin, which is the point. No WebRTC, so no loopback shim.
//
// stdin: one command per line, "<command> <json>", run in order:
//   img "<url>"                                   adds <img src=url>; value: "load" or "error"
//   form {"action":"<url>","name":"1001","value":"undefined"}   POSTs a text/plain form ("<name>=<value>")
//                                                 into a hidden iframe; value: "loaded" once the iframe loads
// stdout: harness.mjs's lines; "ready" carries {"origin", "chromium"}.
import http from "node:http";
import { jsonCommand, runHarness } from "./harness.mjs";

function parseArgs(argv) {
  const [host] = argv;
  if (!host || argv.length !== 1) throw new Error("usage: cross-site-page.mjs <page host>");
  return { host };
}

const server = http.createServer((request, response) => {
  response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  response.end("<!doctype html><meta charset=utf-8><title>another site</title><p>nothing to see here</p>");
});

function install() {
  const wait = (element, events) => new Promise((resolve) => {
    for (const name of events) element.addEventListener(name, () => resolve(name), { once: true });
  });
  window.harnessRun = async (command, arg) => {
    try {
      if (command === "img") {
        const img = document.createElement("img");
        const done = wait(img, ["load", "error"]);
        img.src = arg;
        document.body.append(img);
        return { ok: true, value: await done };
      }
      if (command === "form") {
        const frame = document.createElement("iframe");
        frame.name = `sink${Date.now()}${Math.random()}`;
        document.body.append(frame);
        const form = document.createElement("form");
        form.method = "POST";
        form.enctype = "text/plain";
        form.action = arg.action;
        form.target = frame.name;
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = arg.name;
        input.value = arg.value;
        form.append(input);
        document.body.append(form);
        const loaded = wait(frame, ["load"]);
        form.submit();
        await loaded;
        return { ok: true, value: "loaded" };
      }
      return { ok: false, error: { name: "HarnessError", code: "HARNESS", message: `unknown command ${command}` } };
    } catch (e) {
      return { ok: false, error: { name: e.name, code: "HARNESS", message: e.message } };
    }
  };
}

const options = (() => {
  try {
    return parseArgs(process.argv.slice(2));
  } catch {
    return null; // runHarness reports the usage error itself
  }
})();
if (options) {
  await new Promise((resolve, reject) => server.listen(0, options.host, resolve).once("error", reject));
}
process.on("exit", () => server.close());

runHarness({
  name: "cross-site-page",
  parseArgs,
  loopbackOnly: () => false,
  pageUrl: (o) => `http://${o.host}:${server.address().port}/`,
  install,
  ready: (o, origin, chromium) => ({ origin, chromium }),
  parseCommand: jsonCommand,
  sequential: true,
});
