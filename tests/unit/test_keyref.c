/* uakey unit test: key-reference ASN.1 (provider/keyref.c, compiled in).
 *
 *   SEQUENCE { VisibleString "PKCS#11 Provider URI v1.0", UTF8String uri }
 *
 * The decoder must accept exactly one well-formed DER reference and nothing
 * else.  Test inputs are built here byte by byte (not with the encoder under
 * test); the encoder's output is also checked with OpenSSL's own ASN.1
 * parser. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "provider/keyref.h"

#define VERSION_STR "PKCS#11 Provider URI v1.0"

/* ---- a tiny DER builder for test vectors ------------------------------- */

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static void buf_put(struct buf *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 16;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void buf_byte(struct buf *b, unsigned char c)
{
    buf_put(b, &c, 1);
}

/* Length in DER form; |extra| > 0 forces the long form with that many
 * additional leading zero octets (non-minimal), |force_long| uses the long
 * form even for lengths below 128 (also non-minimal). */
static void put_len(struct buf *b, size_t len, int force_long, int extra)
{
    unsigned char tmp[16];
    size_t n = 0, l = len;
    int i;

    if (len < 0x80 && !force_long && extra == 0) {
        buf_byte(b, (unsigned char)len);
        return;
    }
    while (l > 0) {
        tmp[n++] = (unsigned char)(l & 0xff);
        l >>= 8;
    }
    if (n == 0)
        tmp[n++] = 0;
    buf_byte(b, (unsigned char)(0x80 | (n + (size_t)extra)));
    for (i = 0; i < extra; i++)
        buf_byte(b, 0);
    while (n > 0)
        buf_byte(b, tmp[--n]);
}

static void put_tlv(struct buf *b, unsigned char tag, const void *v, size_t vlen)
{
    buf_byte(b, tag);
    put_len(b, vlen, 0, 0);
    buf_put(b, v, vlen);
}

/* A reference with chosen tags, version text and URI bytes. */
static struct buf make_ref(unsigned char seq_tag, unsigned char ver_tag,
                           const char *ver, unsigned char uri_tag,
                           const void *uri, size_t urilen)
{
    struct buf inner = { 0 }, out = { 0 };

    put_tlv(&inner, ver_tag, ver, strlen(ver));
    put_tlv(&inner, uri_tag, uri, urilen);
    buf_byte(&out, seq_tag);
    put_len(&out, inner.len, 0, 0);
    buf_put(&out, inner.p, inner.len);
    free(inner.p);
    return out;
}

static struct buf good_ref(const char *uri)
{
    return make_ref(0x30, 0x1a, VERSION_STR, 0x0c, uri, strlen(uri));
}

static char *long_uri(size_t len)
{
    static const char head[] = "pkcs11:token=uakey-test;object=";
    char *s = malloc(len + 1);
    size_t i;

    assert_non_null(s);
    assert_true(len >= sizeof(head));
    memcpy(s, head, sizeof(head) - 1);
    for (i = sizeof(head) - 1; i < len; i++)
        s[i] = (char)('a' + (i % 26));
    s[len] = '\0';
    return s;
}

/* Encoder output parsed by OpenSSL's generic ASN.1 code: exactly two
 * elements with the right universal types and contents. */
static void check_with_openssl(const unsigned char *der, size_t len, const char *uri)
{
    const unsigned char *p = der;
    ASN1_SEQUENCE_ANY *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)len);
    ASN1_TYPE *t0, *t1;

    assert_non_null(seq);
    assert_ptr_equal(p, der + len);
    assert_int_equal(sk_ASN1_TYPE_num(seq), 2);
    t0 = sk_ASN1_TYPE_value(seq, 0);
    t1 = sk_ASN1_TYPE_value(seq, 1);
    assert_int_equal(ASN1_TYPE_get(t0), V_ASN1_VISIBLESTRING);
    assert_int_equal(ASN1_TYPE_get(t1), V_ASN1_UTF8STRING);
    assert_int_equal(ASN1_STRING_length(t0->value.visiblestring), (int)strlen(VERSION_STR));
    assert_memory_equal(ASN1_STRING_get0_data(t0->value.visiblestring), VERSION_STR,
                        strlen(VERSION_STR));
    assert_int_equal(ASN1_STRING_length(t1->value.utf8string), (int)strlen(uri));
    assert_memory_equal(ASN1_STRING_get0_data(t1->value.utf8string), uri, strlen(uri));
    sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
}

