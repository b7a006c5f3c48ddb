package io.webrtcgateway.testsupport;

/** Stopping what a test class started, in order, whatever fails. */
public final class Closing {

    private Closing() {}

    /**
     * Closes each (nulls skipped: a start that failed half-way), in the order given. A failure to close one
     * is printed and does not keep the others running: in an @AfterAll it must not hide the test's own
     * result, and every process is also killed by PeerProcess's shutdown hook at the latest.
     */
    public static void all(AutoCloseable... resources) {
        for (AutoCloseable resource : resources) {
            if (resource == null) {
                continue;
            }
            try {
                resource.close();
            } catch (Exception e) {
                System.err.println("closing " + resource + " failed: " + e);
            }
        }
    }
}
