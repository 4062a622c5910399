/* uakey unit test: OPC UA certificate validation (opcua-glue/validate.c),
 * the SecurityPolicy table (policy.c) and StatusCode names (status.c).
 *
 * Every certificate, CA and CRL is made here at run time with OpenSSL
 * (software keys from EVP_PKEY_Q_keygen).  Each failure test checks the
 * exact StatusCode, that the detail names the expected step (so every
 * earlier step passed), and a control: the same setup with that failure
 * suppressed or fixed gives Good.
 *
 * The store: by default a stand-in UAKEY_PKI defined below (two stacks per
 * group behind uakey_pki_certs / uakey_pki_crls).  Built with
 * -DUK_TEST_REAL_PKI the test links opcua-glue/pki_store.c and uses a real
 * store in a temporary directory instead; only the store_* helpers
 * differ. */
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

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "uakey/uakey.h"
#include "uk_err.h"

#define POLICY_PREFIX "http://opcfoundation.org/UA/SecurityPolicy#"
#define APP_URI "urn:uakey:test:app"
#define DAY (24L * 3600L)

/* ==== the store under test ============================================== */

struct store;
static void store_free(struct store *s);

/* Stores of the running test: store_free() removes them, the per-test
 * teardown frees what a failed assertion left (and its directory). */
#define MAX_LIVE 4
static struct store *live[MAX_LIVE];

static void live_add(struct store *s)
{
    int i;

    for (i = 0; i < MAX_LIVE; i++) {
        if (live[i] == NULL) {
            live[i] = s;
            return;
        }
    }
    fail_msg("more than %d stores in one test", MAX_LIVE);
}

static void live_del(struct store *s)
{
    int i;

    for (i = 0; i < MAX_LIVE; i++) {
        if (live[i] == s)
            live[i] = NULL;
    }
}

static int test_teardown(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < MAX_LIVE; i++) {
        if (live[i] != NULL)
            store_free(live[i]);
    }
    return 0;
}

#ifdef UK_TEST_REAL_PKI
#include <ftw.h>
#include <unistd.h>

struct store {
    char dir[512];
    UAKEY_PKI *pki;
};

static struct store *store_new(void)
{
    struct store *s = calloc(1, sizeof(*s));
    const char *root = getenv("UK_TMPROOT");

    assert_non_null(s);
    snprintf(s->dir, sizeof(s->dir), "%s/test_validate.XXXXXX",
             root != NULL && root[0] != '\0' ? root : "/tmp");
    assert_non_null(mkdtemp(s->dir));
    live_add(s);
    assert_int_equal(uakey_pki_init(s->dir, 0), 1);
    s->pki = uakey_pki_open(s->dir);
    assert_non_null(s->pki);
    return s;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void store_free(struct store *s)
{
    live_del(s);
    uakey_pki_free(s->pki);
    nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(s);
}

static void store_add_cert(struct store *s, UAKEY_PKI_GROUP g, X509 *c)
{
    assert_int_equal(uakey_pki_add_cert(s->pki, g, c, NULL), 1);
}

/* The real store checks a CRL against its CAs: add the CA first. */
static void store_add_crl(struct store *s, UAKEY_PKI_GROUP g, X509_CRL *crl)
{
    assert_int_equal(uakey_pki_add_crl(s->pki, g, crl), 1);
}

static UAKEY_PKI *store_pki(struct store *s)
{
    return s->pki;
}

/* Revocation checks for the certificates |ca| issued: 0 off, 1 on. */
static void store_set_revocation(struct store *s, X509 *ca, int check)
{
    char tp[41];

    assert_int_equal(uakey_cert_thumbprint(ca, tp), 1);
    assert_int_equal(uakey_pki_set_revocation_check(s->pki, tp, check), 1);
    assert_int_equal(uakey_pki_revocation_checked(s->pki, tp), check);
}

#else /* the stand-in store */

struct uakey_pki_st {
    STACK_OF(X509) *certs[UAKEY_PKI_REJECTED + 1];
    STACK_OF(X509_CRL) *crls[UAKEY_PKI_REJECTED + 1];
    char off[4][41];        /* CAs with revocation off */
    size_t noff;
};

struct store {
    UAKEY_PKI pki;
};

STACK_OF(X509) *uakey_pki_certs(UAKEY_PKI *pki, UAKEY_PKI_GROUP group)
{
    return X509_chain_up_ref(pki->certs[group]);
}

STACK_OF(X509_CRL) *uakey_pki_crls(UAKEY_PKI *pki, UAKEY_PKI_GROUP group)
{
    STACK_OF(X509_CRL) *out = sk_X509_CRL_new_null();
    int i;

    for (i = 0; out != NULL && i < sk_X509_CRL_num(pki->crls[group]); i++) {
        X509_CRL *crl = sk_X509_CRL_value(pki->crls[group], i);

        X509_CRL_up_ref(crl);
        sk_X509_CRL_push(out, crl);
    }
    return out;
}

int uakey_pki_revocation_off(UAKEY_PKI *pki, char (**thumbprints)[41], size_t *n)
{
    *n = pki->noff;
    *thumbprints = NULL;
    if (pki->noff == 0)
        return 1;
    *thumbprints = malloc(pki->noff * sizeof(**thumbprints));
    if (*thumbprints == NULL)
        return 0;
    memcpy(*thumbprints, pki->off, pki->noff * sizeof(**thumbprints));
    return 1;
}

static struct store *store_new(void)
{
    struct store *s = calloc(1, sizeof(*s));
    int g;

