/* uakey unit test: OPC UA service messages (opcua-glue/client/uamsg.c).
 *
 * Three kinds of vectors:
 *  - hand-computed bytes, written field by field below from OPC 10000-4/-6
 *    (requests: exact bytes; the RequestHeader timestamp is a wildcard
 *    checked to lie between the clock before and after encoding);
 *  - responses encoded by node-opcua 2.186.4 (tests/interop/uamsg_vectors.mjs
 *    encode), decoded here field by field;
 *  - values built here with the uabin primitives (Variant rendering, depth
 *    and count limits).
 * Then hostile input: every truncation of every response vector, and
 * thousands of bit flips and length-field overwrites, fed to every decoder:
 * each call returns 0 or 1, a failed one leaves its structure zeroed, and
 * ASan / valgrind see no leak and no bad access.
 *
 * UK_TEST_UAMSG_DUMP=1 prints every request this test encodes as
 * "NAME HEX" lines, for `node tests/interop/uamsg_vectors.mjs decode`. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uabin.h"
#include "uamsg.h"

#define ELL "\xe2\x80\xa6"

/* 2026-11-26T10:00:00.000Z and 10:00:01.456Z as OPC UA DateTime. */
#define DT_T0 134401608000000000LL
#define DT_T1 134401608014560000LL
#define HEX_T0 "00d014e68c7ddd01"
#define HEX_T1 "00fbf2e68c7ddd01"

/* ==== byte patterns ===================================================== */

/* A pattern is hex pairs (blanks ignored), 'text' for raw ASCII bytes, and
 * TT for one wildcard byte (the RequestHeader timestamp). */
typedef struct {
    unsigned char *b;
    unsigned char *wild;
    size_t len;
} PAT;

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static PAT pat(const char *s)
{
    PAT p;
    size_t cap = strlen(s) + 1;

    p.b = calloc(cap, 1);
    p.wild = calloc(cap, 1);
    p.len = 0;
    assert_non_null(p.b);
    assert_non_null(p.wild);
    while (*s) {
        if (*s == ' ' || *s == '\n') {
            s++;
        } else if (*s == '\'') {
            for (s++; *s && *s != '\''; s++)
                p.b[p.len++] = (unsigned char)*s;
            assert_int_equal(*s, '\'');
            s++;
        } else if (s[0] == 'T' && s[1] == 'T') {
            p.wild[p.len++] = 1;
            s += 2;
        } else {
            int hi = hexval(s[0]), lo = s[1] ? hexval(s[1]) : -1;

            if (hi < 0 || lo < 0)
                fail_msg("bad pattern at \"%.10s\"", s);
            p.b[p.len++] = (unsigned char)(hi << 4 | lo);
            s += 2;
        }
    }
    return p;
}

static void pat_free(PAT *p)
{
    free(p->b);
    free(p->wild);
}

/* Bytes of a pattern without wildcards, in an exact-size buffer (so ASan
 * sees any read past its end). */
static unsigned char *bytes_of(const char *s, size_t *len)
{
    PAT p = pat(s);
    unsigned char *out = malloc(p.len ? p.len : 1);

    assert_non_null(out);
    memcpy(out, p.b, p.len);
    *len = p.len;
    pat_free(&p);
    return out;
}

static void dump(const char *name, const unsigned char *p, size_t n)
{
    size_t i;

    if (getenv("UK_TEST_UAMSG_DUMP") == NULL)
        return;
    printf("%s ", name);
    for (i = 0; i < n; i++)
        printf("%02x", p[i]);
    printf("\n");
}

/* Compares a writer's bytes with |s|; the 8 wildcard bytes must hold a
 * DateTime within [before, after]. */
static void expect_bytes(const char *name, const UA_WBUF *w, const char *s, int64_t before,
                         int64_t after)
{
    PAT p = pat(s);
    size_t i, nwild = 0;
    int64_t ts = 0;

    assert_false(w->err);
    dump(name, w->data, w->len);
    if (w->len != p.len)
        fail_msg("%s: %zu bytes, expected %zu", name, w->len, p.len);
    for (i = 0; i < p.len; i++) {
        if (p.wild[i]) {
            ts |= (int64_t)((uint64_t)w->data[i] << (8 * nwild));
            nwild++;
        } else if (w->data[i] != p.b[i]) {
            fail_msg("%s: byte %zu is %02x, expected %02x", name, i, w->data[i], p.b[i]);
        }
    }
    if (nwild) {
        assert_int_equal(nwild, 8);
        assert_true(ts >= before && ts <= after);
    }
    pat_free(&p);
}

/* RequestHeader with the null authenticationToken: handle and timeoutHint
 * as little-endian hex. */
#define REQHDR(handle, timeout) \
    "0000 TTTTTTTTTTTTTTTT " handle " 00000000 ffffffff " timeout " 000000 "

/* ResponseHeader: timestamp T0, handle, serviceResult, no diagnostics,
 * empty string table, null additionalHeader. */
#define RESPHDR(handle, result) HEX_T0 " " handle " " result " 00 00000000 000000 "

/* ==== hand-computed requests ============================================ */

static void test_reqhdr(void **state)
{
    UA_WBUF w;
    UA_REQHDR h = { NULL, 7, 5000 };
    int64_t before = uab_datetime_now(), after;

    (void)state;
    uab_w_init(&w, 0);
    uamsg_put_reqhdr(&w, &h);
    after = uab_datetime_now();
    /* authenticationToken null NodeId | timestamp | requestHandle 7 |
     * returnDiagnostics 0 | auditEntryId null | timeoutHint 5000 |
     * additionalHeader: TypeId i=0, no body */
    expect_bytes("reqhdr", &w, "0000 TTTTTTTTTTTTTTTT 07000000 00000000 ffffffff 88130000 000000",
                 before, after);
    uab_w_free(&w);
}

/* The authenticationToken goes back exactly as the server sent it. */
static void test_reqhdr_auth_echo(void **state)
{
    size_t n;
    unsigned char *tok = bytes_of("05 0100 04000000 deadbeef", &n);
    UA_RBUF r;
    UA_NODEID id;
    UA_REQHDR h;
    UA_WBUF w;
    int64_t before = uab_datetime_now();

    (void)state;
    uab_r_init(&r, tok, n);
    uab_get_nodeid(&r, &id);
    assert_false(r.err);
    h.auth_token = &id;
    h.handle = 0x01020304;
    h.timeout_ms = 0;
    uab_w_init(&w, 0);
    uamsg_put_reqhdr(&w, &h);
    expect_bytes("reqhdr_auth", &w,
                 "05 0100 04000000 deadbeef TTTTTTTTTTTTTTTT 04030201 00000000 ffffffff "
                 "00000000 000000", before, uab_datetime_now());
    uab_w_free(&w);
    free(tok);
}

static void test_opn_request(void **state)
{
    UA_WBUF w;
    UA_REQHDR h = { NULL, 1, 10000 };
    unsigned char nonce[32];
    int64_t before;

    (void)state;
    before = uab_datetime_now();
    uab_w_init(&w, 0);
    uamsg_put_opensecurechannel(&w, &h, 0, UA_MODE_NONE, NULL, 0, 600000);
    /* type i=446 four-byte | header | clientProtocolVersion 0 | Issue |
     * None | clientNonce null | requestedLifetime 600000 */
    expect_bytes("opn_none", &w,
                 "0100be01 " REQHDR("01000000", "10270000")
                 "00000000 00000000 01000000 ffffffff c0270900",
                 before, uab_datetime_now());
    uab_w_free(&w);

    memset(nonce, 0xab, sizeof(nonce));
    before = uab_datetime_now();
    uab_w_init(&w, 0);
    uamsg_put_opensecurechannel(&w, &h, 1, UA_MODE_SIGNANDENCRYPT, nonce, sizeof(nonce), 4000);
    expect_bytes("opn_renew", &w,
                 "0100be01 " REQHDR("01000000", "10270000")
                 "00000000 01000000 03000000 20000000 "
                 "abababababababababababababababababababababababababababababababab a00f0000",
                 before, uab_datetime_now());
    uab_w_free(&w);
}

static void test_getendpoints_request(void **state)
{
    UA_WBUF w;
    UA_REQHDR h = { NULL, 2, 1000 };
    int64_t before = uab_datetime_now();

    (void)state;
    uab_w_init(&w, 0);
    uamsg_put_getendpoints(&w, &h, "opc.tcp://h:1");
    /* type i=428 | header | endpointUrl | localeIds [] | profileUris [] */
    expect_bytes("getendpoints", &w,
                 "0100ac01 " REQHDR("02000000", "e8030000")
                 "0d000000 'opc.tcp://h:1' 00000000 00000000",
                 before, uab_datetime_now());
    uab_w_free(&w);
}

static void test_closesecurechannel_request(void **state)
{
    UA_WBUF w;
    UA_REQHDR h = { NULL, 9, 0 };
    int64_t before = uab_datetime_now();

    (void)state;
    uab_w_init(&w, 0);
    uamsg_put_closesecurechannel(&w, &h);
    expect_bytes("closesecurechannel", &w, "0100c401 " REQHDR("09000000", "00000000"), before,
                 uab_datetime_now());
    uab_w_free(&w);
}

