/* uakey unit test: application instance certificates, requests and
 * install (opcua-glue/appcert.c, certinfo.c, compiled in).
 *
 * Software keys are made here at run time.  Every certificate is parsed
 * back with plain OpenSSL calls and checked field by field against
 * OPC 10000-6 6.2.2.  The PKI store functions appcert.c calls
 * (uakey_pki_add_cert, uakey_pki_write_own, uakey_pki_name_valid) are
 * replaced by recorders below, so install is tested without pki_store.c
 * and without touching the disk. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "uakey/uakey.h"
#include "uk_err.h"

/* ---- the PKI store, recorded in memory --------------------------------- */

#define MAX_ADDED 8

struct uakey_pki_st {
    int nadded;
    UAKEY_PKI_GROUP groups[MAX_ADDED];
    X509 *added[MAX_ADDED];
    int nown;
    char own_name[64];
    X509 *own_cert;
    EVP_PKEY *own_key;
};

int uakey_pki_name_valid(const char *name)
{
    const char *p;

    if (name == NULL || name[0] == '\0' || strstr(name, "..") != NULL)
        return 0;
    for (p = name; *p != '\0'; p++)
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", *p) == NULL)
            return 0;
    return 1;
}

int uakey_pki_add_cert(UAKEY_PKI *pki, UAKEY_PKI_GROUP group, X509 *cert, char **path)
{
    assert_true(pki->nadded < MAX_ADDED);
    assert_true(X509_up_ref(cert));
    pki->groups[pki->nadded] = group;
    pki->added[pki->nadded++] = cert;
    if (path != NULL)
        *path = NULL;
    return 1;
}

int uakey_pki_write_own(UAKEY_PKI *pki, const char *name, X509 *cert, EVP_PKEY *key)
{
    pki->nown++;
    snprintf(pki->own_name, sizeof(pki->own_name), "%s", name);
    X509_free(pki->own_cert);
    EVP_PKEY_free(pki->own_key);
    assert_true(X509_up_ref(cert));
    assert_true(EVP_PKEY_up_ref(key));
    pki->own_cert = cert;
    pki->own_key = key;
    return 1;
}

static void pki_reset(UAKEY_PKI *pki)
{
    int i;

    for (i = 0; i < pki->nadded; i++)
        X509_free(pki->added[i]);
    X509_free(pki->own_cert);
    EVP_PKEY_free(pki->own_key);
    memset(pki, 0, sizeof(*pki));
}

/* ---- keys, made once for the group --------------------------------------- */

static EVP_PKEY *rsa_key, *p256_key, *p384_key, *bp384_key, *ed_key;

static int group_setup(void **state)
{
    rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    p256_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    p384_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    bp384_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "brainpoolP384r1");
    ed_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (rsa_key == NULL || p256_key == NULL || p384_key == NULL || bp384_key == NULL
        || ed_key == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(p256_key);
    EVP_PKEY_free(p384_key);
    EVP_PKEY_free(bp384_key);
    EVP_PKEY_free(ed_key);
    OPENSSL_cleanup();
    return 0;
}

static int test_setup(void **state)
{
    ERR_clear_error();
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static const char *const dns2[] = { "host1.example.com", "host2" };
static const char *const ips2[] = { "192.168.1.10", "fe80::1" };

static UAKEY_CERT_PARAMS server_params(void)
{
    UAKEY_CERT_PARAMS p;

    memset(&p, 0, sizeof(p));
    p.app_uri = "urn:host1.example.com:uakey:test";
    p.dns = dns2;
    p.ndns = 2;
    p.ips = ips2;
    p.nips = 2;
    p.days = 30;
    return p;
}

/* The uakey reason of the last error, and its text in |text|; clears. */
static int last_reason(char *text, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    int reason = 0;

    if (e != 0 && ERR_GET_LIB(e) == uakey_err_lib())
        reason = ERR_GET_REASON(e);
    uakey_error_string(text, len);
    return reason;
}

/* The DER of extension |nid| decoded, with its criticality. */
static void *ext_d2i(X509 *x, int nid, int *crit)
{
    int idx = X509_get_ext_by_NID(x, nid, -1);
    void *v;

    assert_true(idx >= 0);
    /* exactly one of each */
    assert_int_equal(X509_get_ext_by_NID(x, nid, idx), -1);
    *crit = X509_EXTENSION_get_critical(X509_get_ext(x, idx));
    v = X509V3_EXT_d2i(X509_get_ext(x, idx));
    assert_non_null(v);
    return v;
}

static void check_name_entry(const X509_NAME *name, int pos, int nid, const char *value)
{
    const X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, pos);
    const ASN1_STRING *s;

    assert_non_null(ne);
    assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne)), nid);
    s = X509_NAME_ENTRY_get_data(ne);
    assert_int_equal(ASN1_STRING_length(s), (int)strlen(value));
    assert_memory_equal(ASN1_STRING_get0_data(s), value, strlen(value));
}

