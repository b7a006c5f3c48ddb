// Headless Chromium for the e2e harnesses (webrtc-peer.mjs, phone.mjs): the flags every test run
// uses, and the LD_PRELOAD shim that keeps WebRTC's ICE on loopback (loopback-only.c explains why).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, mkdir, readFile, rename } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const CHROMIUM_FLAGS = Object.freeze([
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
  // Sound must keep flowing in a page nobody looks at.
  "--autoplay-policy=no-user-gesture-required",
]);

export function isLoopback(address) {
  return /^127\./.test(address) || address === "::1" || address === "localhost";
}

/** Whether the machine has an interface besides loopback (and link-local IPv6). */
export function hasOtherInterface() {
  return Object.values(networkInterfaces()).flat().some((a) => !a.internal && !/^fe80:/i.test(a.address));
}

/**
 * Compiles loopback-only.c once per content into $WEBRTC_PEER_BUILD_DIR (default target/webrtc-peer/)
 * and returns the .so path.
 */
export async function loopbackShim() {
  const source = fileURLToPath(new URL("./loopback-only.c", import.meta.url));
  const hash = createHash("sha256").update(await readFile(source)).digest("hex").slice(0, 12);
  const dir = process.env.WEBRTC_PEER_BUILD_DIR ?? fileURLToPath(new URL("../../../../target/webrtc-peer/", import.meta.url));
  const library = join(dir, `loopback-only-${hash}.so`);
  try {
    await access(library);
    return library;
  } catch {
    // not built yet
  }
  await mkdir(dir, { recursive: true });
  // Harnesses start in parallel: each compiles to its own file, the rename is atomic.
  const partial = `${library}.${process.pid}.tmp`;
  const compiler = process.env.CC ?? "cc";
  await new Promise((resolve, reject) =>
    execFile(compiler, ["-shared", "-fPIC", "-O2", "-Wall", "-o", partial, source, "-ldl"], (error, stdout, stderr) => {
      if (stderr) process.stderr.write(stderr);
      if (error?.code === "ENOENT") {
        reject(new Error(`${compiler} not found: a C compiler (Debian gcc) builds loopback-only.so, which keeps Chromium's ICE on loopback; run scripts/install-test-peers.sh`));
      } else if (error) reject(new Error(`compiling ${source} failed: ${error.message}`));
      else resolve();
    }));
  await rename(partial, library);
  return library;
}

/**
 * Chromium's command line and environment for a harness: the common flags, and with `loopbackOnly`
 * the shim preloaded (plus --allow-loopback-in-peer-connection when loopback is all there is, or
 * Chromium would have no network for WebRTC at all).
 */
export async function chromiumLaunch({ loopbackOnly }) {
  const args = [...CHROMIUM_FLAGS];
  const env = { ...process.env };
  if (loopbackOnly) {
    env.LD_PRELOAD = [await loopbackShim(), process.env.LD_PRELOAD].filter(Boolean).join(":");
  }
  if (!hasOtherInterface()) args.push("--allow-loopback-in-peer-connection");
  // HTTPS tests: the keys (base64 SHA-256 of a SubjectPublicKeyInfo, comma-separated) of a test CA or server
  // that Chromium accepts as if they were trusted roots: a chain holding one of them verifies. Chromium honours
  // the flag only with a --user-data-dir, which every harness has (launchPersistentContext).
  if (process.env.CHROMIUM_TRUSTED_SPKI) args.push(`--ignore-certificate-errors-spki-list=${process.env.CHROMIUM_TRUSTED_SPKI}`);
  return { args, env };
}