static void test_createsession_request(void **state)
{
    UA_WBUF w;
    UA_REQHDR h = { NULL, 3, 1000 };
    char *urls[] = { "opc.tcp://h:1" };
    UA_APPDESC app;
    unsigned char nonce[4] = { 1, 2, 3, 4 }, cert[3] = { 0x30, 0x01, 0x00 };
    int64_t before = uab_datetime_now();

    (void)state;
    memset(&app, 0, sizeof(app));
    app.application_uri = "urn:uakey:client";
    app.application_name = "uakey";
    app.application_type = 1;
    app.discovery_urls = urls;
    app.n_discovery_urls = 1;
    uab_w_init(&w, 0);
    uamsg_put_createsession(&w, &h, &app, "opc.tcp://h:1", "uakey connect", nonce, sizeof(nonce),
                            cert, sizeof(cert), 60000.0, 0x01000000);
    expect_bytes("createsession", &w,
                 "0100cd01 " REQHDR("03000000", "e8030000")
                 /* clientDescription: applicationUri, productUri null,
                  * applicationName {text}, Client, gateway null,
                  * discoveryProfile null, discoveryUrls [1] */
                 "10000000 'urn:uakey:client' ffffffff 02 05000000 'uakey' 01000000 "
                 "ffffffff ffffffff 01000000 0d000000 'opc.tcp://h:1' "
                 /* serverUri null, endpointUrl, sessionName */
                 "ffffffff 0d000000 'opc.tcp://h:1' 0d000000 'uakey connect' "
                 /* clientNonce, clientCertificate */
                 "04000000 01020304 03000000 300100 "
                 /* requestedSessionTimeout 60000.0, maxResponseMessageSize */
                 "00000000004ced40 00000001",
                 before, uab_datetime_now());
    uab_w_free(&w);
}

#define SHA256_ALG "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define OAEP_ALG "http://www.w3.org/2001/04/xmlenc#rsa-oaep"

static void test_activatesession_anonymous(void **state)
{
    UA_WBUF w;
    UA_REQHDR h = { NULL, 4, 1000 };
    UA_IDENTITY id;
    unsigned char sig[2] = { 0xbe, 0xef };
    int64_t before = uab_datetime_now();

    (void)state;
    memset(&id, 0, sizeof(id));
    id.policy_id = "anon";
    uab_w_init(&w, 0);
    uamsg_put_activatesession(&w, &h, SHA256_ALG, sig, sizeof(sig), &id);
    expect_bytes("activatesession_anon", &w,
                 "0100d301 " REQHDR("04000000", "e8030000")
                 /* clientSignature {algorithm, signature} */
                 "31000000 '" SHA256_ALG "' 02000000 beef "
                 /* clientSoftwareCertificates [], localeIds [] */
                 "00000000 00000000 "
                 /* userIdentityToken: ExtensionObject i=321, binary body
                  * of 8 bytes: AnonymousIdentityToken {policyId} */
                 "01004101 01 08000000 04000000 'anon' "
                 /* userTokenSignature null/null */
                 "ffffffff ffffffff",
                 before, uab_datetime_now());
    uab_w_free(&w);

    /* no identity at all: anonymous with a null policyId */
    before = uab_datetime_now();
    uab_w_init(&w, 0);
    uamsg_put_activatesession(&w, &h, NULL, NULL, 0, NULL);
    expect_bytes("activatesession_none", &w,
                 "0100d301 " REQHDR("04000000", "e8030000")
                 "ffffffff ffffffff 00000000 00000000 01004101 01 04000000 ffffffff "
                 "ffffffff ffffffff",
                 before, uab_datetime_now());
    uab_w_free(&w);
}

static void test_activatesession_username(void **state)
{
    UA_WBUF w;
    UA_REQHDR h = { NULL, 5, 1000 };
    UA_IDENTITY id;
    unsigned char pw[3] = { 0x01, 0x02, 0x03 };
    int64_t before = uab_datetime_now();

    (void)state;
    memset(&id, 0, sizeof(id));
    id.policy_id = "user";
    id.user_name = "bob";
    id.password = pw;
    id.password_len = sizeof(pw);
    id.enc_alg = OAEP_ALG;
    uab_w_init(&w, 0);
    uamsg_put_activatesession(&w, &h, SHA256_ALG, pw, 1, &id);
    /* body: policyId (8) + userName (7) + password (7) + algorithm (4+41) = 67 */
    expect_bytes("activatesession_user", &w,
                 "0100d301 " REQHDR("05000000", "e8030000")
                 "31000000 '" SHA256_ALG "' 01000000 01 00000000 00000000 "
                 "01004401 01 43000000 04000000 'user' 03000000 'bob' 03000000 010203 "
                 "29000000 '" OAEP_ALG "' "
                 "ffffffff ffffffff",
                 before, uab_datetime_now());
    uab_w_free(&w);

    /* plain password (None policy): encryptionAlgorithm null */
    id.password = (const unsigned char *)"pw";
    id.password_len = 2;
    id.enc_alg = NULL;
    before = uab_datetime_now();
    uab_w_init(&w, 0);
    uamsg_put_activatesession(&w, &h, NULL, NULL, 0, &id);
    expect_bytes("activatesession_plain", &w,
                 "0100d301 " REQHDR("05000000", "e8030000")
                 "ffffffff ffffffff 00000000 00000000 "
                 "01004401 01 19000000 04000000 'user' 03000000 'bob' 02000000 'pw' ffffffff "
                 "ffffffff ffffffff",
                 before, uab_datetime_now());
    uab_w_free(&w);
}

static void test_closesession_request(void **state)
{
    UA_WBUF w;
    UA_REQHDR h = { NULL, 6, 1000 };
    int64_t before = uab_datetime_now();

    (void)state;
    uab_w_init(&w, 0);
    uamsg_put_closesession(&w, &h, 1);
    expect_bytes("closesession", &w, "0100d901 " REQHDR("06000000", "e8030000") "01", before,
                 uab_datetime_now());
    uab_w_free(&w);
}

static void test_read_request(void **state)
{
    UA_WBUF w;
    UA_REQHDR h = { NULL, 8, 1000 };
    int64_t before = uab_datetime_now();

    (void)state;
    uab_w_init(&w, 0);
    assert_int_equal(uamsg_put_read(&w, &h, "i=2258"), 1);
    /* type i=631 | header | maxAge 0.0 | timestampsToReturn Both |
     * nodesToRead [1]: {nodeId ns=0;i=2258, attributeId 13 (Value),
     * indexRange null, dataEncoding {0, null}} */
    expect_bytes("read", &w,
                 "01007702 " REQHDR("08000000", "e8030000")
                 "0000000000000000 02000000 01000000 0100d208 0d000000 ffffffff 0000 ffffffff",
                 before, uab_datetime_now());
    uab_w_free(&w);

    before = uab_datetime_now();
    uab_w_init(&w, 0);
    assert_int_equal(uamsg_put_read(&w, &h, "ns=1;s=uakey.Counter"), 1);
    expect_bytes("read_string", &w,
                 "01007702 " REQHDR("08000000", "e8030000")
                 "0000000000000000 02000000 01000000 03 0100 0d000000 'uakey.Counter' "
                 "0d000000 ffffffff 0000 ffffffff",
                 before, uab_datetime_now());
    uab_w_free(&w);

    /* not a NodeId: 0 and nothing written */
    uab_w_init(&w, 0);
    assert_int_equal(uamsg_put_read(&w, &h, "ns=1;x=2"), 0);
    assert_int_equal(w.len, 0);
    assert_false(w.err);
    uab_w_free(&w);
}

/* ==== NodeId text ======================================================= */

