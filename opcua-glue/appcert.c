/* libuakey: OPC UA application instance certificates (OPC 10000-6 6.2.2),
 * their PKCS#10 requests, and installing an issued certificate as the own
 * identity of a PKI store.
 *
 * Everything is built with the public OpenSSL API.  The key is usually a
 * token key behind the uakey provider: the signature is made in the token
 * (EVP_DigestSignInit_ex with the key's own provider), and every result is
 * checked on the host against the public key it carries before it is
 * returned. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ukua_int.h"

#define UKUA_DEFAULT_DAYS 365
#define UKUA_SERIAL_LEN 16

/* keyUsage bit numbers (RFC 5280 4.2.1.3) */
#define KUBIT_DIGITAL_SIGNATURE 0
#define KUBIT_NON_REPUDIATION 1
#define KUBIT_KEY_ENCIPHERMENT 2
#define KUBIT_DATA_ENCIPHERMENT 3
#define KUBIT_KEY_CERT_SIGN 5

enum key_kind { KIND_RSA, KIND_EC, KIND_EDDSA };

/* ---- the key: kind and signature digest ------------------------------------ */

/* What kind of key |key| is and which digest signs with it: SHA-256,
 * SHA-384 for P-384 and brainpoolP384r1, none (NULL) for EdDSA. */
static int key_profile(EVP_PKEY *key, enum key_kind *kind, const char **mdname)
{
    char group[64];
    size_t glen = 0;

    if (EVP_PKEY_is_a(key, "RSA")) {
        *kind = KIND_RSA;
        *mdname = "SHA256";
        return 1;
    }
    if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) {
        *kind = KIND_EDDSA;
        *mdname = NULL;
        return 1;
    }
    if (EVP_PKEY_is_a(key, "EC")) {
        *kind = KIND_EC;
        *mdname = "SHA256";
        ERR_set_mark();
        if (EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) && glen > 0) {
            if (strcasecmp(group, "secp384r1") == 0 || strcasecmp(group, "P-384") == 0
                || strcasecmp(group, "brainpoolP384r1") == 0)
                *mdname = "SHA384";
        } else if (EVP_PKEY_get_bits(key) == 384) {
            /* no group name from the key's provider: the size decides */
            *mdname = "SHA384";
        }
        ERR_pop_to_mark();
        return 1;
    }
    uakey_raise(UK_R_WRONG_KEY_TYPE,
                "application certificates need an RSA, EC or Ed25519 key, not %s",
                EVP_PKEY_get0_type_name(key) != NULL ? EVP_PKEY_get0_type_name(key) : "this key");
    return 0;
}

/* ---- parameter checks -------------------------------------------------------- */