static void round_trip(const char *uri)
{
    unsigned char *der = NULL;
    size_t len = 0;
    char *back;
    struct buf want = good_ref(uri);

    assert_int_equal(ukprov_keyref_encode(uri, &der, &len), 1);
    assert_non_null(der);
    /* Exactly the bytes our builder makes (minimal DER). */
    assert_int_equal(len, want.len);
    assert_memory_equal(der, want.p, len);
    check_with_openssl(der, len, uri);
    back = ukprov_keyref_decode(der, len);
    assert_non_null(back);
    assert_string_equal(back, uri);
    free(back);
    free(der);
    free(want.p);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_round_trip_short(void **state)
{
    (void)state;
    round_trip("pkcs11:token=uakey-test;object=rsa-key;type=private");
    round_trip("pkcs11:");
    round_trip("pkcs11:object=%E2%82%AC;id=%01%02");
}

static void test_known_bytes(void **state)
{
    /* Hand-written DER for "pkcs11:object=k". */
    static const unsigned char want[] = {
        0x30, 0x2c,
        0x1a, 0x19, 'P', 'K', 'C', 'S', '#', '1', '1', ' ', 'P', 'r', 'o', 'v',
        'i', 'd', 'e', 'r', ' ', 'U', 'R', 'I', ' ', 'v', '1', '.', '0',
        0x0c, 0x0f, 'p', 'k', 'c', 's', '1', '1', ':', 'o', 'b', 'j', 'e', 'c',
        't', '=', 'k'
    };
    unsigned char *der = NULL;
    size_t len = 0;
    char *uri;

    (void)state;
    assert_int_equal(ukprov_keyref_encode("pkcs11:object=k", &der, &len), 1);
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(der, want, sizeof(want));
    free(der);
    uri = ukprov_keyref_decode(want, sizeof(want));
    assert_non_null(uri);
    assert_string_equal(uri, "pkcs11:object=k");
    free(uri);
}

static void test_round_trip_long(void **state)
{
    /* URI lengths around the 1- and 2-octet length boundaries, for both
     * the UTF8String and the enclosing SEQUENCE. */
    static const size_t lens[] = { 95, 96, 97, 127, 128, 129, 200, 224, 225,
                                   255, 256, 257, 1000, 65535, 65536, 70000 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char *uri = long_uri(lens[i]);
        round_trip(uri);
        free(uri);
    }
}

static void expect_reject(const struct buf *b, const char *why)
{
    char *uri = ukprov_keyref_decode(b->p, b->len);
    if (uri != NULL)
        fail_msg("accepted %s (got \"%.60s\")", why, uri);
}

static void test_trailing_bytes(void **state)
{
    struct buf b = good_ref("pkcs11:object=k");
    char *uri;

    (void)state;
    uri = ukprov_keyref_decode(b.p, b.len);
    assert_non_null(uri);
    free(uri);
    buf_byte(&b, 0x00);
    expect_reject(&b, "one trailing zero byte");
    b.len--;
    buf_put(&b, "\x30\x00", 2);
    expect_reject(&b, "a trailing empty SEQUENCE");
    free(b.p);

    /* Extra element inside the SEQUENCE. */
    {
        struct buf inner = { 0 }, out = { 0 };
        put_tlv(&inner, 0x1a, VERSION_STR, strlen(VERSION_STR));
        put_tlv(&inner, 0x0c, "pkcs11:object=k", 15);
        put_tlv(&inner, 0x0c, "x", 1);
        buf_byte(&out, 0x30);
        put_len(&out, inner.len, 0, 0);
        buf_put(&out, inner.p, inner.len);
        expect_reject(&out, "a third element in the SEQUENCE");
        free(inner.p);
        free(out.p);
    }
}

static void test_wrong_tags(void **state)
{
    static const char uri[] = "pkcs11:object=k";
    struct buf b;

    (void)state;
    b = make_ref(0x31, 0x1a, VERSION_STR, 0x0c, uri, strlen(uri));
    expect_reject(&b, "SET instead of SEQUENCE");
    free(b.p);
    b = make_ref(0x10, 0x1a, VERSION_STR, 0x0c, uri, strlen(uri));
    expect_reject(&b, "primitive SEQUENCE tag");
    free(b.p);
    b = make_ref(0x30, 0x0c, VERSION_STR, 0x0c, uri, strlen(uri));
    expect_reject(&b, "UTF8String version");
    free(b.p);
    b = make_ref(0x30, 0x13, VERSION_STR, 0x0c, uri, strlen(uri));
    expect_reject(&b, "PrintableString version");
    free(b.p);
    b = make_ref(0x30, 0x1a, VERSION_STR, 0x1a, uri, strlen(uri));
    expect_reject(&b, "VisibleString URI");
    free(b.p);
    b = make_ref(0x30, 0x1a, VERSION_STR, 0x16, uri, strlen(uri));
    expect_reject(&b, "IA5String URI");
    free(b.p);
    b = make_ref(0x30, 0x1a, VERSION_STR, 0x04, uri, strlen(uri));
    expect_reject(&b, "OCTET STRING URI");
    free(b.p);
}

static void test_wrong_version(void **state)
{
    static const char uri[] = "pkcs11:object=k";
    static const char *bad[] = {
        "PKCS#11 Provider URI v1.1", "PKCS#11 Provider URI v1.", "pkcs#11 provider uri v1.0",
        "PKCS#11 Provider URI v1.00", "", "PKCS#11 Provider URI v1.0 "
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct buf b = make_ref(0x30, 0x1a, bad[i], 0x0c, uri, strlen(uri));
        expect_reject(&b, bad[i]);
        free(b.p);
    }
    /* Swapped order: URI first. */
    {
        struct buf inner = { 0 }, out = { 0 };
        put_tlv(&inner, 0x0c, uri, strlen(uri));
        put_tlv(&inner, 0x1a, VERSION_STR, strlen(VERSION_STR));
        buf_byte(&out, 0x30);
        put_len(&out, inner.len, 0, 0);
        buf_put(&out, inner.p, inner.len);
        expect_reject(&out, "elements in the wrong order");
        free(inner.p);
        free(out.p);
    }
}

/* One reference with a chosen length encoding per field. */
static struct buf make_lens(int seq_long, int seq_extra, int ver_long, int ver_extra,
                            int uri_long, int uri_extra, const char *uri)
{
    struct buf inner = { 0 }, out = { 0 };

    buf_byte(&inner, 0x1a);
    put_len(&inner, strlen(VERSION_STR), ver_long, ver_extra);
    buf_put(&inner, VERSION_STR, strlen(VERSION_STR));
    buf_byte(&inner, 0x0c);
    put_len(&inner, strlen(uri), uri_long, uri_extra);
    buf_put(&inner, uri, strlen(uri));
    buf_byte(&out, 0x30);
    put_len(&out, inner.len, seq_long, seq_extra);
    buf_put(&out, inner.p, inner.len);
    free(inner.p);
    return out;
}

static void test_non_minimal_lengths(void **state)
{
    char *longu = long_uri(300);
    struct buf b;
    char *uri;

    (void)state;
    /* Sanity: the builder's minimal form is accepted. */
    b = make_lens(0, 0, 0, 0, 0, 0, "pkcs11:object=k");
    uri = ukprov_keyref_decode(b.p, b.len);
    assert_non_null(uri);
    free(uri);
    free(b.p);

    b = make_lens(1, 0, 0, 0, 0, 0, "pkcs11:object=k");
    expect_reject(&b, "long-form SEQUENCE length < 128");
    free(b.p);
    b = make_lens(0, 0, 1, 0, 0, 0, "pkcs11:object=k");
    expect_reject(&b, "long-form version length < 128");
    free(b.p);
    b = make_lens(0, 0, 0, 0, 1, 0, "pkcs11:object=k");
    expect_reject(&b, "long-form URI length < 128");
    free(b.p);
    b = make_lens(0, 1, 0, 0, 0, 0, longu);
    expect_reject(&b, "SEQUENCE length with a leading zero octet");
    free(b.p);
    b = make_lens(0, 0, 0, 0, 0, 1, longu);
    expect_reject(&b, "URI length with a leading zero octet");
    free(b.p);
    free(longu);

    /* Indefinite length (BER, not DER). */
    {
        struct buf inner = { 0 }, out = { 0 };
        put_tlv(&inner, 0x1a, VERSION_STR, strlen(VERSION_STR));
        put_tlv(&inner, 0x0c, "pkcs11:object=k", 15);
        buf_byte(&out, 0x30);
        buf_byte(&out, 0x80);
        buf_put(&out, inner.p, inner.len);
        buf_put(&out, "\0\0", 2);
        expect_reject(&out, "indefinite length");
        free(inner.p);
        free(out.p);
    }
    /* A length that claims far more than is there. */
    {
        static const unsigned char huge[] = { 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x1a, 0x00 };
        static const unsigned char toolong[] = { 0x30, 0x88, 1, 0, 0, 0, 0, 0, 0, 0, 0x1a };
        assert_null(ukprov_keyref_decode(huge, sizeof(huge)));
        assert_null(ukprov_keyref_decode(toolong, sizeof(toolong)));
    }
}

static void test_embedded_nul_and_scheme(void **state)
{
    static const char with_nul[] = "pkcs11:object=a\0b";
    struct buf b;

    (void)state;
    b = make_ref(0x30, 0x1a, VERSION_STR, 0x0c, with_nul, sizeof(with_nul) - 1);
    expect_reject(&b, "embedded NUL in the URI");
    free(b.p);
    b = make_ref(0x30, 0x1a, VERSION_STR, 0x0c, "pkcs11:\0", 8);
    expect_reject(&b, "trailing NUL in the URI");
    free(b.p);
    b = make_ref(0x30, 0x1a, VERSION_STR, 0x0c, "file:/etc/passwd", 16);
    expect_reject(&b, "a non-pkcs11 URI");
    free(b.p);
    b = make_ref(0x30, 0x1a, VERSION_STR, 0x0c, "", 0);
    expect_reject(&b, "an empty URI");
    free(b.p);
    b = make_ref(0x30, 0x1a, VERSION_STR, 0x0c, "pkcs11", 6);
    expect_reject(&b, "\"pkcs11\" without a colon");
    free(b.p);
}

static void test_truncated_everywhere(void **state)
{
    static const size_t lens[] = { 15, 127, 128, 300 };
    size_t i, cut;

    (void)state;
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char *uri = long_uri(lens[i] < 40 ? 40 : lens[i]);
        struct buf b = good_ref(uri);
        char *ok = ukprov_keyref_decode(b.p, b.len);

        assert_non_null(ok);
        free(ok);
        for (cut = 0; cut < b.len; cut++) {
            /* Copy so that reading past |cut| is caught by valgrind/ASan. */
            unsigned char *t = malloc(cut ? cut : 1);
            char *r;

            assert_non_null(t);
            memcpy(t, b.p, cut);
            r = ukprov_keyref_decode(t, cut);
            if (r != NULL)
                fail_msg("accepted a reference cut to %zu of %zu bytes", cut, b.len);
            free(t);
        }
        free(b.p);
        free(uri);
    }
}

