package io.webrtcgateway.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException.Missing;
import com.typesafe.config.ConfigException.WrongType;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import io.webrtcgateway.admin.PasswordHash;
import java.io.File;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Loads {@link GatewayConfig}: system properties, then CONFIG_FORCE_ environment overrides, then the file
 * named by GATEWAY_CONFIG / -Dgateway.config, then reference.conf. Every problem is a
 * {@link ConfigException} naming the key.
 */
public final class ConfigLoader {

    /** System property naming the config file; not itself a config key. */
    public static final String FILE_PROPERTY = "gateway.config";
    public static final String FILE_ENV = "GATEWAY_CONFIG";

    private ConfigLoader() {}

    /** Loads from the process environment and system properties. */
    public static GatewayConfig load() {
        String file = System.getProperty(FILE_PROPERTY);
        if (file == null || file.isBlank()) {
            file = System.getenv(FILE_ENV);
        }
        Config overrides = ConfigFactory.systemProperties().withoutPath(FILE_PROPERTY)
                .withFallback(ConfigFactory.systemEnvironmentOverrides());
        return load(file == null || file.isBlank() ? null : new File(file), overrides);
    }

    /** Loads {@code file} (may be null) under {@code overrides}, over reference.conf. */
    public static GatewayConfig load(File file, Config overrides) {
        Config user = ConfigFactory.empty();
        if (file != null) {
            if (!file.isFile()) {
                throw new ConfigException("config file " + file + " (from " + FILE_ENV + " or -D" + FILE_PROPERTY
                        + ") does not exist or is not a file");
            }
            try {
                user = ConfigFactory.parseFile(file, ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (com.typesafe.config.ConfigException e) {
                throw new ConfigException("config file " + file + " is not valid HOCON: " + e.getMessage(), e);
            }
        }
        Config reference = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), "reference.conf");
        Config userSide = onlyGateway(overrides).withFallback(user);
        try {
            userSide = userSide.resolve(ConfigResolveOptions.defaults().setAllowUnresolved(false));
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException(e.getMessage(), e);
        }
        rejectUnknownKeys(userSide, reference);
        return fromConfig(userSide.withFallback(reference).resolve());
    }

