package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Where integration tests leave what the peers logged: {@code target/it-logs/<test>-<name>.<ext>}.
 *
 * <p>{@code <test>} is "TestClass.method" of the test code that asked (found on the call stack), so a
 * failed run can be read per test. The directory is {@code ${it.buildDir}/it-logs} when failsafe
 * sets that property, else {@code target/it-logs} under the working directory.
 */
public final class ItLogs {

    /** Guarded by itself: names already used in this JVM, so a second sipp in one test gets "-2". */
    private static final Set<Path> used = new HashSet<>();

    private ItLogs() {}

    public static Path dir() {
        String buildDir = System.getProperty("it.buildDir");
        Path dir = (buildDir == null || buildDir.isBlank() ? Path.of("target") : Path.of(buildDir))
                .resolve("it-logs").toAbsolutePath();
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    /** A fresh file name {@code <test>-<name>.<extension>} in {@link #dir()} (an older file of that name is deleted). */
    public static Path file(String name, String extension) {
        return file(testName(), name, extension);
    }

    public static Path file(String test, String name, String extension) {
        String base = safe(test) + "-" + safe(name);
        Path dir = dir();
        synchronized (used) {
            Path candidate = dir.resolve(base + "." + extension);
            for (int n = 2; !used.add(candidate); n++) {
                candidate = dir.resolve(base + "-" + n + "." + extension);
            }
            try {
                Files.deleteIfExists(candidate);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete old " + candidate, e);
            }
            return candidate;
        }
    }

    /** "TestClass.method" of the nearest *IT / *Test frame on the current stack, else "test". */
    public static String testName() {
        Optional<StackWalker.StackFrame> frame = StackWalker.getInstance().walk(frames -> frames
                .filter(f -> isTestClass(f.getClassName()))
                .findFirst());
        return frame.map(f -> simpleName(f.getClassName()) + "." + methodName(f.getMethodName())).orElse("test");
    }

    private static boolean isTestClass(String className) {
        String simple = simpleName(className);
        int inner = simple.indexOf('$');
        String outer = inner < 0 ? simple : simple.substring(0, inner);
        return outer.endsWith("IT") || outer.endsWith("Test");
    }

    /** "lambda$registers$3" -> "registers". */
    private static String methodName(String method) {
        if (method.startsWith("lambda$")) {
            String rest = method.substring("lambda$".length());
            int end = rest.indexOf('$');
            return end < 0 ? rest : rest.substring(0, end);
        }
        return method;
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    private static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