    assert_non_null(s);
    live_add(s);
    for (g = 0; g <= UAKEY_PKI_REJECTED; g++) {
        s->pki.certs[g] = sk_X509_new_null();
        s->pki.crls[g] = sk_X509_CRL_new_null();
        assert_non_null(s->pki.certs[g]);
        assert_non_null(s->pki.crls[g]);
    }
    return s;
}

static void store_free(struct store *s)
{
    int g;

    live_del(s);
    for (g = 0; g <= UAKEY_PKI_REJECTED; g++) {
        sk_X509_pop_free(s->pki.certs[g], X509_free);
        sk_X509_CRL_pop_free(s->pki.crls[g], X509_CRL_free);
    }
    free(s);
}

static void store_add_cert(struct store *s, UAKEY_PKI_GROUP g, X509 *c)
{
    assert_int_equal(X509_up_ref(c), 1);
    assert_true(sk_X509_push(s->pki.certs[g], c) > 0);
}

static void store_add_crl(struct store *s, UAKEY_PKI_GROUP g, X509_CRL *crl)
{
    assert_int_equal(X509_CRL_up_ref(crl), 1);
    assert_true(sk_X509_CRL_push(s->pki.crls[g], crl) > 0);
}

static UAKEY_PKI *store_pki(struct store *s)
{
    return &s->pki;
}

static void store_set_revocation(struct store *s, X509 *ca, int check)
{
    char tp[41];
    size_t i;

    assert_int_equal(uakey_cert_thumbprint(ca, tp), 1);
    for (i = 0; i < s->pki.noff && strcmp(s->pki.off[i], tp) != 0; i++)
        ;
    if (!check && i == s->pki.noff) {
        assert_true(s->pki.noff < 4);
        memcpy(s->pki.off[s->pki.noff++], tp, 41);
    } else if (check && i < s->pki.noff) {
        memmove(s->pki.off[i], s->pki.off[i + 1], (s->pki.noff - i - 1) * 41);
        s->pki.noff--;
    }
}
#endif

/* ==== keys, certificates and CRLs made here ============================= */

static EVP_PKEY *k_leaf, *k_ca, *k_int, *k_rsa1024, *k_ec256;

struct cspec {
    const char *cn;
    EVP_PKEY *key;              /* the subject's key */
    X509 *issuer;               /* NULL: self-signed */
    EVP_PKEY *issuer_key;
    long not_before, not_after; /* seconds from now */
    int v1;                     /* X.509 v1, no extensions */
    int ca;                     /* basicConstraints cA=TRUE */
    const char *ku;             /* keyUsage value */
    const char *san;            /* subjectAltName value, NULL: none */
    const EVP_MD *md;           /* NULL: SHA-256 */
    long serial;
};

/* An application instance certificate as uakey makes it (OPC 10000-6
 * 6.2.2), self-signed with the RSA leaf key. */
static struct cspec leaf_spec(void)
{
    struct cspec s;

    memset(&s, 0, sizeof(s));
    s.cn = "uakey test app";
    s.key = k_leaf;
    s.not_before = -3600;
    s.not_after = 365 * DAY;
    s.ku = "critical,digitalSignature,nonRepudiation,keyEncipherment,"
           "dataEncipherment,keyCertSign";
    s.san = "URI:" APP_URI ",DNS:Host.Example.COM,IP:192.168.10.20,IP:fd00::1";
    s.serial = 1000;
    return s;
}

static struct cspec ca_spec(const char *cn, EVP_PKEY *key)
{
    struct cspec s;

    memset(&s, 0, sizeof(s));
    s.cn = cn;
    s.key = key;
    s.not_before = -DAY;
    s.not_after = 3650 * DAY;
    s.ca = 1;
    s.ku = "critical,keyCertSign,cRLSign";
    s.serial = 1;
    return s;
}

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

static X509 *make_cert(const struct cspec *s)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509 *issuer = s->issuer != NULL ? s->issuer : x;
    EVP_PKEY *ikey = s->issuer != NULL ? s->issuer_key : s->key;
    X509V3_CTX ctx;

    assert_non_null(x);
    assert_non_null(name);
    if (!s->v1)
        assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial), 1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                                (const unsigned char *)s->cn, -1, -1, 0), 1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                                (const unsigned char *)"uakey tests", -1, -1, 0), 1);
    assert_int_equal(X509_set_subject_name(x, name), 1);
    X509_NAME_free(name);
    assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(issuer)), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), s->not_before));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), s->not_after));
    assert_int_equal(X509_set_pubkey(x, s->key), 1);
    if (!s->v1) {
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        add_ext(x, &ctx, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
        if (s->ku != NULL)
            add_ext(x, &ctx, NID_key_usage, s->ku);
        if (!s->ca)
            add_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
        if (s->san != NULL)
            add_ext(x, &ctx, NID_subject_alt_name, s->san);
        add_ext(x, &ctx, NID_subject_key_identifier, "hash");
        add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
    }
    assert_true(X509_sign(x, ikey, s->md != NULL ? s->md : EVP_sha256()) > 0);
    return x;
}

/* A CRL of |ca| listing the serials in |revoked| (0-terminated, may be
 * NULL), signed with |key|. */
static X509_CRL *make_crl(X509 *ca, EVP_PKEY *key, const long *revoked)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *last = X509_gmtime_adj(NULL, -3600), *next = X509_gmtime_adj(NULL, 30 * DAY);

    assert_non_null(crl);
    assert_int_equal(X509_CRL_set_version(crl, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)), 1);
    assert_int_equal(X509_CRL_set1_lastUpdate(crl, last), 1);
    assert_int_equal(X509_CRL_set1_nextUpdate(crl, next), 1);
    for (; revoked != NULL && *revoked != 0; revoked++) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *serial = ASN1_INTEGER_new();

        assert_non_null(r);
        assert_non_null(serial);
        assert_int_equal(ASN1_INTEGER_set(serial, *revoked), 1);
        assert_int_equal(X509_REVOKED_set_serialNumber(r, serial), 1);
        assert_int_equal(X509_REVOKED_set_revocationDate(r, last), 1);
        assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
        ASN1_INTEGER_free(serial);
    }
    assert_int_equal(X509_CRL_sort(crl), 1);
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);
    return crl;
}

/* |c| with the last byte of its signature flipped. */
static X509 *tamper(X509 *c)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    int len = i2d_X509(c, &der);
    X509 *t;

    assert_true(len > 0);
    der[len - 1] ^= 0x01;
    p = der;
    t = d2i_X509(NULL, &p, len);
    assert_non_null(t);
    OPENSSL_free(der);
    return t;
}

/* ==== checking a result ================================================= */

static void expect(struct store *s, X509 *cert, STACK_OF(X509) *extra,
                   const UAKEY_VERIFY_OPTS *opts, uint32_t want, const char *in_detail)
{
    char *detail = NULL;
    uint32_t got = uakey_verify(store_pki(s), cert, extra, opts, &detail);

    if (got != want || (in_detail != NULL && (detail == NULL || strstr(detail, in_detail) == NULL)))
        print_error("want %s (detail with \"%s\"), got %s: %s\n", uakey_status_name(want),
                    in_detail != NULL ? in_detail : "", uakey_status_name(got),
                    detail != NULL ? detail : "(no detail)");
    assert_string_equal(uakey_status_name(got), uakey_status_name(want));
    assert_int_equal(got, want);
    assert_non_null(detail);
    if (in_detail != NULL)
        assert_non_null(strstr(detail, in_detail));
    free(detail);
    ERR_clear_error();
}

static UAKEY_VERIFY_OPTS opts_flags(unsigned int flags)
{
    UAKEY_VERIFY_OPTS o;

    memset(&o, 0, sizeof(o));
    o.flags = flags;
    return o;
}

/* A CA-issued chain: root CA (self-signed) -> leaf. */
struct pki2 {
    X509 *ca, *leaf;
    X509_CRL *crl;          /* the CA's CRL, nothing revoked */
};