static void test_nodeid_text_valid(void **state)
{
    static const struct {
        const char *text, *bytes;
    } ok[] = {
        { "i=2258", "0100d208" },
        { "ns=0;i=2258", "0100d208" },
        { "i=5", "0005" },
        { "i=0", "0000" },
        { "ns=1;i=5", "010105 00" },
        { "ns=300;i=5", "02 2c01 05000000" },
        { "ns=65535;i=4294967295", "02 ffff ffffffff" },
        { "i=007", "0007" },
        { "ns=1;s=Some.Name", "03 0100 09000000 'Some.Name'" },
        { "ns=1;s=a;b=c", "03 0100 05000000 'a;b=c'" },
        { "s=x", "03 0000 01000000 'x'" },
        { "ns=2;g=09087e75-8e5e-499b-954f-f2a9603db28a",
          "04 0200 757e0809 5e8e 9b49 954ff2a9603db28a" },
        { "ns=2;g=09087E75-8E5E-499B-954F-F2A9603DB28A",
          "04 0200 757e0809 5e8e 9b49 954ff2a9603db28a" },
        { "ns=3;b=AAEC", "05 0300 03000000 000102" },
        { "ns=3;b=AA==", "05 0300 01000000 00" },
        { "ns=3;b=AAE=", "05 0300 02000000 0001" },
        { "b=//4=", "05 0000 02000000 fffe" },
        { "b=/+8=", "05 0000 02000000 ffef" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        UA_WBUF w;
        PAT p = pat(ok[i].bytes);

        uab_w_init(&w, 0);
        if (!uamsg_put_nodeid_text(&w, ok[i].text))
            fail_msg("\"%s\" rejected", ok[i].text);
        assert_false(w.err);
        if (w.len != p.len || memcmp(w.data, p.b, p.len) != 0)
            fail_msg("\"%s\": wrong bytes", ok[i].text);
        uab_w_free(&w);
        pat_free(&p);
    }
}

static void test_nodeid_text_invalid(void **state)
{
    static const char *const bad[] = {
        "", "i", "i=", "i=abc", "i=4294967296", "i=99999999999999999999", "i=-1", "i=+1",
        "i= 1", "i=1 ", "i=1;", "i=1x", "ns=65536;i=1", "ns=;i=1", "ns=1i=1", "ns=1",
        "ns=1;", "ns=-1;i=1", "ns=a;i=1", "nsu=urn:x;i=1", "I=5", "x=1", "s=", "ns=1;s=",
        "g=09087e75-8e5e-499b-954f-f2a9603db28", "g=09087e75-8e5e-499b-954f-f2a9603db28aa",
        "g=09087e75x8e5e-499b-954f-f2a9603db28a", "g=09087e75-8e5e-499b-954f-f2a9603db2zz",
        "g={09087e75-8e5e-499b-954f-f2a9603db28a}", "b=", "b=A", "b=AAE", "b=AB==", "b=AAF=",
        "b=A===", "b=AA=A", "b=AA AA", "b=AAEC=", "b=====", "b=AA-_", "ns=1;ns=2;i=3",
        " i=1", "i=1\n",
    };
    size_t i;

    (void)state;
    assert_int_equal(uamsg_put_nodeid_text(NULL, NULL), 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        UA_WBUF w;

        uab_w_init(&w, 0);
        if (uamsg_put_nodeid_text(&w, bad[i]))
            fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(w.len, 0);
        uab_w_free(&w);
    }
}

/* ==== decoding helpers ================================================== */

/* The text of a DataValue holding the Variant |variant| (pattern). */
static char *variant_text(const char *variant, UA_VARIANT *facts)
{
    size_t n;
    char *spec = malloc(strlen(variant) + 4);
    unsigned char *b;
    UA_RBUF r;
    UA_DATAVALUE dv;
    char *out;

    assert_non_null(spec);
    sprintf(spec, "01 %s", variant);
    b = bytes_of(spec, &n);
    free(spec);
    uab_r_init(&r, b, n);
    uamsg_get_datavalue(&r, &dv);
    if (r.err) {
        free(b);
        return NULL;
    }
    assert_int_equal(r.pos, n);
    assert_true(dv.has_value);
    assert_non_null(dv.value.text);
    out = strdup(dv.value.text);
    assert_non_null(out);
    if (facts != NULL) {
        *facts = dv.value;
        facts->text = NULL;
    }
    uamsg_free_datavalue(&dv);
    free(b);
    return out;
}

static void expect_text(const char *variant, const char *want)
{
    char *got = variant_text(variant, NULL);

    if (got == NULL)
        fail_msg("variant %s: decode failed", variant);
    if (strcmp(got, want) != 0)
        fail_msg("variant %s: got [%s], want [%s]", variant, got, want);
    free(got);
}

static void expect_variant_error(const char *variant)
{
    char *got = variant_text(variant, NULL);

    if (got != NULL)
        fail_msg("variant %s decoded as [%s]", variant, got);
}

/* NodeId text -> binary -> Variant text: the same text comes back (the
 * text form always names the namespace). */
static void test_nodeid_text_roundtrip(void **state)
{
    static const char *const ids[] = {
        "ns=0;i=85", "ns=2;i=1000", "ns=5;i=1000000", "ns=65535;i=4294967295",
        "ns=1;s=Some.Name", "ns=4;g=09087e75-8e5e-499b-954f-f2a9603db28a", "ns=3;b=AAEC",
        "ns=3;b=/+8=",
    };
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        UA_WBUF w;
        char hex[256] = "11 ";
        char *got;

        uab_w_init(&w, 0);
        assert_int_equal(uamsg_put_nodeid_text(&w, ids[i]), 1);
        for (j = 0; j < w.len; j++)
            sprintf(hex + strlen(hex), "%02x", w.data[j]);
        got = variant_text(hex, NULL);
        assert_non_null(got);
        assert_string_equal(got, ids[i]);
        free(got);
        uab_w_free(&w);
    }
}

/* ==== Variant rendering ================================================= */

static void test_variant_scalars(void **state)
{
    UA_VARIANT v;
    char *s;

    (void)state;
    expect_text("00", "null");
    expect_text("01 01", "true");
    expect_text("01 00", "false");
    expect_text("01 07", "true");
    expect_text("02 fb", "-5");
    expect_text("03 c8", "200");
    expect_text("04 d4fe", "-300");
    expect_text("05 60ea", "60000");
    expect_text("06 f9ffffff", "-7");
    expect_text("07 00286bee", "4000000000");
    expect_text("08 00e68ee7fdffffff", "-9000000000");
    expect_text("09 ffffffffffffffff", "18446744073709551615");
    expect_text("0a 0000c03f", "1.5");
    expect_text("0a cdcccc3d", "0.1");
    expect_text("0b 9a9999999999b93f", "0.1");
    expect_text("0b 9c7500883ce4377e", "1e+300");
    expect_text("0b 0000000000000000", "0");
    expect_text("0c 03000000 'a\"b'", "\"a\\\"b\"");
    expect_text("0c ffffffff", "null");
    expect_text("0c 00000000", "\"\"");
    expect_text("0d " HEX_T1, "2026-11-26T10:00:01.456Z");
    expect_text("0d 0000000000000000", "(none)");
    expect_text("0e 757e0809 5e8e 9b49 954ff2a9603db28a", "09087e75-8e5e-499b-954f-f2a9603db28a");
    expect_text("0f 03000000 0001fe", "0x0001fe (3 bytes)");
    expect_text("0f 01000000 ff", "0xff (1 byte)");
    expect_text("0f ffffffff", "null");
    expect_text("0f 00000000", "(0 bytes)");
    expect_text("10 04000000 '<a/>'", "\"<a/>\"");
    expect_text("11 00 55", "ns=0;i=85");
    expect_text("11 01 02 e803", "ns=2;i=1000");
    expect_text("11 02 0500 40420f00", "ns=5;i=1000000");
    expect_text("11 03 0100 09000000 'Some.Name'", "ns=1;s=Some.Name");
    expect_text("11 03 0000 03000000 611b62", "ns=0;s=a\\x1bb");
    expect_text("11 04 0200 757e0809 5e8e 9b49 954ff2a9603db28a",
                "ns=2;g=09087e75-8e5e-499b-954f-f2a9603db28a");
    expect_text("11 05 0300 03000000 000102", "ns=3;b=AAEC");
    expect_text("12 00 55", "ns=0;i=85");
    expect_text("12 c0 55 05000000 'urn:x' 02000000", "nsu=urn:x;svr=2;ns=0;i=85");
    expect_text("12 83 0100 03000000 'abc' 05000000 'urn:y'", "nsu=urn:y;ns=1;s=abc");
    expect_text("12 41 01 e803 07000000", "svr=7;ns=1;i=1000");
    expect_text("13 00003480", "0x80340000");
    expect_text("13 00000000", "0x00000000");
    expect_text("14 0200 01000000 'Q'", "2:Q");
    expect_text("15 03 02000000 'en' 05000000 'Hello'", "\"Hello\"");
    expect_text("15 02 05000000 'Hello'", "\"Hello\"");
    expect_text("15 01 02000000 'en'", "\"\"");
    expect_text("15 00", "\"\"");
    expect_text("16 01006003 01 04000000 01020304", "ExtensionObject ns=0;i=864 (4 bytes)");
    expect_text("16 01006003 02 03000000 '<a>'", "ExtensionObject ns=0;i=864 (XML, 3 bytes)");
    expect_text("16 0000 00", "ExtensionObject ns=0;i=0 (no body)");
    expect_text("17 03 06 05000000 00003480", "DataValue{5, status 0x80340000}");
    expect_text("17 00", "DataValue{no value}");
    expect_text("19 21 05000000 00000a80", "DiagnosticInfo");
    /* reserved ids 26..31 are read as ByteString (OPC 10000-6 5.2.2.16) */
    expect_text("1a 02000000 abcd", "0xabcd (2 bytes)");
    expect_text("1f 00000000", "(0 bytes)");

    s = variant_text("07 05000000", &v);
    assert_string_equal(s, "5");
    assert_int_equal(v.type, 7);
    assert_false(v.is_array);
    free(s);

    /* malformed: flags on a null Variant, dimensions without an array, a
     * Variant directly inside a Variant, bad ExtensionObject encoding,
     * NodeId with ExpandedNodeId flags */
    expect_variant_error("40");
    expect_variant_error("80 00000000");
    expect_variant_error("46 05000000 01000000 01000000");
    expect_variant_error("18 06 01000000");
    expect_variant_error("16 0000 03");
    expect_variant_error("11 80 00");
    expect_variant_error("11 06 00");
    expect_variant_error("0c feffffff");
}

