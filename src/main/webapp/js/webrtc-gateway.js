/*
 * WebRTC Gateway client library: ES modules without dependencies and without a build step.
 *
 *   import { Client } from "/js/webrtc-gateway.js";
 *
 * It speaks WebSocket protocol v1 (docs/protocol.md) and is documented for applications in
 * docs/js-library.md. This file is the entry point; the parts live in /js/gateway/:
 *   errors.js  GatewayError
 *   client.js  Client: the signaling session (connect, register, keepalive, failover), call routing
 *   call.js    Call: one call's RTCPeerConnection and its signaling
 *   rtc.js     WebRTC helpers: ICE gathering with a cap, getStats() summary
 */
export { GatewayError } from "./gateway/errors.js";
export { Client } from "./gateway/client.js";
export { Call } from "./gateway/call.js";
