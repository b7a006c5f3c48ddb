package io.webrtcgateway.testsupport;

/**
 * How long each {@code *FuzzTest} fuzzes under {@code -Pfuzz} (docs/testing.md, Fuzzing). Regression runs (the
 * normal test command) ignore both: they replay the corpus under src/test/resources once.
 */
public final class FuzzBudget {
    private FuzzBudget() {}

    /** Inputs per target and run (libFuzzer -runs). */
    public static final long EXECUTIONS = 1_000_000;

    /** A cap that the slowest target stays well under at {@link #EXECUTIONS} on a 2-core machine. */
    public static final String MAX_DURATION = "2h";
}
