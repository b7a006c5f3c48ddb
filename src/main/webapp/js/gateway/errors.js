// Errors of the WebRTC Gateway client library (docs/js-library.md, "Error codes").

/** Failed operations reject with this; `code` is the gateway's error code or one of the library's. */
export class GatewayError extends Error {
  /**
   * @param {string} code stable, for programs (e.g. `SIP_REJECTED`, `RECONNECT_FAILED`)
   * @param {string} message for people
   * @param {{sipStatus?: number, sipReason?: string, instance?: string, retryAfter?: number, cause?: unknown}} [extra]
   */
  constructor(code, message, extra = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = "GatewayError";
    /** @type {string} */
    this.code = code;
    if (extra.sipStatus !== undefined) {
      /** @type {number|undefined} */
      this.sipStatus = extra.sipStatus;
    }
    if (extra.sipReason !== undefined) {
      /** @type {string|undefined} */
      this.sipReason = extra.sipReason;
    }
    if (extra.instance !== undefined) {
      /** @type {string|undefined} */
      this.instance = extra.instance;
    }
    if (extra.retryAfter !== undefined) {
      /** Seconds to wait before trying again (`RATE_LIMITED`). @type {number|undefined} */
      this.retryAfter = extra.retryAfter;
    }
  }

  /** An `error` frame from the gateway as an Error. */
  static fromWire(msg) {
    return new GatewayError(String(msg.code ?? "INTERNAL"), String(msg.message ?? msg.code ?? "error"), {
      sipStatus: msg.sipStatus,
      sipReason: msg.sipReason,
      instance: msg.instance,
      retryAfter: typeof msg.retryAfter === "number" && msg.retryAfter > 0 ? msg.retryAfter : undefined,
    });
  }
}