static int is_alpha(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(int c)
{
    return is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* An ApplicationUri: a URL (RFC 3986) or URN (RFC 8141), i.e. a scheme,
 * ':' and a non-empty rest made of the characters RFC 3986 allows
 * (percent-escapes well formed).  No spaces, controls or non-ASCII. */
static int app_uri_valid(const char *uri)
{
    const unsigned char *p = (const unsigned char *)uri;

    if (!is_alpha(*p))
        return 0;
    while (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (*p != ':' || p[1] == '\0')
        return 0;
    for (p++; *p != '\0'; p++) {
        if (*p == '%') {
            if (!is_hex(p[1]) || !is_hex(p[2]))
                return 0;
            p += 2;
            continue;
        }
        if (is_alpha(*p) || is_digit(*p))
            continue;
        if (strchr("-._~:/?#[]@!$&'()*+,;=", *p) == NULL)
            return 0;
    }
    return 1;
}

/* A host name for subjectAltName dNSName: letters, digits, '-', '.', '_'
 * and a '*' wildcard (IDNs as A-labels). */
static int dns_name_valid(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;

    if (*p == '\0')
        return 0;
    for (; *p != '\0'; p++)
        if (!is_alpha(*p) && !is_digit(*p) && strchr("-._*", *p) == NULL)
            return 0;
    return 1;
}

static int set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static int check_params(const UAKEY_CERT_PARAMS *p)
{
    size_t i;

    if (p == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "no certificate parameters");
        return 0;
    }
    if (!set(p->app_uri)) {
        uakey_raise(UK_R_BAD_PARAM, "ApplicationUri is required");
        return 0;
    }
    if (!app_uri_valid(p->app_uri)) {
        uakey_raise(UK_R_BAD_PARAM,
                    "ApplicationUri \"%s\" is not a valid URI (scheme:rest, no spaces "
                    "or control characters)", p->app_uri);
        return 0;
    }
    if ((p->ndns > 0 && p->dns == NULL) || (p->nips > 0 && p->ips == NULL)) {
        uakey_raise(UK_R_BAD_PARAM, "DNS name or IP address count without a list");
        return 0;
    }
    for (i = 0; i < p->ndns; i++) {
        if (p->dns[i] == NULL || !dns_name_valid(p->dns[i])) {
            uakey_raise(UK_R_BAD_PARAM, "invalid DNS name \"%s\"",
                        p->dns[i] != NULL ? p->dns[i] : "(null)");
            return 0;
        }
    }
    for (i = 0; i < p->nips; i++) {
        ASN1_OCTET_STRING *ip;

        ERR_set_mark();
        ip = p->ips[i] != NULL ? a2i_IPADDRESS(p->ips[i]) : NULL;
        ERR_pop_to_mark();
        if (ip == NULL) {
            uakey_raise(UK_R_BAD_PARAM, "invalid IP address \"%s\"",
                        p->ips[i] != NULL ? p->ips[i] : "(null)");
            return 0;
        }
        ASN1_OCTET_STRING_free(ip);
    }
    if (set(p->country)
        && (strlen(p->country) != 2 || !is_alpha((unsigned char)p->country[0])
            || !is_alpha((unsigned char)p->country[1]))) {
        uakey_raise(UK_R_BAD_PARAM, "country \"%s\" is not a two-letter code", p->country);
        return 0;
    }
    return 1;
}

/* ---- subject ------------------------------------------------------------------- */

static int add_rdn(X509_NAME *name, int nid, const char *value)
{
    int ok;

    /* OpenSSL's own complaint (string too long, ...) is replaced by ours */
    ERR_set_mark();
    ok = X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, (const unsigned char *)value,
                                    -1, -1, 0);
    ERR_pop_to_mark();
    if (!ok) {
        uakey_raise(UK_R_BAD_PARAM, "subject %s \"%s\" rejected (too long or characters "
                    "not allowed)", OBJ_nid2sn(nid), value);
        return 0;
    }
    return 1;
}

/* DC, C, ST, L, O, OU, CN (most significant first).  CN defaults to the
 * first DNS name, else "uakey"; O defaults to "uakey". */
static X509_NAME *build_subject(const UAKEY_CERT_PARAMS *p)
{
    X509_NAME *name = X509_NAME_new();
    const char *cn = set(p->common_name) ? p->common_name
                     : p->ndns > 0 ? p->dns[0] : "uakey";
    const char *org = set(p->organization) ? p->organization : "uakey";

    if (name == NULL) {
        uakey_raise(UK_R_MALLOC, "subject name");
        return NULL;
    }
    if ((set(p->domain_component) && !add_rdn(name, NID_domainComponent, p->domain_component))
        || (set(p->country) && !add_rdn(name, NID_countryName, p->country))
        || (set(p->state) && !add_rdn(name, NID_stateOrProvinceName, p->state))
        || (set(p->locality) && !add_rdn(name, NID_localityName, p->locality))
        || !add_rdn(name, NID_organizationName, org)
        || (set(p->org_unit) && !add_rdn(name, NID_organizationalUnitName, p->org_unit))
        || !add_rdn(name, NID_commonName, cn)) {
        X509_NAME_free(name);
        return NULL;
    }
    return name;
}

/* ---- extensions ------------------------------------------------------------------ */

static int push_ext(STACK_OF(X509_EXTENSION) *exts, int nid, int crit, void *value)
{
    X509_EXTENSION *ext = X509V3_EXT_i2d(nid, crit, value);

    if (ext == NULL) {
        uakey_raise(UK_R_INTERNAL, "cannot encode the %s extension", OBJ_nid2sn(nid));
        return 0;
    }
    if (!sk_X509_EXTENSION_push(exts, ext)) {
        X509_EXTENSION_free(ext);
        uakey_raise(UK_R_MALLOC, "extension list");
        return 0;
    }
    return 1;
}

static int push_gen_name(GENERAL_NAMES *gens, int type, const char *text)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_STRING *value = NULL;

    if (gn == NULL)
        goto oom;
    if (type == GEN_IPADD) {
        ERR_set_mark();
        value = a2i_IPADDRESS(text);
        ERR_pop_to_mark();
        if (value == NULL) {
            GENERAL_NAME_free(gn);
            uakey_raise(UK_R_BAD_PARAM, "invalid IP address \"%s\"", text);
            return 0;
        }
    } else {
        value = ASN1_IA5STRING_new();
        if (value == NULL || !ASN1_STRING_set(value, text, -1)) {
            ASN1_IA5STRING_free(value);
            GENERAL_NAME_free(gn);
            goto oom;
        }
    }
    GENERAL_NAME_set0_value(gn, type, value);
    if (!sk_GENERAL_NAME_push(gens, gn)) {
        GENERAL_NAME_free(gn);
        goto oom;
    }
    return 1;
oom:
    uakey_raise(UK_R_MALLOC, "subjectAltName");
    return 0;
}

