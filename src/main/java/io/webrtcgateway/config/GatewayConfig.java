package io.webrtcgateway.config;

import java.time.Duration;
import java.util.List;

/**
 * The typed, validated configuration (see reference.conf for every key's meaning).
 * Built only by {@link ConfigLoader}; immutable.
 */
public record GatewayConfig(
        String instanceId,
        Http http,
        Sip sip,
        Session session,
        Legacy legacy,
        Media media,
        Limits limits,
        Cors cors,
        Cluster cluster,
        Calls calls,
        Admin admin) {

    /**
     * @param trustedProxies load balancers and proxies whose X-Forwarded-For is believed (edge.http.ClientAddress)
     */
    public record Http(String host, int port, List<Cidr> trustedProxies) {

        public Http(String host, int port) {
            this(host, port, List.of());
        }
    }

    /**
     * @param trustedSources who may send requests to the SIP listener besides the SIP Servers (sip.TrustedSipSources)
     * @param untrusted      what a request from anyone else gets
     */
    public record Sip(
            HostPort listen,
            String publicAddress,
            List<SipServerAddress> servers,
            String domain,
            Duration registerExpires,
            Duration keepaliveInterval,
            int keepaliveFailures,
            Duration requestTimeout,
            String userAgent,
            HostPort sandboxListen,
            boolean contactSipInstance,
            List<Cidr> trustedSources,
            Untrusted untrusted) {

        /** For tests and tools that build a config by hand: the defaults of the later keys. */
        public Sip(HostPort listen, String publicAddress, List<SipServerAddress> servers, String domain,
                   Duration registerExpires, Duration keepaliveInterval, int keepaliveFailures, Duration requestTimeout,
                   String userAgent, HostPort sandboxListen) {
            this(listen, publicAddress, servers, domain, registerExpires, keepaliveInterval, keepaliveFailures,
                    requestTimeout, userAgent, sandboxListen, true, List.of(), Untrusted.REJECT);
        }

        /**
         * {@code gateway.sip.untrusted}: what a request gets from a source that is neither a SIP Server nor in
         * {@code trusted-sources} (nor, inside a dialog, its peer); docs/sip.md "Whom the SIP listener accepts".
         */
        public enum Untrusted {
            /** 403 Forbidden, sent statelessly. */
            REJECT,
            /** No answer at all. */
            DROP
        }

        public boolean usesSandbox() {
            return servers.stream().anyMatch(SipServerAddress::sandbox);
        }
    }

    public record Session(Duration idleTimeout, Duration keepaliveInterval) {}

    public record Legacy(Duration pollTimeout, int maxQueuedMessages) {}

    /**
     * @param iceAddresses    local addresses for ICE host candidates; empty: every non-loopback interface address
     * @param sipSource       which senders the SIP-side RTP sockets accept and whether they latch (symmetric RTP)
     * @param latchPackets    latching: the destination may move while fewer packets than this have arrived...
     * @param latchWindow     ...and less than this has passed since the first
     * @param receiveThreads  threads reading every media socket of the instance
     */
    public record Media(int rtpPortMin, int rtpPortMax, String publicAddress, List<HostPort> stunServers,
                        List<String> iceAddresses, SipSource sipSource, int latchPackets, Duration latchWindow,
                        int receiveThreads) {}

    /** {@code gateway.media.sip-source-policy}; docs/media.md "Which senders are accepted". */
    public enum SipSource {
        LATCHING("latching"), LATCHING_STRICT("latching-strict"), SDP("sdp"), SDP_STRICT("sdp-strict");

        private final String configName;

        SipSource(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }

        public boolean latching() {
            return this == LATCHING || this == LATCHING_STRICT;
        }

        public boolean strict() {
            return this == LATCHING_STRICT || this == SDP_STRICT;
        }
    }

    public record Limits(int maxSessions, int maxCalls, int maxMessageBytes) {}

    public record Cors(List<String> allowedOrigins) {
        public boolean allows(String origin) {
            return origin != null && (allowedOrigins.contains("*") || allowedOrigins.contains(origin));
        }
    }

    public record Cluster(String affinityCookie, Duration shutdownTimeout) {}

    /**
     * @param attachedDataPrefix header name prefix for attached data keys without an explicit mapping
     * @param attachedDataHeaders explicit key -> SIP header name mapping
     * @param mediaSetupTimeout  ICE + DTLS must be up this long after both SDPs are applied (and after ICE
     *                           is lost, for the browser's ICE restart), else the call ends
     * @param mediaTimeout       no packet from one side this long in a connected, not held call ends it;
     *                           {@link Duration#ZERO}: off
     */
    public record Calls(Duration noAnswerTimeout, String attachedDataPrefix,
                        java.util.Map<String, String> attachedDataHeaders, boolean dtmfViaInfo,
                        SessionTimers sessionTimers, Duration mediaSetupTimeout, Duration mediaTimeout) {}

    /**
     * RFC 4028 session timers: {@code sessionExpires} zero turns them off; {@code floor} is the lowest
     * value either may take (90 s, RFC 4028 §4; lowered only by tests).
     */
    public record SessionTimers(Duration sessionExpires, Duration minSe, Duration floor) {}

    /**
     * The admin API and console; {@code passwordHash} is the string form of admin.PasswordHash.
     *
     * @param port          separate admin listener port, 0 for none (the main listener serves /admin/**)
     * @param peers         base URLs of the other instances' admin listeners
     * @param clusterSecret HMAC key of requests between instances; empty: none accepted or sent
     */
    public record Admin(String username, String passwordHash, Duration sessionTimeout, int port,
                        String bindAddress, List<String> peers, String clusterSecret, Duration peerTimeout) {

        /** Credentials only, the rest at its defaults (tests and tools). */
        public Admin(String username, String passwordHash) {
            this(username, passwordHash, Duration.ofHours(8), 0, "127.0.0.1", List.of(), "", Duration.ofSeconds(2));
        }

        /** The admin API exists only when both are set. */
        public boolean enabled() {
            return !username.isEmpty() && !passwordHash.isEmpty();
        }
    }
}