static void test_variant_arrays(void **state)
{
    UA_VARIANT v;
    char *s;

    (void)state;
    s = variant_text("86 03000000 01000000 02000000 03000000", &v);
    assert_string_equal(s, "[3 elements: 1, 2, 3]");
    assert_int_equal(v.type, 6);
    assert_true(v.is_array);
    assert_int_equal(v.array_len, 3);
    free(s);
    expect_text("86 01000000 07000000", "[1 element: 7]");
    expect_text("86 00000000", "[0 elements]");
    expect_text("86 ffffffff", "[0 elements]");
    expect_text("83 0a000000 0102030405060708090a", "[10 elements: 1, 2, 3, 4, 5, 6, 7, 8, " ELL "]");
    expect_text("83 09000000 010203040506070809", "[9 elements: 1, 2, 3, 4, 5, 6, 7, 8, " ELL "]");
    expect_text("83 08000000 0102030405060708", "[8 elements: 1, 2, 3, 4, 5, 6, 7, 8]");
    expect_text("c3 06000000 010203040506 02000000 02000000 03000000",
                "[6 elements: 1, 2, 3, 4, 5, 6] (2x3)");
    expect_text("98 02000000 05 0700 0c 01000000 'x'", "[2 elements: 7, \"x\"]");
    expect_text("8c 02000000 01000000 'a' ffffffff", "[2 elements: \"a\", null]");
    expect_text("8d 01000000 " HEX_T0, "[1 element: 2026-11-26T10:00:00.000Z]");
    expect_text("97 01000000 01 06 05000000", "[1 element: DataValue{5}]");
    expect_text("96 01000000 0000 00", "[1 element: ExtensionObject ns=0;i=0 (no body)]");
    expect_text("9a 01000000 01000000 ee", "[1 element: 0xee (1 byte)]");
    /* arrays of Variants may nest (each level one deeper) */
    expect_text("98 01000000 98 01000000 06 2a000000", "[1 element: [1 element: 42]]");
    /* counts beyond the bytes left */
    expect_variant_error("86 02000000 01000000");
    expect_variant_error("86 ffffff7f 01000000");
    expect_variant_error("86 feffffff");
    expect_variant_error("8e 01000000 00");
    expect_variant_error("c3 01000000 01 ffffff7f");
}

static void test_variant_escaping(void **state)
{
    static char big[8192];
    char *s;
    char want[2048];
    size_t i;

    (void)state;
    expect_text("0c 09000000 'a' 0a 'b' 09 'c' 01 7f 0d 5c", "\"a\\nb\\tc\\x01\\x7f\\r\\\\\"");
    /* invalid UTF-8, overlong form, surrogate, truncated sequence */
    expect_text("0c 02000000 ffc3", "\"\\xff\\xc3\"");
    expect_text("0c 02000000 c0af", "\"\\xc0\\xaf\"");
    expect_text("0c 03000000 eda080", "\"\\xed\\xa0\\x80\"");
    expect_text("0c 03000000 f49080", "\"\\xf4\\x90\\x80\"");
    expect_text("0c 04000000 f4908080", "\"\\xf4\\x90\\x80\\x80\"");
    /* terminal and bidi controls escaped, ordinary UTF-8 kept */
    expect_text("0c 02000000 c29b", "\"\\u{009b}\"");
    expect_text("0c 03000000 e280ae", "\"\\u{202e}\"");
    expect_text("0c 03000000 efbbbf", "\"\\u{feff}\"");
    expect_text("0c 02000000 c3bc", "\"\xc3\xbc\"");
    expect_text("0c 04000000 f09f9982", "\"\xf0\x9f\x99\x82\"");
    expect_text("0c 03000000 e282ac", "\"\xe2\x82\xac\"");
    /* LocalizedText, QualifiedName, ExtensionObject TypeId strings too */
    expect_text("15 02 02000000 1b5b", "\"\\x1b[\"");
    expect_text("14 0000 02000000 1b5b", "0:\\x1b[");
    expect_text("16 03 0000 01000000 07 00", "ExtensionObject ns=0;s=\\x07 (no body)");

    /* a long string: 256 characters, then the ellipsis */
    strcpy(big, "0c 2c010000 '");
    for (i = 0; i < 300; i++)
        strcat(big, "a");
    strcat(big, "'");
    strcpy(want, "\"");
    for (i = 0; i < 256; i++)
        strcat(want, "a");
    strcat(want, ELL "\"");
    expect_text(big, want);

    /* the whole text stops near 2 KiB: 8 shown strings of 255 characters */
    strcpy(big, "8c 08000000");
    for (i = 0; i < 8; i++) {
        size_t k;

        strcat(big, " ff000000 '");
        for (k = 0; k < 255; k++)
            strcat(big, "b");
        strcat(big, "'");
    }
    s = variant_text(big, NULL);
    assert_non_null(s);
    assert_true(strlen(s) <= 2048 + strlen(ELL));
    assert_true(strlen(s) > 1900);
    assert_string_equal(s + strlen(s) - strlen(ELL), ELL);
    assert_memory_equal(s, "[8 elements: \"bbb", 16);
    free(s);
}

static void test_printable(void **state)
{
    char *s;

    (void)state;
    assert_null(uamsg_printable(NULL, 10));
    s = uamsg_printable("urn:x \x1b[31m\xe2\x80\xae\xc3\xbc\xff", 100);
    assert_string_equal(s, "urn:x \\x1b[31m\\u{202e}\xc3\xbc\\xff");
    free(s);
    s = uamsg_printable("abcdef", 3);
    assert_string_equal(s, "abc" ELL);
    free(s);
    s = uamsg_printable("", 3);
    assert_string_equal(s, "");
    free(s);
}

/* ==== depth and count limits ============================================ */

static unsigned char *repeat(const char *head, size_t times, const char *tail, size_t *len)
{
    PAT h = pat(head), t = pat(tail);
    unsigned char *b = malloc(h.len * times + t.len + 1);
    size_t i;

    assert_non_null(b);
    for (i = 0; i < times; i++)
        memcpy(b + i * h.len, h.b, h.len);
    memcpy(b + times * h.len, t.b, t.len);
    *len = h.len * times + t.len;
    pat_free(&h);
    pat_free(&t);
    return b;
}

static int skip_ok(void (*skipper)(UA_RBUF *), const unsigned char *b, size_t n)
{
    UA_RBUF r;

    uab_r_init(&r, b, n);
    skipper(&r);
    return !r.err && r.pos == n;
}

static void test_depth_limits(void **state)
{
    unsigned char *b;
    size_t n;
    UA_RBUF r;
    UA_DATAVALUE dv;

    (void)state;
    /* DiagnosticInfo: 16 levels pass, 17 fail */
    b = repeat("40", 15, "00", &n);
    assert_true(skip_ok(uamsg_skip_diaginfo, b, n));
    free(b);
    b = repeat("40", 16, "00", &n);
    assert_false(skip_ok(uamsg_skip_diaginfo, b, n));
    free(b);
    b = repeat("60 00000a80", 15, "20 00000a80", &n);
    assert_true(skip_ok(uamsg_skip_diaginfo, b, n));
    free(b);

    /* Variant arrays of Variants: 16 levels pass, 17 fail */
    b = repeat("98 01000000", 15, "06 01000000", &n);
    assert_true(skip_ok(uamsg_skip_variant, b, n));
    free(b);
    b = repeat("98 01000000", 16, "06 01000000", &n);
    assert_false(skip_ok(uamsg_skip_variant, b, n));
    free(b);

    /* a DataValue is one level: its Variant chain may be 15 deep */
    b = repeat("98 01000000", 14, "06 01000000", &n);
    b[0] = 0x98;
    {
        unsigned char *dvb = malloc(n + 1);

        assert_non_null(dvb);
        dvb[0] = 0x01;
        memcpy(dvb + 1, b, n);
        uab_r_init(&r, dvb, n + 1);
        uamsg_get_datavalue(&r, &dv);
        assert_false(r.err);
        assert_string_equal(dv.value.text, "[1 element: [1 element: [1 element: [1 element: "
                            "[1 element: [1 element: [1 element: [1 element: [1 element: "
                            "[1 element: [1 element: [1 element: [1 element: [1 element: "
                            "1]]]]]]]]]]]]]]");
        uamsg_free_datavalue(&dv);
        free(dvb);
    }
    free(b);
    b = repeat("98 01000000", 15, "06 01000000", &n);
    {
        unsigned char *dvb = malloc(n + 1);

        assert_non_null(dvb);
        dvb[0] = 0x01;
        memcpy(dvb + 1, b, n);
        uab_r_init(&r, dvb, n + 1);
        uamsg_get_datavalue(&r, &dv);
        assert_true(r.err);
        assert_null(dv.value.text);
        free(dvb);
    }
    free(b);

    /* Variant -> DataValue -> Variant ... alternating: 16 levels, the last
     * a DataValue without value; then 17, the last a null Variant */
    b = repeat("97 01000000 01", 7, "97 01000000 00", &n);
    assert_true(skip_ok(uamsg_skip_variant, b, n));
    free(b);
    b = repeat("97 01000000 01", 8, "00", &n);
    assert_false(skip_ok(uamsg_skip_variant, b, n));
    free(b);

    /* very deep input ends at the limit, not in a stack overflow */
    b = repeat("40", 200000, "00", &n);
    assert_false(skip_ok(uamsg_skip_diaginfo, b, n));
    free(b);
    b = repeat("98 01000000", 100000, "00", &n);
    assert_false(skip_ok(uamsg_skip_variant, b, n));
    free(b);

    /* the ExtensionObject skip */
    b = bytes_of("01006003 01 02000000 abcd", &n);
    assert_true(skip_ok(uamsg_skip_extobj, b, n));
    free(b);
    b = bytes_of("01006003 01 03000000 abcd", &n);
    assert_false(skip_ok(uamsg_skip_extobj, b, n));
    free(b);
}

/* A ReadResponse whose results count is |count|, followed by |have|
 * empty DataValues and an empty diagnosticInfos array. */
