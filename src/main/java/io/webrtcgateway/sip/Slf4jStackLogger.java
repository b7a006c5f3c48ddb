package io.webrtcgateway.sip;

import java.util.Properties;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import gov.nist.core.StackLogger;

/**
 * Sends JAIN-SIP's own logging to SLF4J logger {@code gov.nist.javax.sip}, named by
 * gov.nist.javax.sip.STACK_LOGGER. The stack's default LogWriter logs its "info" lines whatever the
 * trace level (one per TCP message: "serving msg on call id ..."), so its INFO is demoted to DEBUG
 * here; warnings and errors stay as they are. Set that logger to DEBUG to see the stack's internals,
 * including every message sent and received.
 *
 * <p>JAIN-SIP keeps the last stack's logger in a JVM-wide static (CommonLogger.legacyLogger) used by
 * every stack, so all stacks in one JVM should name this same class.
 */
public final class Slf4jStackLogger implements StackLogger {

    private static final Logger log = LoggerFactory.getLogger("gov.nist.javax.sip");

    @Override
    public boolean isLoggingEnabled() {
        return log.isWarnEnabled();
    }

    @Override
    public boolean isLoggingEnabled(int level) {
        if (level <= TRACE_NONE) {
            return false;
        } else if (level <= TRACE_ERROR) {
            return log.isErrorEnabled();
        } else if (level <= TRACE_WARN) {
            return log.isWarnEnabled();
        } else if (level <= TRACE_DEBUG) {
            return log.isDebugEnabled();
        }
        return log.isTraceEnabled();
    }

    @Override
    public void logFatalError(String message) {
        log.error(message);
    }

    @Override
    public void logError(String message) {
        log.error(message);
    }

    @Override
    public void logError(String message, Exception ex) {
        log.error(message, ex);
    }

    @Override
    public void logException(Throwable ex) {
        log.warn("JAIN-SIP: {}", ex.toString(), ex);
    }

    @Override
    public void logWarning(String message) {
        if (message != null && message.startsWith("Null request interface returned")) {
            // JAIN-SIP's line for every UDP request a message valve refused (SipSourceFilter logs and counts
            // those itself) or a retransmission it is still busy with: a stranger must not flood the log.
            log.debug(message);
            return;
        }
        log.warn(message);
    }

    @Override
    public void logInfo(String message) {
        log.debug(message);
    }

    @Override
    public void logDebug(String message) {
        log.debug(message);
    }

    @Override
    public void logDebug(String message, Exception ex) {
        log.debug(message, ex);
    }

    @Override
    public void logTrace(String message) {
        log.trace(message);
    }

    @Override
    public void logStackTrace() {
        logStackTrace(TRACE_DEBUG);
    }

    @Override
    public void logStackTrace(int level) {
        if (isLoggingEnabled(level) && log.isDebugEnabled()) {
            log.debug("stack trace", new Throwable("stack trace"));
        }
    }

    @Override
    public int getLineCount() {
        return 0;
    }

    @Override
    public void disableLogging() {
    }

    @Override
    public void enableLogging() {
    }

    @Override
    public void setBuildTimeStamp(String buildTimeStamp) {
    }

    @Override
    public void setStackProperties(Properties stackProperties) {
    }

    @Override
    public String getLoggerName() {
        return log.getName();
    }
}