static int push_san(STACK_OF(X509_EXTENSION) *exts, const UAKEY_CERT_PARAMS *p)
{
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    size_t i;
    int ok = 0;

    if (gens == NULL) {
        uakey_raise(UK_R_MALLOC, "subjectAltName");
        return 0;
    }
    /* the ApplicationUri first: some stacks read only the first URI */
    if (!push_gen_name(gens, GEN_URI, p->app_uri))
        goto end;
    for (i = 0; i < p->ndns; i++)
        if (!push_gen_name(gens, GEN_DNS, p->dns[i]))
            goto end;
    for (i = 0; i < p->nips; i++)
        if (!push_gen_name(gens, GEN_IPADD, p->ips[i]))
            goto end;
    /* not critical: the subject is never empty */
    ok = push_ext(exts, NID_subject_alt_name, 0, gens);
end:
    GENERAL_NAMES_free(gens);
    return ok;
}

static int push_basic_constraints(STACK_OF(X509_EXTENSION) *exts)
{
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    int ok;

    if (bc == NULL) {
        uakey_raise(UK_R_MALLOC, "basicConstraints");
        return 0;
    }
    bc->ca = 0;     /* an application certificate is never a CA */
    ok = push_ext(exts, NID_basic_constraints, 1, bc);
    BASIC_CONSTRAINTS_free(bc);
    return ok;
}

/* keyUsage, critical.  RSA: digitalSignature, nonRepudiation,
 * keyEncipherment, dataEncipherment; EC/EdDSA: digitalSignature,
 * nonRepudiation.  keyCertSign only when self-signed (OPC 10000-6 6.2.2):
 * a CA-issued leaf must not carry it. */
static int push_key_usage(STACK_OF(X509_EXTENSION) *exts, enum key_kind kind, int self_signed)
{
    ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
    int ok;

    if (ku == NULL)
        goto oom;
    if (!ASN1_BIT_STRING_set_bit(ku, KUBIT_DIGITAL_SIGNATURE, 1)
        || !ASN1_BIT_STRING_set_bit(ku, KUBIT_NON_REPUDIATION, 1)
        || (kind == KIND_RSA && !ASN1_BIT_STRING_set_bit(ku, KUBIT_KEY_ENCIPHERMENT, 1))
        || (kind == KIND_RSA && !ASN1_BIT_STRING_set_bit(ku, KUBIT_DATA_ENCIPHERMENT, 1))
        || (self_signed && !ASN1_BIT_STRING_set_bit(ku, KUBIT_KEY_CERT_SIGN, 1))) {
        ASN1_BIT_STRING_free(ku);
        goto oom;
    }
    ok = push_ext(exts, NID_key_usage, 1, ku);
    ASN1_BIT_STRING_free(ku);
    return ok;
oom:
    uakey_raise(UK_R_MALLOC, "keyUsage");
    return 0;
}