static void pki2_make(struct pki2 *p)
{
    struct cspec cs = ca_spec("uakey test CA", k_ca), ls = leaf_spec();

    p->ca = make_cert(&cs);
    ls.cn = "uakey test app (CA-issued)";
    ls.issuer = p->ca;
    ls.issuer_key = k_ca;
    ls.ku = "critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment";
    p->leaf = make_cert(&ls);
    p->crl = make_crl(p->ca, k_ca, NULL);
}

static void pki2_free(struct pki2 *p)
{
    X509_free(p->ca);
    X509_free(p->leaf);
    X509_CRL_free(p->crl);
}

/* root -> intermediate -> leaf. */
struct pki3 {
    X509 *root, *inter, *leaf;
    X509_CRL *root_crl, *inter_crl;
};

static void pki3_make(struct pki3 *p, const long *root_revokes)
{
    struct cspec rs = ca_spec("uakey test root", k_ca), is = ca_spec("uakey test intermediate", k_int);
    struct cspec ls = leaf_spec();

    p->root = make_cert(&rs);
    is.issuer = p->root;
    is.issuer_key = k_ca;
    is.serial = 2;
    p->inter = make_cert(&is);
    ls.cn = "uakey test app (intermediate)";
    ls.issuer = p->inter;
    ls.issuer_key = k_int;
    ls.ku = "critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment";
    p->leaf = make_cert(&ls);
    p->root_crl = make_crl(p->root, k_ca, root_revokes);
    p->inter_crl = make_crl(p->inter, k_int, NULL);
}

static void pki3_free(struct pki3 *p)
{
    X509_free(p->root);
    X509_free(p->inter);
    X509_free(p->leaf);
    X509_CRL_free(p->root_crl);
    X509_CRL_free(p->inter_crl);
}

/* ==== status names and the policy table ================================= */