static void check_gen_string(const GENERAL_NAME *gn, int type, const char *value)
{
    const ASN1_STRING *s;

    assert_int_equal(gn->type, type);
    s = type == GEN_URI ? gn->d.uniformResourceIdentifier : gn->d.dNSName;
    assert_int_equal(ASN1_STRING_length(s), (int)strlen(value));
    assert_memory_equal(ASN1_STRING_get0_data(s), value, strlen(value));
}

static void check_gen_ip(const GENERAL_NAME *gn, const unsigned char *ip, int len)
{
    assert_int_equal(gn->type, GEN_IPADD);
    assert_int_equal(ASN1_STRING_length(gn->d.iPAddress), len);
    assert_memory_equal(ASN1_STRING_get0_data(gn->d.iPAddress), ip, (size_t)len);
}

/* SAN of server_params(): URI, the two DNS names, the two IPs, in order. */
static void check_server_san(GENERAL_NAMES *gens, const char *uri)
{
    static const unsigned char v4[] = { 192, 168, 1, 10 };
    static const unsigned char v6[] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

    assert_int_equal(sk_GENERAL_NAME_num(gens), 5);
    check_gen_string(sk_GENERAL_NAME_value(gens, 0), GEN_URI, uri);
    check_gen_string(sk_GENERAL_NAME_value(gens, 1), GEN_DNS, "host1.example.com");
    check_gen_string(sk_GENERAL_NAME_value(gens, 2), GEN_DNS, "host2");
    check_gen_ip(sk_GENERAL_NAME_value(gens, 3), v4, 4);
    check_gen_ip(sk_GENERAL_NAME_value(gens, 4), v6, 16);
}

/* keyUsage bits as a mask of KU_* (from the extension itself). */
static uint32_t ku_mask(const ASN1_BIT_STRING *ku)
{
    static const struct {
        int bit;
        uint32_t flag;
    } bits[] = {
        { 0, KU_DIGITAL_SIGNATURE }, { 1, KU_NON_REPUDIATION }, { 2, KU_KEY_ENCIPHERMENT },
        { 3, KU_DATA_ENCIPHERMENT }, { 4, KU_KEY_AGREEMENT }, { 5, KU_KEY_CERT_SIGN },
        { 6, KU_CRL_SIGN }, { 7, KU_ENCIPHER_ONLY }, { 8, KU_DECIPHER_ONLY },
    };
    uint32_t m = 0;
    size_t i;

    for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
        if (ASN1_BIT_STRING_get_bit(ku, bits[i].bit))
            m |= bits[i].flag;
    /* no bit beyond decipherOnly */
    for (i = 9; i < 64; i++)
        assert_int_equal(ASN1_BIT_STRING_get_bit(ku, (int)i), 0);
    return m;
}

#define KU_RSA (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION | KU_KEY_ENCIPHERMENT \
                | KU_DATA_ENCIPHERMENT)
#define KU_EC (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)

static void check_eku(EXTENDED_KEY_USAGE *eku)
{
    assert_int_equal(sk_ASN1_OBJECT_num(eku), 2);
    assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_server_auth);
    assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 1)), NID_client_auth);
}

/* Every OPC UA rule of a self-signed certificate made by
 * uakey_appcert_create for |key|. */