    /** Parses a HOCON string (tests, tools) over reference.conf. */
    public static GatewayConfig parse(String hocon) {
        Config user = ConfigFactory.parseString(hocon);
        Config reference = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), "reference.conf");
        rejectUnknownKeys(user, reference);
        return fromConfig(user.withFallback(reference).resolve());
    }

    private static Config onlyGateway(Config overrides) {
        return overrides.hasPath("gateway") ? overrides.withOnlyPath("gateway") : ConfigFactory.empty();
    }

    /** Maps whose keys the user chooses: reference.conf has them empty, so their entries are not "unknown". */
    private static final List<String> OPEN_MAPS = List.of("gateway.calls.attached-data.headers.");
    /** In gateway.media.ice-remote-deny: the gateway's own addresses, found at start (docs/media.md). */
    public static final String OWN_ADDRESSES = "own-addresses";

    private static void rejectUnknownKeys(Config user, Config reference) {
        Set<String> known = new TreeSet<>();
        for (Map.Entry<String, ConfigValue> e : reference.entrySet()) {
            known.add(e.getKey());
        }
        for (Map.Entry<String, ConfigValue> e : user.entrySet()) {
            String key = e.getKey();
            if (!key.startsWith("gateway.") || OPEN_MAPS.stream().anyMatch(key::startsWith)) {
                continue; // other libraries' settings may share the file; open maps are checked where read
            }
            if (!known.contains(key)) {
                String closest = closest(key, known);
                throw new ConfigException("unknown config key '" + key + "'"
                        + (closest != null ? " (did you mean '" + closest + "'?)" : ""));
            }
        }
    }

    static String closest(String key, Set<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int d = levenshtein(key, candidate);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return bestDistance <= Math.max(3, key.length() / 3) ? best : null;
    }

    private static int levenshtein(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    private static GatewayConfig fromConfig(Config c) {
        String instanceId = get("gateway.instance-id", () -> c.getString("gateway.instance-id")).trim();
        if (instanceId.isEmpty()) {
            instanceId = defaultInstanceId();
        }
        if (!instanceId.matches("[A-Za-z0-9_-]{1,64}")) {
            throw invalid("gateway.instance-id", "\"" + instanceId + "\": use 1-64 letters, digits, '-' or '_'");
        }

        int httpPort = port(c, "gateway.http.port", true);
        var http = new GatewayConfig.Http(
                nonEmpty(c, "gateway.http.host"),
                httpPort,
                cidrs(c, "gateway.http.trusted-proxies"),
                hostNames(c, "gateway.http.allowed-hosts"),
                duration(c, "gateway.http.idle-timeout", Duration.ofSeconds(1), Duration.ofHours(1)),
                tls(c, httpPort));

        List<SipServerAddress> servers = new ArrayList<>();
        List<String> serverTexts = get("gateway.sip.servers", () -> c.getStringList("gateway.sip.servers"));
        if (serverTexts.isEmpty()) {
            throw invalid("gateway.sip.servers", "at least one SIP Server (or \"sandbox\") is required");
        }
        for (String s : serverTexts) {
            servers.add(parse("gateway.sip.servers", s, SipServerAddress::parse));
        }
        String publicAddress = get("gateway.sip.public-address", () -> c.getString("gateway.sip.public-address")).trim();
        if (!publicAddress.isEmpty()) {
            parse("gateway.sip.public-address", publicAddress, t -> HostPort.parse(t, 0));
        }
        String domain = get("gateway.sip.domain", () -> c.getString("gateway.sip.domain")).trim();
        if (!domain.isEmpty() && !domain.matches("[A-Za-z0-9.\\-]+")) {
            throw invalid("gateway.sip.domain", "\"" + domain + "\" is not a host name");
        }
        var sip = new GatewayConfig.Sip(
                parse("gateway.sip.listen", c.getString("gateway.sip.listen"), t -> HostPort.parse(t, 5070)),
                publicAddress,
                List.copyOf(servers),
                domain,
                duration(c, "gateway.sip.register-expires", Duration.ofSeconds(10), Duration.ofDays(1)),
                duration(c, "gateway.sip.keepalive-interval", Duration.ofMillis(200), Duration.ofHours(1)),
                intIn(c, "gateway.sip.keepalive-failures", 1, 100),
                duration(c, "gateway.sip.request-timeout", Duration.ofMillis(200), Duration.ofSeconds(32)),
                nonEmpty(c, "gateway.sip.user-agent"),
                parse("gateway.sip.sandbox.listen", c.getString("gateway.sip.sandbox.listen"),
                        t -> HostPort.parse(t, 5080)),
                get("gateway.sip.contact-sip-instance", () -> c.getBoolean("gateway.sip.contact-sip-instance")),
                cidrs(c, "gateway.sip.trusted-sources"),
                untrusted(c),
                sipTcp(c),
                intIn(c, "gateway.sip.max-requests-per-second", 0, 1_000_000),
                new GatewayConfig.Sip.Headers(intIn(c, "gateway.sip.max-headers", 32, 10_000),
                        intIn(c, "gateway.sip.max-header-bytes", 256, 65_536)),
                sipTls(c, servers, listenPort(c)),
                sipSrtp(c, servers));

        var session = new GatewayConfig.Session(
                duration(c, "gateway.session.idle-timeout", Duration.ofSeconds(2), Duration.ofDays(1)),
                duration(c, "gateway.session.keepalive-interval", Duration.ofMillis(500), Duration.ofHours(1)));
        if (session.keepaliveInterval().compareTo(session.idleTimeout()) >= 0) {
            throw invalid("gateway.session.keepalive-interval",
                    "must be shorter than gateway.session.idle-timeout (" + session.idleTimeout() + ")");
        }
        var legacy = new GatewayConfig.Legacy(
                duration(c, "gateway.legacy.poll-timeout", Duration.ofMillis(100), Duration.ofMinutes(5)),
                intIn(c, "gateway.legacy.max-queued-messages", 1, 100_000));
        if (legacy.pollTimeout().compareTo(session.idleTimeout()) >= 0) {
            throw invalid("gateway.legacy.poll-timeout",
                    "must be shorter than gateway.session.idle-timeout (" + session.idleTimeout() + ")");
        }
        // A held long poll is a connection with nothing on it: the idle timeout must not end it first.
        if (legacy.pollTimeout().compareTo(http.idleTimeout()) >= 0) {
            throw invalid("gateway.legacy.poll-timeout",
                    "must be shorter than gateway.http.idle-timeout (" + http.idleTimeout() + ")");
        }

        String range = get("gateway.media.rtp-port-range", () -> c.getString("gateway.media.rtp-port-range"));
        int[] ports = parse("gateway.media.rtp-port-range", range, ConfigLoader::portRange);
        List<HostPort> stun = new ArrayList<>();
        for (String s : get("gateway.media.stun-servers", () -> c.getStringList("gateway.media.stun-servers"))) {
            stun.add(parse("gateway.media.stun-servers", s, t -> HostPort.parse(t, 3478)));
        }
        List<String> iceAddresses = get("gateway.media.ice-addresses", () -> c.getStringList("gateway.media.ice-addresses"));
        for (String a : iceAddresses) {
            if (!a.matches("[0-9A-Fa-f.:]+")) {
                throw invalid("gateway.media.ice-addresses", "\"" + a + "\" is not an IP address literal");
            }
        }
        String policyText = get("gateway.media.sip-source-policy",
                () -> c.getString("gateway.media.sip-source-policy")).trim();
        GatewayConfig.SipSource sipSource = Arrays.stream(GatewayConfig.SipSource.values())
                .filter(p -> p.configName().equals(policyText)).findFirst()
                .orElseThrow(() -> invalid("gateway.media.sip-source-policy", "\"" + policyText
                        + "\": use learning, latching, latching-strict, sdp or sdp-strict"));
        int receiveThreads = intIn(c, "gateway.media.receive-threads", 0, 64);
        var media = new GatewayConfig.Media(ports[0], ports[1],
                get("gateway.media.public-address", () -> c.getString("gateway.media.public-address")).trim(),
                List.copyOf(stun), List.copyOf(iceAddresses), sipSource,
                intIn(c, "gateway.media.latch-packets", 1, 10_000),
                duration(c, "gateway.media.latch-window", Duration.ofMillis(20), Duration.ofSeconds(60)),
                receiveThreads == 0 ? Math.max(1, Runtime.getRuntime().availableProcessors()) : receiveThreads,
                intIn(c, "gateway.media.learn-packets", 2, 1000),
                duration(c, "gateway.media.learn-silence", Duration.ZERO, Duration.ofSeconds(60)),
                cidrs(c, "gateway.media.ice-remote-deny", OWN_ADDRESSES),
                get("gateway.media.ice-remote-deny", () -> c.getStringList("gateway.media.ice-remote-deny"))
                        .stream().anyMatch(e -> e.trim().equals(OWN_ADDRESSES)),
                dtls(c));

        int cores = Runtime.getRuntime().availableProcessors();
        int maxSessions = intIn(c, "gateway.limits.max-sessions", 0, 10_000_000);
        int maxCalls = intIn(c, "gateway.limits.max-calls", 0, 1_000_000);
        var limits = new GatewayConfig.Limits(
                maxSessions == 0 ? 5_000 * cores : maxSessions,
                maxCalls == 0 ? 250 * cores : maxCalls,
                intIn(c, "gateway.limits.max-message-bytes", 1024, 16 * 1024 * 1024),
                intIn(c, "gateway.limits.max-incoming-calls-per-second", 0, 100_000),
                intIn(c, "gateway.limits.ws-send-queue-messages", 16, 1_000_000),
                bytesIn(c, "gateway.limits.ws-send-queue-bytes", 16 * 1024, 256 * 1024 * 1024),
                duration(c, "gateway.limits.write-timeout", Duration.ofMillis(500), Duration.ofMinutes(10)),
                inputs(c), clients(c));

        List<String> origins = get("gateway.cors.allowed-origins", () -> c.getStringList("gateway.cors.allowed-origins"));
        for (String o : origins) {
            if (!o.equals("*") && !o.matches("https?://[A-Za-z0-9.\\-\\[\\]:]+")) {
                throw invalid("gateway.cors.allowed-origins",
                        "\"" + o + "\" is not an origin (scheme://host[:port], no path) or \"*\"");
            }
        }
        var cors = new GatewayConfig.Cors(List.copyOf(origins));

        String cookie = nonEmpty(c, "gateway.cluster.affinity-cookie");
        if (!cookie.matches("[A-Za-z0-9_\\-]+")) {
            throw invalid("gateway.cluster.affinity-cookie", "\"" + cookie + "\" is not a valid cookie name");
        }
        var cluster = new GatewayConfig.Cluster(cookie,
                duration(c, "gateway.cluster.shutdown-timeout", Duration.ZERO, Duration.ofMinutes(10)));

        String adminUser = get("gateway.admin.username", () -> c.getString("gateway.admin.username")).trim();
        String adminHash = get("gateway.admin.password-hash", () -> c.getString("gateway.admin.password-hash")).trim();
        if (adminUser.isEmpty() != adminHash.isEmpty()) {
            throw invalid(adminUser.isEmpty() ? "gateway.admin.username" : "gateway.admin.password-hash",
                    "set both gateway.admin.username and gateway.admin.password-hash, or neither (admin API off)");
        }
        if (!adminUser.isEmpty() && (adminUser.contains(":") || adminUser.length() > 128)) {
            throw invalid("gateway.admin.username", "must not contain ':' (HTTP Basic) and at most 128 characters");
        }
        if (!adminHash.isEmpty()) {
            parse("gateway.admin.password-hash", adminHash, PasswordHash::parse);
        }
        int adminPort = port(c, "gateway.admin.port", true);
        String adminBind = get("gateway.admin.bind-address", () -> c.getString("gateway.admin.bind-address")).trim();
        if (!adminBind.matches("[0-9A-Fa-f.:]+")) {
            throw invalid("gateway.admin.bind-address", "\"" + adminBind + "\" is not an IP address literal");
        }
        if (adminPort != 0 && adminPort == http.port()) {
            throw invalid("gateway.admin.port", adminPort + " is also gateway.http.port; use another port or 0");
        }
        if (adminPort != 0 && adminPort == http.tls().port()) {
            throw invalid("gateway.admin.port", adminPort + " is also gateway.http.tls.port; use another port or 0");
        }
        List<String> peers = new ArrayList<>();
        for (String p : get("gateway.admin.peers", () -> c.getStringList("gateway.admin.peers"))) {
            String url = p.trim().replaceAll("/+$", "");
            if (!url.matches("https?://[A-Za-z0-9.\\-\\[\\]:]+")) {
                throw invalid("gateway.admin.peers", "\"" + p + "\" is not an http:// or https:// base URL"
                        + " (scheme://host[:port], no path)");
            }
            peers.add(url);
        }
        String clusterSecret = get("gateway.admin.cluster-secret", () -> c.getString("gateway.admin.cluster-secret"));
        if (!peers.isEmpty() && clusterSecret.length() < 16) {
            throw invalid("gateway.admin.cluster-secret", "must be at least 16 characters when gateway.admin.peers "
                    + "is set (the same secret on every instance)");
        }
        if (!clusterSecret.isEmpty() && clusterSecret.length() < 16) {
            throw invalid("gateway.admin.cluster-secret", "must be at least 16 characters (or empty)");
        }
        if (!peers.isEmpty() && adminUser.isEmpty()) {
            throw invalid("gateway.admin.peers", "needs the admin API on (gateway.admin.username and password-hash)");
        }
        var admin = new GatewayConfig.Admin(adminUser, adminHash,
                duration(c, "gateway.admin.session-timeout", Duration.ofMinutes(1), Duration.ofDays(7)),
                adminPort, adminBind, List.copyOf(peers), clusterSecret,
                duration(c, "gateway.admin.peer-timeout", Duration.ofMillis(100), Duration.ofSeconds(10)),
                loginThrottle(c));

        String prefix = get("gateway.calls.attached-data.header-prefix",
                () -> c.getString("gateway.calls.attached-data.header-prefix")).trim();
        if (!prefix.matches("[A-Za-z0-9\\-]{0,40}")) {
            throw invalid("gateway.calls.attached-data.header-prefix", "\"" + prefix + "\" is not a header name prefix");
        }
        java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
        com.typesafe.config.Config mapping = get("gateway.calls.attached-data.headers",
                () -> c.getConfig("gateway.calls.attached-data.headers"));
        for (Map.Entry<String, ConfigValue> e : mapping.root().entrySet()) {
            String header = String.valueOf(e.getValue().unwrapped());
            if (!header.matches("[A-Za-z0-9\\-]{1,64}")) {
                throw invalid("gateway.calls.attached-data.headers." + e.getKey(), "\"" + header + "\" is not a header name");
            }
            headers.put(e.getKey(), header);
        }
        var calls = new GatewayConfig.Calls(
                duration(c, "gateway.calls.no-answer-timeout", Duration.ofSeconds(1), Duration.ofMinutes(30)),
                prefix, java.util.Map.copyOf(headers),
                get("gateway.calls.dtmf-via-info", () -> c.getBoolean("gateway.calls.dtmf-via-info")),
                sessionTimers(c),
                duration(c, "gateway.calls.media-setup-timeout", Duration.ofSeconds(1), Duration.ofMinutes(10)),
                mediaTimeout(c),
                dialPlan(c));
        if (sip.tcp().idleTimeout().compareTo(calls.noAnswerTimeout()) <= 0) {
            // While the browser rings nothing crosses the connection an INVITE came on, and its final answer
            // must go back on it (RFC 3261 §18.2.2).
            throw invalid("gateway.sip.tcp.idle-timeout", sip.tcp().idleTimeout()
                    + " must be longer than gateway.calls.no-answer-timeout (" + calls.noAnswerTimeout() + ")");
        }
        var health = new GatewayConfig.Health(
                duration(c, "gateway.health.stuck-after", Duration.ofMillis(500), Duration.ofHours(1)));
        return new GatewayConfig(instanceId, http, sip, session, legacy, media, limits, cors, cluster, calls, admin,
                auth(c, sip), health);
    }

    private static GatewayConfig.DialPlan dialPlan(Config c) {
        return new GatewayConfig.DialPlan(patterns(c, "gateway.calls.dial-plan.allow"),
                patterns(c, "gateway.calls.dial-plan.deny"), patterns(c, "gateway.calls.anonymous-dial-plan"));
    }

    /** Destination patterns: what a call's 'to' may hold, {@code x} for a digit, a trailing {@code *}. */
    private static List<String> patterns(Config c, String key) {
        List<String> out = get(key, () -> c.getStringList(key));
        for (String p : out) {
            if (!GatewayConfig.DialPlan.wellFormed(p)) {
                throw invalid(key, "\"" + p + "\" is not a destination pattern (1-64 of A-Z a-z 0-9 . _ + * # -;"
                        + " x is one digit, a trailing * anything)");
            }
        }
        return List.copyOf(out);
    }

    /**
     * {@code gateway.auth}: tokens unless the config says otherwise or names only the sandbox; a real SIP Server
     * without a key to verify tokens with refuses to start rather than let anybody register any DN.
     */
    private static GatewayConfig.Auth auth(Config c, GatewayConfig.Sip sip) {
        String modeText = get("gateway.auth.mode", () -> c.getString("gateway.auth.mode")).trim();
        boolean realServer = sip.servers().stream().anyMatch(s -> !s.sandbox());
        GatewayConfig.AuthMode mode = switch (modeText) {
            case "" -> realServer ? GatewayConfig.AuthMode.TOKEN : GatewayConfig.AuthMode.NONE;
            case "none" -> GatewayConfig.AuthMode.NONE;
            case "token" -> GatewayConfig.AuthMode.TOKEN;
            default -> throw invalid("gateway.auth.mode", "\"" + modeText + "\": use none or token");
        };
        String takeover = get("gateway.auth.dn-takeover", () -> c.getString("gateway.auth.dn-takeover")).trim();
        if (!takeover.equals("deny") && !takeover.equals("allow")) {
            throw invalid("gateway.auth.dn-takeover", "\"" + takeover + "\": use deny or allow");
        }
        List<String> secrets = get("gateway.auth.token.hmac-secrets", () -> c.getStringList("gateway.auth.token.hmac-secrets"));
        for (String secret : secrets) {
            // RFC 7518 §3.2: a key of the same size as the hash output or larger; HS256 needs 256 bits.
            if (secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
                throw invalid("gateway.auth.token.hmac-secrets", "each secret must be at least 32 bytes (RFC 7518 §3.2);"
                        + " make one with: openssl rand -base64 48");
            }
        }
        String keys = get("gateway.auth.token.public-keys", () -> c.getString("gateway.auth.token.public-keys")).trim();
        if (!keys.isEmpty() && !new File(keys).isFile()) {
            throw invalid("gateway.auth.token.public-keys", keys + " does not exist or is not a file (a JWKS, RFC 7517 §5)");
        }
        var token = new GatewayConfig.Token(List.copyOf(secrets), keys,
                get("gateway.auth.token.issuer", () -> c.getString("gateway.auth.token.issuer")).trim(),
                get("gateway.auth.token.audience", () -> c.getString("gateway.auth.token.audience")).trim(),
                zeroOrIn(c, "gateway.auth.token.max-lifetime", Duration.ofMinutes(1), Duration.ofDays(30)),
                duration(c, "gateway.auth.token.clock-skew", Duration.ZERO, Duration.ofMinutes(10)));
        if (mode == GatewayConfig.AuthMode.TOKEN && !token.hasKeys()) {
            throw invalid("gateway.auth", (modeText.isEmpty()
                    ? "gateway.sip.servers names a real SIP Server, so browsers must present tokens (gateway.auth.mode"
                            + " = token by default), but "
                    : "gateway.auth.mode = token, but ")
                    + "no key verifies them: set gateway.auth.token.hmac-secrets or gateway.auth.token.public-keys,"
                    + " or write gateway.auth.mode = none to let any browser register any DN (docs/configuration.md)");
        }
        return new GatewayConfig.Auth(mode, takeover.equals("allow"), token);
    }

    private static Duration zeroOrIn(Config c, String key, Duration min, Duration max) {
        Duration d = get(key, () -> c.getDuration(key));
        if (!d.isZero() && (d.compareTo(min) < 0 || d.compareTo(max) > 0)) {
            throw invalid(key, d + " must be 0 (not checked) or in [" + min + ", " + max + "]");
        }
        return d;
    }

    /** RFC 4028 §4: Min-SE and Session-Expires are at least 90 s; the floor goes lower for tests only. */
    private static GatewayConfig.SessionTimers sessionTimers(Config c) {
        Duration floor = duration(c, "gateway.calls.session-timer-floor", Duration.ofSeconds(2), Duration.ofSeconds(90));
        Duration minSe = duration(c, "gateway.calls.min-se", floor, Duration.ofHours(24));
        Duration expires = get("gateway.calls.session-expires", () -> c.getDuration("gateway.calls.session-expires"));
        if (!expires.isZero() && (expires.compareTo(minSe) < 0 || expires.compareTo(Duration.ofHours(24)) > 0)) {
            throw invalid("gateway.calls.session-expires", expires + " must be 0 (off) or between gateway.calls.min-se ("
                    + minSe + ") and 24 h (RFC 4028 §4)");
        }
        if (minSe.toMillis() % 1000 != 0 || expires.toMillis() % 1000 != 0) {
            throw invalid(minSe.toMillis() % 1000 != 0 ? "gateway.calls.min-se" : "gateway.calls.session-expires",
                    "must be whole seconds (SIP carries seconds)");
        }
        return new GatewayConfig.SessionTimers(expires, minSe, floor);
    }

    /** gateway.limits: what one message may carry. */
    private static GatewayConfig.Inputs inputs(Config c) {
        String p = "gateway.limits.";
        return new GatewayConfig.Inputs(intIn(c, p + "max-media-sections", 1, 64),
                intIn(c, p + "max-sdp-bytes", 1024, 1024 * 1024), intIn(c, p + "max-candidates-per-call", 1, 1000),
                intIn(c, p + "max-attached-data-keys", 1, 1000), intIn(c, p + "max-attached-data-bytes", 64, 1024 * 1024),
                intIn(c, p + "max-info-bytes", 64, 1024 * 1024), intIn(c, p + "max-queued-requests-per-call", 1, 10_000));
    }

    /** gateway.limits: what one client may do; 0 turns a limit off. */
    private static GatewayConfig.Clients clients(Config c) {
        String p = "gateway.limits.";
        return new GatewayConfig.Clients(intIn(c, p + "max-sessions-per-address", 0, 10_000_000),
                intIn(c, p + "sign-ins-per-address-per-second", 0, 100_000),
                intIn(c, p + "sign-in-burst-per-address", 1, 10_000_000),
                intIn(c, p + "requests-per-session-per-second", 0, 100_000),
                intIn(c, p + "request-burst-per-session", 1, 10_000_000),
                intIn(c, p + "max-calls-per-session", 0, 10_000),
                intIn(c, p + "registrations-per-dn-per-minute", 0, 1_000_000),
                intIn(c, p + "max-tracked-clients", 100, 10_000_000));
    }

    private static GatewayConfig.LoginThrottle loginThrottle(Config c) {
        String p = "gateway.admin.login-throttle.";
        int free = intIn(c, p + "free-attempts", 0, 1000);
        Duration delay = duration(c, p + "delay", Duration.ofMillis(10), Duration.ofMinutes(10));
        Duration maxDelay = duration(c, p + "max-delay", delay, Duration.ofHours(24));
        int lockoutAfter = intIn(c, p + "lockout-after", free + 1, 100_000);
        Duration lockout = duration(c, p + "lockout", Duration.ofSeconds(1), Duration.ofDays(7));
        // A record must outlive its wait, or forgetting it would end a lock-out early.
        Duration forget = duration(c, p + "forget-after", lockout.compareTo(maxDelay) > 0 ? lockout : maxDelay,
                Duration.ofDays(30));
        return new GatewayConfig.LoginThrottle(free, delay, maxDelay, lockoutAfter, lockout, forget,
                intIn(c, p + "user-free-attempts", 0, 1_000_000), intIn(c, p + "max-tracked", 100, 1_000_000),
                intIn(c, p + "hash-threads", 1, 64), intIn(c, p + "hash-queue", 1, 1000));
    }

    /** A list of IP addresses or CIDR blocks, each checked with the key named. */
    static List<Cidr> cidrs(Config c, String key) {
        return cidrs(c, key, null);
    }

    /** The same, where the entry {@code word} (if not null) may also appear; it is left out of the result. */
    static List<Cidr> cidrs(Config c, String key, String word) {
        List<Cidr> out = new ArrayList<>();
        for (String s : get(key, () -> c.getStringList(key))) {
            if (word == null || !s.trim().equals(word)) {
                out.add(parse(key, s, Cidr::parse));
            }
        }
        return List.copyOf(out);
    }

    /**
     * gateway.sip.srtp and gateway.sip.srtp-over-insecure-transport. SDES keys travel in the SDP in clear
     * text unless SIP runs over TLS (RFC 4568 §8.3): with SRTP on, at least one SIP Server must be reached over
     * TLS, or the operator must say that keys may cross UDP/TCP. Calls over a non-TLS transport are then
     * decided per call (docs/sip.md "SRTP toward SIP Server").
     */
    static GatewayConfig.Sip.Srtp sipSrtp(Config c, List<SipServerAddress> servers) {
        String key = "gateway.sip.srtp";
        String text = get(key, () -> c.getString(key)).trim();
        GatewayConfig.Sip.SrtpMode mode = Arrays.stream(GatewayConfig.Sip.SrtpMode.values())
                .filter(m -> m.configName().equals(text)).findFirst()
                .orElseThrow(() -> invalid(key, "\"" + text + "\": use off, optional or required"));
        String insecureKey = "gateway.sip.srtp-over-insecure-transport";
        boolean insecure = get(insecureKey, () -> c.getBoolean(insecureKey));
        if (mode != GatewayConfig.Sip.SrtpMode.OFF && !insecure
                && servers.stream().noneMatch(s -> s.transport().equals("tls"))) {
            throw invalid(key, mode.configName() + " puts SRTP keys (a=crypto) in the SDP, which only SIP over TLS "
                    + "keeps secret, and no server of gateway.sip.servers " + servers + " uses ;transport=tls: "
                    + "use TLS toward SIP Server, or set " + insecureKey + " = true to send the keys over UDP/TCP");
        }
        return new GatewayConfig.Sip.Srtp(mode, insecure);
    }

    /** gateway.sip.untrusted: reject or drop. */
    private static GatewayConfig.Sip.Untrusted untrusted(Config c) {
        String key = "gateway.sip.untrusted";
        String text = get(key, () -> c.getString(key)).trim();
        return switch (text) {
            case "reject" -> GatewayConfig.Sip.Untrusted.REJECT;
            case "drop" -> GatewayConfig.Sip.Untrusted.DROP;
            default -> throw invalid(key, "\"" + text + "\": use reject or drop");
        };
    }

    /**
     * Host names as a Host header carries them (RFC 9110 §7.2), without port: lower case, a trailing dot
     * dropped (the same DNS name), "*." allowed in front for every subdomain.
     */
    static List<String> hostNames(Config c, String key) {
        List<String> out = new ArrayList<>();
        for (String s : get(key, () -> c.getStringList(key))) {
            String name = s.trim().toLowerCase(java.util.Locale.ROOT);
            if (name.endsWith(".")) {
                name = name.substring(0, name.length() - 1);
            }
            if (!name.matches("(\\*\\.)?[a-z0-9_-]+(\\.[a-z0-9_-]+)*")) {
                throw invalid(key, "\"" + s + "\" is not a host name (no scheme, port or path; \"*.example.com\""
                        + " for every subdomain)");
            }
            out.add(name);
        }
        return List.copyOf(out);
    }

    /**
     * {@code gateway.http.tls}: HTTPS of the standalone launcher. The certificate's files are read and checked
     * here ({@link TlsIdentity}), so a wrong file stops the gateway at start with its key named, not at the
     * first browser's handshake.
     */
    private static GatewayConfig.Http.Tls tls(Config c, int httpPort) {
        String p = "gateway.http.tls.";
        int port = port(c, p + "port", true);
        String chain = get(p + "certificate-chain", () -> c.getString(p + "certificate-chain")).trim();
        String key = get(p + "private-key", () -> c.getString(p + "private-key")).trim();
        String keystore = get(p + "keystore", () -> c.getString(p + "keystore")).trim();
        String password = get(p + "keystore-password", () -> c.getString(p + "keystore-password"));
        boolean redirect = get(p + "redirect-http", () -> c.getBoolean(p + "redirect-http"));
        Duration hsts = duration(c, p + "hsts-max-age", Duration.ZERO, Duration.ofDays(2 * 365));
        if (port == 0) {
            if (httpPort == 0) {
                throw invalid("gateway.http.port", "0 (no plain-HTTP listener) needs HTTPS: set gateway.http.tls.port");
            }
            String set = !chain.isEmpty() ? "certificate-chain" : !key.isEmpty() ? "private-key"
                    : !keystore.isEmpty() ? "keystore"
                    : !password.isEmpty() ? "keystore-password" : redirect ? "redirect-http" : !hsts.isZero() ? "hsts-max-age" : null;
            if (set != null) {
                throw invalid(p + "port", "gateway.http.tls." + set + " is set but HTTPS is off: set the HTTPS port"
                        + " (gateway.http.tls.port), or remove gateway.http.tls." + set);
            }
            return GatewayConfig.Http.Tls.OFF;
        }
        if (port == httpPort) {
            throw invalid(p + "port", port + " is also gateway.http.port; use another port");
        }
        boolean pem = !chain.isEmpty() || !key.isEmpty();
        if (pem && !keystore.isEmpty()) {
            throw invalid(p + "keystore", "set either gateway.http.tls.certificate-chain + private-key (PEM files) or"
                    + " gateway.http.tls.keystore + keystore-password (PKCS12), not both");
        }
        if (!pem && keystore.isEmpty()) {
            throw invalid(p + "port", "HTTPS needs a certificate: set gateway.http.tls.certificate-chain +"
                    + " private-key (PEM files) or gateway.http.tls.keystore + keystore-password (PKCS12)");
        }
        if (pem && (chain.isEmpty() || key.isEmpty())) {
            throw invalid(chain.isEmpty() ? p + "certificate-chain" : p + "private-key",
                    "missing: the PEM files come in pairs, gateway.http.tls.certificate-chain and private-key");
        }
        if (pem && !password.isEmpty()) {
            throw invalid(p + "keystore-password", "set with PEM files: it is the password of a PKCS12 keystore"
                    + " (gateway.http.tls.keystore); PEM keys are read unencrypted");
        }
        if (redirect && httpPort == 0) {
            throw invalid(p + "redirect-http", "there is no plain-HTTP listener to redirect (gateway.http.port = 0)");
        }
        var tls = new GatewayConfig.Http.Tls(port, chain, key, keystore, password, redirect, hsts);
        TlsIdentity.load(tls);
        return tls;
    }

    /**
     * {@code gateway.media.dtls}: the DTLS certificate toward browsers, from PEM files (read and checked here, so
     * a wrong file stops the gateway with its key named), or generated at start when both keys are empty. Its
     * dates are not checked: browsers pin its fingerprint and ignore them (media.dtls.DtlsCertificateFiles warns).
     */
    private static GatewayConfig.Media.Dtls dtls(Config c) {
        String p = "gateway.media.dtls.";
        String chain = get(p + "certificate-chain", () -> c.getString(p + "certificate-chain")).trim();
        String key = get(p + "private-key", () -> c.getString(p + "private-key")).trim();
        if (chain.isEmpty() && key.isEmpty()) {
            return GatewayConfig.Media.Dtls.GENERATED;
        }
        if (chain.isEmpty() || key.isEmpty()) {
            throw invalid(chain.isEmpty() ? p + "certificate-chain" : p + "private-key",
                    "missing: the PEM files come in pairs, gateway.media.dtls.certificate-chain and private-key (the"
                            + " same file may be named twice); both empty, a certificate is generated at start");
        }
        var dtls = new GatewayConfig.Media.Dtls(chain, key);
        TlsIdentity.load(dtls.identity());
        return dtls;
    }

    private static int listenPort(Config c) {
        return parse("gateway.sip.listen", c.getString("gateway.sip.listen"), t -> HostPort.parse(t, 5070)).port();
    }

    /**
     * {@code gateway.sip.tls}: the identity of SIP over TLS (read and checked here, so a wrong file stops the
     * gateway with its key named) and whom it trusts. A SIP Server with {@code ;transport=tls} needs an identity:
     * SIP Server sends the calls for a DN registered over TLS to the gateway's TLS listening point.
     */
    private static GatewayConfig.Sip.Tls sipTls(Config c, List<SipServerAddress> servers, int listenPort) {
        String p = "gateway.sip.tls.";
        String chain = get(p + "certificate-chain", () -> c.getString(p + "certificate-chain")).trim();
        String key = get(p + "private-key", () -> c.getString(p + "private-key")).trim();
        String keystore = get(p + "keystore", () -> c.getString(p + "keystore")).trim();
        String password = get(p + "keystore-password", () -> c.getString(p + "keystore-password"));
        String trusted = get(p + "trusted-certificates", () -> c.getString(p + "trusted-certificates")).trim();
        boolean verifyHostName = get(p + "verify-host-name", () -> c.getBoolean(p + "verify-host-name"));
        Duration handshake = duration(c, p + "handshake-timeout", Duration.ofMillis(200), Duration.ofMinutes(1));
        int port = port(c, p + "port", false);
        boolean pem = !chain.isEmpty() || !key.isEmpty();
        String tlsServer = servers.stream().filter(s -> "tls".equals(s.transport())).map(SipServerAddress::toString)
                .findFirst().orElse(null);
        if (!pem && keystore.isEmpty()) {
            if (tlsServer != null) {
                throw invalid(p + "certificate-chain", "gateway.sip.servers has a SIP Server over TLS (" + tlsServer
                        + "), which needs the gateway's own certificate for its TLS listening point: set"
                        + " gateway.sip.tls.certificate-chain + private-key (PEM files) or gateway.sip.tls.keystore +"
                        + " keystore-password (PKCS12)");
            }
            if (!password.isEmpty()) {
                throw invalid(p + "keystore-password", "set without gateway.sip.tls.keystore");
            }
            return new GatewayConfig.Sip.Tls(0, "", "", "", "", trusted, verifyHostName, handshake);
        }
        if (pem && !keystore.isEmpty()) {
            throw invalid(p + "keystore", "set either gateway.sip.tls.certificate-chain + private-key (PEM files) or"
                    + " gateway.sip.tls.keystore + keystore-password (PKCS12), not both");
        }
        if (pem && (chain.isEmpty() || key.isEmpty())) {
            throw invalid(chain.isEmpty() ? p + "certificate-chain" : p + "private-key",
                    "missing: the PEM files come in pairs, gateway.sip.tls.certificate-chain and private-key");
        }
        if (pem && !password.isEmpty()) {
            throw invalid(p + "keystore-password", "set with PEM files: it is the password of a PKCS12 keystore"
                    + " (gateway.sip.tls.keystore); PEM keys are read unencrypted");
        }
        if (port == listenPort) {
            throw invalid(p + "port", port + " is also the port of gateway.sip.listen (UDP and TCP); TLS needs a"
                    + " port of its own (5061 is SIP over TLS's usual one)");
        }
        var tls = new GatewayConfig.Sip.Tls(port, chain, key, keystore, password, trusted, verifyHostName, handshake);
        TlsIdentity.load(tls.identity());
        if (!trusted.isEmpty()) {
            TlsIdentity.readCertificates(Path.of(trusted), p + "trusted-certificates");
        }
        return tls;
    }

    /** gateway.sip.tcp: connection caps and timeouts of inbound SIP over TCP. */
    private static GatewayConfig.Sip.Tcp sipTcp(Config c) {
        String p = "gateway.sip.tcp.";
        int max = intIn(c, p + "max-connections", 1, 1_000_000);
        Duration read = duration(c, p + "read-timeout", Duration.ofMillis(200), Duration.ofMinutes(10));
        return new GatewayConfig.Sip.Tcp(max, intIn(c, p + "max-connections-per-source", 1, 1_000_000),
                duration(c, p + "idle-timeout", read, Duration.ofDays(1)), read);
    }

    private static String defaultInstanceId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = System.getenv().getOrDefault("HOSTNAME", "gateway");
        }
        String id = host.replaceAll("\\..*$", "").replaceAll("[^A-Za-z0-9_-]", "-");
        return id.isEmpty() ? "gateway" : id.substring(0, Math.min(64, id.length()));
    }

    private static int[] portRange(String text) {
        String[] parts = text.trim().split("-");
        if (parts.length != 2) {
            throw new IllegalArgumentException("\"" + text + "\" is not \"low-high\"");
        }
        int low;
        int high;
        try {
            low = Integer.parseInt(parts[0].trim());
            high = Integer.parseInt(parts[1].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not \"low-high\"");
        }
        if (low < 1024 || high > 65535 || low > high) {
            throw new IllegalArgumentException("\"" + text + "\" must satisfy 1024 <= low <= high <= 65535");
        }
        return new int[] {low, high};
    }

    private interface Parser<T> {
        T parse(String text);
    }

    private static <T> T parse(String key, String text, Parser<T> parser) {
        try {
            return parser.parse(text);
        } catch (IllegalArgumentException e) {
            throw invalid(key, e.getMessage());
        }
    }

    private static <T> T get(String key, Supplier<T> getter) {
        try {
            return getter.get();
        } catch (WrongType e) {
            throw invalid(key, "wrong type: " + e.getMessage());
        } catch (Missing e) {
            throw invalid(key, "missing");
        } catch (com.typesafe.config.ConfigException e) {
            throw invalid(key, e.getMessage());
        }
    }

    private static String nonEmpty(Config c, String key) {
        String v = get(key, () -> c.getString(key)).trim();
        if (v.isEmpty()) {
            throw invalid(key, "must not be empty");
        }
        return v;
    }

    private static int port(Config c, String key, boolean allowZero) {
        int p = get(key, () -> c.getInt(key));
        if (p < (allowZero ? 0 : 1) || p > 65535) {
            throw invalid(key, p + " is not a port number (1-65535)");
        }
        return p;
    }

    private static int intIn(Config c, String key, int min, int max) {
        int v = get(key, () -> c.getInt(key));
        if (v < min || v > max) {
            throw invalid(key, v + " is out of range [" + min + ", " + max + "]");
        }
        return v;
    }

    /** A size: a number of bytes or HOCON's "256 KiB" form. */
    private static int bytesIn(Config c, String key, int min, int max) {
        long v = get(key, () -> c.getBytes(key));
        if (v < min || v > max) {
            throw invalid(key, v + " bytes is out of range [" + min + ", " + max + "]");
        }
        return (int) v;
    }

    private static Duration duration(Config c, String key, Duration min, Duration max) {
        Duration d = get(key, () -> c.getDuration(key));
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw invalid(key, d + " is out of range [" + min + ", " + max + "]");
        }
        return d;
    }

    /** 0 turns the silence check off; otherwise at least 1 s (the check runs about once a second). */
    private static Duration mediaTimeout(Config c) {
        String key = "gateway.calls.media-timeout";
        Duration d = get(key, () -> c.getDuration(key));
        if (!d.isZero() && (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofHours(24)) > 0)) {
            throw invalid(key, d + " must be 0 (off) or in [PT1S, PT24H]");
        }
        return d;
    }

    private static ConfigException invalid(String key, String problem) {
        return new ConfigException("invalid config key '" + key + "': " + problem);
    }
}
