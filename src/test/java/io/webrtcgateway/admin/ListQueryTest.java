package io.webrtcgateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ListQueryTest {

    private static Map<String, String[]> params(String... kv) {
        Map<String, String[]> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], new String[] {kv[i + 1]});
        }
        return m;
    }

    @Test
    void defaults() {
        ListQuery q = ListQuery.parse(Map.of(), false);
        assertNull(q.dn());
        assertEquals(0, q.offset());
        assertEquals(50, q.limit());
        assertFalse(q.cluster());
    }

    @Test
    void readsEveryParameter() {
        ListQuery q = ListQuery.parse(params("dn", "10", "offset", "20", "limit", "500", "scope", "cluster"), false);
        assertEquals(new ListQuery("10", 20, 500, true), q);
        assertFalse(ListQuery.parse(params("scope", "local"), false).cluster());
        assertNull(ListQuery.parse(params("dn", ""), false).dn(), "an empty filter is no filter");
    }

    @ParameterizedTest
    @CsvSource({
        "offset, -1", "offset, abc", "offset, 1.5", "offset, 1000001", "offset, ''",
        "limit, 0", "limit, 501", "limit, -5", "limit, ten", "limit, 99999999999",
        "scope, everywhere", "scope, CLUSTER",
        "dn, 'a b'", "dn, '<script>'", "dn, 'x%y'",
    })
    void badValuesAreBadRequests(String name, String value) {
        AdminException e = assertThrows(AdminException.class, () -> ListQuery.parse(params(name, value), false));
        assertEquals(400, e.status());
        assertEquals("BAD_REQUEST", e.code());
        assertTrue(e.getMessage().contains("'" + name + "'"), e.getMessage());
    }

    @Test
    void aParameterGivenTwiceIsABadRequest() {
        AdminException e = assertThrows(AdminException.class,
                () -> ListQuery.parse(Map.of("limit", new String[] {"1", "2"}), false));
        assertEquals(400, e.status());
    }

    @Test
    void aDnLongerThan64IsABadRequest() {
        assertThrows(AdminException.class, () -> ListQuery.parse(params("dn", "1".repeat(65)), false));
        assertEquals("1".repeat(64), ListQuery.parse(params("dn", "1".repeat(64)), false).dn());
    }

    @Test
    void aPeerMayAskForOffsetPlusLimitItems() {
        assertThrows(AdminException.class, () -> ListQuery.parse(params("limit", "1500"), false));
        assertEquals(1500, ListQuery.parse(params("limit", "1500"), true).limit());
        ListQuery q = new ListQuery("10+", 1000, 500, true);
        assertEquals("scope=local&offset=0&limit=1500&dn=10%2B",
                q.peerQueryString(s -> URLEncoder.encode(s, StandardCharsets.UTF_8)));
    }

    @Test
    void dnFilterIsACaseInsensitiveSubstringOfAnyValue() {
        ListQuery q = new ListQuery("00", 0, 50, false);
        assertTrue(q.matches("1001"));
        assertTrue(q.matches(null, "5000"));
        assertFalse(q.matches("1234", null));
        assertTrue(new ListQuery("ab", 0, 50, false).matches("sip:AB@x"));
        assertTrue(new ListQuery(null, 0, 50, false).matches((String) null), "no filter matches everything");
    }

    @Test
    void pages() {
        List<Integer> all = IntStream.range(0, 7).boxed().toList();
        assertEquals(List.of(0, 1, 2), new ListQuery(null, 0, 3, false).page(all));
        assertEquals(List.of(6), new ListQuery(null, 6, 3, false).page(all));
        assertEquals(List.of(), new ListQuery(null, 7, 3, false).page(all));
        assertEquals(List.of(), new ListQuery(null, 100, 3, false).page(all));
    }
}