/* extendedKeyUsage serverAuth + clientAuth, not critical. */
static int push_ext_key_usage(STACK_OF(X509_EXTENSION) *exts)
{
    EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
    int ok;

    if (eku == NULL
        || !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth))
        || !sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_client_auth))) {
        sk_ASN1_OBJECT_free(eku);
        uakey_raise(UK_R_MALLOC, "extendedKeyUsage");
        return 0;
    }
    ok = push_ext(exts, NID_ext_key_usage, 0, eku);
    /* the objects are OpenSSL's static table entries: free the stack only */
    sk_ASN1_OBJECT_free(eku);
    return ok;
}

/* The extensions a certificate and a request share. */
static STACK_OF(X509_EXTENSION) *build_extensions(const UAKEY_CERT_PARAMS *p,
                                                 enum key_kind kind, int self_signed)
{
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();

    if (exts == NULL) {
        uakey_raise(UK_R_MALLOC, "extension list");
        return NULL;
    }
    if (!push_san(exts, p) || !push_basic_constraints(exts)
        || !push_key_usage(exts, kind, self_signed) || !push_ext_key_usage(exts)) {
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        return NULL;
    }
    return exts;
}

/* subjectKeyIdentifier (SHA-1 of the subjectPublicKey bits, RFC 5280
 * method 1) and, self-signed, authorityKeyIdentifier keyid = the same. */
static int add_key_ids(OSSL_LIB_CTX *libctx, X509 *x)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD *sha1 = EVP_MD_fetch(libctx, "SHA1", NULL);
    ASN1_OCTET_STRING *ski = NULL;
    AUTHORITY_KEYID *akid = NULL;
    int ok = 0;

    if (sha1 == NULL || !X509_pubkey_digest(x, sha1, md, &mdlen)) {
        uakey_raise(UK_R_INTERNAL, "cannot hash the public key for subjectKeyIdentifier");
        goto end;
    }
    ski = ASN1_OCTET_STRING_new();
    akid = AUTHORITY_KEYID_new();
    if (ski == NULL || akid == NULL || !ASN1_OCTET_STRING_set(ski, md, (int)mdlen))
        goto oom;
    akid->keyid = ASN1_OCTET_STRING_dup(ski);
    if (akid->keyid == NULL)
        goto oom;
    if (!X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_DEFAULT)
        || !X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT)) {
        uakey_raise(UK_R_INTERNAL, "cannot add the key identifier extensions");
        goto end;
    }
    ok = 1;
    goto end;
oom:
    uakey_raise(UK_R_MALLOC, "key identifiers");
end:
    ASN1_OCTET_STRING_free(ski);
    AUTHORITY_KEYID_free(akid);
    EVP_MD_free(sha1);
    return ok;
}

/* A random positive serial of exactly 16 content octets: the first octet
 * is 0x40..0x7f, so DER needs no sign octet and drops no leading zero. */
static int set_serial(OSSL_LIB_CTX *libctx, X509 *x)
{
    unsigned char r[UKUA_SERIAL_LEN];
    BIGNUM *bn = NULL;
    int ok = 0;

    if (RAND_bytes_ex(libctx, r, sizeof(r), 0) <= 0) {
        uakey_raise(UK_R_INTERNAL, "no random bytes for the serial number");
        return 0;
    }
    r[0] = (unsigned char)(0x40 | (r[0] & 0x3f));
    bn = BN_bin2bn(r, sizeof(r), NULL);
    if (bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
        ok = 1;
    else
        uakey_raise(UK_R_MALLOC, "serial number");
    BN_free(bn);
    return ok;
}

static int set_validity(X509 *x, const UAKEY_CERT_PARAMS *p)
{
    time_t nb = p->not_before != 0 ? p->not_before : time(NULL);
    int days = p->days > 0 ? p->days : UKUA_DEFAULT_DAYS;

    if (X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &nb) == NULL
        || X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &nb) == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "validity of %d days from %lld cannot be encoded",
                    days, (long long)nb);
        return 0;
    }
    return 1;
}