static void test_status_names(void **state)
{
    static const struct {
        uint32_t code;
        const char *name;
    } t[] = {
        { UAKEY_Good, "Good" },
        { UAKEY_BadCertificateInvalid, "BadCertificateInvalid" },
        { UAKEY_BadSecurityChecksFailed, "BadSecurityChecksFailed" },
        { UAKEY_BadCertificateTimeInvalid, "BadCertificateTimeInvalid" },
        { UAKEY_BadCertificateIssuerTimeInvalid, "BadCertificateIssuerTimeInvalid" },
        { UAKEY_BadCertificateHostNameInvalid, "BadCertificateHostNameInvalid" },
        { UAKEY_BadCertificateUriInvalid, "BadCertificateUriInvalid" },
        { UAKEY_BadCertificateUseNotAllowed, "BadCertificateUseNotAllowed" },
        { UAKEY_BadCertificateIssuerUseNotAllowed, "BadCertificateIssuerUseNotAllowed" },
        { UAKEY_BadCertificateUntrusted, "BadCertificateUntrusted" },
        { UAKEY_BadCertificateRevocationUnknown, "BadCertificateRevocationUnknown" },
        { UAKEY_BadCertificateIssuerRevocationUnknown, "BadCertificateIssuerRevocationUnknown" },
        { UAKEY_BadCertificateRevoked, "BadCertificateRevoked" },
        { UAKEY_BadCertificateIssuerRevoked, "BadCertificateIssuerRevoked" },
        { UAKEY_BadCertificateChainIncomplete, "BadCertificateChainIncomplete" },
        { UAKEY_BadCertificatePolicyCheckFailed, "BadCertificatePolicyCheckFailed" },
        { UAKEY_BadSecurityPolicyRejected, "BadSecurityPolicyRejected" },
        /* the related codes of opcua-security.md section 3 */
        { 0x80540000u, "BadSecurityModeRejected" },
        { 0x80570000u, "BadUserSignatureInvalid" },
        { 0x80580000u, "BadApplicationSignatureInvalid" },
        { 0x80200000u, "BadIdentityTokenInvalid" },
        { 0x80210000u, "BadIdentityTokenRejected" },
        { 0x80240000u, "BadNonceInvalid" },
        /* not in the table */
        { 0x80000000u, "Bad" },
        { 0x8FFF0000u, "Unknown" },
        { 0x00010000u, "Unknown" },
        { 0xFFFFFFFFu, "Unknown" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        assert_string_equal(uakey_status_name(t[i].code), t[i].name);
}

static const char *const policy_names[] = {
    "None", "Basic128Rsa15", "Basic256", "Basic256Sha256", "Aes128_Sha256_RsaOaep",
    "Aes256_Sha256_RsaPss", "ECC_nistP256", "ECC_nistP384", "ECC_brainpoolP256r1",
    "ECC_brainpoolP384r1", "ECC_curve25519", "ECC_curve448",
};

static void expect_policy_unknown(const char *uri)
{
    unsigned long e;

    ERR_clear_error();
    assert_null(uakey_policy_find(uri));
    e = ERR_peek_last_error();
    assert_int_equal(ERR_GET_LIB(e), uakey_err_lib());
    assert_int_equal(ERR_GET_REASON(e), UK_R_POLICY_UNKNOWN);
    ERR_clear_error();
}

static void test_policy_table(void **state)
{
    size_t i, j, n = sizeof(policy_names) / sizeof(policy_names[0]);
    const UAKEY_POLICY *seen[sizeof(policy_names) / sizeof(policy_names[0])];
    char full[256];

    (void)state;
    for (i = 0; i < n; i++) {
        const UAKEY_POLICY *a, *b;

        snprintf(full, sizeof(full), POLICY_PREFIX "%s", policy_names[i]);
        a = uakey_policy_find(full);
        b = uakey_policy_find(policy_names[i]);
        assert_non_null(a);
        assert_ptr_equal(a, b);
        assert_string_equal(uakey_policy_uri(a), full);
        for (j = 0; j < i; j++)
            assert_ptr_not_equal(seen[j], a);
        seen[i] = a;
    }
    expect_policy_unknown(POLICY_PREFIX "Basic512");
    expect_policy_unknown("Basic512");
    expect_policy_unknown("basic256sha256");
    expect_policy_unknown("http://example.com/UA/SecurityPolicy#Basic256Sha256");
    expect_policy_unknown(POLICY_PREFIX);
    expect_policy_unknown("");
    expect_policy_unknown(NULL);
    assert_null(uakey_policy_uri(NULL));
}

static uint32_t check_policy(const char *name, X509 *cert)
{
    char *detail = NULL;
    uint32_t rc = uakey_policy_check_cert(uakey_policy_find(name), cert, &detail);

    if (rc == UAKEY_Good)
        assert_null(detail);
    else
        assert_non_null(detail);
    free(detail);
    return rc;
}

static void test_policy_check_cert(void **state)
{
    struct cspec s = leaf_spec();
    X509 *rsa, *rsa1024, *ec, *sha1;

    (void)state;
    rsa = make_cert(&s);
    s.key = k_rsa1024;
    rsa1024 = make_cert(&s);
    s.key = k_leaf;
    s.md = EVP_sha1();
    sha1 = make_cert(&s);
    s = leaf_spec();
    s.key = k_ec256;
    ec = make_cert(&s);

    assert_int_equal(check_policy("None", ec), UAKEY_Good);
    assert_int_equal(check_policy("Basic256Sha256", rsa), UAKEY_Good);
    assert_int_equal(check_policy("Aes128_Sha256_RsaOaep", rsa), UAKEY_Good);
    assert_int_equal(check_policy("Aes256_Sha256_RsaPss", rsa), UAKEY_Good);
    assert_int_equal(check_policy("Basic256", rsa), UAKEY_Good);
    assert_int_equal(check_policy("Basic128Rsa15", rsa1024), UAKEY_Good);
    assert_int_equal(check_policy("Basic256", sha1), UAKEY_Good);
    assert_int_equal(check_policy("ECC_nistP256", ec), UAKEY_Good);
    assert_int_equal(check_policy("Basic256Sha256", rsa1024), UAKEY_BadCertificatePolicyCheckFailed);
    assert_int_equal(check_policy("Basic256Sha256", sha1), UAKEY_BadCertificatePolicyCheckFailed);
    assert_int_equal(check_policy("Basic256Sha256", ec), UAKEY_BadCertificatePolicyCheckFailed);
    assert_int_equal(check_policy("ECC_nistP256", rsa), UAKEY_BadCertificatePolicyCheckFailed);
    assert_int_equal(check_policy("ECC_nistP384", ec), UAKEY_BadCertificatePolicyCheckFailed);
    assert_int_equal(check_policy("ECC_brainpoolP256r1", ec), UAKEY_BadCertificatePolicyCheckFailed);
    assert_int_equal(check_policy("ECC_curve25519", ec), UAKEY_BadCertificatePolicyCheckFailed);
    X509_free(rsa);
    X509_free(rsa1024);
    X509_free(sha1);
    X509_free(ec);
}

/* ==== validation, one test per outcome ================================== */

static void test_good_self_signed(void **state)
{
    struct store *st = store_new();
    struct cspec s = leaf_spec();
    X509 *leaf = make_cert(&s);
    UAKEY_VERIFY_OPTS o = opts_flags(0);
    char *detail = (char *)1;

    (void)state;
    store_add_cert(st, UAKEY_PKI_TRUSTED, leaf);
    expect(st, leaf, NULL, NULL, UAKEY_Good, "Good");
    o.app_uri = APP_URI;
    o.host = "host.example.com";
    o.policy_uri = POLICY_PREFIX "Basic256Sha256";
    expect(st, leaf, NULL, &o, UAKEY_Good, "Good");
    /* detail may be NULL */
    assert_int_equal(uakey_verify(store_pki(st), leaf, NULL, &o, NULL), UAKEY_Good);
    /* no certificate */
    assert_int_equal(uakey_verify(store_pki(st), NULL, NULL, &o, &detail),
                     UAKEY_BadCertificateInvalid);
    free(detail);
    ERR_clear_error();
    X509_free(leaf);
    store_free(st);
}

static void test_time_invalid(void **state)
{
    struct store *st = store_new();
    struct cspec s = leaf_spec();
    X509 *expired, *future;
    UAKEY_VERIFY_OPTS o = opts_flags(UAKEY_SUPPRESS_TIME_INVALID);

    (void)state;
    s.not_before = -2 * 365 * DAY;
    s.not_after = -365 * DAY;
    expired = make_cert(&s);
    s.serial++;
    s.not_before = DAY;
    s.not_after = 365 * DAY;
    future = make_cert(&s);
    store_add_cert(st, UAKEY_PKI_TRUSTED, expired);
    store_add_cert(st, UAKEY_PKI_TRUSTED, future);
    expect(st, expired, NULL, NULL, UAKEY_BadCertificateTimeInvalid, "(step 6,");
    expect(st, future, NULL, NULL, UAKEY_BadCertificateTimeInvalid, "(step 6,");
    expect(st, expired, NULL, &o, UAKEY_Good, "suppressed: BadCertificateTimeInvalid");
    expect(st, future, NULL, &o, UAKEY_Good, "suppressed: BadCertificateTimeInvalid");
    /* the issuer flag does not cover the leaf */
    o.flags = UAKEY_SUPPRESS_ISSUER_TIME_INVALID;
    expect(st, expired, NULL, &o, UAKEY_BadCertificateTimeInvalid, "(step 6,");
    /* opts->now decides, not the clock */
    o.flags = 0;
    o.now = time(NULL) - 400 * DAY;
    expect(st, expired, NULL, &o, UAKEY_Good, "Good");
    X509_free(expired);
    X509_free(future);
    store_free(st);
}

static void test_uri_invalid(void **state)
{
    struct store *st = store_new();
    struct cspec s = leaf_spec();
    X509 *leaf = make_cert(&s);
    UAKEY_VERIFY_OPTS o = opts_flags(UAKEY_SUPPRESS_HOST_NAME_INVALID);

    (void)state;
    store_add_cert(st, UAKEY_PKI_TRUSTED, leaf);
    o.app_uri = "urn:uakey:test:other";
    expect(st, leaf, NULL, &o, UAKEY_BadCertificateUriInvalid, "(step 8,");
    o.app_uri = "URN:uakey:test:app";   /* exact comparison */
    expect(st, leaf, NULL, &o, UAKEY_BadCertificateUriInvalid, "(step 8,");
    o.app_uri = APP_URI;
    expect(st, leaf, NULL, &o, UAKEY_Good, "Good");
    X509_free(leaf);
    store_free(st);
}

static void test_host_name(void **state)
{
    struct store *st = store_new();
    struct cspec s = leaf_spec();
    X509 *leaf = make_cert(&s);
    UAKEY_VERIFY_OPTS o = opts_flags(0);

    (void)state;
    store_add_cert(st, UAKEY_PKI_TRUSTED, leaf);
    o.host = "other.example.com";
    expect(st, leaf, NULL, &o, UAKEY_BadCertificateHostNameInvalid, "(step 7,");
    o.host = "host.example";
    expect(st, leaf, NULL, &o, UAKEY_BadCertificateHostNameInvalid, "(step 7,");
    o.host = "192.168.10.21";
    expect(st, leaf, NULL, &o, UAKEY_BadCertificateHostNameInvalid, "(step 7,");
    o.host = "uakey test app";          /* the CN is never used */
    expect(st, leaf, NULL, &o, UAKEY_BadCertificateHostNameInvalid, "(step 7,");
    o.flags = UAKEY_SUPPRESS_HOST_NAME_INVALID;
    expect(st, leaf, NULL, &o, UAKEY_Good, "suppressed: BadCertificateHostNameInvalid");
    o.flags = 0;
    o.host = "host.example.com";        /* DNS, case-insensitive */
    expect(st, leaf, NULL, &o, UAKEY_Good, "Good");
    o.host = "HOST.EXAMPLE.COM";
    expect(st, leaf, NULL, &o, UAKEY_Good, "Good");
    o.host = "192.168.10.20";           /* IP, exact */
    expect(st, leaf, NULL, &o, UAKEY_Good, "Good");
    o.host = "fd00:0::1";
    expect(st, leaf, NULL, &o, UAKEY_Good, "Good");
    X509_free(leaf);
    store_free(st);
}

static void test_use_not_allowed_key_usage(void **state)
{
    struct store *st = store_new();
    struct cspec s = leaf_spec();
    X509 *rsa_ds, *rsa_noku, *ec_ds;
    UAKEY_VERIFY_OPTS o = opts_flags(UAKEY_SUPPRESS_USE_NOT_ALLOWED);

    (void)state;
    s.ku = "critical,digitalSignature,nonRepudiation";     /* RSA without kE, dE */
    rsa_ds = make_cert(&s);
    s.serial++;
    s.ku = NULL;                                            /* no keyUsage at all */
    rsa_noku = make_cert(&s);
    s = leaf_spec();
    s.key = k_ec256;
    s.ku = "critical,digitalSignature";                     /* enough for ECC */
    ec_ds = make_cert(&s);
    store_add_cert(st, UAKEY_PKI_TRUSTED, rsa_ds);
    store_add_cert(st, UAKEY_PKI_TRUSTED, rsa_noku);
    store_add_cert(st, UAKEY_PKI_TRUSTED, ec_ds);
    expect(st, rsa_ds, NULL, NULL, UAKEY_BadCertificateUseNotAllowed, "(step 9,");
    expect(st, rsa_noku, NULL, NULL, UAKEY_BadCertificateUseNotAllowed, "(step 9,");
    expect(st, rsa_ds, NULL, &o, UAKEY_Good, "suppressed: BadCertificateUseNotAllowed");
    expect(st, ec_ds, NULL, NULL, UAKEY_Good, "Good");
    X509_free(rsa_ds);
    X509_free(rsa_noku);
    X509_free(ec_ds);
    store_free(st);
}

static void test_use_not_allowed_ca_leaf(void **state)
{
    struct store *st = store_new();
    struct cspec s = ca_spec("uakey test CA as leaf", k_ca);
    X509 *ca;
    UAKEY_VERIFY_OPTS o = opts_flags(0);

    (void)state;
    /* every leaf keyUsage bit too: only cA=TRUE is wrong */
    s.ku = "critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment,"
           "keyCertSign,cRLSign";
    s.san = "URI:urn:other";
    ca = make_cert(&s);
    store_add_cert(st, UAKEY_PKI_TRUSTED, ca);
    /* steps 7 and 8 are skipped for a CA: a wrong host and URI pass */
    o.host = "nowhere.example.com";
    o.app_uri = APP_URI;
    expect(st, ca, NULL, &o, UAKEY_BadCertificateUseNotAllowed, "is a CA certificate");
    o.flags = UAKEY_SUPPRESS_USE_NOT_ALLOWED;
    expect(st, ca, NULL, &o, UAKEY_Good, "suppressed: BadCertificateUseNotAllowed");
    X509_free(ca);
    store_free(st);
}

static void test_untrusted(void **state)
{
    struct store *st = store_new();
    struct cspec s = leaf_spec();
    X509 *self = make_cert(&s);
    struct pki2 p;

    (void)state;
    pki2_make(&p);
    /* nothing in trusted/ */
    expect(st, self, NULL, NULL, UAKEY_BadCertificateUntrusted, "(step 5,");
    /* issuers/ alone never trusts anything */
    store_add_cert(st, UAKEY_PKI_ISSUERS, p.ca);
    store_add_crl(st, UAKEY_PKI_ISSUERS, p.crl);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateUntrusted, "(step 5,");
    /* the leaf in issuers/ is not trusted either */
    store_add_cert(st, UAKEY_PKI_ISSUERS, self);
    expect(st, self, NULL, NULL, UAKEY_BadCertificateUntrusted, "(step 5,");
    /* control: trusted, it passes */
    store_add_cert(st, UAKEY_PKI_TRUSTED, self);
    expect(st, self, NULL, NULL, UAKEY_Good, "Good");
    X509_free(self);
    pki2_free(&p);
    store_free(st);
}

static void test_leaf_trusted_ca_in_issuers(void **state)
{
    struct store *st = store_new();
    struct pki2 p;

    (void)state;
    pki2_make(&p);
    store_add_cert(st, UAKEY_PKI_ISSUERS, p.ca);
    store_add_crl(st, UAKEY_PKI_ISSUERS, p.crl);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.leaf);
    expect(st, p.leaf, NULL, NULL, UAKEY_Good, "Good");
    pki2_free(&p);
    store_free(st);
}