static unsigned char *read_resp_with(int32_t count, size_t have, size_t *len)
{
    UA_WBUF w;
    size_t i;
    unsigned char *b, *hdr;
    size_t hn;

    hdr = bytes_of("01007a02 " RESPHDR("01000000", "00000000"), &hn);
    uab_w_init(&w, 0);
    uab_put_raw(&w, hdr, hn);
    uab_put_i32(&w, count);
    for (i = 0; i < have; i++)
        uab_put_u8(&w, 0x00);
    uab_put_i32(&w, 0);
    assert_false(w.err);
    free(hdr);
    b = malloc(w.len);
    assert_non_null(b);
    memcpy(b, w.data, w.len);
    *len = w.len;
    uab_w_free(&w);
    return b;
}

static void test_count_limits(void **state)
{
    unsigned char *b;
    size_t n;
    UA_RBUF r;
    UA_READ_RESP rr;
    UA_GETENDPOINTS_RESP ge;

    (void)state;
    b = read_resp_with(4096, 4096, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_read(&r, &rr), 1);
    assert_int_equal(rr.n_results, 4096);
    assert_false(rr.results[4095].has_value);
    uamsg_free_read(&rr);
    free(b);

    /* more results than we keep in memory */
    b = read_resp_with(4097, 4097, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_read(&r, &rr), 0);
    assert_null(rr.results);
    free(b);

    /* counts beyond the bytes left, negative counts */
    b = read_resp_with(0x7fffffff, 3, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_read(&r, &rr), 0);
    free(b);
    b = read_resp_with(-2, 0, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_read(&r, &rr), 0);
    free(b);
    b = read_resp_with(-1, 0, &n);         /* the null array: no results */
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_read(&r, &rr), 1);
    assert_int_equal(rr.n_results, 0);
    uamsg_free_read(&rr);
    free(b);

    /* 1000 endpoint slots claimed, 50 bytes each would be needed */
    b = bytes_of("0100af01 " RESPHDR("01000000", "00000000") "e8030000 00000000 00000000", &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_getendpoints(&r, &ge), 0);
    assert_null(ge.endpoints);
    free(b);
}

/* ==== hand-computed responses =========================================== */

/* ServiceFault: BadSessionIdInvalid, handle 5. */
static const char hv_servicefault[] = "01008d01 " RESPHDR("05000000", "00002580");

/* OpenSecureChannelResponse: protocol 0, channel 0x11223344, token 2,
 * createdAt T0, revisedLifetime 3600000, nonce 4 bytes. */
static const char hv_opn[] =
    "0100c101 " RESPHDR("01000000", "00000000")
    "00000000 44332211 02000000 " HEX_T0 " 80ee3600 04000000 cafebabe";

#define POLICY_NONE "http://opcfoundation.org/UA/SecurityPolicy#None"
#define POLICY_B256 "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256"

/* GetEndpointsResponse, two endpoints:
 *  1: None, no certificate, one anonymous token, transport null, level 0;
 *  2: SignAndEncrypt Basic256Sha256, a 3-byte certificate, anonymous and
 *     UserName (with its own policy) tokens, level 5. */
static const char hv_getendpoints[] =
    "0100af01 " RESPHDR("02000000", "00000000")
    "02000000 "
    /* endpoint 1 */
    "0d000000 'opc.tcp://h:1' "
    /*   server: applicationUri, productUri null, name {locale, text}, Server,
     *   gateway null, discoveryProfile null, discoveryUrls [1] */
    "05000000 'urn:s' ffffffff 03 02000000 'en' 01000000 'S' 00000000 ffffffff ffffffff "
    "01000000 0d000000 'opc.tcp://h:1' "
    /*   serverCertificate null, None, policy */
    "ffffffff 01000000 2f000000 '" POLICY_NONE "' "
    /*   userIdentityTokens [1]: {"a", Anonymous, null, null, null} */
    "01000000 01000000 'a' 00000000 ffffffff ffffffff ffffffff "
    /*   transportProfileUri null, securityLevel 0 */
    "ffffffff 00 "
    /* endpoint 2 */
    "0d000000 'opc.tcp://h:1' "
    "05000000 'urn:s' 01000000 'p' 02 01000000 'S' 00000000 ffffffff ffffffff ffffffff "
    "03000000 010203 03000000 39000000 '" POLICY_B256 "' "
    "02000000 01000000 'a' 00000000 ffffffff ffffffff ffffffff "
    "01000000 'u' 01000000 ffffffff ffffffff 39000000 '" POLICY_B256 "' "
    "04000000 'uatc' 05";

/* CreateSessionResponse: sessionId ns=1;i=1001, authenticationToken an
 * opaque ns=0 ByteString NodeId of 16 bytes, revisedSessionTimeout 60000,
 * serverNonce 32 bytes, serverCertificate 3 bytes, no endpoints, one
 * SignedSoftwareCertificate, serverSignature, maxRequestMessageSize 65536. */
#define AUTH_TOKEN "05 0000 10000000 000102030405060708090a0b0c0d0e0f"
static const char hv_createsession[] =
    "0100d001 " RESPHDR("03000000", "00000000")
    "0101e903 " AUTH_TOKEN " 00000000004ced40 "
    "20000000 1111111111111111111111111111111111111111111111111111111111111111 "
    "03000000 aabbcc 00000000 "
    "01000000 01000000 01 ffffffff "
    "31000000 '" SHA256_ALG "' 02000000 beef "
    "00000100";

/* ActivateSessionResponse: nonce 2 bytes, results [Good], null
 * diagnosticInfos. */
static const char hv_activatesession[] =
    "0100d601 " RESPHDR("04000000", "00000000") "02000000 abcd 01000000 00000000 ffffffff";

/* ReadResponse: one DataValue {DateTime T1, source T1, server T0}. */
static const char hv_read[] =
    "01007a02 " RESPHDR("06000000", "00000000")
    "01000000 0d 0d " HEX_T1 " " HEX_T1 " " HEX_T0 " 00000000";

static const char hv_closesession[] = "0100dc01 " RESPHDR("07000000", "00000000");

/* ==== node-opcua 2.186.4 vectors (tests/interop/uamsg_vectors.mjs encode) ==== */

static const char nv_getendpoints[] =
    "0100af01b09427e68c7ddd010100000000000000000000000000000002000000180000006f70632e7463703a2f2f3132"
    "372e302e302e313a343834300f00000075726e3a746573743a7365727665721000000075726e3a746573743a70726f64"
    "756374020b000000546573742053657276657200000000ffffffffffffffff01000000180000006f70632e7463703a2f"
    "2f3132372e302e302e313a343834300600000030820102aabb010000002f000000687474703a2f2f6f7063666f756e64"
    "6174696f6e2e6f72672f55412f5365637572697479506f6c696379234e6f6e650200000004000000616e6f6e00000000"
    "000000000000000000000000040000007573657201000000000000000000000039000000687474703a2f2f6f7063666f"
    "756e646174696f6e2e6f72672f55412f5365637572697479506f6c696379234261736963323536536861323536410000"
    "00687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412d50726f66696c652f5472616e73706f72742f75"
    "617463702d756173632d756162696e61727900180000006f70632e7463703a2f2f3132372e302e302e313a343834300f"
    "00000075726e3a746573743a7365727665721000000075726e3a746573743a70726f64756374020b0000005465737420"
    "53657276657200000000ffffffffffffffff01000000180000006f70632e7463703a2f2f3132372e302e302e313a3438"
    "34300600000030820102aabb0300000039000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412f"
    "5365637572697479506f6c6963792342617369633235365368613235360200000004000000616e6f6e00000000000000"
    "000000000000000000040000007573657201000000000000000000000039000000687474703a2f2f6f7063666f756e64"
    "6174696f6e2e6f72672f55412f5365637572697479506f6c696379234261736963323536536861323536410000006874"
    "74703a2f2f6f7063666f756e646174696f6e2e6f72672f55412d50726f66696c652f5472616e73706f72742f75617463"
    "702d756173632d756162696e61727903";
static const char nv_opn[] =
    "0100c101b09427e68c7ddd0102000000000000000000000000000000000000000700000009000000b09427e68c7ddd01"
    "c0270900200000005a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";
static const char nv_createsession[] =
    "0100d001b09427e68c7ddd01030000000000000000000000000000000101e90305000020000000000102030405060708"
    "090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00000000004ced402000000011111111111111111111111111"
    "11111111111111111111111111111111111111040000003082000101000000180000006f70632e7463703a2f2f313237"
    "2e302e302e313a343834300f00000075726e3a746573743a7365727665721000000075726e3a746573743a70726f6475"
    "6374020b000000546573742053657276657200000000ffffffffffffffff01000000180000006f70632e7463703a2f2f"
    "3132372e302e302e313a343834300600000030820102aabb0200000039000000687474703a2f2f6f7063666f756e6461"
    "74696f6e2e6f72672f55412f5365637572697479506f6c69637923426173696332353653686132353602000000040000"
    "00616e6f6e00000000000000000000000000000000040000007573657201000000000000000000000039000000687474"
    "703a2f2f6f7063666f756e646174696f6e2e6f72672f55412f5365637572697479506f6c696379234261736963323536"
    "53686132353641000000687474703a2f2f6f7063666f756e646174696f6e2e6f72672f55412d50726f66696c652f5472"
    "616e73706f72742f75617463702d756173632d756162696e617279020100000003000000010203010000000431000000"
    "687474703a2f2f7777772e77332e6f72672f323030312f30342f786d6c647369672d6d6f7265237273612d7368613235"
    "3604000000deadbeef00000000";
