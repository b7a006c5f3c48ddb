package io.webrtcgateway.sip;

import gov.nist.javax.sip.EventScanner;
import gov.nist.javax.sip.EventWrapper;
import gov.nist.javax.sip.SipStackImpl;
import java.util.Properties;
import javax.sip.IOExceptionEvent;
import javax.sip.PeerUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creating and stopping JAIN-SIP stacks (the gateway's and the sandbox's) the way that works in a WAR.
 * Stacks are built directly, not through {@code SipFactory}: that singleton keeps every stack it made and
 * cannot forget one, a leak across redeploys. Each setting below is here for a reason:
 * <ul>
 * <li>REENTRANT_LISTENER + THREAD_POOL_SIZE: a fixed pool of UDP workers calls the listener directly.
 *     Without the pool size the stack starts a thread per datagram; without re-entrancy every event
 *     funnels through one EventScanner thread. Our listeners only route, so concurrency is safe.</li>
 * <li>AUTOMATIC_DIALOG_SUPPORT off: dialogs are the application's (REGISTER and OPTIONS have none).</li>
 * <li>TCP: these properties give JAIN-SIP's default blocking processor, two threads per connection and no
 *     timeout on a connection that sends nothing. The sandbox keeps it (a demo on loopback); the gateway's
 *     stack replaces it with {@link io.webrtcgateway.sip.tcp.SipTcpTransport} (one selector thread, caps and
 *     timeouts, and a fix for the NIO processor's lost first request on a new connection, jain-sip #188).
 *     NIO_MAX_SOCKET_IDLE_TIME 0 turns off JAIN-SIP's own NIO idle audit, which walks an unsynchronized map
 *     from the timer thread; SipTcpTransport has its own.</li>
 * <li>MAX_MESSAGE_SIZE: bounds what one TCP peer can make the parser buffer (default: unlimited).</li>
 * <li>CONNECTION_TIMEOUT: how long a send may block connecting to a TCP peer (JAIN-SIP's default, said once).</li>
 * <li>STACK_LOGGER {@link Slf4jStackLogger}, and no TRACE_LEVEL/DEBUG_LOG/SERVER_LOG: warnings and
 *     errors through SLF4J, chatter at DEBUG, no log files. The logger is JVM-wide in JAIN-SIP, so every
 *     stack must name the same class.</li>
 * <li>TLS_SECURITY_POLICY, SECURITY_MANAGER_PROVIDER: JAIN-SIP's own TLS is never used (the gateway's TLS
 *     listening point is {@link io.webrtcgateway.sip.tcp.SipTcpTransport}'s, with its own contexts from
 *     gateway.sip.tls); naming them stops six warnings about key and trust stores at every start.</li>
 * <li>Deliberately not set: TCP_POST_PARSING_THREAD_POOL_SIZE (a JVM-wide static pool that any stack's
 *     stop() shuts down) and javax.sip.IP_ADDRESS (deprecated).</li>
 * </ul>
 */
public final class SipStacks {
    private static final Logger LOG = LoggerFactory.getLogger(SipStacks.class);

    /** Largest SIP message read from a TCP connection (gateway.sip.* has no key for it: RFC 3261 messages are small). */
    public static final int MAX_MESSAGE_BYTES = 65536;
    /** How long a send may block connecting to a TCP peer. */
    public static final int CONNECT_TIMEOUT_MILLIS = 10_000;

    private SipStacks() {}

    public static SipStackImpl create(String stackName) throws PeerUnavailableException {
        return new SipStackImpl(properties(stackName));
    }

    public static Properties properties(String stackName) {
        Properties p = new Properties();
        p.setProperty("javax.sip.STACK_NAME", stackName);
        p.setProperty("javax.sip.AUTOMATIC_DIALOG_SUPPORT", "off");
        p.setProperty("gov.nist.javax.sip.STACK_LOGGER", Slf4jStackLogger.class.getName());
        p.setProperty("gov.nist.javax.sip.REENTRANT_LISTENER", "true");
        p.setProperty("gov.nist.javax.sip.THREAD_POOL_SIZE", "4");
        p.setProperty("gov.nist.javax.sip.MAX_MESSAGE_SIZE", Integer.toString(MAX_MESSAGE_BYTES));
        // Control characters in headers are refused before JAIN-SIP's parser loops on them (SipMessageGuard).
        p.setProperty("gov.nist.javax.sip.MESSAGE_PARSER_FACTORY", SipMessageGuard.Factory.class.getName());
        p.setProperty("gov.nist.javax.sip.CONNECTION_TIMEOUT", Integer.toString(CONNECT_TIMEOUT_MILLIS));
        p.setProperty("gov.nist.javax.sip.NIO_MAX_SOCKET_IDLE_TIME", "0");
        p.setProperty("gov.nist.javax.sip.CACHE_CLIENT_CONNECTIONS", "true");
        p.setProperty("gov.nist.javax.sip.TLS_SECURITY_POLICY", "gov.nist.javax.sip.stack.DefaultTlsSecurityPolicy");
        p.setProperty("gov.nist.javax.sip.SECURITY_MANAGER_PROVIDER", NoTlsSecurityManagerProvider.class.getName());
        return p;
    }

    /**
     * Stops the stack (JAIN-SIP itself sleeps about a second in there). Its EventScannerThread, not a
     * daemon, stays blocked on an empty queue after stop(); one dummy event wakes it to see the stop flag.
     */
    public static void stop(SipStackImpl stack) {
        EventScanner scanner = stack.getEventScanner();
        try {
            stack.stop();
        } catch (RuntimeException e) {
            LOG.warn("JAIN-SIP stack {} did not stop cleanly: {}", stack.getStackName(), e.toString());
        }
        if (scanner != null) {
            scanner.forceStop();
            scanner.addEvent(new EventWrapper(new IOExceptionEvent(stack, "", 0, ""), null));
        }
    }
}
