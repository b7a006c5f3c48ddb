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
        Admin admin,
        Auth auth,
        Health health) {

    /**
     * @param port           the plain-HTTP listener of the standalone launcher; 0: none (only with HTTPS on)
     * @param trustedProxies load balancers and proxies whose X-Forwarded-For is believed (edge.http.ClientAddress)
     * @param allowedHosts   host names the gateway answers to besides IP literals and localhost, lower case,
     *                       "*.example.com" for subdomains (edge.http.AllowedHosts)
     * @param idleTimeout    the standalone launcher's connectors close a connection silent this long
     * @param tls            HTTPS (and WSS) of the standalone launcher
     */
    public record Http(String host, int port, List<Cidr> trustedProxies, List<String> allowedHosts,
                       Duration idleTimeout, Tls tls) {

        /** Jetty's own default, and gateway.http.idle-timeout's. */
        public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

        public Http(String host, int port) {
            this(host, port, List.of(), List.of(), DEFAULT_IDLE_TIMEOUT, Tls.OFF);
        }

        public Http(String host, int port, List<Cidr> trustedProxies) {
            this(host, port, trustedProxies, List.of(), DEFAULT_IDLE_TIMEOUT, Tls.OFF);
        }

        public Http(String host, int port, List<Cidr> trustedProxies, List<String> allowedHosts, Tls tls) {
            this(host, port, trustedProxies, allowedHosts, DEFAULT_IDLE_TIMEOUT, tls);
        }

        /**
         * {@code gateway.http.tls} (docs/configuration.md, "HTTPS"): the standalone launcher's HTTPS listener on
         * {@code port} (0: off) with the certificate from PEM files ({@code certificateChain} + {@code privateKey})
         * or a PKCS12 {@code keystore}; the unused pair is empty. {@link TlsIdentity} reads and checks the files.
         *
         * @param redirectHttp the plain-HTTP listener answers everything but /health/* with a redirect to HTTPS
         * @param hstsMaxAge   Strict-Transport-Security max-age on HTTPS answers; zero: no header
         */
        public record Tls(int port, String certificateChain, String privateKey, String keystore,
                          String keystorePassword, boolean redirectHttp, Duration hstsMaxAge) {
            public static final Tls OFF = new Tls(0, "", "", "", "", false, Duration.ZERO);

            public boolean enabled() {
                return port != 0;
            }

            /** The certificate comes from PEM files (else from the keystore). */
            public boolean pem() {
                return !certificateChain.isEmpty();
            }

            /** Without the keystore password, which must not reach a log. */
            @Override
            public String toString() {
                return "Tls[port=" + port + ", certificateChain=" + certificateChain + ", privateKey=" + privateKey
                        + ", keystore=" + keystore + ", keystorePassword=" + (keystorePassword.isEmpty() ? "" : "***")
                        + ", redirectHttp=" + redirectHttp + ", hstsMaxAge=" + hstsMaxAge + "]";
            }
        }
    }

    /**
     * @param trustedSources who may send requests to the SIP listener besides the SIP Servers (sip.TrustedSipSources)
     * @param untrusted      what a request from anyone else gets
     * @param tcp            bounds on inbound SIP over TCP (sip.tcp)
     * @param maxRequestsPerSecond requests one source address may send per second (and in one burst); 0: no limit
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
            Untrusted untrusted,
            Tcp tcp,
            int maxRequestsPerSecond,
            Headers headers,
            Tls tls,
            Srtp srtp) {

        /** For tests and tools that build a config by hand: no SIP over TLS, no SRTP toward SIP Server. */
        public Sip(HostPort listen, String publicAddress, List<SipServerAddress> servers, String domain,
                   Duration registerExpires, Duration keepaliveInterval, int keepaliveFailures, Duration requestTimeout,
                   String userAgent, HostPort sandboxListen, boolean contactSipInstance, List<Cidr> trustedSources,
                   Untrusted untrusted, Tcp tcp, int maxRequestsPerSecond, Headers headers) {
            this(listen, publicAddress, servers, domain, registerExpires, keepaliveInterval, keepaliveFailures,
                    requestTimeout, userAgent, sandboxListen, contactSipInstance, trustedSources, untrusted, tcp,
                    maxRequestsPerSecond, headers, Tls.OFF, Srtp.OFF);
        }

        /** For tests and tools that build a config by hand: SIP over TLS, no SRTP toward SIP Server. */
        public Sip(HostPort listen, String publicAddress, List<SipServerAddress> servers, String domain,
                   Duration registerExpires, Duration keepaliveInterval, int keepaliveFailures, Duration requestTimeout,
                   String userAgent, HostPort sandboxListen, boolean contactSipInstance, List<Cidr> trustedSources,
                   Untrusted untrusted, Tcp tcp, int maxRequestsPerSecond, Headers headers, Tls tls) {
            this(listen, publicAddress, servers, domain, registerExpires, keepaliveInterval, keepaliveFailures,
                    requestTimeout, userAgent, sandboxListen, contactSipInstance, trustedSources, untrusted, tcp,
                    maxRequestsPerSecond, headers, tls, Srtp.OFF);
        }

        /** For tests and tools that build a config by hand: the defaults of the later keys. */
        public Sip(HostPort listen, String publicAddress, List<SipServerAddress> servers, String domain,
                   Duration registerExpires, Duration keepaliveInterval, int keepaliveFailures, Duration requestTimeout,
                   String userAgent, HostPort sandboxListen) {
            this(listen, publicAddress, servers, domain, registerExpires, keepaliveInterval, keepaliveFailures,
                    requestTimeout, userAgent, sandboxListen, true, List.of(), Untrusted.REJECT);
        }

        /** For tests and tools that build a config by hand: the defaults of the flood limits. */
        public Sip(HostPort listen, String publicAddress, List<SipServerAddress> servers, String domain,
                   Duration registerExpires, Duration keepaliveInterval, int keepaliveFailures, Duration requestTimeout,
                   String userAgent, HostPort sandboxListen, boolean contactSipInstance, List<Cidr> trustedSources,
                   Untrusted untrusted) {
            this(listen, publicAddress, servers, domain, registerExpires, keepaliveInterval, keepaliveFailures,
                    requestTimeout, userAgent, sandboxListen, contactSipInstance, trustedSources, untrusted,
                    Tcp.DEFAULTS, 500, Headers.DEFAULTS);
        }

        /** For tests that set the TCP and rate limits: the default header bounds. */
        public Sip(HostPort listen, String publicAddress, List<SipServerAddress> servers, String domain,
                   Duration registerExpires, Duration keepaliveInterval, int keepaliveFailures, Duration requestTimeout,
                   String userAgent, HostPort sandboxListen, boolean contactSipInstance, List<Cidr> trustedSources,
                   Untrusted untrusted, Tcp tcp, int maxRequestsPerSecond) {
            this(listen, publicAddress, servers, domain, registerExpires, keepaliveInterval, keepaliveFailures,
                    requestTimeout, userAgent, sandboxListen, contactSipInstance, trustedSources, untrusted, tcp,
                    maxRequestsPerSecond, Headers.DEFAULTS);
        }

        /**
         * {@code gateway.sip.srtp} and {@code gateway.sip.srtp-over-insecure-transport} (docs/sip.md "SRTP toward
         * SIP Server"): SDES-keyed SRTP on the SIP leg, and whether its keys may travel in SDP over UDP/TCP.
         */
        public record Srtp(SrtpMode mode, boolean overInsecureTransport) {
            public static final Srtp OFF = new Srtp(SrtpMode.OFF, false);
        }

        /** {@code gateway.sip.srtp}. */
        public enum SrtpMode {
            /** Plain RTP/AVP; an RTP/SAVP-only offer is refused (488). */
            OFF,
            /** Offers RTP/AVP with a=crypto (best effort); answers SAVP offers SAVP and AVP offers AVP. */
            OPTIONAL,
            /** Offers RTP/SAVP with a=crypto; an offer without a usable a=crypto is refused (488). */
            REQUIRED;

            public String configName() {
                return name().toLowerCase(java.util.Locale.ROOT);
            }
        }

        /**
         * What one SIP request may carry besides the message size (docs/sip.md "Message bounds"): header fields
         * (each value of a comma-separated list counts) and bytes of one header field. Over either: 513.
         */
        public record Headers(int maxHeaders, int maxHeaderBytes) {
            public static final Headers DEFAULTS = new Headers(128, 8192);
        }

        /**
         * Inbound SIP over TCP (docs/sip.md "TCP connections"): connections from sources other than the SIP
         * Servers and trusted-sources count against {@code maxConnections}; every source against
         * {@code maxConnectionsPerSource}. A connection must bring each message (its first one too) within
         * {@code readTimeout} of that message's first byte (of connecting), and is closed after
         * {@code idleTimeout} without a message either way.
         */
        public record Tcp(int maxConnections, int maxConnectionsPerSource, Duration idleTimeout,
                          Duration readTimeout) {
            public static final Tcp DEFAULTS = new Tcp(256, 64, Duration.ofSeconds(120), Duration.ofSeconds(10));
        }

        /**
         * {@code gateway.sip.tls} (docs/sip.md "TLS"): the gateway's identity, from PEM files
         * ({@code certificateChain} + {@code privateKey}) or a PKCS12 {@code keystore}, the unused pair empty; with
         * one, a TLS listening point on {@code port} (the host of gateway.sip.listen). {@code trustedCertificates}:
         * a PEM bundle of the CAs SIP Servers' certificates must chain to; empty: the JDK's trust store.
         *
         * @param verifyHostName a SIP Server's certificate must name the host it was reached by (RFC 5922 §7.2)
         * @param handshakeTimeout a connection's TLS handshake must end within this of connecting
         */
        public record Tls(int port, String certificateChain, String privateKey, String keystore,
                          String keystorePassword, String trustedCertificates, boolean verifyHostName,
                          Duration handshakeTimeout) {
            public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
            public static final Tls OFF = new Tls(0, "", "", "", "", "", true, DEFAULT_HANDSHAKE_TIMEOUT);

            /** An identity is configured: the TLS listening point is open and TLS servers may be used. */
            public boolean enabled() {
                return port != 0;
            }

            /** Where the identity comes from, for TlsIdentity and the reloader. */
            public TlsIdentity.Source identity() {
                return new TlsIdentity.Source("gateway.sip.tls.", certificateChain, privateKey, keystore,
                        keystorePassword);
            }

            /** Without the keystore password, which must not reach a log. */
            @Override
            public String toString() {
                return "Tls[port=" + port + ", certificateChain=" + certificateChain + ", privateKey=" + privateKey
                        + ", keystore=" + keystore + ", keystorePassword=" + (keystorePassword.isEmpty() ? "" : "***")
                        + ", trustedCertificates=" + trustedCertificates + ", verifyHostName=" + verifyHostName
                        + ", handshakeTimeout=" + handshakeTimeout + "]";
            }
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
     * @param learnPackets    learning: RTP packets in sequence another source sends before it takes over...
     * @param learnSilence    ...while the gateway has been sending to the current destination this long unanswered
     * @param iceRemoteDeny   remote ICE candidates in these blocks are never checked ({@code gateway.media.ice-remote-deny})
     * @param iceDenyOwnAddresses that list holds {@code own-addresses}: the gateway's own addresses are denied too
     * @param dtls            the DTLS certificate toward browsers ({@code gateway.media.dtls})
     */
    public record Media(int rtpPortMin, int rtpPortMax, String publicAddress, List<HostPort> stunServers,
                        List<String> iceAddresses, SipSource sipSource, int latchPackets, Duration latchWindow,
                        int receiveThreads, int learnPackets, Duration learnSilence, List<Cidr> iceRemoteDeny,
                        boolean iceDenyOwnAddresses, Dtls dtls) {

        /** For tests and tools that build a config by hand: a DTLS certificate generated at start. */
        public Media(int rtpPortMin, int rtpPortMax, String publicAddress, List<HostPort> stunServers,
                     List<String> iceAddresses, SipSource sipSource, int latchPackets, Duration latchWindow,
                     int receiveThreads, int learnPackets, Duration learnSilence, List<Cidr> iceRemoteDeny,
                     boolean iceDenyOwnAddresses) {
            this(rtpPortMin, rtpPortMax, publicAddress, stunServers, iceAddresses, sipSource, latchPackets, latchWindow,
                    receiveThreads, learnPackets, learnSilence, iceRemoteDeny, iceDenyOwnAddresses, Dtls.GENERATED);
        }

        /**
         * {@code gateway.media.dtls} (docs/media.md "The DTLS certificate"): the certificate and ECDSA P-256 key
         * the gateway's DTLS shows browsers, from PEM files (may be one file), re-read when they change; both
         * empty: one generated at start, the instance's own.
         */
        public record Dtls(String certificateChain, String privateKey) {
            public static final Dtls GENERATED = new Dtls("", "");

            /** The certificate comes from files (else it is generated at start). */
            public boolean configured() {
                return !certificateChain.isEmpty();
            }

            /** Where the identity comes from, for TlsIdentity and the watch. */
            public TlsIdentity.Source identity() {
                return TlsIdentity.Source.dtls("gateway.media.dtls.", certificateChain, privateKey);
            }
        }
    }

    /** {@code gateway.media.sip-source-policy}; docs/media.md "Which senders are accepted". */
    public enum SipSource {
        LEARNING("learning"), LATCHING("latching"), LATCHING_STRICT("latching-strict"), SDP("sdp"),
        SDP_STRICT("sdp-strict");

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

    /**
     * @param maxIncomingCallsPerSecond INVITEs from SIP Server that may become calls per second (and in one
     *                                  burst), instance-wide; beyond, 503 with Retry-After before any media
     * @param wsSendQueueMessages messages waiting to be written to one WebSocket, besides the one being written;
     *                            one more closes it with 4008 (docs/protocol.md, "Slow clients")
     * @param wsSendQueueBytes    the same in bytes (UTF-8); a message always fits when none waits
     * @param writeTimeout        a WebSocket message not written within this closes its socket with 4008
     * @param inputs              what one request or message may carry
     * @param clients             what one client (address, session, DN) may do
     */
    public record Limits(int maxSessions, int maxCalls, int maxMessageBytes, int maxIncomingCallsPerSecond,
                         int wsSendQueueMessages, int wsSendQueueBytes, Duration writeTimeout, Inputs inputs,
                         Clients clients) {}

    /**
     * @param stuckAfter an executor (gw-worker, gw-timer, the call or registration actors) whose work waits
     *                   this long is stuck: /health/ready answers 503 {@code executor-stuck:<pool>}
     */
    public record Health(Duration stuckAfter) {}

    /**
     * Bounds on what one message may carry, each checked before anything is allocated for it
     * (docs/configuration.md, "Limits"). A browser's request over one gets BAD_REQUEST or BAD_SDP naming the key.
     *
     * @param maxMediaSections     m-lines of one SDP, from either side (each bridged one takes a pair of RTP ports)
     * @param maxSdpBytes          one SDP, UTF-8
     * @param maxCandidatesPerCall remote ICE candidates of one call's ICE generation, trickled and in SDPs together
     * @param maxAttachedDataKeys  attached data entries of one call, either way
     * @param maxAttachedDataBytes attached data of one call, keys and values together (UTF-8)
     * @param maxInfoBytes         the body of one INFO, either way
     * @param maxQueuedRequests    browser requests waiting on one call's actor; one more is refused (RATE_LIMITED)
     */
    public record Inputs(int maxMediaSections, int maxSdpBytes, int maxCandidatesPerCall, int maxAttachedDataKeys,
                         int maxAttachedDataBytes, int maxInfoBytes, int maxQueuedRequests) {
        /** The values of reference.conf. */
        public static final Inputs DEFAULTS = new Inputs(4, 32_768, 50, 32, 16_384, 16_384, 32);
    }

    /**
     * Per-client limits (docs/configuration.md, "Per-client limits"); 0 turns a limit off. Over one: RATE_LIMITED
     * (HTTP 429 with Retry-After), counted in gateway_limits_refusals_total; never a reason for /health/ready.
     *
     * @param maxSessionsPerAddress   live sessions from one client address (IPv6: its /64)
     * @param signInsPerSecond        sessions one address may open per second (refilled continuously)...
     * @param signInBurst             ...and at once
     * @param requestsPerSecond       requests of one session per second...
     * @param requestBurst            ...and at once
     * @param maxCallsPerSession      calls of one session at a time, both directions
     * @param registrationsPerMinute  REGISTER attempts for one DN per minute, and at once
     * @param maxTracked              addresses, and apart DNs, whose rates are remembered; the least recently seen
     *                                are forgotten first
     */
    public record Clients(int maxSessionsPerAddress, int signInsPerSecond, int signInBurst, int requestsPerSecond,
                          int requestBurst, int maxCallsPerSession, int registrationsPerMinute, int maxTracked) {
        /** The values of reference.conf. */
        public static final Clients DEFAULTS = new Clients(500, 10, 200, 20, 100, 4, 30, 10_000);
    }

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
                        SessionTimers sessionTimers, Duration mediaSetupTimeout, Duration mediaTimeout,
                        DialPlan dialPlan) {}

    /**
     * Who may call what (docs/configuration.md, "Who may call what"). Patterns: digits and other dialable
     * characters stand for themselves, {@code x} for one digit, a trailing {@code *} for anything.
     *
     * @param allow     destinations every session may call (a registered DN's calls and anonymous ones alike)
     * @param deny      destinations nobody may call; wins over allow
     * @param anonymous destinations a session without a registered DN may call; empty: none
     */
    public record DialPlan(List<String> allow, List<String> deny, List<String> anonymous) {
        /**
         * What a call's destination ({@code to}) and a destination pattern are made of: 1-64 of
         * A-Z a-z 0-9 . _ + * # - (the config, the token's dial claim, the token command and the call request).
         */
        public static final java.util.regex.Pattern SYNTAX = java.util.regex.Pattern.compile("[A-Za-z0-9._+*#\\-]{1,64}");

        public static boolean wellFormed(String destination) {
            return destination != null && SYNTAX.matcher(destination).matches();
        }
    }

    /**
     * Browser authentication (docs/configuration.md, "Tokens").
     *
     * @param mode       none or token; token unless the config says none or names only the sandbox
     * @param dnTakeover none mode only: whether a session may take a DN another live session holds
     */
    public record Auth(AuthMode mode, boolean dnTakeover, Token token) {
        public boolean tokens() {
            return mode == AuthMode.TOKEN;
        }
    }

    public enum AuthMode { NONE, TOKEN }

    /**
     * @param hmacSecrets  HS256/384/512 secrets; any one verifies (rotation), the first signs (the token command)
     * @param publicKeys   path of a JWKS file (RS256, ES256, EdDSA), re-read when it changes; empty: none
     * @param issuer       required {@code iss}; empty: not checked
     * @param audience     required in {@code aud}; empty: not checked
     * @param maxLifetime  longest {@code exp - iat} accepted; zero: not checked
     * @param clockSkew    tolerance on {@code exp} and {@code nbf}
     */
    public record Token(List<String> hmacSecrets, String publicKeys, String issuer, String audience,
                        Duration maxLifetime, Duration clockSkew) {
        public boolean hasKeys() {
            return !hmacSecrets.isEmpty() || !publicKeys.isEmpty();
        }
    }

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
     * @param loginThrottle how wrong passwords slow down and lock out further attempts
     */
    public record Admin(String username, String passwordHash, Duration sessionTimeout, int port,
                        String bindAddress, List<String> peers, String clusterSecret, Duration peerTimeout,
                        LoginThrottle loginThrottle) {

        /** Credentials only, the rest at its defaults (tests and tools). */
        public Admin(String username, String passwordHash) {
            this(username, passwordHash, Duration.ofHours(8), 0, "127.0.0.1", List.of(), "", Duration.ofSeconds(2),
                    LoginThrottle.DEFAULTS);
        }

        /** The admin API exists only when both are set. */
        public boolean enabled() {
            return !username.isEmpty() && !passwordHash.isEmpty();
        }
    }

    /**
     * {@code gateway.admin.login-throttle} (docs/admin.md, "Login throttling"). Per client address:
     * {@code freeAttempts} failures, then a wait of {@code delay} doubling with each further failure up to
     * {@code maxDelay}; from {@code lockoutAfter} failures on, {@code lockout}. Per user name: the same waits
     * after {@code userFreeAttempts} failures from all addresses together, imposed only on addresses with
     * failures of their own. Failures are forgotten {@code forgetAfter} after the last one.
     *
     * @param maxTracked  addresses (and, apart, user names) remembered at most; the least recently seen go first
     * @param hashThreads threads that compute PBKDF2 for logins
     * @param hashQueue   logins waiting for one of them at most; more are refused at once (503)
     */
    public record LoginThrottle(int freeAttempts, Duration delay, Duration maxDelay, int lockoutAfter,
                                Duration lockout, Duration forgetAfter, int userFreeAttempts, int maxTracked,
                                int hashThreads, int hashQueue) {
        /** The values of reference.conf. */
        public static final LoginThrottle DEFAULTS = new LoginThrottle(5, Duration.ofSeconds(1), Duration.ofMinutes(1),
                20, Duration.ofMinutes(15), Duration.ofHours(1), 50, 10_000, 1, 8);
    }
}