static const char nv_activatesession[] =
    "0100d601b09427e68c7ddd01040000000000000000000000000000002000000022222222222222222222222222222222"
    "222222222222222222222222222222220200000000000000000034800100000011010000000100000078";
static const char nv_read_datetime[] =
    "01007a02b09427e68c7ddd0105000000000000000000000000000000010000003d0d00fbf2e68c7ddd0100fbf2e68c7d"
    "dd010a00b09427e68c7ddd01140000000000";
static const char nv_read_many[] =
    "01007a02b09427e68c7ddd01060000000000000000000000000000001000000001860a00000001000000020000000300"
    "00000400000005000000060000000700000008000000090000000a000000010c0b0000006122625c630a6407e280ae01"
    "150302000000656e0500000048656c6c6f011103010009000000536f6d652e4e616d65011402000100000051010f0300"
    "00000001fe010e757e08095e8e9b49954ff2a9603db28a011300003480010101010b9a9999999999b93f010a0000c03f"
    "0109ffffffffffffffff01c3060000000102030405060200000002000000030000000116010054010121000000010000"
    "0070010000006d010000006e01000000310100000032b09427e68c7ddd010198020000000507000c0100000078020000"
    "348000000000";
static const char nv_servicefault[] =
    "01008d01b09427e68c7ddd01070000000000258075000000000100000004000000676f6e6500000a8002000000000200"
    "00000700000053657373696f6e0f0000006e6f20737563682073657373696f6e000000";
static const char nv_closesession[] =
    "0100dc01b09427e68c7ddd0108000000000000000000000000000000";

/* node-opcua's ResponseHeader timestamp (its T0 has 123 ms). */
#define NV_T0 134401608001230000LL

/* ==== decoding every vector with every decoder ========================== */

enum {
    K_HDR, K_GETENDPOINTS, K_OPN, K_CREATESESSION, K_ACTIVATESESSION, K_READ, K_CLOSESESSION,
    K_DATAVALUE, K_SKIPS, K_COUNT
};

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        if (b[i] != 0)
            return 0;
    }
    return 1;
}

/* Decodes |n| bytes (copied to an exact-size buffer) with decoder |kind|;
 * returns its result after checking that a failure left the structure
 * zeroed.  Everything is freed. */
static int decode_kind(int kind, const unsigned char *src, size_t n)
{
    unsigned char *p = malloc(n ? n : 1);
    UA_RBUF r;
    int rc = 0;

    assert_non_null(p);
    memcpy(p, src, n);
    uab_r_init(&r, p, n);
    switch (kind) {
    case K_HDR: {
        UA_RESPHDR h;

        rc = uamsg_get_resphdr(&r, UA_ID_READ_RESP, &h);
        if (!rc)
            assert_true(all_zero(&h, sizeof(h)));
        break;
    }
    case K_GETENDPOINTS: {
        UA_GETENDPOINTS_RESP x;

        rc = uamsg_get_getendpoints(&r, &x);
        if (!rc)
            assert_true(all_zero(&x, sizeof(x)));
        uamsg_free_getendpoints(&x);
        break;
    }
    case K_OPN: {
        UA_OPN_RESP x;

        rc = uamsg_get_opensecurechannel(&r, &x);
        if (!rc)
            assert_true(all_zero(&x, sizeof(x)));
        uamsg_free_opensecurechannel(&x);
        break;
    }
    case K_CREATESESSION: {
        UA_CREATESESSION_RESP x;

        rc = uamsg_get_createsession(&r, &x);
        if (!rc)
            assert_true(all_zero(&x, sizeof(x)));
        uamsg_free_createsession(&x);
        break;
    }
    case K_ACTIVATESESSION: {
        UA_ACTIVATESESSION_RESP x;

        rc = uamsg_get_activatesession(&r, &x);
        if (!rc)
            assert_true(all_zero(&x, sizeof(x)));
        uamsg_free_activatesession(&x);
        break;
    }
    case K_READ: {
        UA_READ_RESP x;

        rc = uamsg_get_read(&r, &x);
        if (!rc)
            assert_true(all_zero(&x, sizeof(x)));
        uamsg_free_read(&x);
        break;
    }
    case K_CLOSESESSION: {
        UA_RESPHDR h;

        rc = uamsg_get_closesession(&r, &h);
        break;
    }
    case K_DATAVALUE: {
        UA_DATAVALUE dv;

        uamsg_get_datavalue(&r, &dv);
        rc = !r.err;
        if (!rc)
            assert_true(all_zero(&dv, sizeof(dv)));
        uamsg_free_datavalue(&dv);
        break;
    }
    case K_SKIPS: {
        UA_RBUF r2 = r, r3 = r;

        uamsg_skip_variant(&r);
        uamsg_skip_diaginfo(&r2);
        uamsg_skip_extobj(&r3);
        rc = !r.err;
        break;
    }
    default:
        fail();
    }
    assert_true(rc == 0 || rc == 1);
    free(p);
    return rc;
}

static const struct {
    const char *name, *hex;
    int kind;
} vectors[] = {
    { "hv_servicefault", hv_servicefault, K_READ },
    { "hv_opn", hv_opn, K_OPN },
    { "hv_getendpoints", hv_getendpoints, K_GETENDPOINTS },
    { "hv_createsession", hv_createsession, K_CREATESESSION },
    { "hv_activatesession", hv_activatesession, K_ACTIVATESESSION },
    { "hv_read", hv_read, K_READ },
    { "hv_closesession", hv_closesession, K_CLOSESESSION },
    { "nv_getendpoints", nv_getendpoints, K_GETENDPOINTS },
    { "nv_opn", nv_opn, K_OPN },
    { "nv_createsession", nv_createsession, K_CREATESESSION },
    { "nv_activatesession", nv_activatesession, K_ACTIVATESESSION },
    { "nv_read_datetime", nv_read_datetime, K_READ },
    { "nv_read_many", nv_read_many, K_READ },
    { "nv_servicefault", nv_servicefault, K_GETENDPOINTS },
    { "nv_closesession", nv_closesession, K_CLOSESESSION },
};
#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

static unsigned char *vec(const char *hex, size_t *len)
{
    return bytes_of(hex, len);
}

/* ==== response tests ==================================================== */

static void test_servicefault(void **state)
{
    size_t n;
    unsigned char *b = vec(hv_servicefault, &n);
    UA_RBUF r;
    UA_GETENDPOINTS_RESP ge;
    UA_CREATESESSION_RESP cs;
    UA_READ_RESP rr;
    UA_RESPHDR h;
    int k;

    (void)state;
    /* any response decoder accepts a ServiceFault and reports it */
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_getendpoints(&r, &ge), 1);
    assert_true(ge.hdr.service_fault);
    assert_int_equal(ge.hdr.result, 0x80250000u);
    assert_int_equal(ge.hdr.handle, 5);
    assert_int_equal(ge.hdr.timestamp, DT_T0);
    assert_null(ge.endpoints);
    uamsg_free_getendpoints(&ge);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_createsession(&r, &cs), 1);
    assert_true(cs.hdr.service_fault);
    assert_null(cs._buf);
    uamsg_free_createsession(&cs);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_read(&r, &rr), 1);
    assert_true(rr.hdr.service_fault);
    uamsg_free_read(&rr);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_closesession(&r, &h), 1);
    assert_true(h.service_fault);
    for (k = K_HDR; k <= K_CLOSESESSION; k++)
        assert_int_equal(decode_kind(k, b, n), 1);
    free(b);

    /* node-opcua's: diagnostics with an inner DiagnosticInfo, string table */
    b = vec(nv_servicefault, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_resphdr(&r, UA_ID_GETENDPOINTS_RESP, &h), 1);
    assert_true(h.service_fault);
    assert_int_equal(h.result, 0x80250000u);
    assert_int_equal(h.handle, 7);
    assert_int_equal(h.timestamp, NV_T0);
    assert_int_equal(r.pos, n);
    free(b);
}

static void test_wrong_type(void **state)
{
    size_t n;
    unsigned char *b = vec(hv_opn, &n);
    UA_RBUF r;
    UA_READ_RESP rr;

    (void)state;
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_read(&r, &rr), 0);
    assert_false(r.err);                   /* well-formed, just another message */
    assert_true(all_zero(&rr, sizeof(rr)));
    assert_int_equal(decode_kind(K_GETENDPOINTS, b, n), 0);
    assert_int_equal(decode_kind(K_CREATESESSION, b, n), 0);
    assert_int_equal(decode_kind(K_OPN, b, n), 1);
    free(b);
}

static void test_opn_response(void **state)
{
    size_t n;
    unsigned char *b = vec(hv_opn, &n);
    UA_RBUF r;
    UA_OPN_RESP o;

    (void)state;
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_opensecurechannel(&r, &o), 1);
    assert_false(o.hdr.service_fault);
    assert_int_equal(o.hdr.handle, 1);
    assert_int_equal(o.hdr.result, 0);
    assert_int_equal(o.server_protocol_version, 0);
    assert_int_equal(o.channel_id, 0x11223344u);
    assert_int_equal(o.token_id, 2);
    assert_int_equal(o.created_at, DT_T0);
    assert_int_equal(o.revised_lifetime_ms, 3600000);
    assert_int_equal(o.server_nonce.len, 4);
    assert_memory_equal(o.server_nonce.p, "\xca\xfe\xba\xbe", 4);
    assert_int_equal(r.pos, n);
    uamsg_free_opensecurechannel(&o);
    free(b);

    b = vec(nv_opn, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_opensecurechannel(&r, &o), 1);
    assert_int_equal(o.hdr.handle, 2);
    assert_int_equal(o.channel_id, 7);
    assert_int_equal(o.token_id, 9);
    assert_int_equal(o.created_at, NV_T0);
    assert_int_equal(o.revised_lifetime_ms, 600000);
    assert_int_equal(o.server_nonce.len, 32);
    assert_int_equal(o.server_nonce.p[31], 0x5a);
    uamsg_free_opensecurechannel(&o);
    free(b);
}