static void check_app_cert(X509 *x, EVP_PKEY *key, const UAKEY_CERT_PARAMS *p,
                           uint32_t want_ku, int want_sig_nid)
{
    const ASN1_INTEGER *serial;
    unsigned char *der = NULL, *q;
    int len, crit, day = -1, sec = -1;
    BASIC_CONSTRAINTS *bc;
    ASN1_BIT_STRING *ku;
    EXTENDED_KEY_USAGE *eku;
    ASN1_OCTET_STRING *ski;
    AUTHORITY_KEYID *akid;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const ASN1_BIT_STRING *spk;

    assert_non_null(x);
    assert_int_equal(X509_get_version(x), X509_VERSION_3);

    /* serial: DER INTEGER 02 10 <16 octets>, positive, leading octet kept */
    serial = X509_get0_serialNumber(x);
    assert_int_equal(ASN1_STRING_type(serial), V_ASN1_INTEGER);
    assert_int_equal(ASN1_STRING_length(serial), 16);
    len = i2d_ASN1_INTEGER(serial, &der);
    assert_int_equal(len, 18);
    assert_int_equal(der[0], 0x02);
    assert_int_equal(der[1], 16);
    assert_int_equal(der[2] & 0x80, 0);
    assert_int_not_equal(der[2], 0);
    OPENSSL_free(der);
    der = NULL;

    /* validity: exactly |days| (365 when <= 0) */
    assert_int_equal(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
    assert_int_equal(day, p->days > 0 ? p->days : 365);
    assert_int_equal(sec, 0);
    if (p->not_before != 0) {
        assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), p->not_before), 0);
    } else {
        time_t now = time(NULL);

        assert_true(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), now + 1) <= 0);
        assert_true(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x), now - 60) >= 0);
    }

    /* self-issued, signed with |key|, the signature algorithm wanted */
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
    assert_int_equal(X509_get_signature_nid(x), want_sig_nid);
    assert_int_equal(X509_verify(x, key), 1);
    assert_int_equal(X509_check_private_key(x, key), 1);
    assert_int_equal(X509_check_issued(x, x), X509_V_OK);

    /* six extensions: SAN, BC, KU, EKU, SKI, AKI */
    assert_int_equal(X509_get_ext_count(x), 6);

    bc = ext_d2i(x, NID_basic_constraints, &crit);
    assert_int_equal(crit, 1);
    assert_int_equal(bc->ca, 0);
    assert_null(bc->pathlen);
    BASIC_CONSTRAINTS_free(bc);
    assert_int_equal(X509_get_extension_flags(x) & EXFLAG_CA, 0);
    assert_int_not_equal(X509_get_extension_flags(x) & EXFLAG_BCONS, 0);

    ku = ext_d2i(x, NID_key_usage, &crit);
    assert_int_equal(crit, 1);
    assert_int_equal(ku_mask(ku), want_ku);
    ASN1_BIT_STRING_free(ku);
    assert_int_equal(X509_get_key_usage(x), want_ku);

    eku = ext_d2i(x, NID_ext_key_usage, &crit);
    assert_int_equal(crit, 0);
    check_eku(eku);
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER | XKU_SSL_CLIENT);

    /* SKI = SHA-1 of the subjectPublicKey bits; AKI = keyid only, = SKI */
    ski = ext_d2i(x, NID_subject_key_identifier, &crit);
    assert_int_equal(crit, 0);
    spk = X509_get0_pubkey_bitstr(x);
    assert_int_equal(EVP_Digest(ASN1_STRING_get0_data(spk), (size_t)ASN1_STRING_length(spk),
                                md, &mdlen, EVP_sha1(), NULL), 1);
    assert_int_equal(ASN1_STRING_length(ski), 20);
    assert_memory_equal(ASN1_STRING_get0_data(ski), md, 20);
    akid = ext_d2i(x, NID_authority_key_identifier, &crit);
    assert_int_equal(crit, 0);
    assert_non_null(akid->keyid);
    assert_null(akid->issuer);
    assert_null(akid->serial);
    assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid, ski), 0);
    AUTHORITY_KEYID_free(akid);
    ASN1_OCTET_STRING_free(ski);

    /* the DER reads back to the same certificate */
    der = NULL;
    len = i2d_X509(x, &der);
    assert_true(len > 0);
    q = der;
    {
        X509 *back = d2i_X509(NULL, (const unsigned char **)&q, len);

        assert_non_null(back);
        assert_int_equal(X509_cmp(back, x), 0);
        assert_int_equal(X509_verify(back, key), 1);
        X509_free(back);
    }
    OPENSSL_free(der);
}

static GENERAL_NAMES *cert_san(X509 *x)
{
    int crit = -1;
    GENERAL_NAMES *gens = ext_d2i(x, NID_subject_alt_name, &crit);

    assert_int_equal(crit, 0);
    return gens;
}

/* ---- create ---------------------------------------------------------------------- */