static void test_ca_trusted_leaf_not(void **state)
{
    struct store *st = store_new();
    struct pki2 p;
    UAKEY_VERIFY_OPTS o = opts_flags(0);
    STACK_OF(X509) *extra = sk_X509_new_null();

    (void)state;
    pki2_make(&p);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.ca);
    store_add_crl(st, UAKEY_PKI_TRUSTED, p.crl);
    o.app_uri = APP_URI;
    o.host = "192.168.10.20";
    o.policy_uri = "Basic256Sha256";
    expect(st, p.leaf, NULL, &o, UAKEY_Good, "Good");
    /* the peer also sending the CA changes nothing */
    assert_true(sk_X509_push(extra, p.ca) > 0);
    expect(st, p.leaf, extra, &o, UAKEY_Good, "Good");
    sk_X509_free(extra);
    pki2_free(&p);
    store_free(st);
}

static void test_chain_incomplete(void **state)
{
    struct store *st = store_new();
    struct pki2 p;
    UAKEY_VERIFY_OPTS o = opts_flags(UAKEY_SUPPRESS_CHAIN_INCOMPLETE);
    STACK_OF(X509) *extra = sk_X509_new_null();

    (void)state;
    pki2_make(&p);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.leaf);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateChainIncomplete, "(step 2,");
    expect(st, p.leaf, NULL, &o, UAKEY_Good, "suppressed: BadCertificateChainIncomplete");
    /* control: the CA sent by the peer completes the chain */
    assert_true(sk_X509_push(extra, p.ca) > 0);
    o.flags = UAKEY_NO_REVOCATION_CHECK;
    expect(st, p.leaf, extra, &o, UAKEY_Good, "Good");
    sk_X509_free(extra);
    pki2_free(&p);
    store_free(st);
}

