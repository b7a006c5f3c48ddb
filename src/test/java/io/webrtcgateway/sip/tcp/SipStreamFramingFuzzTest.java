package io.webrtcgateway.sip.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.webrtcgateway.testsupport.FuzzBudget;
import org.junit.jupiter.api.Tag;

/**
 * The TCP framing that judges a SIP stream before JAIN-SIP's parser sees it ({@link SipStreamFraming}), on any
 * bytes, cut into reads at any places: it counts messages or refuses with {@link SipStreamFraming.Refused},
 * nothing else; how the stream is cut into reads never changes what it decides: the messages it counts, or
 * the refusal and its reason. (Messages completed earlier in the read that is refused are not counted: the
 * connection closes with that read, and JAIN-SIP gets none of it.)
 */
@Tag("fuzz")
class SipStreamFramingFuzzTest {
    private static final int MAX_MESSAGE = 4096;

    @FuzzTest(maxDuration = FuzzBudget.MAX_DURATION, maxExecutions = FuzzBudget.EXECUTIONS)
    void framesAnyStream(FuzzedDataProvider data) {
        int cut = data.consumeInt(1, 64);
        byte[] stream = data.consumeRemainingAsBytes();
        String whole = outcome(stream, stream.length);
        assertEquals(whole, outcome(stream, cut), "reads of " + cut + " bytes framed differently");
        assertEquals(whole, outcome(stream, 1), "reads of 1 byte framed differently");
    }

    /** Messages completed and whether one is under way, or the refusal, feeding {@code read} bytes at a time. */
    private static String outcome(byte[] stream, int read) {
        SipStreamFraming framing = new SipStreamFraming(MAX_MESSAGE);
        int messages = 0;
        try {
            for (int i = 0; i < stream.length; i += read) {
                byte[] chunk = java.util.Arrays.copyOfRange(stream, i, Math.min(stream.length, i + read));
                int n = framing.feed(chunk);
                assertTrue(n >= 0);
                messages += n;
            }
        } catch (SipStreamFraming.Refused refused) {
            return "refused: " + refused.reason();
        }
        return messages + (framing.midMessage() ? " and one under way" : "");
    }
}