static void test_create_rsa(void **state)
{
    UAKEY_CERT_PARAMS p = server_params();
    X509 *x = uakey_appcert_create(NULL, rsa_key, &p);
    GENERAL_NAMES *gens;
    const X509_NAME *subj;
    char *s;

    check_app_cert(x, rsa_key, &p, KU_RSA | KU_KEY_CERT_SIGN, NID_sha256WithRSAEncryption);
    gens = cert_san(x);
    check_server_san(gens, p.app_uri);
    GENERAL_NAMES_free(gens);

    /* defaults: O=uakey, CN = the first DNS name; nothing else */
    subj = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_entry_count(subj), 2);
    check_name_entry(subj, 0, NID_organizationName, "uakey");
    check_name_entry(subj, 1, NID_commonName, "host1.example.com");

    s = uakey_cert_app_uri(x);
    assert_string_equal(s, p.app_uri);
    free(s);
    s = uakey_cert_common_name(x);
    assert_string_equal(s, "host1.example.com");
    free(s);
    X509_free(x);
    assert_int_equal(ERR_peek_error(), 0);
}

static void test_create_p256_full_subject(void **state)
{
    UAKEY_CERT_PARAMS p = server_params();
    X509 *x;
    const X509_NAME *subj;
    GENERAL_NAMES *gens;

    p.common_name = "My Server";
    p.organization = "ACME";
    p.org_unit = "Plant 4";
    p.locality = "Karlsruhe";
    p.state = "BW";
    p.country = "DE";
    p.domain_component = "example";
    p.not_before = 1700000000;
    p.days = 0;
    x = uakey_appcert_create(NULL, p256_key, &p);
    check_app_cert(x, p256_key, &p, KU_EC | KU_KEY_CERT_SIGN, NID_ecdsa_with_SHA256);

    subj = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_entry_count(subj), 7);
    check_name_entry(subj, 0, NID_domainComponent, "example");
    check_name_entry(subj, 1, NID_countryName, "DE");
    check_name_entry(subj, 2, NID_stateOrProvinceName, "BW");
    check_name_entry(subj, 3, NID_localityName, "Karlsruhe");
    check_name_entry(subj, 4, NID_organizationName, "ACME");
    check_name_entry(subj, 5, NID_organizationalUnitName, "Plant 4");
    check_name_entry(subj, 6, NID_commonName, "My Server");
    gens = cert_san(x);
    check_server_san(gens, p.app_uri);
    GENERAL_NAMES_free(gens);
    X509_free(x);
}

/* No DNS name, no IP: CN "uakey", SAN holds the URI only. */
static void test_create_p384_defaults(void **state)
{
    UAKEY_CERT_PARAMS p;
    X509 *x;
    const X509_NAME *subj;
    GENERAL_NAMES *gens;
    char *cn;

    memset(&p, 0, sizeof(p));
    p.app_uri = "http://example.com/UA/Client?x=1#frag%20a";
    p.days = -5;
    x = uakey_appcert_create(NULL, p384_key, &p);
    check_app_cert(x, p384_key, &p, KU_EC | KU_KEY_CERT_SIGN, NID_ecdsa_with_SHA384);
    subj = X509_get_subject_name(x);
    assert_int_equal(X509_NAME_entry_count(subj), 2);
    check_name_entry(subj, 0, NID_organizationName, "uakey");
    check_name_entry(subj, 1, NID_commonName, "uakey");
    gens = cert_san(x);
    assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
    check_gen_string(sk_GENERAL_NAME_value(gens, 0), GEN_URI, p.app_uri);
    GENERAL_NAMES_free(gens);
    cn = uakey_cert_common_name(x);
    assert_string_equal(cn, "uakey");
    free(cn);
    X509_free(x);
}

static void test_create_brainpool384_ed25519(void **state)
{
    UAKEY_CERT_PARAMS p = server_params();
    X509 *x;

    x = uakey_appcert_create(NULL, bp384_key, &p);
    check_app_cert(x, bp384_key, &p, KU_EC | KU_KEY_CERT_SIGN, NID_ecdsa_with_SHA384);
    X509_free(x);

    /* EdDSA: no digest, keyUsage like EC */
    x = uakey_appcert_create(NULL, ed_key, &p);
    check_app_cert(x, ed_key, &p, KU_EC | KU_KEY_CERT_SIGN, NID_ED25519);
    X509_free(x);
}

