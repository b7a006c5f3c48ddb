package io.webrtcgateway.launcher;

import com.typesafe.config.ConfigFactory;
import io.webrtcgateway.auth.TokenMinter;
import io.webrtcgateway.config.ConfigException;
import io.webrtcgateway.config.ConfigLoader;
import io.webrtcgateway.config.GatewayConfig;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * {@code java -jar webrtc-gateway-standalone.jar token --dn 1001 --ttl 8h [--dial 5xxx,9999] [--anonymous]}: prints a
 * token signed with the configured HMAC secret (GATEWAY_CONFIG, as when the gateway runs). For tests and demos;
 * production tokens come from the customer's own backend.
 */
final class TokenCommand {
    private static final String USAGE = "usage: java -jar webrtc-gateway-standalone.jar token (--dn <dn> | --anonymous)"
            + " [--ttl <duration, default 8h>] [--dial <pattern,pattern...>]";

    private TokenCommand() {}

    static int run(String[] args, PrintStream out, PrintStream err) {
        String dn = null;
        boolean anonymous = false;
        String ttlText = "8h";
        List<String> dial = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            boolean hasValue = i + 1 < args.length;
            switch (a) {
                case "--dn" -> {
                    if (!hasValue) {
                        return usage(err, "--dn needs a value");
                    }
                    dn = args[++i];
                }
                case "--ttl" -> {
                    if (!hasValue) {
                        return usage(err, "--ttl needs a value");
                    }
                    ttlText = args[++i];
                }
                case "--dial" -> {
                    if (!hasValue) {
                        return usage(err, "--dial needs a value");
                    }
                    dial = Arrays.stream(args[++i].split(",")).map(String::trim).filter(p -> !p.isEmpty()).toList();
                }
                case "--anonymous" -> anonymous = true;
                default -> {
                    return usage(err, "unknown argument " + a);
                }
            }
        }
        if ((dn == null) == !anonymous) {
            return usage(err, "give exactly one of --dn and --anonymous");
        }
        if (dn != null && !GatewayConfig.DialPlan.wellFormed(dn)) {
            return usage(err, "--dn " + dn + " is not a DN");
        }
        if (dial != null && !dial.stream().allMatch(GatewayConfig.DialPlan::wellFormed)) {
            return usage(err, "--dial takes destination patterns (1-64 of A-Z a-z 0-9 . _ + * # -)");
        }
        Duration ttl;
        try {
            ttl = ConfigFactory.parseString("ttl = \"" + ttlText.replace("\"", "") + "\"").getDuration("ttl");
        } catch (com.typesafe.config.ConfigException e) {
            return usage(err, "--ttl " + ttlText + " is not a duration (8h, 30m, 3600s)");
        }
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(Duration.ofDays(30)) > 0) {
            return usage(err, "--ttl must be between 1 s and 30 days");
        }
        GatewayConfig config;
        try {
            config = ConfigLoader.load();
        } catch (ConfigException e) {
            err.println("webrtc-gateway: " + e.getMessage());
            return 2;
        }
        if (config.auth().token().hmacSecrets().isEmpty()) {
            err.println("webrtc-gateway: token needs gateway.auth.token.hmac-secrets in the config (GATEWAY_CONFIG)");
            return 2;
        }
        out.println(new TokenMinter(config.auth().token()).mint(dn, dial, ttl, Instant.now()));
        return 0;
    }

    private static int usage(PrintStream err, String problem) {
        err.println("webrtc-gateway: " + problem);
        err.println(USAGE);
        return 2;
    }
}