static void test_getendpoints_response(void **state)
{
    size_t n;
    unsigned char *b = vec(hv_getendpoints, &n);
    UA_RBUF r;
    UA_GETENDPOINTS_RESP ge;
    UA_ENDPOINT *e;

    (void)state;
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_getendpoints(&r, &ge), 1);
    assert_int_equal(r.pos, n);
    assert_int_equal(ge.hdr.handle, 2);
    assert_int_equal(ge.n_endpoints, 2);
    e = &ge.endpoints[0];
    assert_string_equal(e->endpoint_url, "opc.tcp://h:1");
    assert_string_equal(e->server.application_uri, "urn:s");
    assert_null(e->server.product_uri);
    assert_string_equal(e->server.application_name, "S");
    assert_int_equal(e->server.application_type, 0);
    assert_null(e->server.gateway_server_uri);
    assert_int_equal(e->server.n_discovery_urls, 1);
    assert_string_equal(e->server.discovery_urls[0], "opc.tcp://h:1");
    assert_null(e->server_certificate.p);
    assert_int_equal(e->security_mode, UA_MODE_NONE);
    assert_string_equal(e->security_policy_uri, POLICY_NONE);
    assert_int_equal(e->n_tokens, 1);
    assert_string_equal(e->tokens[0].policy_id, "a");
    assert_int_equal(e->tokens[0].token_type, UA_TOKEN_ANONYMOUS);
    assert_null(e->tokens[0].security_policy_uri);
    assert_null(e->transport_profile_uri);
    assert_int_equal(e->security_level, 0);
    e = &ge.endpoints[1];
    assert_string_equal(e->server.product_uri, "p");
    assert_int_equal(e->server.n_discovery_urls, 0);
    assert_int_equal(e->server_certificate.len, 3);
    assert_memory_equal(e->server_certificate.p, "\x01\x02\x03", 3);
    assert_int_equal(e->security_mode, UA_MODE_SIGNANDENCRYPT);
    assert_string_equal(e->security_policy_uri, POLICY_B256);
    assert_int_equal(e->n_tokens, 2);
    assert_string_equal(e->tokens[1].policy_id, "u");
    assert_int_equal(e->tokens[1].token_type, UA_TOKEN_USERNAME);
    assert_string_equal(e->tokens[1].security_policy_uri, POLICY_B256);
    assert_string_equal(e->transport_profile_uri, "uatc");
    assert_int_equal(e->security_level, 5);
    uamsg_free_getendpoints(&ge);
    free(b);

    b = vec(nv_getendpoints, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_getendpoints(&r, &ge), 1);
    assert_int_equal(r.pos, n);
    assert_int_equal(ge.n_endpoints, 2);
    e = &ge.endpoints[0];
    assert_string_equal(e->endpoint_url, "opc.tcp://127.0.0.1:4840");
    assert_string_equal(e->server.application_uri, "urn:test:server");
    assert_string_equal(e->server.product_uri, "urn:test:product");
    assert_string_equal(e->server.application_name, "Test Server");
    assert_int_equal(e->server.n_discovery_urls, 1);
    assert_int_equal(e->server_certificate.len, 6);
    assert_int_equal(e->security_mode, UA_MODE_NONE);
    assert_string_equal(e->security_policy_uri, POLICY_NONE);
    assert_int_equal(e->n_tokens, 2);
    assert_string_equal(e->tokens[0].policy_id, "anon");
    assert_int_equal(e->tokens[1].token_type, UA_TOKEN_USERNAME);
    assert_string_equal(e->tokens[1].security_policy_uri, POLICY_B256);
    assert_string_equal(e->transport_profile_uri,
                        "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary");
    e = &ge.endpoints[1];
    assert_int_equal(e->security_mode, UA_MODE_SIGNANDENCRYPT);
    assert_string_equal(e->security_policy_uri, POLICY_B256);
    assert_int_equal(e->security_level, 3);
    uamsg_free_getendpoints(&ge);
    free(b);
}

static void test_createsession_response(void **state)
{
    size_t n, tn;
    unsigned char *b = vec(hv_createsession, &n);
    unsigned char *tok = bytes_of(AUTH_TOKEN, &tn);
    UA_RBUF r;
    UA_CREATESESSION_RESP cs;
    UA_WBUF w;

    (void)state;
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_createsession(&r, &cs), 1);
    assert_int_equal(r.pos, n);
    /* the reader's buffer goes away: the NodeIds must not care */
    memset(b, 0xee, n);
    free(b);
    assert_true(uab_nodeid_is(&cs.session_id, 1, 1001));
    assert_int_equal(cs.session_id.rawlen, 4);
    assert_memory_equal(cs.session_id.raw, "\x01\x01\xe9\x03", 4);
    assert_int_equal(cs.auth_token.kind, UA_NODEID_BYTES);
    assert_int_equal(cs.auth_token.ns, 0);
    assert_int_equal(cs.auth_token.str.len, 16);
    assert_memory_equal(cs.auth_token.str.p, tok + 7, 16);
    assert_int_equal(cs.auth_token.rawlen, tn);
    assert_memory_equal(cs.auth_token.raw, tok, tn);
    uab_w_init(&w, 0);
    uab_put_nodeid(&w, &cs.auth_token);    /* how every later request echoes it */
    assert_int_equal(w.len, tn);
    assert_memory_equal(w.data, tok, tn);
    uab_w_free(&w);
    assert_true(cs.revised_timeout_ms == 60000.0);
    assert_int_equal(cs.server_nonce.len, 32);
    assert_int_equal(cs.server_certificate.len, 3);
    assert_int_equal(cs.n_endpoints, 0);
    assert_string_equal(cs.server_signature.algorithm, SHA256_ALG);
    assert_int_equal(cs.server_signature.signature.len, 2);
    assert_int_equal(cs.max_request_size, 65536);
    uamsg_free_createsession(&cs);
    free(tok);

    b = vec(nv_createsession, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_createsession(&r, &cs), 1);
    assert_int_equal(r.pos, n);
    free(b);
    assert_true(uab_nodeid_is(&cs.session_id, 1, 1001));
    assert_int_equal(cs.auth_token.kind, UA_NODEID_BYTES);
    assert_int_equal(cs.auth_token.str.len, 32);
    assert_int_equal(cs.auth_token.str.p[31], 0x1f);
    assert_int_equal(cs.server_nonce.len, 32);
    assert_int_equal(cs.server_certificate.len, 4);
    assert_int_equal(cs.n_endpoints, 1);
    assert_int_equal(cs.endpoints[0].security_mode, UA_MODE_SIGN);
    assert_int_equal(cs.endpoints[0].security_level, 2);
    assert_string_equal(cs.server_signature.algorithm, SHA256_ALG);
    assert_memory_equal(cs.server_signature.signature.p, "\xde\xad\xbe\xef", 4);
    assert_int_equal(cs.max_request_size, 0);
    uamsg_free_createsession(&cs);
}

static void test_activatesession_response(void **state)
{
    size_t n;
    unsigned char *b = vec(hv_activatesession, &n);
    UA_RBUF r;
    UA_ACTIVATESESSION_RESP as;

    (void)state;
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_activatesession(&r, &as), 1);
    assert_int_equal(r.pos, n);
    assert_int_equal(as.server_nonce.len, 2);
    assert_int_equal(as.n_results, 1);
    assert_int_equal(as.results[0], 0);
    uamsg_free_activatesession(&as);
    free(b);

    b = vec(nv_activatesession, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_activatesession(&r, &as), 1);
    assert_int_equal(r.pos, n);
    assert_int_equal(as.server_nonce.len, 32);
    assert_int_equal(as.n_results, 2);
    assert_int_equal(as.results[1], 0x80340000u);
    uamsg_free_activatesession(&as);
    free(b);
}