static void test_serials_differ(void **state)
{
    UAKEY_CERT_PARAMS p = server_params();
    X509 *a = uakey_appcert_create(NULL, p256_key, &p);
    X509 *b = uakey_appcert_create(NULL, p256_key, &p);

    assert_non_null(a);
    assert_non_null(b);
    assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(a), X509_get0_serialNumber(b)), 0);
    X509_free(a);
    X509_free(b);
}

/* ---- certinfo ------------------------------------------------------------------------ */

static void test_thumbprint(void **state)
{
    static const char hexd[] = "0123456789ABCDEF";
    UAKEY_CERT_PARAMS p = server_params();
    X509 *x = uakey_appcert_create(NULL, p256_key, &p);
    unsigned char *der = NULL, md[20];
    char tp[41], want[41];
    int len, i;

    assert_non_null(x);
    len = i2d_X509(x, &der);
    assert_true(len > 0);
    assert_int_equal(EVP_Digest(der, (size_t)len, md, NULL, EVP_sha1(), NULL), 1);
    for (i = 0; i < 20; i++) {
        want[2 * i] = hexd[md[i] >> 4];
        want[2 * i + 1] = hexd[md[i] & 15];
    }
    want[40] = '\0';
    OPENSSL_free(der);
    memset(tp, 'x', sizeof(tp));
    assert_int_equal(uakey_cert_thumbprint(x, tp), 1);
    assert_string_equal(tp, want);
    X509_free(x);
}

/* A bare test certificate: subject CN=|cn| (may be NULL), self-signed
 * with |key|, plus extension |ext| when given. */
static X509 *bare_cert(EVP_PKEY *key, const char *cn, X509_EXTENSION *ext)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();

    assert_non_null(x);
    assert_non_null(n);
    assert_true(X509_set_version(x, X509_VERSION_3));
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
    if (cn != NULL)
        assert_true(X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8,
                                               (const unsigned char *)cn, -1, -1, 0));
    else
        assert_true(X509_NAME_add_entry_by_NID(n, NID_organizationName, MBSTRING_UTF8,
                                               (const unsigned char *)"O only", -1, -1, 0));
    assert_true(X509_set_subject_name(x, n));
    assert_true(X509_set_issuer_name(x, n));
    X509_NAME_free(n);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
    assert_true(X509_set_pubkey(x, key));
    if (ext != NULL)
        assert_true(X509_add_ext(x, ext, -1));
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    return x;
}

static X509_EXTENSION *san_ext(int type, const void *data, int len)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();
    X509_EXTENSION *ext;

    assert_non_null(gens);
    assert_non_null(gn);
    assert_non_null(s);
    assert_true(ASN1_STRING_set(s, data, len));
    GENERAL_NAME_set0_value(gn, type, s);
    assert_true(sk_GENERAL_NAME_push(gens, gn));
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
    assert_non_null(ext);
    GENERAL_NAMES_free(gens);
    return ext;
}

static void test_app_uri_cases(void **state)
{
    X509_EXTENSION *ext;
    X509 *x;
    char *s;

    /* no subjectAltName: NULL and no error */
    x = bare_cert(p256_key, "no san", NULL);
    assert_null(uakey_cert_app_uri(x));
    assert_int_equal(ERR_peek_error(), 0);
    X509_free(x);

    /* a SAN with a DNS name only: NULL and no error */
    ext = san_ext(GEN_DNS, "only.dns", -1);
    x = bare_cert(p256_key, "dns only", ext);
    X509_EXTENSION_free(ext);
    assert_null(uakey_cert_app_uri(x));
    assert_int_equal(ERR_peek_error(), 0);
    X509_free(x);

    /* an embedded NUL: refused with an error */
    ext = san_ext(GEN_URI, "urn:a\0evil", 10);
    x = bare_cert(p256_key, "nul", ext);
    X509_EXTENSION_free(ext);
    assert_null(uakey_cert_app_uri(x));
    assert_int_not_equal(ERR_peek_error(), 0);
    ERR_clear_error();
    X509_free(x);

    /* no CN: NULL */
    x = bare_cert(p256_key, NULL, NULL);
    assert_null(uakey_cert_common_name(x));
    X509_free(x);

    /* a UTF-8 CN comes back as UTF-8 */
    x = bare_cert(p256_key, "M\xc3\xbcller", NULL);
    s = uakey_cert_common_name(x);
    assert_string_equal(s, "M\xc3\xbcller");
    free(s);
    X509_free(x);
}

/* ---- requests ---------------------------------------------------------------------- */

