/* libuakey: OPC UA certificate validation (OPC 10000-4 6.1.3).
 *
 * The steps run in the order of the spec and the first one that fails
 * decides the StatusCode.  A step the caller suppressed (UAKEY_SUPPRESS_*)
 * is noted in the detail text and the next step runs.  OpenSSL builds the
 * chain (X509_STORE_CTX, no partial chains, no policy, no time checks);
 * every OPC UA decision (signatures, trust, validity, usage, CRLs) is made
 * here.  The store is read only through the public uakey_pki_* calls. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ukua_int.h"

/* Everything one validation needs; freed by vctx_free(). */
struct vctx {
    UAKEY_PKI *pki;
    X509 *cert;
    const UAKEY_VERIFY_OPTS *opts;
    unsigned int flags;
    time_t now;
    STACK_OF(X509) *trusted;
    STACK_OF(X509) *issuers;
    STACK_OF(X509_CRL) *crls;       /* trusted/crl and issuers/crl */
    STACK_OF(X509) *chain;          /* leaf first; up-referenced */
    int chain_complete;             /* ends in a self-signed certificate */
    char *rev_off;                  /* per chain depth: issued by a CA with
                                     * revocation off in the store */
    char *detail;                   /* the failure's text */
    char suppressed[256];           /* names of suppressed failures */
};

/* ---- small helpers ----------------------------------------------------- */

static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    char *s;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
        return NULL;
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