static void test_signature_invalid(void **state)
{
    struct store *st = store_new();
    struct cspec s = leaf_spec();
    X509 *self = make_cert(&s), *self_bad = tamper(self);
    X509 *leaf_bad;
    struct pki2 p;

    (void)state;
    pki2_make(&p);
    leaf_bad = tamper(p.leaf);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.ca);
    store_add_crl(st, UAKEY_PKI_TRUSTED, p.crl);
    store_add_cert(st, UAKEY_PKI_TRUSTED, self_bad);
    expect(st, leaf_bad, NULL, NULL, UAKEY_BadCertificateInvalid, "(step 3,");
    expect(st, self_bad, NULL, NULL, UAKEY_BadCertificateInvalid, "(step 3,");
    /* control: the untouched certificates */
    expect(st, p.leaf, NULL, NULL, UAKEY_Good, "Good");
    store_add_cert(st, UAKEY_PKI_TRUSTED, self);
    expect(st, self, NULL, NULL, UAKEY_Good, "Good");
    X509_free(self);
    X509_free(self_bad);
    X509_free(leaf_bad);
    pki2_free(&p);
    store_free(st);
}

static void test_revoked(void **state)
{
    struct store *st = store_new();
    struct pki2 p;
    X509_CRL *crl;
    long serials[] = { 7, 1000, 0 };
    UAKEY_VERIFY_OPTS o = opts_flags(UAKEY_NO_REVOCATION_CHECK);

    (void)state;
    pki2_make(&p);
    crl = make_crl(p.ca, k_ca, serials);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.ca);
    store_add_crl(st, UAKEY_PKI_TRUSTED, crl);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateRevoked, "(step 11,");
    /* not suppressible */
    o.flags = UAKEY_SUPPRESS_REVOCATION_UNKNOWN | UAKEY_SUPPRESS_USE_NOT_ALLOWED;
    expect(st, p.leaf, NULL, &o, UAKEY_BadCertificateRevoked, "(step 11,");
    o.flags = UAKEY_NO_REVOCATION_CHECK;
    expect(st, p.leaf, NULL, &o, UAKEY_Good, "Good");
    X509_CRL_free(crl);
    pki2_free(&p);
    store_free(st);
}

static void test_issuer_revoked(void **state)
{
    struct store *st = store_new();
    struct pki3 p;
    long serials[] = { 2, 0 };          /* the intermediate */

    (void)state;
    pki3_make(&p, serials);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.root);
    store_add_cert(st, UAKEY_PKI_ISSUERS, p.inter);
    store_add_crl(st, UAKEY_PKI_TRUSTED, p.root_crl);
    store_add_crl(st, UAKEY_PKI_ISSUERS, p.inter_crl);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateIssuerRevoked, "(step 11,");
    pki3_free(&p);
    store_free(st);
}

static void test_revocation_unknown(void **state)
{
    struct store *st = store_new();
    struct pki2 p;
    UAKEY_VERIFY_OPTS o = opts_flags(UAKEY_SUPPRESS_REVOCATION_UNKNOWN);

    (void)state;
    pki2_make(&p);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.ca);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateRevocationUnknown, "(step 10,");
    expect(st, p.leaf, NULL, &o, UAKEY_Good, "suppressed: BadCertificateRevocationUnknown");
#ifndef UK_TEST_REAL_PKI
    {
        /* a CRL naming the CA but signed by another key does not count
         * (the real store refuses to hold one at all) */
        X509_CRL *forged = make_crl(p.ca, k_int, NULL);

        store_add_crl(st, UAKEY_PKI_TRUSTED, forged);
        expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateRevocationUnknown, "(step 10,");
        X509_CRL_free(forged);
    }
#endif
    /* control: with the CA's CRL */
    store_add_crl(st, UAKEY_PKI_TRUSTED, p.crl);
    expect(st, p.leaf, NULL, NULL, UAKEY_Good, "Good");
    pki2_free(&p);
    store_free(st);
}

static void test_issuer_revocation_unknown(void **state)
{
    struct store *st = store_new();
    struct pki3 p;
    UAKEY_VERIFY_OPTS o = opts_flags(UAKEY_SUPPRESS_REVOCATION_UNKNOWN);

    (void)state;
    pki3_make(&p, NULL);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.root);
    store_add_cert(st, UAKEY_PKI_ISSUERS, p.inter);
    store_add_crl(st, UAKEY_PKI_ISSUERS, p.inter_crl);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateIssuerRevocationUnknown, "(step 10,");
    expect(st, p.leaf, NULL, &o, UAKEY_Good,
           "suppressed: BadCertificateIssuerRevocationUnknown");
    /* control: the root's CRL completes it */
    store_add_crl(st, UAKEY_PKI_TRUSTED, p.root_crl);
    expect(st, p.leaf, NULL, NULL, UAKEY_Good, "Good");
    pki3_free(&p);
    store_free(st);
}

static void test_no_revocation_check(void **state)
{
    struct store *st = store_new();
    struct pki3 p;
    UAKEY_VERIFY_OPTS o = opts_flags(UAKEY_NO_REVOCATION_CHECK);

    (void)state;
    pki3_make(&p, NULL);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.root);
    store_add_cert(st, UAKEY_PKI_ISSUERS, p.inter);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateRevocationUnknown, "(step 10,");
    expect(st, p.leaf, NULL, &o, UAKEY_Good, "Good");
    pki3_free(&p);
    store_free(st);
}

/* Revocation turned off for one CA (OPC 10000-4 6.1.3 step 10: no error
 * when the administrator disabled revocation for that CA). */
static void test_revocation_off_per_ca(void **state)
{
    struct store *st = store_new();
    struct pki2 p;
    struct cspec os = ca_spec("uakey other CA", k_int), ls = leaf_spec();
    X509 *other_ca, *other_leaf;

    (void)state;
    pki2_make(&p);
    other_ca = make_cert(&os);
    ls.cn = "uakey test app (other CA)";
    ls.issuer = other_ca;
    ls.issuer_key = k_int;
    ls.ku = "critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment";
    other_leaf = make_cert(&ls);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.ca);
    store_add_cert(st, UAKEY_PKI_TRUSTED, other_ca);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateRevocationUnknown, "(step 10,");
    /* off for the CA: its leaf is Good without a CRL, and nothing is
     * reported as suppressed (it is not an error at all) */
    store_set_revocation(st, p.ca, 0);
    expect(st, p.leaf, NULL, NULL, UAKEY_Good, "Good");
    {
        char *detail = NULL;

        assert_int_equal(uakey_verify(store_pki(st), p.leaf, NULL, NULL, &detail), UAKEY_Good);
        assert_string_equal(detail, "Good");
        free(detail);
    }
    /* still required for the other CA */
    expect(st, other_leaf, NULL, NULL, UAKEY_BadCertificateRevocationUnknown, "(step 10,");
    /* back on: the error again */
    store_set_revocation(st, p.ca, 1);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateRevocationUnknown, "(step 10,");
    /* control: the CA's CRL */
    store_add_crl(st, UAKEY_PKI_TRUSTED, p.crl);
    expect(st, p.leaf, NULL, NULL, UAKEY_Good, "Good");
    X509_free(other_ca);
    X509_free(other_leaf);
    pki2_free(&p);
    store_free(st);
}