static void *req_ext(STACK_OF(X509_EXTENSION) *exts, int nid, int *crit)
{
    int i, found = -1;

    for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);

        if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == nid) {
            assert_int_equal(found, -1);
            found = i;
        }
    }
    assert_true(found >= 0);
    *crit = X509_EXTENSION_get_critical(sk_X509_EXTENSION_value(exts, found));
    return X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, found));
}

static void check_csr(X509_REQ *req, EVP_PKEY *key, const UAKEY_CERT_PARAMS *p,
                      uint32_t want_ku, int want_sig_nid)
{
    STACK_OF(X509_EXTENSION) *exts;
    GENERAL_NAMES *gens;
    ASN1_BIT_STRING *ku;
    EXTENDED_KEY_USAGE *eku;
    BASIC_CONSTRAINTS *bc;
    int crit;

    assert_non_null(req);
    assert_int_equal(X509_REQ_get_version(req), X509_REQ_VERSION_1);
    assert_int_equal(X509_REQ_verify(req, key), 1);
    assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), key), 1);
    assert_int_equal(X509_REQ_get_signature_nid(req), want_sig_nid);

    exts = X509_REQ_get_extensions(req);
    assert_non_null(exts);
    assert_int_equal(sk_X509_EXTENSION_num(exts), 4);
    gens = req_ext(exts, NID_subject_alt_name, &crit);
    assert_int_equal(crit, 0);
    check_server_san(gens, p->app_uri);
    GENERAL_NAMES_free(gens);
    ku = req_ext(exts, NID_key_usage, &crit);
    assert_int_equal(crit, 1);
    assert_int_equal(ku_mask(ku), want_ku);
    ASN1_BIT_STRING_free(ku);
    eku = req_ext(exts, NID_ext_key_usage, &crit);
    assert_int_equal(crit, 0);
    check_eku(eku);
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    bc = req_ext(exts, NID_basic_constraints, &crit);
    assert_int_equal(crit, 1);
    assert_int_equal(bc->ca, 0);
    BASIC_CONSTRAINTS_free(bc);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

static void test_csr(void **state)
{
    UAKEY_CERT_PARAMS p = server_params();
    X509_REQ *req;
    X509 *x;

    p.common_name = "Req";
    p.organization = "ACME";
    req = uakey_appcert_csr(NULL, rsa_key, &p);
    /* requested for a CA to issue: no keyCertSign */
    check_csr(req, rsa_key, &p, KU_RSA, NID_sha256WithRSAEncryption);

    /* the same subject as the self-signed certificate */
    x = uakey_appcert_create(NULL, rsa_key, &p);
    assert_non_null(x);
    assert_int_equal(X509_NAME_cmp(X509_REQ_get_subject_name(req), X509_get_subject_name(x)), 0);
    X509_free(x);
    X509_REQ_free(req);

    req = uakey_appcert_csr(NULL, p384_key, &p);
    check_csr(req, p384_key, &p, KU_EC, NID_ecdsa_with_SHA384);
    X509_REQ_free(req);
}

/* ---- errors ---------------------------------------------------------------------------- */

