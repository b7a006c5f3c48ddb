package io.webrtcgateway.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the file SIPp writes with {@code -trace_msg -message_file <file>}.
 *
 * <p>SIPp 3.6.1 writes each message as one flushed entry:
 * <pre>
 * ----------------------------------------------- 2026-11-24 19:42:55.442807
 * UDP message received [272] bytes :
 *
 * REGISTER sip:127.0.0.1:5060 SIP/2.0
 * ...
 * </pre>
 * ("... message sent (278 bytes):" for what it sent). The byte count says exactly where the message
 * ends, so a message that is still being written is left for the next read rather than cut.
 */
public final class SippMessageLog {

    private static final Pattern ENTRY = Pattern.compile(
            "(?m)^-{47} (\\S+ \\S+)\\n(\\w+) (?:control )?message (received \\[(\\d+)\\] bytes :|sent \\((\\d+) bytes\\):)\\n\\n");

    private final Path file;

    /** Guarded by this: the file size last parsed, and what it held. */
    private long parsedSize = -1;
    private List<Entry> parsed = List.of();

    public SippMessageLog(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /** Every complete entry so far, oldest first. */
    public synchronized List<Entry> entries() {
        String content;
        try {
            // ISO-8859-1 maps each byte to one char, so SIPp's byte counts are char counts here.
            byte[] bytes = Files.readAllBytes(file);
            if (bytes.length == parsedSize) {
                return parsed;
            }
            parsedSize = bytes.length;
            content = new String(bytes, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        parsed = List.copyOf(parse(content));
        return parsed;
    }

    public List<SipMessage> received() {
        return entries().stream().filter(Entry::received).map(Entry::message).toList();
    }

    public List<SipMessage> sent() {
        return entries().stream().filter(e -> !e.received()).map(Entry::message).toList();
    }

    static List<Entry> parse(String content) {
        List<Entry> entries = new ArrayList<>();
        Matcher m = ENTRY.matcher(content);
        int from = 0;
        while (m.find(from)) {
            boolean received = m.group(4) != null;
            int length = Integer.parseInt(received ? m.group(4) : m.group(5));
            int start = m.end();
            if (start + length > content.length()) {
                break; // still being written
            }
            String text = content.substring(start, start + length);
            entries.add(new Entry(m.group(1), m.group(2), received, new SipMessage(text)));
            from = start + length;
        }
        return entries;
    }

    /** One logged message: when (SIPp's local time text), transport ("UDP"/"TCP"), direction. */
    public record Entry(String time, String transport, boolean received, SipMessage message) {
        private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS");

        /** {@link #time} as an instant: SIPp writes its local time (the zone of this JVM) to the microsecond. */
        public Instant instant() {
            return LocalDateTime.parse(time, TIME).atZone(ZoneId.systemDefault()).toInstant();
        }
    }
}
