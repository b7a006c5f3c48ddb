package io.webrtcgateway.auth;

import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.text.ParseException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JWKS file of {@code gateway.auth.token.public-keys}, re-read when its modification time or size changes
 * (checked at most once a second, on the verifying thread: a stat, no I/O beyond it unless it changed). A file
 * that became unreadable or invalid keeps the last good keys, with a warning, so a half-written update cannot
 * lock every browser out.
 */
final class PublicKeys {
    private static final Logger LOG = LoggerFactory.getLogger(PublicKeys.class);
    private static final long CHECK_INTERVAL_NANOS = 1_000_000_000L;

    private final Path file;
    private final LongSupplier nanoClock;
    /** Guarded by this. */
    private JWKSet keys = new JWKSet();
    /** Guarded by this. */
    private FileTime loadedTime;
    /** Guarded by this. */
    private long loadedSize = -1;
    /** Guarded by this. */
    private long checkedAtNanos;
    /** Guarded by this. */
    private boolean checkedOnce;

    PublicKeys(Path file, LongSupplier nanoClock) {
        this.file = file;
        this.nanoClock = nanoClock;
    }

    /** Loads the file now; IllegalArgumentException saying what is wrong (start-up refuses a bad file). */
    synchronized void loadOrThrow() {
        try {
            load();
        } catch (IOException | ParseException e) {
            throw new IllegalArgumentException(file + " is not a readable JWKS (RFC 7517 §5): " + e.getMessage(), e);
        }
    }

    synchronized JWKSet current() {
        long now = nanoClock.getAsLong();
        if (!checkedOnce || Math.abs(now - checkedAtNanos) >= CHECK_INTERVAL_NANOS) {
            checkedOnce = true;
            checkedAtNanos = now;
            try {
                if (!Files.getLastModifiedTime(file).equals(loadedTime) || Files.size(file) != loadedSize) {
                    load();
                    LOG.info("token public keys re-read from {}: {} key(s)", file, keys.getKeys().size());
                }
            } catch (IOException | ParseException | RuntimeException e) {
                LOG.warn("token public keys: {} could not be re-read ({}); keeping the {} key(s) read before",
                        file, e.getMessage(), keys.getKeys().size());
                loadedTime = null; // try again at the next check
            }
        }
        return keys;
    }

    private void load() throws IOException, ParseException {
        FileTime time = Files.getLastModifiedTime(file);
        long size = Files.size(file);
        JWKSet set = JWKSet.parse(Files.readString(file));
        for (var k : set.getKeys()) {
            if (k.isPrivate()) {
                // A private key in a file meant for public keys is a leak waiting to happen; say so loudly.
                LOG.warn("token public keys: {} holds a private key (kid {}); only its public half is used", file, k.getKeyID());
            }
        }
        keys = set.toPublicJWKSet();
        loadedTime = time;
        loadedSize = size;
    }
}
