package io.webrtcgateway.config;

/** Invalid configuration: the message names the key and the problem. The gateway refuses to start. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