/* A digest-sign context for |key| (its own provider signs: the token for
 * a token key). */
static EVP_MD_CTX *sign_ctx(OSSL_LIB_CTX *libctx, EVP_PKEY *key, const char *mdname)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();

    if (mctx == NULL) {
        uakey_raise(UK_R_MALLOC, "signing context");
        return NULL;
    }
    if (EVP_DigestSignInit_ex(mctx, NULL, mdname, libctx, NULL, key, NULL) <= 0) {
        EVP_MD_CTX_free(mctx);
        uakey_raise(UK_R_SIGN_FAILED, "cannot start a %s signature with the key",
                    mdname != NULL ? mdname : "pure EdDSA");
        return NULL;
    }
    return mctx;
}

/* ---- public ------------------------------------------------------------------------ */

X509 *uakey_appcert_create(OSSL_LIB_CTX *libctx, EVP_PKEY *key, const UAKEY_CERT_PARAMS *p)
{
    enum key_kind kind;
    const char *mdname;
    X509 *x = NULL;
    X509_NAME *subject = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY *pub;
    int i, ok = 0;

    if (key == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "no key for the application certificate");
        return NULL;
    }
    if (!check_params(p) || !key_profile(key, &kind, &mdname))
        return NULL;
    subject = build_subject(p);
    if (subject == NULL)
        goto end;
    exts = build_extensions(p, kind, 1);
    if (exts == NULL)
        goto end;
    x = X509_new_ex(libctx, NULL);
    if (x == NULL) {
        uakey_raise(UK_R_MALLOC, "certificate");
        goto end;
    }
    if (!X509_set_version(x, X509_VERSION_3) || !set_serial(libctx, x)
        || !set_validity(x, p))
        goto end;
    if (!X509_set_subject_name(x, subject) || !X509_set_issuer_name(x, subject)) {
        uakey_raise(UK_R_MALLOC, "certificate names");
        goto end;
    }
    if (!X509_set_pubkey(x, key)) {
        uakey_raise(UK_R_BAD_KEY, "cannot encode the key's public part");
        goto end;
    }
    for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
        if (!X509_add_ext(x, sk_X509_EXTENSION_value(exts, i), -1)) {
            uakey_raise(UK_R_MALLOC, "certificate extensions");
            goto end;
        }
    }
    if (!add_key_ids(libctx, x))
        goto end;
    mctx = sign_ctx(libctx, key, mdname);
    if (mctx == NULL)
        goto end;
    if (X509_sign_ctx(x, mctx) <= 0) {
        uakey_raise(UK_R_SIGN_FAILED, "signing the application certificate failed");
        goto end;
    }
    /* the token said yes; the host checks the signature it produced */
    pub = X509_get0_pubkey(x);
    if (pub == NULL || X509_verify(x, pub) != 1) {
        uakey_raise(UK_R_SIGN_FAILED,
                    "the new certificate's signature does not verify with its public key");
        goto end;
    }
    ukua_dbg("application certificate made: %s, %s, %d days",
             kind == KIND_RSA ? "RSA" : kind == KIND_EC ? "EC" : "EdDSA",
             mdname != NULL ? mdname : "no digest", p->days > 0 ? p->days : UKUA_DEFAULT_DAYS);
    ok = 1;
end:
    EVP_MD_CTX_free(mctx);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(subject);
    if (!ok) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