/* "Off" means the CA's CRLs are not looked at at all: a CRL of that CA
 * revoking the leaf does not count while revocation is off for the CA,
 * exactly as with UAKEY_NO_REVOCATION_CHECK for the whole validation. */
static void test_revocation_off_revoked_leaf(void **state)
{
    struct store *st = store_new();
    struct pki2 p;
    X509_CRL *crl;
    long serials[] = { 1000, 0 };

    (void)state;
    pki2_make(&p);
    crl = make_crl(p.ca, k_ca, serials);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.ca);
    store_add_crl(st, UAKEY_PKI_TRUSTED, crl);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateRevoked, "(step 11,");
    store_set_revocation(st, p.ca, 0);
    expect(st, p.leaf, NULL, NULL, UAKEY_Good, "Good");
    store_set_revocation(st, p.ca, 1);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateRevoked, "(step 11,");
    X509_CRL_free(crl);
    pki2_free(&p);
    store_free(st);
}

/* root -> intermediate -> leaf: the setting of each CA covers only the
 * certificate it issued. */
static void test_issuer_revocation_off(void **state)
{
    struct store *st = store_new();
    struct pki3 p;

    (void)state;
    pki3_make(&p, NULL);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.root);
    store_add_cert(st, UAKEY_PKI_ISSUERS, p.inter);
    store_add_crl(st, UAKEY_PKI_ISSUERS, p.inter_crl);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateIssuerRevocationUnknown, "(step 10,");
    /* the root's revocation off: the intermediate needs no root CRL */
    store_set_revocation(st, p.root, 0);
    expect(st, p.leaf, NULL, NULL, UAKEY_Good, "Good");
    /* the intermediate's off instead: the root's CRL is required again */
    store_set_revocation(st, p.root, 1);
    store_set_revocation(st, p.inter, 0);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateIssuerRevocationUnknown, "(step 10,");
    store_add_crl(st, UAKEY_PKI_TRUSTED, p.root_crl);
    expect(st, p.leaf, NULL, NULL, UAKEY_Good, "Good");
    pki3_free(&p);
    store_free(st);
}

/* The intermediate's revocation off, the root's CRL revoking it: the
 * intermediate is still found revoked (its issuer, the root, is on). */
static void test_issuer_revoked_other_ca_off(void **state)
{
    struct store *st = store_new();
    struct pki3 p;
    long serials[] = { 2, 0 };          /* the intermediate */

    (void)state;
    pki3_make(&p, serials);
    store_add_cert(st, UAKEY_PKI_TRUSTED, p.root);
    store_add_cert(st, UAKEY_PKI_ISSUERS, p.inter);
    store_add_crl(st, UAKEY_PKI_TRUSTED, p.root_crl);
    store_set_revocation(st, p.inter, 0);
    expect(st, p.leaf, NULL, NULL, UAKEY_BadCertificateIssuerRevoked, "(step 11,");
    store_set_revocation(st, p.root, 0);
    expect(st, p.leaf, NULL, NULL, UAKEY_Good, "Good");
    pki3_free(&p);
    store_free(st);
}

static void test_policy_key_too_short(void **state)
{
    struct store *st = store_new();
    struct cspec s = leaf_spec();
    X509 *leaf;
    UAKEY_VERIFY_OPTS o = opts_flags(0);

    (void)state;
    s.key = k_rsa1024;
    leaf = make_cert(&s);
    store_add_cert(st, UAKEY_PKI_TRUSTED, leaf);
    o.policy_uri = POLICY_PREFIX "Basic256Sha256";
    expect(st, leaf, NULL, &o, UAKEY_BadCertificatePolicyCheckFailed, "(step 4,");
    o.flags = UAKEY_SUPPRESS_POLICY_CHECK;
    expect(st, leaf, NULL, &o, UAKEY_Good, "suppressed: BadCertificatePolicyCheckFailed");
    o.flags = 0;
    o.policy_uri = "Basic128Rsa15";
    expect(st, leaf, NULL, &o, UAKEY_Good, "Good");
    /* an unknown policy fails the check too */
    o.policy_uri = "Basic512";
    expect(st, leaf, NULL, &o, UAKEY_BadCertificatePolicyCheckFailed, "(step 4,");
    X509_free(leaf);
    store_free(st);
}

static void test_policy_sha1(void **state)
{
    struct store *st = store_new();
    struct cspec s = leaf_spec();
    X509 *leaf;
    UAKEY_VERIFY_OPTS o = opts_flags(0);

    (void)state;
    s.md = EVP_sha1();
    leaf = make_cert(&s);
    store_add_cert(st, UAKEY_PKI_TRUSTED, leaf);
    o.policy_uri = POLICY_PREFIX "Basic256Sha256";
    expect(st, leaf, NULL, &o, UAKEY_BadCertificatePolicyCheckFailed, "(step 4,");
    o.flags = UAKEY_SUPPRESS_POLICY_CHECK;
    expect(st, leaf, NULL, &o, UAKEY_Good, "suppressed: BadCertificatePolicyCheckFailed");
    o.flags = 0;
    o.policy_uri = NULL;
    expect(st, leaf, NULL, &o, UAKEY_Good, "Good");
    X509_free(leaf);
    store_free(st);
}

static void test_policy_ecc_under_rsa(void **state)
{
    struct store *st = store_new();
    struct cspec s = leaf_spec();
    X509 *leaf;
    UAKEY_VERIFY_OPTS o = opts_flags(0);

    (void)state;
    s.key = k_ec256;
    s.ku = "critical,digitalSignature,nonRepudiation,keyCertSign";
    leaf = make_cert(&s);
    store_add_cert(st, UAKEY_PKI_TRUSTED, leaf);
    o.policy_uri = POLICY_PREFIX "Basic256Sha256";
    expect(st, leaf, NULL, &o, UAKEY_BadCertificatePolicyCheckFailed, "(step 4,");
    o.policy_uri = POLICY_PREFIX "ECC_nistP384";
    expect(st, leaf, NULL, &o, UAKEY_BadCertificatePolicyCheckFailed, "(step 4,");
    o.policy_uri = POLICY_PREFIX "ECC_nistP256";
    expect(st, leaf, NULL, &o, UAKEY_Good, "Good");
    X509_free(leaf);
    store_free(st);
}

