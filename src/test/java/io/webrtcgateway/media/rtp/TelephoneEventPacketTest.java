package io.webrtcgateway.media.rtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.webrtcgateway.media.rtp.TelephoneEventPacket.Step;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 4733 event packets and their pacing, byte for byte. */
class TelephoneEventPacketTest {

    private static byte[] packet(int pt, boolean marker, int seq, long ts, int ssrc, int event, boolean end, int volume,
                                 int duration) {
        byte[] b = new byte[TelephoneEventPacket.LENGTH];
        assertEquals(16, TelephoneEventPacket.write(b, 0, pt, marker, seq, ts, ssrc, event, end, volume, duration));
        return b;
    }

    @Test
    void payloadLayoutOfSection2_3() {
        // §2.3 figure: event (8) | E (1) R (1) volume (6) | duration (16), after a 12-byte RTP header.
        byte[] b = packet(101, true, 0x1234, 0xCAFEBABEL, 0x11223344, 9, false, 10, 400);
        assertEquals("80e51234cafebabe11223344" + "090a0190", HexFormat.of().formatHex(b));

        byte[] end = packet(101, false, 0xFFFF, 0, 0x11223344, 11, true, 63, 0xFFFF);
        assertEquals("8065ffff0000000011223344" + "0bbfffff", HexFormat.of().formatHex(end));
    }

    @Test
    void eventCodesOfSection3_2() {
        String digits = "0123456789*#ABCD";
        for (int i = 0; i < digits.length(); i++) {
            assertEquals(i, TelephoneEventPacket.eventCode(digits.charAt(i)));
        }
        assertEquals(12, TelephoneEventPacket.eventCode('a'));
        assertEquals(-1, TelephoneEventPacket.eventCode('E'));
        assertThrows(IllegalArgumentException.class, () -> TelephoneEventPacket.plan("1E", 100, 8000));
    }

    /**
     * The RFC's DTMF example (§5): digit 9 held 200 ms at 8 kHz, updates every 50 ms: one timestamp for
     * the whole event (its onset), durations 400, 800, 1200, then the end (E) with 1600 sent three times;
     * the marker only on the first packet.
     */
    @Test
    void digitNineOfTheRfcExample() {
        List<Step> steps = TelephoneEventPacket.plan("9", 200, 8000);
        assertEquals(List.of(
                new Step(50, 9, true, false, 0, 400),
                new Step(100, 9, false, false, 0, 800),
                new Step(150, 9, false, false, 0, 1200),
                new Step(200, 9, false, true, 0, 1600),
                new Step(250, 9, false, true, 0, 1600),
                new Step(300, 9, false, true, 0, 1600)), steps);

        // The packets on the wire (PT 101, SSRC 0x5EED, sequence 1.., timestamp 0), byte for byte.
        String[] expected = {
            "80e5000100000000" + "00005eed" + "090a0190",
            "8065000200000000" + "00005eed" + "090a0320",
            "8065000300000000" + "00005eed" + "090a04b0",
            "8065000400000000" + "00005eed" + "098a0640",
            "8065000500000000" + "00005eed" + "098a0640",
            "8065000600000000" + "00005eed" + "098a0640",
        };
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            byte[] b = packet(101, s.marker(), 1 + i, s.timestampOffset(), 0x5EED, s.event(), s.end(),
                    TelephoneEventPacket.VOLUME, s.duration());
            assertArrayEquals(HexFormat.of().parseHex(expected[i]), b, "packet " + (i + 1));
        }
    }

    @Test
    void nextDigitStartsAfterTheRepeatedEndAndAGapWithItsOwnTimestamp() {
        List<Step> steps = TelephoneEventPacket.plan("1#", 100, 8000);
        // "1": update at 50, end at 100, 150, 200; "#" onset at 200 + 70 = 270 ms = 2160 units.
        assertEquals(new Step(50, 1, true, false, 0, 400), steps.get(0));
        assertEquals(new Step(200, 1, false, true, 0, 800), steps.get(3));
        assertEquals(new Step(320, 11, true, false, 2160, 400), steps.get(4));
        assertEquals(new Step(470, 11, false, true, 2160, 800), steps.get(7));
        assertEquals(8, steps.size());
    }

    @Test
    void shortToneIsOnlyItsEndPacketsAndLongToneIsCappedToTheDurationField() {
        List<Step> shortTone = TelephoneEventPacket.plan("5", 40, 8000);
        assertEquals(List.of(new Step(50, 5, true, true, 0, 320), new Step(100, 5, false, true, 0, 320),
                new Step(150, 5, false, true, 0, 320)), shortTone);

        List<Step> wideband = TelephoneEventPacket.plan("5", 5000, 48000);
        Step last = wideband.get(wideband.size() - 1);
        assertEquals(true, last.end());
        assertEquals(65_520, last.duration(), "1365 ms at 48 kHz: the largest whole ms in 16 bits");
    }
}