X509_REQ *uakey_appcert_csr(OSSL_LIB_CTX *libctx, EVP_PKEY *key, const UAKEY_CERT_PARAMS *p)
{
    enum key_kind kind;
    const char *mdname;
    X509_REQ *req = NULL;
    X509_NAME *subject = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY *pub;
    int ok = 0;

    if (key == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "no key for the certificate request");
        return NULL;
    }
    if (!check_params(p) || !key_profile(key, &kind, &mdname))
        return NULL;
    subject = build_subject(p);
    if (subject == NULL)
        goto end;
    /* the CA issues the certificate: no keyCertSign requested */
    exts = build_extensions(p, kind, 0);
    if (exts == NULL)
        goto end;
    req = X509_REQ_new_ex(libctx, NULL);
    if (req == NULL) {
        uakey_raise(UK_R_MALLOC, "certificate request");
        goto end;
    }
    if (!X509_REQ_set_version(req, X509_REQ_VERSION_1)
        || !X509_REQ_set_subject_name(req, subject)) {
        uakey_raise(UK_R_MALLOC, "certificate request subject");
        goto end;
    }
    if (!X509_REQ_set_pubkey(req, key)) {
        uakey_raise(UK_R_BAD_KEY, "cannot encode the key's public part");
        goto end;
    }
    if (!X509_REQ_add_extensions(req, exts)) {
        uakey_raise(UK_R_MALLOC, "requested extensions");
        goto end;
    }
    mctx = sign_ctx(libctx, key, mdname);
    if (mctx == NULL)
        goto end;
    if (X509_REQ_sign_ctx(req, mctx) <= 0) {
        uakey_raise(UK_R_SIGN_FAILED, "signing the certificate request failed");
        goto end;
    }
    pub = X509_REQ_get0_pubkey(req);
    if (pub == NULL || X509_REQ_verify_ex(req, pub, libctx, NULL) != 1) {
        uakey_raise(UK_R_SIGN_FAILED,
                    "the new request's signature does not verify with its public key");
        goto end;
    }
    ok = 1;
end:
    EVP_MD_CTX_free(mctx);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(subject);
    if (!ok) {
        X509_REQ_free(req);
        req = NULL;
    }
    return req;
}

int uakey_appcert_install(UAKEY_PKI *pki, const char *name, X509 *cert,
                          STACK_OF(X509) *issuers, EVP_PKEY *key)
{
    char tp[41] = "", itp[41];
    char *uri;
    int i;

    if (pki == NULL || name == NULL || cert == NULL || key == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_appcert_install: missing store, name, "
                    "certificate or key");
        return 0;
    }
    if (!uakey_pki_name_valid(name)) {
        uakey_raise(UK_R_BAD_NAME, "\"%s\" is not a valid identity name (letters, digits, "
                    "'-', '_', '.')", name);
        return 0;
    }
    if (!uakey_cert_thumbprint(cert, tp))
        return 0;
    /* everything is checked before anything is written */
    ERR_set_mark();
    if (X509_check_private_key(cert, key) != 1) {
        ERR_pop_to_mark();
        uakey_raise(UK_R_KEY_MISMATCH, "certificate %s does not belong to the key", tp);
        return 0;
    }
    ERR_pop_to_mark();
    uri = uakey_cert_app_uri(cert);
    if (uri == NULL) {
        uakey_raise(UK_R_BAD_CERT, "certificate %s has no valid ApplicationUri "
                    "(subjectAltName URI)", tp);
        return 0;
    }
    ukua_dbg("installing %s (%s) as \"%s\"", tp, uri, name);
    free(uri);
    for (i = 0; i < sk_X509_num(issuers); i++) {
        X509 *ca = sk_X509_value(issuers, i);

        if (!uakey_cert_thumbprint(ca, itp))
            return 0;
        if ((X509_get_extension_flags(ca) & EXFLAG_CA) == 0) {
            uakey_raise(UK_R_BAD_CERT, "issuer certificate %s is not a CA "
                        "(basicConstraints CA:TRUE missing)", itp);
            return 0;
        }
    }
    for (i = 0; i < sk_X509_num(issuers); i++)
        if (!uakey_pki_add_cert(pki, UAKEY_PKI_ISSUERS, sk_X509_value(issuers, i), NULL))
            return 0;
    return uakey_pki_write_own(pki, name, cert, key);
}