static void test_issuer_time_invalid(void **state)
{
    struct store *st = store_new();
    struct cspec cs = ca_spec("uakey expired CA", k_ca), ls = leaf_spec();
    X509 *ca, *leaf;
    X509_CRL *crl;
    UAKEY_VERIFY_OPTS o = opts_flags(UAKEY_SUPPRESS_ISSUER_TIME_INVALID);

    (void)state;
    cs.not_before = -3 * 365 * DAY;
    cs.not_after = -DAY;
    ca = make_cert(&cs);
    ls.issuer = ca;
    ls.issuer_key = k_ca;
    leaf = make_cert(&ls);
    crl = make_crl(ca, k_ca, NULL);
    store_add_cert(st, UAKEY_PKI_TRUSTED, ca);
    store_add_crl(st, UAKEY_PKI_TRUSTED, crl);
    expect(st, leaf, NULL, NULL, UAKEY_BadCertificateIssuerTimeInvalid, "(step 6,");
    expect(st, leaf, NULL, &o, UAKEY_Good, "suppressed: BadCertificateIssuerTimeInvalid");
    /* the leaf flag does not cover issuers */
    o.flags = UAKEY_SUPPRESS_TIME_INVALID;
    expect(st, leaf, NULL, &o, UAKEY_BadCertificateIssuerTimeInvalid, "(step 6,");
    X509_free(ca);
    X509_free(leaf);
    X509_CRL_free(crl);
    store_free(st);
}

/* Issuers lacking keyCertSign or cRLSign.  A store keeps no CRL of such a
 * CA (it is not a CRL signer), so these run without the CRL steps. */
static void test_issuer_use_not_allowed(void **state)
{
    static const char *const kus[] = { "critical,cRLSign", "critical,keyCertSign" };
    struct store *st = store_new();
    UAKEY_VERIFY_OPTS o = opts_flags(UAKEY_NO_REVOCATION_CHECK);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(kus) / sizeof(kus[0]); i++) {
        struct cspec cs = ca_spec(i == 0 ? "uakey CA without keyCertSign"
                                         : "uakey CA without cRLSign",
                                  i == 0 ? k_ca : k_int);
        struct cspec ls = leaf_spec();
        X509 *ca, *leaf;

        cs.ku = kus[i];
        ca = make_cert(&cs);
        ls.issuer = ca;
        ls.issuer_key = cs.key;
        leaf = make_cert(&ls);
        store_add_cert(st, UAKEY_PKI_TRUSTED, ca);
        o.flags = UAKEY_NO_REVOCATION_CHECK;
        expect(st, leaf, NULL, &o, UAKEY_BadCertificateIssuerUseNotAllowed, "(step 9,");
        o.flags = UAKEY_NO_REVOCATION_CHECK | UAKEY_SUPPRESS_USE_NOT_ALLOWED;
        expect(st, leaf, NULL, &o, UAKEY_Good, "suppressed: BadCertificateIssuerUseNotAllowed");
        X509_free(ca);
        X509_free(leaf);
    }
    store_free(st);
}

static void test_structure_v1(void **state)
{
    struct store *st = store_new();
    struct cspec s = leaf_spec();
    X509 *v1;
    UAKEY_VERIFY_OPTS o = opts_flags(0xffu);

    (void)state;
    s.v1 = 1;
    v1 = make_cert(&s);
    expect(st, v1, NULL, NULL, UAKEY_BadCertificateInvalid, "(step 1,");
    /* every suppression on, a trusted copy: structure still fails */
    store_add_cert(st, UAKEY_PKI_TRUSTED, v1);
    expect(st, v1, NULL, &o, UAKEY_BadCertificateInvalid, "(step 1,");
    X509_free(v1);
    store_free(st);
}

/* ==== the group ========================================================= */

static int group_setup(void **state)
{
    (void)state;
    k_leaf = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    k_ca = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    k_int = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    k_rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    k_ec256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return k_leaf != NULL && k_ca != NULL && k_int != NULL && k_rsa1024 != NULL
           && k_ec256 != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(k_leaf);
    EVP_PKEY_free(k_ca);
    EVP_PKEY_free(k_int);
    EVP_PKEY_free(k_rsa1024);
    EVP_PKEY_free(k_ec256);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_status_names, test_teardown),
        cmocka_unit_test_teardown(test_policy_table, test_teardown),
        cmocka_unit_test_teardown(test_policy_check_cert, test_teardown),
        cmocka_unit_test_teardown(test_good_self_signed, test_teardown),
        cmocka_unit_test_teardown(test_time_invalid, test_teardown),
        cmocka_unit_test_teardown(test_uri_invalid, test_teardown),
        cmocka_unit_test_teardown(test_host_name, test_teardown),
        cmocka_unit_test_teardown(test_use_not_allowed_key_usage, test_teardown),
        cmocka_unit_test_teardown(test_use_not_allowed_ca_leaf, test_teardown),
        cmocka_unit_test_teardown(test_untrusted, test_teardown),
        cmocka_unit_test_teardown(test_leaf_trusted_ca_in_issuers, test_teardown),
        cmocka_unit_test_teardown(test_ca_trusted_leaf_not, test_teardown),
        cmocka_unit_test_teardown(test_chain_incomplete, test_teardown),
        cmocka_unit_test_teardown(test_signature_invalid, test_teardown),
        cmocka_unit_test_teardown(test_revoked, test_teardown),
        cmocka_unit_test_teardown(test_issuer_revoked, test_teardown),
        cmocka_unit_test_teardown(test_revocation_unknown, test_teardown),
        cmocka_unit_test_teardown(test_issuer_revocation_unknown, test_teardown),
        cmocka_unit_test_teardown(test_no_revocation_check, test_teardown),
        cmocka_unit_test_teardown(test_revocation_off_per_ca, test_teardown),
        cmocka_unit_test_teardown(test_revocation_off_revoked_leaf, test_teardown),
        cmocka_unit_test_teardown(test_issuer_revocation_off, test_teardown),
        cmocka_unit_test_teardown(test_issuer_revoked_other_ca_off, test_teardown),
        cmocka_unit_test_teardown(test_policy_key_too_short, test_teardown),
        cmocka_unit_test_teardown(test_policy_sha1, test_teardown),
        cmocka_unit_test_teardown(test_policy_ecc_under_rsa, test_teardown),
        cmocka_unit_test_teardown(test_issuer_time_invalid, test_teardown),
        cmocka_unit_test_teardown(test_issuer_use_not_allowed, test_teardown),
        cmocka_unit_test_teardown(test_structure_v1, test_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