/* Record a failing step: "<StatusName> (step N, what): text". */
static uint32_t fail(struct vctx *v, uint32_t code, int step, const char *what,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static uint32_t fail(struct vctx *v, uint32_t code, int step, const char *what,
                     const char *fmt, ...)
{
    va_list ap;
    char *text;
    size_t n;

    va_start(ap, fmt);
    text = vformat(fmt, ap);
    va_end(ap);
    free(v->detail);
    v->detail = NULL;
    n = strlen(uakey_status_name(code)) + strlen(what) + (text ? strlen(text) : 0) + 64;
    v->detail = malloc(n);
    if (v->detail != NULL)
        snprintf(v->detail, n, "%s (step %d, %s): %s", uakey_status_name(code), step,
                 what, text != NULL ? text : "(no detail)");
    free(text);
    ukua_dbg("verify: %s", v->detail != NULL ? v->detail : uakey_status_name(code));
    return code;
}

/* Is a failure with |code| suppressed by |flag|?  If so, remember it (the
 * spec wants suppressed errors reported, e.g. in an audit event). */
static int suppressed(struct vctx *v, unsigned int flag, uint32_t code)
{
    size_t len;

    if ((v->flags & flag) == 0)
        return 0;
    len = strlen(v->suppressed);
    if (strstr(v->suppressed, uakey_status_name(code)) == NULL)
        snprintf(v->suppressed + len, sizeof(v->suppressed) - len, "%s%s",
                 len > 0 ? ", " : "", uakey_status_name(code));
    ukua_dbg("verify: %s suppressed: %s", uakey_status_name(code),
             v->detail != NULL ? v->detail : "");
    free(v->detail);
    v->detail = NULL;
    return 1;
}

/* The subject as one line (RFC 2253), in |buf|. */
static const char *subject_of(X509 *c, char *buf, size_t len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int n;

    snprintf(buf, len, "(unknown subject)");
    if (bio == NULL)
        return buf;
    if (X509_NAME_print_ex(bio, X509_get_subject_name(c), 0, XN_FLAG_RFC2253) >= 0) {
        n = BIO_read(bio, buf, (int)len - 1);
        if (n >= 0)
            buf[n] = '\0';
    }
    BIO_free(bio);
    return buf;
}

static int is_ca(X509 *c)
{
    uint32_t f = X509_get_extension_flags(c);

    return (f & EXFLAG_BCONS) != 0 && (f & EXFLAG_CA) != 0;
}

static int in_stack(STACK_OF(X509) *sk, X509 *c)
{
    int i;

    for (i = 0; i < sk_X509_num(sk); i++) {
        if (X509_cmp(sk_X509_value(sk, i), c) == 0)
            return 1;
    }
    return 0;
}

static int ascii_caseeq(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i;

    if (alen != blen)
        return 0;
    for (i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

/* ---- step 2: the chain ------------------------------------------------- */

/* OpenSSL reports chain-building problems through the callback; we keep
 * going (return 1) and judge the built chain ourselves. */
static int chain_cb(int ok, X509_STORE_CTX *ctx)
{
    if (!ok)
        ukua_dbg("verify: chain builder reports depth %d: %s",
                 X509_STORE_CTX_get_error_depth(ctx),
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    return 1;
}

/* Build |v->chain| from the leaf through trusted/, issuers/ and |extra|
 * up to a self-signed root.  Returns 0 only on an internal error. */
static int build_chain(struct vctx *v, STACK_OF(X509) *extra)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *built;
    X509 *top;
    int i, ok = 0;

    if (store == NULL || ctx == NULL)
        goto done;
    for (i = 0; i < sk_X509_num(v->trusted); i++) {
        if (!X509_STORE_add_cert(store, sk_X509_value(v->trusted, i)))
            goto done;
    }
    for (i = 0; i < sk_X509_num(v->issuers); i++) {
        if (!X509_STORE_add_cert(store, sk_X509_value(v->issuers, i)))
            goto done;
    }
    /* trust, time and revocation are decided by the OPC UA steps below */
    X509_STORE_set_flags(store, X509_V_FLAG_NO_CHECK_TIME);
    X509_STORE_set_verify_cb(store, chain_cb);
    if (!X509_STORE_CTX_init(ctx, store, v->cert, extra))
        goto done;
    X509_VERIFY_PARAM_clear_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN);
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
    ERR_set_mark();
    (void)X509_verify_cert(ctx);
    ERR_pop_to_mark();

    built = X509_STORE_CTX_get0_chain(ctx);
    if (built != NULL && sk_X509_num(built) > 0
        && X509_cmp(sk_X509_value(built, 0), v->cert) == 0) {
        v->chain = X509_chain_up_ref(built);
    } else {
        /* nothing built: the chain is the leaf alone */
        v->chain = sk_X509_new_null();
        if (v->chain != NULL && (!X509_up_ref(v->cert) || !sk_X509_push(v->chain, v->cert))) {
            sk_X509_pop_free(v->chain, X509_free);
            v->chain = NULL;
        }
    }
    if (v->chain == NULL)
        goto done;
    top = sk_X509_value(v->chain, sk_X509_num(v->chain) - 1);
    v->chain_complete = X509_self_signed(top, 0) == 1;
    ok = 1;
done:
    if (!ok)
        uakey_raise(UK_R_INTERNAL, "cannot set up certificate chain building");
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

/* ---- the CRLs of a CA -------------------------------------------------- */

/* Does |crl| come from |ca| (issuer name and signature)? */
static int crl_from(X509_CRL *crl, X509 *ca)
{
    EVP_PKEY *key = X509_get0_pubkey(ca);
    int ok;

    if (key == NULL || X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0)
        return 0;
    ERR_set_mark();
    ok = X509_CRL_verify(crl, key) == 1;
    ERR_pop_to_mark();
    return ok;
}

/* ---- the steps --------------------------------------------------------- */

/* 1: version 3, public key present and decodable, signature algorithm
 * known and the same inside and outside the signed part. */
static uint32_t step_structure(struct vctx *v)
{
    const X509_ALGOR *outer = NULL, *inner = X509_get0_tbs_sigalg(v->cert);
    int sig_nid, md_nid = NID_undef, pk_nid = NID_undef;
    unsigned char *der = NULL;
    int derlen;

    if (X509_get_version(v->cert) != X509_VERSION_3)
        return fail(v, UAKEY_BadCertificateInvalid, 1, "structure",
                    "the certificate is X.509 v%ld, OPC UA requires v3",
                    X509_get_version(v->cert) + 1);
    derlen = i2d_X509(v->cert, &der);
    OPENSSL_free(der);
    if (derlen <= 0)
        return fail(v, UAKEY_BadCertificateInvalid, 1, "structure",
                    "the certificate cannot be DER-encoded");
    ERR_set_mark();
    if (X509_get0_pubkey(v->cert) == NULL) {
        ERR_pop_to_mark();
        return fail(v, UAKEY_BadCertificateInvalid, 1, "structure",
                    "the certificate's public key is missing or cannot be decoded");
    }
    ERR_pop_to_mark();
    X509_get0_signature(NULL, &outer, v->cert);
    sig_nid = X509_get_signature_nid(v->cert);
    if (sig_nid == NID_undef || !OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid))
        return fail(v, UAKEY_BadCertificateInvalid, 1, "structure",
                    "unknown signature algorithm");
    if (outer == NULL || inner == NULL || X509_ALGOR_cmp(outer, inner) != 0)
        return fail(v, UAKEY_BadCertificateInvalid, 1, "structure",
                    "the signature algorithm differs inside and outside the signed part");
    if ((X509_get_extension_flags(v->cert) & EXFLAG_INVALID) != 0)
        return fail(v, UAKEY_BadCertificateInvalid, 1, "structure",
                    "the certificate has a malformed or duplicate extension");
    return UAKEY_Good;
}

/* 3: each certificate's signature with its issuer's key (a self-signed
 * root with its own).  The top of a chain left incomplete (suppressed) has
 * no known issuer and is not checked. */
static uint32_t step_signatures(struct vctx *v)
{
    int i, n = sk_X509_num(v->chain);
    char name[256];

    for (i = 0; i < n; i++) {
        X509 *c = sk_X509_value(v->chain, i);
        X509 *issuer = i + 1 < n ? sk_X509_value(v->chain, i + 1) : c;
        EVP_PKEY *key;
        int ok;

        if (i + 1 == n && !v->chain_complete)
            break;
        ERR_set_mark();
        key = X509_get0_pubkey(issuer);
        ok = key != NULL && X509_verify(c, key) == 1;
        ERR_pop_to_mark();
        if (!ok)
            return fail(v, UAKEY_BadCertificateInvalid, 3, "signature",
                        "the signature of %s (chain depth %d) does not verify",
                        subject_of(c, name, sizeof(name)), i);
    }
    return UAKEY_Good;
}

/* 6: validity periods, leaf then issuers. */
static int time_ok(X509 *c, time_t now)
{
    const ASN1_TIME *nb = X509_get0_notBefore(c), *na = X509_get0_notAfter(c);
    int b, a;

    if (nb == NULL || na == NULL)
        return 0;
    b = ASN1_TIME_cmp_time_t(nb, now);
    a = ASN1_TIME_cmp_time_t(na, now);
    return (b == -1 || b == 0) && (a == 1 || a == 0);
}

static uint32_t step_validity(struct vctx *v)
{
    int i, n = sk_X509_num(v->chain);
    char name[256];
    uint32_t rc;

    if (!time_ok(v->cert, v->now)) {
        rc = fail(v, UAKEY_BadCertificateTimeInvalid, 6, "validity",
                  "%s is not valid at the time of the check",
                  subject_of(v->cert, name, sizeof(name)));
        if (!suppressed(v, UAKEY_SUPPRESS_TIME_INVALID, rc))
            return rc;
    }
    for (i = 1; i < n; i++) {
        X509 *c = sk_X509_value(v->chain, i);

        if (!time_ok(c, v->now)) {
            rc = fail(v, UAKEY_BadCertificateIssuerTimeInvalid, 6, "validity",
                      "issuer %s (chain depth %d) is not valid at the time of the check",
                      subject_of(c, name, sizeof(name)), i);
            if (!suppressed(v, UAKEY_SUPPRESS_ISSUER_TIME_INVALID, rc))
                return rc;
            break;
        }
    }
    return UAKEY_Good;
}

/* 7 and 8: subjectAltName entries.  |want_host|: compare dNSName (ASCII
 * case-insensitive) or iPAddress (exact octets) with opts->host; else
 * compare every URI with opts->app_uri (exact). */
static int san_matches(X509 *c, const char *value, int want_host)
{
    GENERAL_NAMES *gens;
    ASN1_OCTET_STRING *ip = NULL;
    int i, found = 0;

    gens = X509_get_ext_d2i(c, NID_subject_alt_name, NULL, NULL);
    if (gens == NULL)
        return 0;
    if (want_host) {
        ERR_set_mark();
        ip = a2i_IPADDRESS(value);
        ERR_pop_to_mark();
    }
    for (i = 0; !found && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const ASN1_STRING *s;

        if (want_host && ip != NULL && g->type == GEN_IPADD) {
            found = ASN1_STRING_cmp(g->d.iPAddress, ip) == 0;
        } else if (want_host && ip == NULL && g->type == GEN_DNS) {
            s = g->d.dNSName;
            found = ascii_caseeq((const char *)ASN1_STRING_get0_data(s),
                                 (size_t)ASN1_STRING_length(s), value, strlen(value));
        } else if (!want_host && g->type == GEN_URI) {
            s = g->d.uniformResourceIdentifier;
            found = (size_t)ASN1_STRING_length(s) == strlen(value)
                    && memcmp(ASN1_STRING_get0_data(s), value, strlen(value)) == 0;
        }
    }
    ASN1_OCTET_STRING_free(ip);
    GENERAL_NAMES_free(gens);
    return found;
}

/* 9: key usage.  The leaf: not a CA; digitalSignature, and for RSA also
 * keyEncipherment and dataEncipherment (OPC 10000-6 6.2.2).  Issuers: CA
 * with keyCertSign and cRLSign (6.2.4). */
static uint32_t step_usage(struct vctx *v)
{
    uint32_t need = KU_DIGITAL_SIGNATURE, rc;
    uint32_t flags = X509_get_extension_flags(v->cert);
    EVP_PKEY *key = X509_get0_pubkey(v->cert);
    int i, n = sk_X509_num(v->chain);
    char name[256];

    if (key != NULL && EVP_PKEY_is_a(key, "RSA"))
        need |= KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT;
    if (is_ca(v->cert)) {
        rc = fail(v, UAKEY_BadCertificateUseNotAllowed, 9, "usage",
                  "%s is a CA certificate (cA=TRUE) used as an application certificate",
                  subject_of(v->cert, name, sizeof(name)));
        if (!suppressed(v, UAKEY_SUPPRESS_USE_NOT_ALLOWED, rc))
            return rc;
    } else if ((flags & EXFLAG_KUSAGE) == 0 || (X509_get_key_usage(v->cert) & need) != need) {
        rc = fail(v, UAKEY_BadCertificateUseNotAllowed, 9, "usage",
                  "%s lacks keyUsage %s", subject_of(v->cert, name, sizeof(name)),
                  (need & KU_KEY_ENCIPHERMENT) != 0
                  ? "digitalSignature, keyEncipherment and dataEncipherment"
                  : "digitalSignature");
        if (!suppressed(v, UAKEY_SUPPRESS_USE_NOT_ALLOWED, rc))
            return rc;
    }
    for (i = 1; i < n; i++) {
        X509 *c = sk_X509_value(v->chain, i);
        uint32_t cneed = KU_KEY_CERT_SIGN | KU_CRL_SIGN;

        if (!is_ca(c) || (X509_get_extension_flags(c) & EXFLAG_KUSAGE) == 0
            || (X509_get_key_usage(c) & cneed) != cneed) {
            rc = fail(v, UAKEY_BadCertificateIssuerUseNotAllowed, 9, "usage",
                      "issuer %s (chain depth %d) is not a CA with keyCertSign and cRLSign",
                      subject_of(c, name, sizeof(name)), i);
            if (!suppressed(v, UAKEY_SUPPRESS_USE_NOT_ALLOWED, rc))
                return rc;
            break;
        }
    }
    return UAKEY_Good;
}

/* Before 10 and 11: which certificates of the chain a CA with revocation
 * off in the store issued (v->rev_off); *need: 1 when some other one is
 * left to check. */
static int revocation_settings(struct vctx *v, int *need)
{
    char (*off)[41] = NULL, tp[41];
    size_t noff = 0, k;
    int i, n = sk_X509_num(v->chain), ok = 0;

    *need = 0;
    if (n < 2)
        return 1;               /* a self-signed certificate: no CA, no CRL */
    if (!uakey_pki_revocation_off(v->pki, &off, &noff))
        return 0;
    v->rev_off = calloc((size_t)n, 1);
    if (v->rev_off == NULL) {
        uakey_raise(UK_R_MALLOC, "out of memory");
        goto done;
    }
    for (i = 0; i + 1 < n; i++) {
        if (noff > 0 && !uakey_cert_thumbprint(sk_X509_value(v->chain, i + 1), tp))
            goto done;
        for (k = 0; k < noff; k++) {
            if (strcmp(off[k], tp) == 0)
                v->rev_off[i] = 1;
        }
        if (!v->rev_off[i])
            *need = 1;
    }
    ok = 1;
done:
    free(off);
    return ok;
}

/* 10 and 11: for each certificate of the chain issued by a known CA (not a
 * self-signed one), that CA's CRL must be there and must not list it --
 * unless revocation is off for that CA: then its CRLs are not looked at. */
static uint32_t step_revocation(struct vctx *v, int step)
{
    int i, j, n = sk_X509_num(v->chain);
    char name[256];
    uint32_t rc;

    for (i = 0; i + 1 < n; i++) {
        X509 *c = sk_X509_value(v->chain, i);
        X509 *ca = sk_X509_value(v->chain, i + 1);
        int have = 0, revoked = 0;

        if (v->rev_off[i]) {
            if (step == 10)
                ukua_dbg("verify: revocation off for %s: chain depth %d not checked",
                         subject_of(ca, name, sizeof(name)), i);
            continue;
        }
        for (j = 0; j < sk_X509_CRL_num(v->crls); j++) {
            X509_CRL *crl = sk_X509_CRL_value(v->crls, j);
            X509_REVOKED *entry = NULL;

            if (!crl_from(crl, ca))
                continue;
            have = 1;
            if (X509_CRL_get0_by_cert(crl, &entry, c) == 1)
                revoked = 1;
        }
        if (step == 10 && !have) {
            rc = fail(v, i == 0 ? UAKEY_BadCertificateRevocationUnknown
                                : UAKEY_BadCertificateIssuerRevocationUnknown,
                      10, "revocation list",
                      "no CRL of %s (chain depth %d) in trusted/crl or issuers/crl",
                      subject_of(ca, name, sizeof(name)), i + 1);
            if (!suppressed(v, UAKEY_SUPPRESS_REVOCATION_UNKNOWN, rc))
                return rc;
        }
        if (step == 11 && revoked)
            return fail(v, i == 0 ? UAKEY_BadCertificateRevoked
                                  : UAKEY_BadCertificateIssuerRevoked,
                        11, "revocation", "%s (chain depth %d) is revoked by its issuer's CRL",
                        subject_of(c, name, sizeof(name)), i);
    }
    return UAKEY_Good;
}

/* ---- uakey_verify ------------------------------------------------------ */

static uint32_t run_steps(struct vctx *v, STACK_OF(X509) *extra)
{
    const UAKEY_VERIFY_OPTS *o = v->opts;
    const UAKEY_POLICY *pol;
    char name[256], *pdetail = NULL;
    uint32_t rc;
    int i, trusted;

    /* 1 structure */
    if ((rc = step_structure(v)) != UAKEY_Good)
        return rc;

    /* 2 chain: the store is read once, here */
    v->trusted = uakey_pki_certs(v->pki, UAKEY_PKI_TRUSTED);
    v->issuers = uakey_pki_certs(v->pki, UAKEY_PKI_ISSUERS);
    if (v->trusted == NULL || v->issuers == NULL)
        return fail(v, UAKEY_BadSecurityChecksFailed, 2, "chain",
                    "cannot read the certificates of the PKI store");
    if (!build_chain(v, extra))
        return fail(v, UAKEY_BadSecurityChecksFailed, 2, "chain",
                    "internal error while building the chain");
    if (!v->chain_complete) {
        X509 *top = sk_X509_value(v->chain, sk_X509_num(v->chain) - 1);

        rc = fail(v, UAKEY_BadCertificateChainIncomplete, 2, "chain",
                  "no issuer certificate for %s in trusted/, issuers/ or the peer's chain",
                  subject_of(top, name, sizeof(name)));
        if (!suppressed(v, UAKEY_SUPPRESS_CHAIN_INCOMPLETE, rc))
            return rc;
    }

    /* 3 signatures */
    if ((rc = step_signatures(v)) != UAKEY_Good)
        return rc;

    /* 4 security policy */
    if (o != NULL && o->policy_uri != NULL) {
        pol = uakey_policy_find(o->policy_uri);
        if (pol == NULL) {
            ERR_clear_error();
            rc = fail(v, UAKEY_BadCertificatePolicyCheckFailed, 4, "security policy",
                      "unknown SecurityPolicy %s", o->policy_uri);
        } else {
            rc = uakey_policy_check_cert(pol, v->cert, &pdetail);
            if (rc != UAKEY_Good)
                rc = fail(v, rc, 4, "security policy", "%s",
                          pdetail != NULL ? pdetail : "the certificate does not fit the policy");
            free(pdetail);
        }
        if (rc != UAKEY_Good && !suppressed(v, UAKEY_SUPPRESS_POLICY_CHECK, rc))
            return rc;
    }

    /* 5 trust list: the leaf or any certificate of its chain in trusted/ */
    trusted = 0;
    for (i = 0; !trusted && i < sk_X509_num(v->chain); i++)
        trusted = in_stack(v->trusted, sk_X509_value(v->chain, i));
    if (!trusted)
        return fail(v, UAKEY_BadCertificateUntrusted, 5, "trust list",
                    "neither %s nor any certificate of its chain is in trusted/",
                    subject_of(v->cert, name, sizeof(name)));

    /* 6 validity */
    if ((rc = step_validity(v)) != UAKEY_Good)
        return rc;

    /* 7 host name (not for CAs) */
    if (o != NULL && o->host != NULL && !is_ca(v->cert)
        && !san_matches(v->cert, o->host, 1)) {
        rc = fail(v, UAKEY_BadCertificateHostNameInvalid, 7, "host name",
                  "no dNSName or iPAddress in subjectAltName matches \"%s\"", o->host);
        if (!suppressed(v, UAKEY_SUPPRESS_HOST_NAME_INVALID, rc))
            return rc;
    }

    /* 8 ApplicationUri (not for CAs) */
    if (o != NULL && o->app_uri != NULL && !is_ca(v->cert)
        && !san_matches(v->cert, o->app_uri, 0))
        return fail(v, UAKEY_BadCertificateUriInvalid, 8, "URI",
                    "no URI in subjectAltName equals \"%s\"", o->app_uri);

    /* 9 usage */
    if ((rc = step_usage(v)) != UAKEY_Good)
        return rc;

    /* 10, 11 revocation (not for what a CA with revocation off issued) */
    if ((v->flags & UAKEY_NO_REVOCATION_CHECK) == 0) {
        STACK_OF(X509_CRL) *t, *s;
        int need;

        if (!revocation_settings(v, &need))
            return fail(v, UAKEY_BadSecurityChecksFailed, 10, "revocation list",
                        "cannot read the revocation settings of the PKI store");
        if (!need)
            return UAKEY_Good;
        t = uakey_pki_crls(v->pki, UAKEY_PKI_TRUSTED);
        s = uakey_pki_crls(v->pki, UAKEY_PKI_ISSUERS);
        v->crls = t;
        while (t != NULL && s != NULL && sk_X509_CRL_num(s) > 0) {
            if (!sk_X509_CRL_push(t, sk_X509_CRL_value(s, 0)))
                break;
            (void)sk_X509_CRL_shift(s);
        }
        if (t == NULL || s == NULL || sk_X509_CRL_num(s) > 0) {
            sk_X509_CRL_pop_free(s, X509_CRL_free);
            return fail(v, UAKEY_BadSecurityChecksFailed, 10, "revocation list",
                        "cannot read the CRLs of the PKI store");
        }
        sk_X509_CRL_free(s);
        if ((rc = step_revocation(v, 10)) != UAKEY_Good)
            return rc;
        if ((rc = step_revocation(v, 11)) != UAKEY_Good)
            return rc;
    }
    return UAKEY_Good;
}

uint32_t uakey_verify(UAKEY_PKI *pki, X509 *cert, STACK_OF(X509) *extra,
                      const UAKEY_VERIFY_OPTS *opts, char **detail)
{
    struct vctx v;
    uint32_t rc;

    if (detail != NULL)
        *detail = NULL;
    memset(&v, 0, sizeof(v));
    v.pki = pki;
    v.cert = cert;
    v.opts = opts;
    v.flags = opts != NULL ? opts->flags : 0;
    v.now = opts != NULL && opts->now != 0 ? opts->now : time(NULL);

    if (pki == NULL || cert == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_verify: no PKI store or no certificate");
        rc = fail(&v, cert == NULL ? UAKEY_BadCertificateInvalid : UAKEY_BadSecurityChecksFailed,
                  cert == NULL ? 1 : 2, cert == NULL ? "structure" : "chain",
                  "no %s given", cert == NULL ? "certificate" : "PKI store");
    } else {
        rc = run_steps(&v, extra);
    }

    if (rc == UAKEY_Good) {
        free(v.detail);
        v.detail = NULL;
        if (v.suppressed[0] != '\0') {
            size_t n = strlen(v.suppressed) + 32;

            v.detail = malloc(n);
            if (v.detail != NULL)
                snprintf(v.detail, n, "Good; suppressed: %s", v.suppressed);
        } else {
            v.detail = strdup("Good");
        }
    }
    if (detail != NULL)
        *detail = v.detail;
    else
        free(v.detail);

    sk_X509_pop_free(v.trusted, X509_free);
    sk_X509_pop_free(v.issuers, X509_free);
    sk_X509_CRL_pop_free(v.crls, X509_CRL_free);
    sk_X509_pop_free(v.chain, X509_free);
    free(v.rev_off);
    return rc;
}
