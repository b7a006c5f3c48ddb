package io.webrtcgateway.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.webrtcgateway.media.srtp.SdesCrypto;
import io.webrtcgateway.media.srtp.SrtpProfile;
import io.webrtcgateway.media.srtp.SrtpSession;
import io.webrtcgateway.sdp.BridgePlan;
import io.webrtcgateway.sdp.SdpException;
import io.webrtcgateway.sdp.SdpParser;
import io.webrtcgateway.sdp.SessionDescription;
import io.webrtcgateway.sdp.SipSrtp;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SDES keying of the SIP leg per m-line (docs/sip.md "SRTP toward SIP Server"): our offers, the checks on the
 * peer's answer, and rekeying on re-offers, with the sessions checked by protecting and unprotecting packets
 * the way the peer would.
 */
class SipKeyingTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final SipSrtp REQUIRED = new SipSrtp(SipSrtp.Mode.REQUIRED, null);

    private static SessionDescription sdp(String profile, List<String> crypto) {
        StringBuilder sb = new StringBuilder("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                + "m=audio 4000 " + profile + " 0\r\na=rtpmap:0 PCMU/8000\r\n");
        crypto.forEach(c -> sb.append("a=crypto:").append(c).append("\r\n"));
        return SdpParser.parse(sb.toString());
    }

    /** The peer's side of one packet: it protects with {@code theirs}, we unprotect with {@code ours}. */
    private static void peerToUs(SrtpSession theirs, SrtpSession ours, int seq) {
        byte[] b = Arrays.copyOf(new byte[] {(byte) 0x80, 0, (byte) (seq >> 8), (byte) seq, 0, 0, 0, 1, 0, 0, 0, 9},
                12 + 160 + 64);
        int n = theirs.protectRtp(b, 0, 172);
        assertEquals(172, ours.unprotectRtp(b, 0, n), "packet " + seq + " authenticated");
    }

    private static void usToPeer(SrtpSession ours, SrtpSession theirs, int seq) {
        byte[] b = Arrays.copyOf(new byte[] {(byte) 0x80, 0, (byte) (seq >> 8), (byte) seq, 0, 0, 0, 1, 0, 0, 0, 7},
                12 + 160 + 64);
        int n = ours.protectRtp(b, 0, 172);
        assertEquals(172, theirs.unprotectRtp(b, 0, n), "packet " + seq + " authenticated by the peer");
    }

    @Test
    void ourOfferHasAFreshKeyPerSuiteAndTheAnswerPicksOne() {
        SipKeying k = new SipKeying(REQUIRED, RANDOM);
        List<String> lines = k.offerLines(List.of(0)).get(0);
        assertEquals(2, lines.size());
        SdesCrypto l80 = SdesCrypto.parse(lines.get(0));
        SdesCrypto l32 = SdesCrypto.parse(lines.get(1));
        assertEquals(List.of(1, 2), List.of(l80.tag(), l32.tag()));
        assertEquals(SrtpProfile.AES_CM_128_HMAC_SHA1_80, l80.profile());
        assertEquals(SrtpProfile.AES_CM_128_HMAC_SHA1_32, l32.profile());
        assertTrue(!l80.sameKeyAs(l32));

        SdesCrypto theirs = SdesCrypto.generate(2, SrtpProfile.AES_CM_128_HMAC_SHA1_32, RANDOM);
        Map<Integer, SipKeying.Keys> keys = k.answered(sdp("RTP/SAVP", lines), sdp("RTP/SAVP",
                List.of(theirs.attributeValue())));
        k.commit(keys);
        SrtpSession session = k.session(0);
        assertEquals(SrtpProfile.AES_CM_128_HMAC_SHA1_32, session.profile());
        SrtpSession peer = SrtpSession.fromSdes(theirs, l32);
        peerToUs(peer, session, 1);
        usToPeer(session, peer, 1);
        // a re-offer repeats only the key in force
        assertEquals(Map.of(0, List.of(l32.attributeValue())), k.linesInForce());
    }

    @Test
    void answersThatDoNotFitTheOfferAreRefused() {
        SipKeying k = new SipKeying(REQUIRED, RANDOM);
        List<String> ours = k.offerLines(List.of(0)).get(0);
        SessionDescription offer = sdp("RTP/SAVP", ours);
        String key = SdesCrypto.generate(1, SrtpProfile.AES_CM_128_HMAC_SHA1_80, RANDOM).attributeValue();
        Map<String, SessionDescription> bad = Map.of(
                "no a=crypto", sdp("RTP/SAVP", List.of()),
                "2 a=crypto lines", sdp("RTP/SAVP", List.of(key, key.replaceFirst("^1", "2"))),
                "tag 5 AES_CM_128_HMAC_SHA1_80 answers no line", sdp("RTP/SAVP", List.of(key.replaceFirst("^1", "5"))),
                "tag 2 AES_CM_128_HMAC_SHA1_80 answers no line", sdp("RTP/SAVP", List.of(key.replaceFirst("^1", "2"))),
                "unusable a=crypto", sdp("RTP/SAVP", List.of("1 AES_CM_128_HMAC_SHA1_80 inline:QUJD")),
                "plain RTP/AVP answer", sdp("RTP/AVP", List.of()));
        bad.forEach((what, answer) -> {
            SdpException e = assertThrows(SdpException.class, () -> k.answered(offer, answer), what);
            assertTrue(e.getMessage().startsWith("m-line 0 of the SIP answer"), e.getMessage());
            assertTrue(!e.getMessage().contains("inline:QUJD"), "no key material: " + e.getMessage());
        });
        // a plain offer answered SRTP
        SipKeying plain = new SipKeying(SipSrtp.OFF, RANDOM);
        assertThrows(SdpException.class, () -> plain.answered(sdp("RTP/AVP", List.of()), sdp("RTP/SAVP", List.of(key))));
        // best effort (optional, RTP/AVP with keys) declined: plain RTP, no keys
        SipKeying optional = new SipKeying(new SipSrtp(SipSrtp.Mode.OPTIONAL, null), RANDOM);
        assertEquals(Map.of(), optional.answered(sdp("RTP/AVP", optional.offerLines(List.of(0)).get(0)),
                sdp("RTP/AVP", List.of())));
    }

    @Test
    void aPeerReofferKeepingItsKeyKeepsOursAndANewKeyGetsANewOne() {
        SipKeying k = new SipKeying(REQUIRED, RANDOM);
        SdesCrypto peerKey = SdesCrypto.generate(1, SrtpProfile.AES_CM_128_HMAC_SHA1_80, RANDOM);
        SessionDescription offer = sdp("RTP/SAVP", List.of(peerKey.attributeValue()));
        Map<Integer, SipKeying.Keys> first = k.answer(BridgePlan.ofSipOffer(offer, REQUIRED));
        k.commit(first);
        SrtpSession session = k.session(0);
        SrtpSession peer = SrtpSession.fromSdes(peerKey, first.get(0).local());
        peerToUs(peer, session, 1);
        usToPeer(session, peer, 1);

        // hold: the same key under another tag
        SessionDescription hold = sdp("RTP/SAVP", List.of(peerKey.withTag(3).attributeValue()));
        Map<Integer, SipKeying.Keys> again = k.answer(BridgePlan.ofSipOffer(hold, REQUIRED));
        assertSame(session, again.get(0).session(), "the session and its counters go on");
        assertTrue(again.get(0).local().sameKeyAs(first.get(0).local()));
        assertEquals(3, again.get(0).local().tag(), "answered under the offered tag");
        k.commit(again);
        peerToUs(peer, k.session(0), 2);

        // rekey: the peer's new key gets a new one of ours, and a fresh session on both sides
        SdesCrypto newPeerKey = SdesCrypto.generate(1, SrtpProfile.AES_CM_128_HMAC_SHA1_32, RANDOM);
        Map<Integer, SipKeying.Keys> rekeyed = k.answer(BridgePlan.ofSipOffer(
                sdp("RTP/SAVP", List.of(newPeerKey.attributeValue())), REQUIRED));
        assertNotSame(session, rekeyed.get(0).session());
        assertTrue(!rekeyed.get(0).local().sameKeyAs(first.get(0).local()), "a new key of ours");
        k.commit(rekeyed);
        SrtpSession newPeer = SrtpSession.fromSdes(newPeerKey, rekeyed.get(0).local());
        peerToUs(newPeer, k.session(0), 3);
        usToPeer(k.session(0), newPeer, 2);
    }

    @Test
    void aNewPeerKeyInAnAnswerKeepsOurSendingContext() {
        SipKeying k = new SipKeying(REQUIRED, RANDOM);
        List<String> ours = k.offerLines(List.of(0)).get(0);
        SdesCrypto peerKey = SdesCrypto.generate(1, SrtpProfile.AES_CM_128_HMAC_SHA1_80, RANDOM);
        k.commit(k.answered(sdp("RTP/SAVP", ours), sdp("RTP/SAVP", List.of(peerKey.attributeValue()))));
        SrtpSession before = k.session(0);
        SdesCrypto our80 = SdesCrypto.parse(ours.get(0));
        SrtpSession peer = SrtpSession.fromSdes(peerKey, our80);
        for (int seq = 1; seq <= 5; seq++) {
            usToPeer(before, peer, seq);
        }
        // our re-offer (hold) repeats our line; the answer brings a new key of the peer's
        List<String> reoffer = k.linesInForce().get(0);
        assertEquals(List.of(our80.attributeValue()), reoffer);
        SdesCrypto newPeerKey = SdesCrypto.generate(1, SrtpProfile.AES_CM_128_HMAC_SHA1_80, RANDOM);
        k.commit(k.answered(sdp("RTP/SAVP", reoffer), sdp("RTP/SAVP", List.of(newPeerKey.attributeValue()))));
        SrtpSession after = k.session(0);
        assertNotSame(before, after);
        // we send on with the same context: the peer, which kept our key, accepts packet 6 and refuses a replay
        usToPeer(after, peer, 6);
        assertEquals(0, peer.counters().authFailures());
        SrtpSession newPeer = SrtpSession.fromSdes(newPeerKey, our80);
        peerToUs(newPeer, after, 1);
    }
}