static void expect_bad_param(EVP_PKEY *key, const UAKEY_CERT_PARAMS *p, const char *text)
{
    char buf[512];
    X509 *x;
    X509_REQ *req;

    x = uakey_appcert_create(NULL, key, p);
    assert_null(x);
    assert_int_equal(last_reason(buf, sizeof(buf)), UK_R_BAD_PARAM);
    if (strstr(buf, text) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", buf, text);
    req = uakey_appcert_csr(NULL, key, p);
    assert_null(req);
    assert_int_equal(last_reason(buf, sizeof(buf)), UK_R_BAD_PARAM);
    if (strstr(buf, text) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", buf, text);
}

static void test_errors(void **state)
{
    static const char *const bad_ip[] = { "10.0.0.1", "999.1.1.1" };
    static const char *const bad_dns[] = { "good.example", "bad name" };
    UAKEY_CERT_PARAMS p = server_params();
    char buf[256];

    p.app_uri = NULL;
    expect_bad_param(rsa_key, &p, "ApplicationUri is required");
    p.app_uri = "";
    expect_bad_param(rsa_key, &p, "ApplicationUri is required");
    p.app_uri = "no-scheme";
    expect_bad_param(rsa_key, &p, "no-scheme");
    p.app_uri = "urn:with space";
    expect_bad_param(rsa_key, &p, "not a valid URI");
    p.app_uri = "urn:ctl\x01x";
    expect_bad_param(p256_key, &p, "not a valid URI");
    p.app_uri = "1urn:x";
    expect_bad_param(p256_key, &p, "not a valid URI");
    p.app_uri = "urn:";
    expect_bad_param(p256_key, &p, "not a valid URI");
    p.app_uri = "urn:bad%zzescape";
    expect_bad_param(p256_key, &p, "not a valid URI");
    p.app_uri = "urn:caf\xc3\xa9";
    expect_bad_param(p256_key, &p, "not a valid URI");

    p = server_params();
    p.ips = bad_ip;
    expect_bad_param(p256_key, &p, "999.1.1.1");
    p = server_params();
    p.dns = bad_dns;
    expect_bad_param(p256_key, &p, "bad name");
    p = server_params();
    p.country = "DEU";
    expect_bad_param(p256_key, &p, "DEU");
    p = server_params();
    p.common_name = "0123456789012345678901234567890123456789012345678901234567890123456789";
    expect_bad_param(p256_key, &p, "CN");

    p = server_params();
    assert_null(uakey_appcert_create(NULL, p256_key, NULL));
    assert_int_equal(last_reason(buf, sizeof(buf)), UK_R_BAD_PARAM);
    assert_null(uakey_appcert_create(NULL, NULL, &p));
    assert_int_equal(last_reason(buf, sizeof(buf)), UK_R_BAD_PARAM);
}

/* ---- install --------------------------------------------------------------------------- */

static void add_conf_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ext);
    assert_true(X509_add_ext(x, ext, -1));
    X509_EXTENSION_free(ext);
}

/* A small CA (self-signed, CA:TRUE, keyCertSign + cRLSign). */
static X509 *make_ca(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();

    assert_non_null(x);
    assert_non_null(n);
    assert_true(X509_set_version(x, X509_VERSION_3));
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
    assert_true(X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8,
                                           (const unsigned char *)cn, -1, -1, 0));
    assert_true(X509_set_subject_name(x, n));
    assert_true(X509_set_issuer_name(x, n));
    X509_NAME_free(n);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400 * 30));
    assert_true(X509_set_pubkey(x, key));
    add_conf_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    add_conf_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_conf_ext(x, x, NID_subject_key_identifier, "hash");
    add_conf_ext(x, x, NID_authority_key_identifier, "keyid:always");
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    return x;
}

/* The CA signs |req|, copying its requested extensions. */
static X509 *ca_issue(X509 *ca, EVP_PKEY *ca_key, X509_REQ *req)
{
    X509 *x = X509_new();
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    int i;

    assert_non_null(x);
    assert_true(X509_set_version(x, X509_VERSION_3));
    assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234));
    assert_true(X509_set_issuer_name(x, X509_get_subject_name(ca)));
    assert_true(X509_set_subject_name(x, X509_REQ_get_subject_name(req)));
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400 * 7));
    assert_true(X509_set_pubkey(x, X509_REQ_get0_pubkey(req)));
    for (i = 0; i < sk_X509_EXTENSION_num(exts); i++)
        assert_true(X509_add_ext(x, sk_X509_EXTENSION_value(exts, i), -1));
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    add_conf_ext(x, ca, NID_subject_key_identifier, "hash");
    add_conf_ext(x, ca, NID_authority_key_identifier, "keyid:always");
    assert_true(X509_sign(x, ca_key, EVP_sha256()) > 0);
    return x;
}

