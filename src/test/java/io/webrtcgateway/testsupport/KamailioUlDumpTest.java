package io.webrtcgateway.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Parsing of kamcmd's ul.dump text as kamailio 5.6.3 prints it. */
class KamailioUlDumpTest {

    @Test
    void mapsAorsToTheirContactAddresses() {
        String dump = """
                {
                \tDomains: {
                \t\tDomain: {
                \t\t\tDomain: location
                \t\t\tSize: 1024
                \t\t\tAoRs: {
                \t\t\t\tInfo: {
                \t\t\t\t\tAoR: 1002
                \t\t\t\t\tHashID: 924766745
                \t\t\t\t\tContacts: {
                \t\t\t\t\t\tContact: {
                \t\t\t\t\t\t\tAddress: sip:1002@127.0.0.1:52099
                \t\t\t\t\t\t\tExpires: 60
                \t\t\t\t\t\t\tCall-ID: c2
                \t\t\t\t\t\t}
                \t\t\t\t\t\tContact: {
                \t\t\t\t\t\t\tAddress: sip:1002@127.0.0.1:52100;transport=tcp
                \t\t\t\t\t\t}
                \t\t\t\t\t}
                \t\t\t\t}
                \t\t\t\tInfo: {
                \t\t\t\t\tAoR: 1001
                \t\t\t\t\tContacts: {
                \t\t\t\t\t\tContact: {
                \t\t\t\t\t\t\tAddress: sip:1001@127.0.0.1:52099
                \t\t\t\t\t\t}
                \t\t\t\t\t}
                \t\t\t\t}
                \t\t\t}
                \t\t\tStats: {
                \t\t\t\tRecords: 2
                \t\t\t}
                \t\t}
                \t}
                }
                """;

        Map<String, List<String>> contacts = Kamailio.parseUlDump(dump);

        assertEquals(List.of("1001", "1002"), List.copyOf(contacts.keySet()));
        assertEquals(List.of("sip:1001@127.0.0.1:52099"), contacts.get("1001"));
        assertEquals(List.of("sip:1002@127.0.0.1:52099", "sip:1002@127.0.0.1:52100;transport=tcp"),
                contacts.get("1002"));
    }

    @Test
    void emptyTableHasNoAors() {
        String dump = "{\n\tDomains: {\n\t\tDomain: {\n\t\t\tDomain: location\n\t\t\tAoRs: {\n\t\t\t}\n\t\t}\n\t}\n}\n";

        assertEquals(Map.of(), Kamailio.parseUlDump(dump));
    }
}