static void test_read_response(void **state)
{
    size_t n;
    unsigned char *b = vec(hv_read, &n);
    UA_RBUF r;
    UA_READ_RESP rr;
    static const char *const many[] = {
        "[10 elements: 1, 2, 3, 4, 5, 6, 7, 8, " ELL "]",
        "\"a\\\"b\\\\c\\nd\\x07\\u{202e}\"",
        "\"Hello\"",
        "ns=1;s=Some.Name",
        "2:Q",
        "0x0001fe (3 bytes)",
        "09087e75-8e5e-499b-954f-f2a9603db28a",
        "0x80340000",
        "true",
        "0.1",
        "1.5",
        "18446744073709551615",
        "[6 elements: 1, 2, 3, 4, 5, 6] (2x3)",
        "ExtensionObject ns=0;i=340 (33 bytes)",
        "[2 elements: 7, \"x\"]",
    };
    size_t i;

    (void)state;
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_read(&r, &rr), 1);
    assert_int_equal(r.pos, n);
    assert_int_equal(rr.hdr.handle, 6);
    assert_int_equal(rr.n_results, 1);
    assert_true(rr.results[0].has_value);
    assert_int_equal(rr.results[0].value.type, 13);
    assert_string_equal(rr.results[0].value.text, "2026-11-26T10:00:01.456Z");
    assert_int_equal(rr.results[0].status, 0);
    assert_int_equal(rr.results[0].source_timestamp, DT_T1);
    assert_int_equal(rr.results[0].server_timestamp, DT_T0);
    uamsg_free_read(&rr);
    free(b);

    /* node-opcua's, with picoseconds on both timestamps */
    b = vec(nv_read_datetime, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_read(&r, &rr), 1);
    assert_int_equal(r.pos, n);
    assert_string_equal(rr.results[0].value.text, "2026-11-26T10:00:01.456Z");
    assert_int_equal(rr.results[0].source_timestamp, DT_T1);
    assert_int_equal(rr.results[0].server_timestamp, NV_T0);
    uamsg_free_read(&rr);
    free(b);

    b = vec(nv_read_many, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_read(&r, &rr), 1);
    assert_int_equal(r.pos, n);
    assert_int_equal(rr.n_results, 16);
    for (i = 0; i < sizeof(many) / sizeof(many[0]); i++) {
        assert_true(rr.results[i].has_value);
        if (strcmp(rr.results[i].value.text, many[i]) != 0)
            fail_msg("result %zu: [%s], want [%s]", i, rr.results[i].value.text, many[i]);
    }
    assert_false(rr.results[15].has_value);
    assert_null(rr.results[15].value.text);
    assert_int_equal(rr.results[15].status, 0x80340000u);
    uamsg_free_read(&rr);
    free(b);
}

static void test_closesession_response(void **state)
{
    size_t n;
    unsigned char *b = vec(hv_closesession, &n);
    UA_RBUF r;
    UA_RESPHDR h;

    (void)state;
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_closesession(&r, &h), 1);
    assert_false(h.service_fault);
    assert_int_equal(h.handle, 7);
    free(b);
    b = vec(nv_closesession, &n);
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_closesession(&r, &h), 1);
    assert_int_equal(h.handle, 8);
    free(b);
}

/* Free functions: NULL, a zeroed structure and a second call are fine. */
static void test_free_twice(void **state)
{
    size_t n;
    unsigned char *b = vec(nv_createsession, &n);
    UA_RBUF r;
    UA_CREATESESSION_RESP cs;
    UA_GETENDPOINTS_RESP ge;
    UA_OPN_RESP o;
    UA_ACTIVATESESSION_RESP as;
    UA_READ_RESP rr;
    UA_DATAVALUE dv;
    UA_ENDPOINT e;
    UA_APPDESC a;

    (void)state;
    uab_r_init(&r, b, n);
    assert_int_equal(uamsg_get_createsession(&r, &cs), 1);
    uamsg_free_createsession(&cs);
    assert_true(all_zero(&cs, sizeof(cs)));
    uamsg_free_createsession(&cs);
    free(b);
    memset(&ge, 0, sizeof(ge));
    memset(&o, 0, sizeof(o));
    memset(&as, 0, sizeof(as));
    memset(&rr, 0, sizeof(rr));
    memset(&dv, 0, sizeof(dv));
    memset(&e, 0, sizeof(e));
    memset(&a, 0, sizeof(a));
    uamsg_free_getendpoints(&ge);
    uamsg_free_opensecurechannel(&o);
    uamsg_free_activatesession(&as);
    uamsg_free_read(&rr);
    uamsg_free_datavalue(&dv);
    uamsg_free_endpoint(&e);
    uamsg_free_appdesc(&a);
    uamsg_free_endpoints(NULL, 3);
    uamsg_free_getendpoints(NULL);
    uamsg_free_createsession(NULL);
    uamsg_free_opensecurechannel(NULL);
    uamsg_free_activatesession(NULL);
    uamsg_free_read(NULL);
    uamsg_free_datavalue(NULL);
    uamsg_free_endpoint(NULL);
    uamsg_free_appdesc(NULL);
}

/* ==== hostile input ===================================================== */

static void test_truncations(void **state)
{
    size_t v, len, cut;
    int k;

    (void)state;
    for (v = 0; v < N_VECTORS; v++) {
        unsigned char *b = vec(vectors[v].hex, &len);

        if (decode_kind(vectors[v].kind, b, len) != 1)
            fail_msg("%s does not decode", vectors[v].name);
        for (cut = 0; cut < len; cut++) {
            if (decode_kind(vectors[v].kind, b, cut) != 0)
                fail_msg("%s cut at %zu/%zu decodes", vectors[v].name, cut, len);
            for (k = 0; k < K_COUNT; k++)
                (void)decode_kind(k, b, cut);
        }
        free(b);
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_bitflips(void **state)
{
    static const uint32_t lengths[] = {
        0xffffffffu, 0xfffffffeu, 0x7fffffffu, 0x80000000u, 0x0000ffffu, 0, 1, 2, 16, 4096, 4097,
    };
    size_t v, len, i;
    int iter, k, accepted = 0, rejected = 0;

    (void)state;
    for (v = 0; v < N_VECTORS; v++) {
        unsigned char *orig = vec(vectors[v].hex, &len);
        unsigned char *b = malloc(len);

        assert_non_null(b);
        for (iter = 0; iter < 2500; iter++) {
            int flips = 1 + (int)(rng() % 3);

            memcpy(b, orig, len);
            for (i = 0; i < (size_t)flips; i++) {
                size_t bit = (size_t)(rng() % (len * 8));

                b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            }
            if (decode_kind(vectors[v].kind, b, len))
                accepted++;
            else
                rejected++;
            if (iter % 10 == 0) {
                for (k = 0; k < K_COUNT; k++)
                    (void)decode_kind(k, b, len);
            }
        }
        /* a length or count somewhere replaced by an extreme value */
        for (iter = 0; iter < 600; iter++) {
            size_t at = len >= 4 ? (size_t)(rng() % (len - 3)) : 0;
            uint32_t val = lengths[rng() % (sizeof(lengths) / sizeof(lengths[0]))];

            memcpy(b, orig, len);
            if (len >= 4) {
                b[at] = (unsigned char)val;
                b[at + 1] = (unsigned char)(val >> 8);
                b[at + 2] = (unsigned char)(val >> 16);
                b[at + 3] = (unsigned char)(val >> 24);
            }
            if (decode_kind(vectors[v].kind, b, len))
                accepted++;
            else
                rejected++;
            (void)decode_kind(K_DATAVALUE, b + at, len - at);
            (void)decode_kind(K_SKIPS, b + at, len - at);
        }
        free(b);
        free(orig);
    }
    /* both outcomes happen: the flips reach past the type NodeId */
    assert_true(accepted > 1000);
    assert_true(rejected > 1000);
}

/* Random bytes after a valid type NodeId and header. */
static void test_random_bodies(void **state)
{
    static const char *const types[] = { "0100af01", "0100c101", "0100d001", "0100d601",
                                         "01007a02", "0100dc01", "01008d01" };
    static const int kinds[] = { K_GETENDPOINTS, K_OPN, K_CREATESESSION, K_ACTIVATESESSION,
                                 K_READ, K_CLOSESESSION, K_READ };
    unsigned char buf[600];
    size_t t, i, hn;
    int iter;

    (void)state;
    for (t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        char spec[128];
        unsigned char *h;

        snprintf(spec, sizeof(spec), "%s " RESPHDR("01000000", "00000000"), types[t]);
        h = bytes_of(spec, &hn);
        memcpy(buf, h, hn);
        free(h);
        for (iter = 0; iter < 1500; iter++) {
            size_t n = hn + (size_t)(rng() % (sizeof(buf) - hn));

            for (i = hn; i < n; i++) {
                /* mostly small bytes: short lengths and counts are likelier
                 * to lead somewhere */
                uint64_t x = rng();

                buf[i] = (x & 3) ? (unsigned char)((x >> 8) % 4) : (unsigned char)(x >> 16);
            }
            (void)decode_kind(kinds[t], buf, n);
            (void)decode_kind(K_DATAVALUE, buf + hn, n - hn);
            (void)decode_kind(K_SKIPS, buf + hn, n - hn);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reqhdr),
        cmocka_unit_test(test_reqhdr_auth_echo),
        cmocka_unit_test(test_opn_request),
        cmocka_unit_test(test_getendpoints_request),
        cmocka_unit_test(test_closesecurechannel_request),
        cmocka_unit_test(test_createsession_request),
        cmocka_unit_test(test_activatesession_anonymous),
        cmocka_unit_test(test_activatesession_username),
        cmocka_unit_test(test_closesession_request),
        cmocka_unit_test(test_read_request),
        cmocka_unit_test(test_nodeid_text_valid),
        cmocka_unit_test(test_nodeid_text_invalid),
        cmocka_unit_test(test_nodeid_text_roundtrip),
        cmocka_unit_test(test_variant_scalars),
        cmocka_unit_test(test_variant_arrays),
        cmocka_unit_test(test_variant_escaping),
        cmocka_unit_test(test_printable),
        cmocka_unit_test(test_depth_limits),
        cmocka_unit_test(test_count_limits),
        cmocka_unit_test(test_servicefault),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_opn_response),
        cmocka_unit_test(test_getendpoints_response),
        cmocka_unit_test(test_createsession_response),
        cmocka_unit_test(test_activatesession_response),
        cmocka_unit_test(test_read_response),
        cmocka_unit_test(test_closesession_response),
        cmocka_unit_test(test_free_twice),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_bitflips),
        cmocka_unit_test(test_random_bodies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