static void test_null_args(void **state)
{
    unsigned char *der = NULL;
    size_t len = 0;

    (void)state;
    assert_null(ukprov_keyref_decode(NULL, 10));
    assert_null(ukprov_keyref_decode((const unsigned char *)"", 0));
    assert_int_equal(ukprov_keyref_encode(NULL, &der, &len), 0);
    assert_int_equal(ukprov_keyref_encode("pkcs11:", NULL, &len), 0);
    assert_int_equal(ukprov_keyref_encode("pkcs11:", &der, NULL), 0);
}

static void test_pem(void **state)
{
    static const char uri[] = "pkcs11:token=uakey-test;object=rsa-key;type=private";
    unsigned char *der = NULL, *back = NULL;
    size_t len = 0;
    char *pem, *name = NULL, *hdr = NULL, *dec;
    long backlen = 0;
    BIO *bio;

    (void)state;
    assert_int_equal(ukprov_keyref_encode(uri, &der, &len), 1);
    pem = ukprov_keyref_pem(der, len);
    assert_non_null(pem);
    assert_non_null(strstr(pem, "-----BEGIN PKCS#11 PROVIDER URI-----\n"));
    assert_non_null(strstr(pem, "-----END PKCS#11 PROVIDER URI-----\n"));
    assert_null(strstr(pem, "PRIVATE KEY"));

    /* OpenSSL's PEM reader gives back the same label and DER. */
    bio = BIO_new_mem_buf(pem, -1);
    assert_non_null(bio);
    assert_int_equal(PEM_read_bio(bio, &name, &hdr, &back, &backlen), 1);
    assert_string_equal(name, "PKCS#11 PROVIDER URI");
    assert_string_equal(hdr, "");
    assert_int_equal((size_t)backlen, len);
    assert_memory_equal(back, der, len);
    dec = ukprov_keyref_decode(back, (size_t)backlen);
    assert_non_null(dec);
    assert_string_equal(dec, uri);

    free(dec);
    OPENSSL_free(name);
    OPENSSL_free(hdr);
    OPENSSL_free(back);
    BIO_free(bio);
    free(pem);
    free(der);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_short),
        cmocka_unit_test(test_known_bytes),
        cmocka_unit_test(test_round_trip_long),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_wrong_tags),
        cmocka_unit_test(test_wrong_version),
        cmocka_unit_test(test_non_minimal_lengths),
        cmocka_unit_test(test_embedded_nul_and_scheme),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_null_args),
        cmocka_unit_test(test_pem),
    };

    return cmocka_run_group_tests_name("keyref", tests, NULL, NULL);
}