static void test_install_ca_issued(void **state)
{
    UAKEY_CERT_PARAMS p = server_params();
    UAKEY_PKI pki;
    X509 *ca = make_ca(p384_key, "Test CA");
    X509_REQ *req = uakey_appcert_csr(NULL, rsa_key, &p);
    X509 *leaf;
    STACK_OF(X509) *issuers = sk_X509_new_null();
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();

    memset(&pki, 0, sizeof(pki));
    assert_non_null(req);
    leaf = ca_issue(ca, p384_key, req);
    X509_REQ_free(req);

    /* the issued certificate chains to the CA (plain OpenSSL check) */
    assert_true(X509_STORE_add_cert(store, ca));
    assert_true(X509_STORE_CTX_init(sctx, store, leaf, NULL));
    assert_int_equal(X509_verify_cert(sctx), 1);
    X509_STORE_CTX_free(sctx);
    X509_STORE_free(store);

    assert_true(sk_X509_push(issuers, ca));
    assert_int_equal(uakey_appcert_install(&pki, "server", leaf, issuers, rsa_key), 1);
    assert_int_equal(pki.nadded, 1);
    assert_int_equal(pki.groups[0], UAKEY_PKI_ISSUERS);
    assert_int_equal(X509_cmp(pki.added[0], ca), 0);
    assert_int_equal(pki.nown, 1);
    assert_string_equal(pki.own_name, "server");
    assert_ptr_equal(pki.own_cert, leaf);
    assert_ptr_equal(pki.own_key, rsa_key);
    pki_reset(&pki);

    /* a self-signed certificate installs with no issuers */
    {
        X509 *self = uakey_appcert_create(NULL, p256_key, &p);

        assert_non_null(self);
        assert_int_equal(uakey_appcert_install(&pki, "self-1", self, NULL, p256_key), 1);
        assert_int_equal(pki.nadded, 0);
        assert_int_equal(pki.nown, 1);
        assert_string_equal(pki.own_name, "self-1");
        pki_reset(&pki);
        X509_free(self);
    }

    sk_X509_free(issuers);
    X509_free(leaf);
    X509_free(ca);
}

static void test_install_refused(void **state)
{
    UAKEY_CERT_PARAMS p = server_params();
    UAKEY_PKI pki;
    X509 *other = uakey_appcert_create(NULL, p256_key, &p);
    X509 *mine = uakey_appcert_create(NULL, rsa_key, &p);
    X509 *ca = make_ca(p384_key, "Test CA");
    X509 *nouri = bare_cert(rsa_key, "no uri", NULL);
    STACK_OF(X509) *issuers = sk_X509_new_null();
    char tp[41], buf[512];

    memset(&pki, 0, sizeof(pki));
    assert_non_null(other);
    assert_non_null(mine);

    /* a certificate for another key: KEY_MISMATCH naming its thumbprint */
    assert_int_equal(uakey_appcert_install(&pki, "server", other, NULL, rsa_key), 0);
    assert_int_equal(last_reason(buf, sizeof(buf)), UK_R_KEY_MISMATCH);
    assert_int_equal(uakey_cert_thumbprint(other, tp), 1);
    if (strstr(buf, tp) == NULL)
        fail_msg("\"%s\" does not name %s", buf, tp);

    /* an issuer that is not a CA (an application certificate) */
    assert_true(sk_X509_push(issuers, ca));
    assert_true(sk_X509_push(issuers, other));
    assert_int_equal(uakey_appcert_install(&pki, "server", mine, issuers, rsa_key), 0);
    assert_int_equal(last_reason(buf, sizeof(buf)), UK_R_BAD_CERT);
    if (strstr(buf, tp) == NULL || strstr(buf, "not a CA") == NULL)
        fail_msg("\"%s\" does not name the issuer %s", buf, tp);

    /* no ApplicationUri */
    assert_int_equal(uakey_appcert_install(&pki, "server", nouri, NULL, rsa_key), 0);
    assert_int_equal(last_reason(buf, sizeof(buf)), UK_R_BAD_CERT);
    assert_non_null(strstr(buf, "ApplicationUri"));

    /* a name that is not a file name */
    assert_int_equal(uakey_appcert_install(&pki, "../x", mine, NULL, rsa_key), 0);
    assert_int_equal(last_reason(buf, sizeof(buf)), UK_R_BAD_NAME);

    /* nothing reached the store */
    assert_int_equal(pki.nadded, 0);
    assert_int_equal(pki.nown, 0);

    sk_X509_free(issuers);
    X509_free(nouri);
    X509_free(ca);
    X509_free(mine);
    X509_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_create_rsa, test_setup),
        cmocka_unit_test_setup(test_create_p256_full_subject, test_setup),
        cmocka_unit_test_setup(test_create_p384_defaults, test_setup),
        cmocka_unit_test_setup(test_create_brainpool384_ed25519, test_setup),
        cmocka_unit_test_setup(test_serials_differ, test_setup),
        cmocka_unit_test_setup(test_thumbprint, test_setup),
        cmocka_unit_test_setup(test_app_uri_cases, test_setup),
        cmocka_unit_test_setup(test_csr, test_setup),
        cmocka_unit_test_setup(test_errors, test_setup),
        cmocka_unit_test_setup(test_install_ca_issued, test_setup),
        cmocka_unit_test_setup(test_install_refused, test_setup),
    };

    return cmocka_run_group_tests_name("appcert", tests, group_setup, group_teardown);
}
