/* uakey provider/: SIGNATURE for RSA (PKCS#1 v1.5, PSS; RSA and RSA-PSS
 * keys), ECDSA and Ed25519.
 *
 * Signing: the message is hashed on the host (a digest from the private
 * host library context) and the token applies the raw mechanism to the
 * digest: CKM_RSA_PKCS over DigestInfo, CKM_RSA_PKCS_PSS, CKM_ECDSA (its
 * r||s output is turned into the DER ECDSA-Sig-Value OpenSSL expects).
 * Ed25519 is one-shot CKM_EDDSA over the message.  Only if the token lacks
 * the raw mechanism is the message buffered and handed to a combined
 * mechanism (CKM_SHA256_RSA_PKCS, ...).
 *
 * Verification never touches the token: OpenSSL's default provider checks
 * the signature with the key's public half (key->pub). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ukprov.h"

typedef enum { SIG_RSA, SIG_ECDSA, SIG_ED25519 } sig_alg;

/* What the streaming operation does with the message: not decided until
 * the first byte (padding may still change after init), hash on the host,
 * or keep the message for a combined token mechanism. */
enum { STREAM_UNDECIDED, STREAM_HASH, STREAM_BUFFER };

/* AlgorithmIdentifier of Ed25519 signatures (RFC 8410: no parameters). */
static const unsigned char aid_ed25519[] = { 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70 };

/* ---- the operation context ---------------------------------------------------- */

typedef struct {
    UKPROV_CTX *prov;
    sig_alg alg;
    int operation;              /* EVP_PKEY_OP_SIGN or EVP_PKEY_OP_VERIFY */
    UKPROV_KEY *key;
    char *propq;

    EVP_MD *md;                 /* NULL: no digest set */
    const UKPROV_DIGEST *dd;      /* table entry of md (NULL for none) */
    int allow_md;               /* 0 while a streaming operation runs */

    /* RSA */
    int pad;                    /* RSA_PKCS1_PADDING, _PSS_PADDING, RSA_NO_PADDING */
    int saltlen;                /* RSA_PSS_SALTLEN_* or an explicit length */
    EVP_MD *mgf1md;             /* NULL: same as md */
    const UKPROV_DIGEST *mgf1dd;

    /* streaming */
    EVP_MD_CTX *mdctx;          /* reused for every operation */
    int stream;                 /* STREAM_* */
    unsigned char *buf;         /* message for a combined mechanism */
    size_t buflen, bufcap;
} SIGCTX;

UKPROV_FN(signature, newctx, ukprov_rsa_newctx);
UKPROV_FN(signature, newctx, ukprov_ecdsa_newctx);
UKPROV_FN(signature, newctx, ukprov_ed25519_newctx);
UKPROV_FN(signature, freectx, ukprov_sig_freectx);
UKPROV_FN(signature, dupctx, ukprov_sig_dupctx);
UKPROV_FN(signature, sign_init, ukprov_sig_sign_init);
UKPROV_FN(signature, sign, ukprov_sig_sign);
UKPROV_FN(signature, verify_init, ukprov_sig_verify_init);
UKPROV_FN(signature, verify, ukprov_sig_verify);
UKPROV_FN(signature, digest_sign_init, ukprov_sig_digest_sign_init);
UKPROV_FN(signature, digest_sign_update, ukprov_sig_digest_sign_update);
UKPROV_FN(signature, digest_sign_final, ukprov_sig_digest_sign_final);
UKPROV_FN(signature, digest_verify_init, ukprov_sig_digest_verify_init);
UKPROV_FN(signature, digest_verify_update, ukprov_sig_digest_verify_update);
UKPROV_FN(signature, digest_verify_final, ukprov_sig_digest_verify_final);
UKPROV_FN(signature, digest_sign_init, ukprov_ed25519_digest_sign_init);
UKPROV_FN(signature, digest_sign, ukprov_ed25519_digest_sign);
UKPROV_FN(signature, digest_verify_init, ukprov_ed25519_digest_verify_init);
UKPROV_FN(signature, digest_verify, ukprov_ed25519_digest_verify);
UKPROV_FN(signature, get_ctx_params, ukprov_sig_get_ctx_params);
UKPROV_FN(signature, gettable_ctx_params, ukprov_rsa_gettable_ctx_params);
UKPROV_FN(signature, gettable_ctx_params, ukprov_ecdsa_gettable_ctx_params);
UKPROV_FN(signature, set_ctx_params, ukprov_sig_set_ctx_params);
UKPROV_FN(signature, settable_ctx_params, ukprov_rsa_settable_ctx_params);
UKPROV_FN(signature, settable_ctx_params, ukprov_ecdsa_settable_ctx_params);
UKPROV_FN(signature, settable_ctx_params, ukprov_ed25519_settable_ctx_params);

static const char *alg_name(sig_alg a)
{
    switch (a) {
    case SIG_RSA:
        return "RSA";
    case SIG_ECDSA:
        return "ECDSA";
    default:
        return "ED25519";
    }
}

static void *sig_newctx(void *provctx, const char *propq, sig_alg alg)
{
    UKPROV_CTX *prov = provctx;
    SIGCTX *c = OPENSSL_zalloc(sizeof(*c));

    if (c == NULL) {
        UK_raise(prov, UK_R_MALLOC, "signature context");
        return NULL;
    }
    c->prov = prov;
    c->alg = alg;
    c->allow_md = 1;
    c->pad = RSA_PKCS1_PADDING;
    c->saltlen = RSA_PSS_SALTLEN_AUTO;
    if (propq != NULL && (c->propq = OPENSSL_strdup(propq)) == NULL) {
        OPENSSL_free(c);
        UK_raise(prov, UK_R_MALLOC, "signature context");
        return NULL;
    }
    return c;
}

static void *ukprov_rsa_newctx(void *provctx, const char *propq)
{
    return sig_newctx(provctx, propq, SIG_RSA);
}

static void *ukprov_ecdsa_newctx(void *provctx, const char *propq)
{
    return sig_newctx(provctx, propq, SIG_ECDSA);
}

static void *ukprov_ed25519_newctx(void *provctx, const char *propq)
{
    return sig_newctx(provctx, propq, SIG_ED25519);
}

static void buf_clear(SIGCTX *c)
{
    OPENSSL_clear_free(c->buf, c->bufcap);
    c->buf = NULL;
    c->buflen = c->bufcap = 0;
}

static void ukprov_sig_freectx(void *vctx)
{
    SIGCTX *c = vctx;

    if (c == NULL)
        return;
    ukprov_key_free(c->key);
    EVP_MD_free(c->md);
    EVP_MD_free(c->mgf1md);
    EVP_MD_CTX_free(c->mdctx);
    buf_clear(c);
    OPENSSL_free(c->propq);
    OPENSSL_free(c);
}

static void *ukprov_sig_dupctx(void *vctx)
{
    SIGCTX *src = vctx, *c;

    c = OPENSSL_memdup(src, sizeof(*src));
    if (c == NULL) {
        UK_raise(src->prov, UK_R_MALLOC, "signature context copy");
        return NULL;
    }
    c->key = NULL;
    c->propq = NULL;
    c->mdctx = NULL;
    c->buf = NULL;
    c->buflen = c->bufcap = 0;
    if (src->md != NULL && !EVP_MD_up_ref(src->md))
        c->md = NULL;
    if (src->mgf1md != NULL && !EVP_MD_up_ref(src->mgf1md))
        c->mgf1md = NULL;
    if (src->key != NULL)
        c->key = ukprov_key_ref(src->key);
    if (src->propq != NULL && (c->propq = OPENSSL_strdup(src->propq)) == NULL)
        goto err;
    if (src->mdctx != NULL) {
        if ((c->mdctx = EVP_MD_CTX_new()) == NULL)
            goto err;
        if (src->stream == STREAM_HASH && !EVP_MD_CTX_copy_ex(c->mdctx, src->mdctx))
            goto err;
    }
    if (src->buflen > 0) {
        if ((c->buf = OPENSSL_memdup(src->buf, src->buflen)) == NULL)
            goto err;
        c->buflen = c->bufcap = src->buflen;
    }
    return c;

 err:
    UK_raise(src->prov, UK_R_MALLOC, "signature context copy");
    ukprov_sig_freectx(c);
    return NULL;
}

/* ---- parameters ---------------------------------------------------------------- */

static int set_digest(SIGCTX *c, const char *mdname)
{
    EVP_MD *md;
    const UKPROV_DIGEST *dd;
    OSSL_LIB_CTX *host;

    if (c->alg == SIG_ED25519) {
        if (mdname != NULL && mdname[0] != '\0') {
            UK_raise(c->prov, UK_R_BAD_PARAM,
                     "Ed25519 signs the message itself; no digest may be set (got %s)",
                     mdname);
            return 0;
        }
        return 1;
    }
    if ((host = ukprov_hostctx(c->prov)) == NULL)
        return 0;
    /* The host context holds only OpenSSL's default provider, so the
     * application's property query (meant for uakey) is not applied. */
    md = EVP_MD_fetch(host, mdname, NULL);
    if (md == NULL) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "unknown digest %s", mdname);
        return 0;
    }
    dd = ukprov_digest_find(md);
    if (dd == NULL) {
        UK_raise(c->prov, UK_R_BAD_PARAM,
                 "digest %s is not supported for %s signatures (SHA-1, SHA-224, "
                 "SHA-256, SHA-384, SHA-512 are)", mdname, alg_name(c->alg));
        EVP_MD_free(md);
        return 0;
    }
    if (!c->allow_md) {
        int same = c->dd == dd;

        EVP_MD_free(md);
        if (same)
            return 1;
        UK_raise(c->prov, UK_R_BAD_PARAM,
                 "the digest cannot change while a signature is being computed");
        return 0;
    }
    EVP_MD_free(c->md);
    c->md = md;
    c->dd = dd;
    return 1;
}

static int set_mgf1(SIGCTX *c, const char *mdname)
{
    EVP_MD *md;
    const UKPROV_DIGEST *dd;
    OSSL_LIB_CTX *host;

    if ((host = ukprov_hostctx(c->prov)) == NULL)
        return 0;
    md = EVP_MD_fetch(host, mdname, NULL);
    if (md == NULL) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "unknown MGF1 digest %s", mdname);
        return 0;
    }
    if ((dd = ukprov_digest_find(md)) == NULL) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "MGF1 digest %s is not supported", mdname);
        EVP_MD_free(md);
        return 0;
    }
    EVP_MD_free(c->mgf1md);
    c->mgf1md = md;
    c->mgf1dd = dd;
    return 1;
}

static int set_pad(SIGCTX *c, int pad)
{
    switch (pad) {
    case RSA_PKCS1_PADDING:
    case RSA_NO_PADDING:
        if (c->key != NULL && c->key->type == UKPROV_KT_RSA_PSS) {
            UK_raise(c->prov, UK_R_BAD_PARAM,
                     "an RSA-PSS key signs with PSS padding only");
            return 0;
        }
        break;
    case RSA_PKCS1_PSS_PADDING:
        break;
    case RSA_X931_PADDING:
        UK_raise(c->prov, UK_R_BAD_PARAM, "X9.31 padding is not supported");
        return 0;
    default:
        UK_raise(c->prov, UK_R_BAD_PARAM, "padding mode %d is not supported for "
                 "signatures (pkcs1, pss, none are)", pad);
        return 0;
    }
    c->pad = pad;
    return 1;
}

static int ukprov_sig_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    SIGCTX *c = vctx;
    const OSSL_PARAM *p;

    if (c == NULL)
        return 0;
    if (params == NULL)
        return 1;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PROPERTIES)) != NULL) {
        char *pq = NULL;

        if (!OSSL_PARAM_get_utf8_string(p, &pq, 0)) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "properties must be a string");
            return 0;
        }
        OPENSSL_free(c->propq);
        c->propq = pq;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL) {
        const char *name = NULL;

        if (!OSSL_PARAM_get_utf8_string_ptr(p, &name)) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "digest must be a string");
            return 0;
        }
        if (!set_digest(c, name))
            return 0;
    }
    if (c->alg != SIG_RSA)
        return 1;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL) {
        int pad = 0;

        if (p->data_type == OSSL_PARAM_UTF8_STRING) {
            const char *s = p->data;

            if (s == NULL)
                pad = -1;
            else if (strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0)
                pad = RSA_PKCS1_PADDING;
            else if (strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0)
                pad = RSA_PKCS1_PSS_PADDING;
            else if (strcmp(s, OSSL_PKEY_RSA_PAD_MODE_NONE) == 0)
                pad = RSA_NO_PADDING;
            else if (strcmp(s, OSSL_PKEY_RSA_PAD_MODE_X931) == 0)
                pad = RSA_X931_PADDING;
            else {
                UK_raise(c->prov, UK_R_BAD_PARAM, "unknown padding mode \"%s\"", s);
                return 0;
            }
        } else if (!OSSL_PARAM_get_int(p, &pad)) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "padding mode must be an integer or a name");
            return 0;
        }
        if (!set_pad(c, pad))
            return 0;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL) {
        int saltlen = 0;

        if (p->data_type == OSSL_PARAM_UTF8_STRING) {
            const char *s = p->data;
            char *end = NULL;
            long v;

            if (s == NULL) {
                saltlen = -100;
            } else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0) {
                saltlen = RSA_PSS_SALTLEN_DIGEST;
            } else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_MAX) == 0) {
                saltlen = RSA_PSS_SALTLEN_MAX;
            } else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO) == 0) {
                saltlen = RSA_PSS_SALTLEN_AUTO;
            } else {
                v = strtol(s, &end, 10);
                if (end == s || *end != '\0' || v < 0 || v > 0xffff)
                    saltlen = -100;
                else
                    saltlen = (int)v;
            }
        } else if (!OSSL_PARAM_get_int(p, &saltlen)) {
            saltlen = -100;
        }
        if (saltlen < RSA_PSS_SALTLEN_MAX) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "invalid PSS salt length (use a number, "
                     "\"digest\", \"max\" or \"auto\")");
            return 0;
        }
        c->saltlen = saltlen;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL) {
        const char *name = NULL;

        if (!OSSL_PARAM_get_utf8_string_ptr(p, &name)) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "MGF1 digest must be a string");
            return 0;
        }
        if (!set_mgf1(c, name))
            return 0;
    }
    return 1;
}

static const OSSL_PARAM rsa_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_END
};

/* While streaming, the digest is fixed (as in OpenSSL's own provider). */
static const OSSL_PARAM rsa_settable_no_md[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM ecdsa_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM ed25519_settable[] = {
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_rsa_settable_ctx_params(void *vctx, void *provctx)
{
    SIGCTX *c = vctx;

    if (c != NULL && !c->allow_md)
        return rsa_settable_no_md;
    return rsa_settable;
}

static const OSSL_PARAM *ukprov_ecdsa_settable_ctx_params(void *vctx, void *provctx)
{
    return ecdsa_settable;
}

static const OSSL_PARAM *ukprov_ed25519_settable_ctx_params(void *vctx, void *provctx)
{
    return ed25519_settable;
}

/* ---- sizes and PSS salt ------------------------------------------------------- */

static size_t rsa_k(const UKPROV_KEY *key)
{
    return ((size_t)key->bits + 7) / 8;
}

/* The salt length a PSS signature will use, resolved against the key:
 * digest = hLen, max/auto = emLen - hLen - 2, or the explicit value. */
static int pss_salt(SIGCTX *c, size_t *out)
{
    size_t emlen = ((size_t)c->key->bits - 1 + 7) / 8;
    size_t hlen = c->dd->size, max;

    if (emlen < hlen + 2) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "%d-bit key too small for PSS with a "
                 "%zu-byte digest", c->key->bits, hlen);
        return 0;
    }
    max = emlen - hlen - 2;
    switch (c->saltlen) {
    case RSA_PSS_SALTLEN_DIGEST:
        *out = hlen;
        break;
    case RSA_PSS_SALTLEN_AUTO:
    case RSA_PSS_SALTLEN_MAX:
        *out = max;
        return 1;
    default:
        *out = (size_t)c->saltlen;
        break;
    }
    if (*out > max) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "PSS salt length %zu too large for a "
                 "%d-bit key (at most %zu)", *out, c->key->bits, max);
        return 0;
    }
    return 1;
}

static const UKPROV_DIGEST *mgf1_desc(const SIGCTX *c)
{
    return c->mgf1dd != NULL ? c->mgf1dd : c->dd;
}

static const EVP_MD *mgf1_md(const SIGCTX *c)
{
    return c->mgf1md != NULL ? c->mgf1md : c->md;
}

/* ---- AlgorithmIdentifier ------------------------------------------------------- */

/* DER of id-RSASSA-PSS with its RSASSA-PSS-params; DEFAULT fields (SHA-1,
 * MGF1-SHA-1, salt 20, trailer 1) are left out as DER requires.  Hash
 * identifiers carry NULL parameters, byte for byte what OpenSSL's default
 * provider writes (X509_ALGOR_set_md would omit them for fetched SHA-2). */
static int pss_algid(SIGCTX *c, unsigned char **der, int *derlen)
{
    RSA_PSS_PARAMS *pss = NULL;
    X509_ALGOR *hash = NULL, *alg = NULL;
    ASN1_STRING *str = NULL;
    size_t salt;
    int ok = 0;

    if (!pss_salt(c, &salt))
        return 0;
    if ((pss = RSA_PSS_PARAMS_new()) == NULL)
        goto end;
    if (c->dd->nid != NID_sha1) {
        if ((pss->hashAlgorithm = X509_ALGOR_new()) == NULL
            || !X509_ALGOR_set0(pss->hashAlgorithm, OBJ_nid2obj(c->dd->nid),
                                V_ASN1_NULL, NULL))
            goto end;
    }
    if (mgf1_desc(c)->nid != NID_sha1) {
        if ((hash = X509_ALGOR_new()) == NULL
            || !X509_ALGOR_set0(hash, OBJ_nid2obj(mgf1_desc(c)->nid), V_ASN1_NULL, NULL))
            goto end;
        if ((str = ASN1_item_pack(hash, ASN1_ITEM_rptr(X509_ALGOR), NULL)) == NULL
            || (pss->maskGenAlgorithm = X509_ALGOR_new()) == NULL
            || !X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1),
                                V_ASN1_SEQUENCE, str))
            goto end;
        str = NULL;             /* owned by maskGenAlgorithm now */
    }
    if (salt != 20) {
        if ((pss->saltLength = ASN1_INTEGER_new()) == NULL
            || !ASN1_INTEGER_set(pss->saltLength, (long)salt))
            goto end;
    }
    if ((str = ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS), NULL)) == NULL
        || (alg = X509_ALGOR_new()) == NULL
        || !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, str))
        goto end;
    str = NULL;
    *der = NULL;
    if ((*derlen = i2d_X509_ALGOR(alg, der)) <= 0)
        goto end;
    ok = 1;

 end:
    if (!ok)
        UK_raise(c->prov, UK_R_INTERNAL, "cannot encode the RSASSA-PSS AlgorithmIdentifier");
    ASN1_STRING_free(str);
    X509_ALGOR_free(hash);
    X509_ALGOR_free(alg);
    RSA_PSS_PARAMS_free(pss);
    return ok;
}

static int get_algid(SIGCTX *c, OSSL_PARAM *p)
{
    const unsigned char *aid = NULL;
    size_t aidlen = 0;

    switch (c->alg) {
    case SIG_ED25519:
        aid = aid_ed25519;
        aidlen = sizeof(aid_ed25519);
        break;
    case SIG_ECDSA:
        if (c->dd != NULL) {
            aid = c->dd->aid_ecdsa;
            aidlen = c->dd->aid_ecdsa_len;
        }
        break;
    case SIG_RSA:
        if (c->dd == NULL)
            break;
        if (c->pad == RSA_PKCS1_PADDING) {
            aid = c->dd->aid_rsa;
            aidlen = c->dd->aid_rsa_len;
        } else if (c->pad == RSA_PKCS1_PSS_PADDING && c->key != NULL) {
            unsigned char *der = NULL;
            int derlen = 0, ok;

            if (!pss_algid(c, &der, &derlen))
                return 0;
            ok = OSSL_PARAM_set_octet_string(p, der, (size_t)derlen);
            OPENSSL_free(der);
            return ok;
        }
        break;
    }
    /* No identifier for this combination (no digest, or raw RSA): leave the
     * parameter unset, as OpenSSL's own provider does. */
    if (aid == NULL)
        return 1;
    return OSSL_PARAM_set_octet_string(p, aid, aidlen);
}

static const char *pad_name(int pad)
{
    switch (pad) {
    case RSA_PKCS1_PADDING:
        return OSSL_PKEY_RSA_PAD_MODE_PKCSV15;
    case RSA_PKCS1_PSS_PADDING:
        return OSSL_PKEY_RSA_PAD_MODE_PSS;
    default:
        return OSSL_PKEY_RSA_PAD_MODE_NONE;
    }
}

static int ukprov_sig_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    SIGCTX *c = vctx;
    OSSL_PARAM *p;

    if (c == NULL)
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID)) != NULL
        && !get_algid(c, p))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL
        && c->md != NULL && !OSSL_PARAM_set_utf8_string(p, EVP_MD_get0_name(c->md)))
        return 0;
    if (c->alg != SIG_RSA)
        return 1;
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL) {
        int ok = p->data_type == OSSL_PARAM_UTF8_STRING
            ? OSSL_PARAM_set_utf8_string(p, pad_name(c->pad))
            : OSSL_PARAM_set_int(p, c->pad);

        if (!ok)
            return 0;
    }
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL) {
        int ok;

        if (p->data_type == OSSL_PARAM_UTF8_STRING) {
            char num[16];
            const char *s;

            switch (c->saltlen) {
            case RSA_PSS_SALTLEN_DIGEST:
                s = OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST;
                break;
            case RSA_PSS_SALTLEN_MAX:
                s = OSSL_PKEY_RSA_PSS_SALT_LEN_MAX;
                break;
            case RSA_PSS_SALTLEN_AUTO:
                s = OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO;
                break;
            default:
                snprintf(num, sizeof(num), "%d", c->saltlen);
                s = num;
                break;
            }
            ok = OSSL_PARAM_set_utf8_string(p, s);
        } else {
            ok = OSSL_PARAM_set_int(p, c->saltlen);
        }
        if (!ok)
            return 0;
    }
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL
        && mgf1_md(c) != NULL
        && !OSSL_PARAM_set_utf8_string(p, EVP_MD_get0_name(mgf1_md(c))))
        return 0;
    return 1;
}

static const OSSL_PARAM rsa_gettable[] = {
    OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM ecdsa_gettable[] = {
    OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_rsa_gettable_ctx_params(void *vctx, void *provctx)
{
    return rsa_gettable;
}

/* ECDSA and Ed25519 (Ed25519 never has a digest to report). */
static const OSSL_PARAM *ukprov_ecdsa_gettable_ctx_params(void *vctx, void *provctx)
{
    return ecdsa_gettable;
}

/* ---- init ------------------------------------------------------------------------ */

static int key_fits(SIGCTX *c, const UKPROV_KEY *key)
{
    switch (c->alg) {
    case SIG_RSA:
        if (key->type == UKPROV_KT_RSA || key->type == UKPROV_KT_RSA_PSS)
            return 1;
        break;
    case SIG_ECDSA:
        if (key->type == UKPROV_KT_EC)
            return 1;
        break;
    case SIG_ED25519:
        if (key->type == UKPROV_KT_ED25519)
            return 1;
        break;
    }
    UK_raise(c->prov, UK_R_WRONG_KEY_TYPE, "%s signature needs %s key, got an %s key",
             alg_name(c->alg),
             c->alg == SIG_RSA ? "an RSA or RSA-PSS" : c->alg == SIG_ECDSA ? "an EC"
                                                     : "an ED25519",
             ukprov_keytype_name(key->type));
    return 0;
}

static int sig_init(SIGCTX *c, UKPROV_KEY *key, const OSSL_PARAM params[],
                    int operation)
{
    if (c == NULL)
        return 0;
    if (key != NULL) {
        if (!key_fits(c, key))
            return 0;
        if (operation == EVP_PKEY_OP_SIGN && key->priv == NULL && !key->hostpriv) {
            UK_raise(c->prov, UK_R_BAD_KEY,
                     "cannot sign with a public key: this %s key has no private "
                     "key object in the token", ukprov_keytype_name(key->type));
            return 0;
        }
        if (key->pub == NULL) {
            UK_raise(c->prov, UK_R_BAD_KEY, "the key is empty (no public part)");
            return 0;
        }
        if (ukprov_key_ref(key) == NULL)
            return 0;
        ukprov_key_free(c->key);
        c->key = key;
        /* Fresh operation defaults; an RSA-PSS key means PSS. */
        c->pad = key->type == UKPROV_KT_RSA_PSS ? RSA_PKCS1_PSS_PADDING
                                               : RSA_PKCS1_PADDING;
        c->saltlen = RSA_PSS_SALTLEN_AUTO;
    } else if (c->key == NULL) {
        UK_raise(c->prov, UK_R_BAD_KEY, "no key given for the signature operation");
        return 0;
    }
    c->operation = operation;
    c->allow_md = 1;
    c->stream = STREAM_UNDECIDED;
    c->buflen = 0;
    return ukprov_sig_set_ctx_params(c, params);
}

static int ukprov_sig_sign_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    return sig_init(vctx, vkey, params, EVP_PKEY_OP_SIGN);
}

static int ukprov_sig_verify_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    return sig_init(vctx, vkey, params, EVP_PKEY_OP_VERIFY);
}

/* ---- signing in the token --------------------------------------------------------- */

static UKP11_TOKEN *key_token(SIGCTX *c)
{
    return ukp11_obj_token(c->key->priv);
}

/* The raw (digest-in) mechanism the current settings need. */
static CK_MECHANISM_TYPE raw_mech(const SIGCTX *c)
{
    if (c->alg == SIG_ECDSA)
        return CKM_ECDSA;
    if (c->pad == RSA_PKCS1_PSS_PADDING)
        return CKM_RSA_PKCS_PSS;
    if (c->pad == RSA_NO_PADDING)
        return CKM_RSA_X_509;
    return CKM_RSA_PKCS;
}

/* The combined (message-in) mechanism, or 0 when there is none. */
static CK_MECHANISM_TYPE combined_mech(const SIGCTX *c)
{
    if (c->dd == NULL)
        return 0;
    if (c->alg == SIG_ECDSA)
        return c->dd->ecdsa;
    if (c->pad == RSA_PKCS1_PSS_PADDING)
        return c->dd->rsa_pss;
    if (c->pad == RSA_PKCS1_PADDING)
        return c->dd->rsa_pkcs;
    return 0;
}

static int check_sigsize(SIGCTX *c, size_t sigsize)
{
    if (sigsize < (size_t)c->key->maxsize) {
        UK_raise(c->prov, UK_R_BUFFER_TOO_SMALL,
                 "signature buffer is %zu, should be at least %zu", sigsize,
                 (size_t)c->key->maxsize);
        return 0;
    }
    return 1;
}

static int pss_params(SIGCTX *c, CK_RSA_PKCS_PSS_PARAMS *pp)
{
    size_t salt;

    if (c->dd == NULL) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "PSS padding needs a digest");
        return 0;
    }
    if (!pss_salt(c, &salt))
        return 0;
    pp->hashAlg = c->dd->hash;
    pp->mgf = mgf1_desc(c)->mgf;
    pp->sLen = salt;
    return 1;
}

/* Token r||s (two field-size integers) to DER ECDSA-Sig-Value. */
static int ecdsa_rs_to_der(SIGCTX *c, const unsigned char *rs, size_t rslen,
                           unsigned char *sig, size_t *siglen, size_t sigsize)
{
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *p = sig;
    int len, ok = 0;

    if (rslen == 0 || rslen % 2 != 0) {
        UK_raise(c->prov, UK_R_SIGN_FAILED, "token returned a %zu-byte ECDSA "
                 "signature (r||s of equal halves expected)", rslen);
        return 0;
    }
    r = BN_bin2bn(rs, (int)(rslen / 2), NULL);
    s = BN_bin2bn(rs + rslen / 2, (int)(rslen / 2), NULL);
    if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL
        || !ECDSA_SIG_set0(es, r, s))
        goto end;
    r = s = NULL;               /* owned by es */
    len = i2d_ECDSA_SIG(es, NULL);
    if (len <= 0)
        goto end;
    if ((size_t)len > sigsize) {
        UK_raise(c->prov, UK_R_BUFFER_TOO_SMALL,
                 "signature buffer is %zu, should be at least %d", sigsize, len);
        ECDSA_SIG_free(es);
        return 0;
    }
    if (i2d_ECDSA_SIG(es, &p) != len)
        goto end;
    *siglen = (size_t)len;
    ok = 1;

 end:
    if (!ok)
        UK_raise(c->prov, UK_R_INTERNAL, "cannot encode the ECDSA signature");
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return ok;
}

/* One token call with |mech| over |in|; sig has room for maxsize bytes. */
static int token_sign(SIGCTX *c, CK_MECHANISM *mech, const unsigned char *in,
                      size_t inlen, unsigned char *sig, size_t *siglen, size_t sigsize)
{
    if (c->alg == SIG_ECDSA) {
        unsigned char rs[2 * 72];
        size_t rslen = sizeof(rs);

        if (ukp11_sign(c->key->priv, mech, in, inlen, rs, &rslen) != CKR_OK)
            return 0;
        return ecdsa_rs_to_der(c, rs, rslen, sig, siglen, sigsize);
    }
    *siglen = sigsize;
    if (ukp11_sign(c->key->priv, mech, in, inlen, sig, siglen) != CKR_OK)
        return 0;
    return 1;
}

static int host_sign(SIGCTX *c, unsigned char *sig, size_t *siglen, size_t sigsize,
                     const unsigned char *tbs, size_t tbslen);

/* RSA-PSS: CKM_RSA_PKCS_PSS in the token when it takes these parameters;
 * when it refuses them (SoftHSM 2.6.1 insists on MGF1 hash == hash; a TPM
 * on salt == hash length) or lacks the mechanism, EMSA-PSS encoding on the
 * host and raw RSA (CKM_RSA_X_509) in the token.  The refusal's error is
 * dropped from the queue; the debug log keeps it. */
static int pss_sign(SIGCTX *c, CK_RSA_PKCS_PSS_PARAMS *pp, const unsigned char *tbs,
                    size_t tbslen, unsigned char *sig, size_t *siglen, size_t sigsize)
{
    UKP11_TOKEN *tok = key_token(c);
    CK_MECHANISM mech = { CKM_RSA_PKCS_PSS, pp, sizeof(*pp) };
    int has_raw = ukp11_token_has_mech(tok, CKM_RSA_X_509);
    unsigned char em[1024];
    size_t k = rsa_k(c->key);
    CK_RV rv = CKR_MECHANISM_INVALID;

    if (ukp11_token_has_mech(tok, CKM_RSA_PKCS_PSS)) {
        if (!has_raw)
            return token_sign(c, &mech, tbs, tbslen, sig, siglen, sigsize);
        ERR_set_mark();
        *siglen = sigsize;
        rv = ukp11_sign(c->key->priv, &mech, tbs, tbslen, sig, siglen);
        if (rv == CKR_OK || (rv != CKR_ARGUMENTS_BAD && rv != CKR_MECHANISM_PARAM_INVALID
                             && rv != CKR_MECHANISM_INVALID)) {
            ERR_clear_last_mark();
            return rv == CKR_OK;
        }
        ERR_pop_to_mark();
    }
    uk_dbg(UK_DBG_PROVIDER, "token refused CKM_RSA_PKCS_PSS with these parameters "
           "(%s): PSS encoding on the host, CKM_RSA_X_509 in the token",
           ukp11_rv_name(rv));
    if (k > sizeof(em) || !ukprov_pss_encode(ukprov_hostctx(c->prov), em, k, c->key->bits, tbs, c->md,
                                             mgf1_md(c), (size_t)pp->sLen)) {
        UK_raise(c->prov, UK_R_SIGN_FAILED, "cannot PSS-encode a %zu-byte digest "
                 "for a %d-bit key", tbslen, c->key->bits);
        return 0;
    }
    mech.mechanism = CKM_RSA_X_509;
    mech.pParameter = NULL;
    mech.ulParameterLen = 0;
    *siglen = sigsize;
    rv = ukp11_sign(c->key->priv, &mech, em, k, sig, siglen);
    OPENSSL_cleanse(em, k);
    return rv == CKR_OK;
}

/* Sign a digest (or, RSA without digest, the raw input) with the raw
 * mechanism.  Sizes are checked by the caller. */
static int sign_digest(SIGCTX *c, unsigned char *sig, size_t *siglen, size_t sigsize,
                       const unsigned char *tbs, size_t tbslen)
{
    CK_MECHANISM mech = { raw_mech(c), NULL, 0 };
    CK_RSA_PKCS_PSS_PARAMS pp;
    unsigned char di[19 + EVP_MAX_MD_SIZE];
    const unsigned char *in = tbs;
    size_t inlen = tbslen;

    if (c->dd != NULL && tbslen != c->dd->size) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "input is %zu bytes, the %s digest is %zu",
                 tbslen, EVP_MD_get0_name(c->md), c->dd->size);
        return 0;
    }
    if (c->key->hostpriv)
        return host_sign(c, sig, siglen, sigsize, tbs, tbslen);
    if (!ukp11_token_has_mech(key_token(c), mech.mechanism)
        && !(c->alg == SIG_RSA && c->pad == RSA_PKCS1_PSS_PADDING
             && ukp11_token_has_mech(key_token(c), CKM_RSA_X_509))) {
        UK_raise(c->prov, UK_R_MECH_UNSUPPORTED,
                 "token \"%s\" lacks %s, needed to sign a precomputed digest",
                 ukp11_token_label(key_token(c)), ukp11_mech_name(mech.mechanism));
        return 0;
    }
    if (c->alg == SIG_RSA) {
        size_t k = rsa_k(c->key);

        switch (c->pad) {
        case RSA_PKCS1_PADDING:
            if (c->dd != NULL) {
                memcpy(di, c->dd->di, c->dd->dilen);
                memcpy(di + c->dd->dilen, tbs, tbslen);
                in = di;
                inlen = c->dd->dilen + tbslen;
            } else if (tbslen + 11 > k) {
                UK_raise(c->prov, UK_R_INPUT_TOO_LARGE, "input is %zu bytes, a "
                         "%zu-byte key signs at most %zu with PKCS#1 padding",
                         tbslen, k, k < 11 ? 0 : k - 11);
                return 0;
            }
            break;
        case RSA_PKCS1_PSS_PADDING:
            if (!pss_params(c, &pp))
                return 0;
            return pss_sign(c, &pp, tbs, tbslen, sig, siglen, sigsize);
        default:                /* none: exactly one modulus-sized block */
            if (c->dd != NULL || tbslen != k) {
                UK_raise(c->prov, UK_R_BAD_PARAM, "raw RSA (no padding) signs "
                         "exactly %zu bytes and no digest may be set", k);
                return 0;
            }
            break;
        }
    }
    return token_sign(c, &mech, in, inlen, sig, siglen, sigsize);
}

static int ukprov_sig_sign(void *vctx, unsigned char *sig, size_t *siglen,
                           size_t sigsize, const unsigned char *tbs, size_t tbslen)
{
    SIGCTX *c = vctx;

    if (c == NULL || c->key == NULL || c->operation != EVP_PKEY_OP_SIGN) {
        if (c != NULL)
            UK_raise(c->prov, UK_R_INTERNAL, "sign called without sign_init");
        return 0;
    }
    if (sig == NULL) {
        *siglen = (size_t)c->key->maxsize;
        return 1;
    }
    if (!check_sigsize(c, sigsize))
        return 0;
    return sign_digest(c, sig, siglen, sigsize, tbs, tbslen);
}

/* ---- verification on the host ------------------------------------------------------ */

/* The host's verify of a digest (or raw input) with the same settings.
 * Any failure of the check itself is a mismatch: 0 and a quiet queue. */
/* A host EVP_PKEY_CTX for c->key->pub initialised for |op| (sign or
 * verify) with the context's digest, padding, salt and MGF1 settings.
 * Errors of the set-up stay on the queue above the caller's mark. */
static EVP_PKEY_CTX *host_pkey_ctx(SIGCTX *c, int op)
{
    OSSL_LIB_CTX *host = ukprov_hostctx(c->prov);
    EVP_PKEY_CTX *pctx;
    OSSL_PARAM params[5], *p = params;
    int pad = c->pad, saltlen = c->saltlen, ok;

    if (host == NULL)
        return NULL;
    if ((pctx = EVP_PKEY_CTX_new_from_pkey(host, c->key->pub, NULL)) == NULL) {
        UK_raise(c->prov, UK_R_MALLOC, "host signature context");
        return NULL;
    }
    if (c->md != NULL)
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST,
                                                (char *)EVP_MD_get0_name(c->md), 0);
    if (c->alg == SIG_RSA) {
        *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE, &pad);
        if (pad == RSA_PKCS1_PSS_PADDING) {
            *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &saltlen);
            if (mgf1_md(c) != NULL)
                *p++ = OSSL_PARAM_construct_utf8_string(
                    OSSL_SIGNATURE_PARAM_MGF1_DIGEST,
                    (char *)EVP_MD_get0_name(mgf1_md(c)), 0);
        }
    }
    *p = OSSL_PARAM_construct_end();
    ok = op == EVP_PKEY_OP_SIGN ? EVP_PKEY_sign_init(pctx) : EVP_PKEY_verify_init(pctx);
    if (ok != 1 || EVP_PKEY_CTX_set_params(pctx, params) != 1) {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    return pctx;
}

/* A software key (see UKPROV_KEY.hostpriv) signs on the host. */
static int host_sign(SIGCTX *c, unsigned char *sig, size_t *siglen, size_t sigsize,
                     const unsigned char *tbs, size_t tbslen)
{
    EVP_PKEY_CTX *pctx = host_pkey_ctx(c, EVP_PKEY_OP_SIGN);
    int ok;

    if (pctx == NULL) {
        UK_raise(c->prov, UK_R_SIGN_FAILED, "the host cannot sign with these "
                 "signature settings");
        return 0;
    }
    *siglen = sigsize;
    ok = EVP_PKEY_sign(pctx, sig, siglen, tbs, tbslen) == 1;
    EVP_PKEY_CTX_free(pctx);
    if (!ok)
        UK_raise(c->prov, UK_R_SIGN_FAILED, "host signature with a software %s key failed",
                 ukprov_keytype_name(c->key->type));
    return ok;
}

static int host_verify(SIGCTX *c, const unsigned char *sig, size_t siglen,
                       const unsigned char *tbs, size_t tbslen)
{
    EVP_PKEY_CTX *pctx;
    int ret;

    ERR_set_mark();
    pctx = host_pkey_ctx(c, EVP_PKEY_OP_VERIFY);
    if (pctx == NULL) {
        ERR_clear_last_mark();
        UK_raise(c->prov, UK_R_BAD_PARAM, "the host cannot verify with these "
                 "signature settings");
        return 0;
    }
    ret = EVP_PKEY_verify(pctx, sig, siglen, tbs, tbslen);
    EVP_PKEY_CTX_free(pctx);
    if (ret == 1) {
        ERR_clear_last_mark();
        return 1;
    }
    ERR_pop_to_mark();
    return 0;
}

static int ukprov_sig_verify(void *vctx, const unsigned char *sig, size_t siglen,
                             const unsigned char *tbs, size_t tbslen)
{
    SIGCTX *c = vctx;

    if (c == NULL || c->key == NULL || c->operation != EVP_PKEY_OP_VERIFY) {
        if (c != NULL)
            UK_raise(c->prov, UK_R_INTERNAL, "verify called without verify_init");
        return 0;
    }
    return host_verify(c, sig, siglen, tbs, tbslen);
}

/* ---- streaming (EVP_DigestSign* / EVP_DigestVerify*) -------------------------------- */

static int digest_init(SIGCTX *c, const char *mdname, UKPROV_KEY *key,
                       const OSSL_PARAM params[], int operation)
{
    if (!sig_init(c, key, NULL, operation))
        return 0;
    if (mdname == NULL || mdname[0] == '\0') {
        if (c->md == NULL && !set_digest(c, "SHA256"))
            return 0;
    } else if (!set_digest(c, mdname)) {
        return 0;
    }
    if (!ukprov_sig_set_ctx_params(c, params))
        return 0;
    if (c->mdctx == NULL && (c->mdctx = EVP_MD_CTX_new()) == NULL) {
        UK_raise(c->prov, UK_R_MALLOC, "digest context");
        return 0;
    }
    c->allow_md = 0;
    return 1;
}

static int ukprov_sig_digest_sign_init(void *vctx, const char *mdname, void *vkey,
                                       const OSSL_PARAM params[])
{
    return digest_init(vctx, mdname, vkey, params, EVP_PKEY_OP_SIGN);
}

static int ukprov_sig_digest_verify_init(void *vctx, const char *mdname, void *vkey,
                                         const OSSL_PARAM params[])
{
    return digest_init(vctx, mdname, vkey, params, EVP_PKEY_OP_VERIFY);
}

/* First data: hash on the host when the token has the raw mechanism (or we
 * only verify), else keep the message for a combined mechanism. */
static int stream_start(SIGCTX *c)
{
    if (c->operation == EVP_PKEY_OP_SIGN && !c->key->hostpriv
        && !ukp11_token_has_mech(key_token(c), raw_mech(c))) {
        CK_MECHANISM_TYPE m = combined_mech(c);

        if (m == 0 || !ukp11_token_has_mech(key_token(c), m)) {
            UK_raise(c->prov, UK_R_MECH_UNSUPPORTED,
                     "token \"%s\" has neither %s nor %s",
                     ukp11_token_label(key_token(c)), ukp11_mech_name(raw_mech(c)),
                     m != 0 ? ukp11_mech_name(m) : "a combined mechanism");
            return 0;
        }
        uk_dbg(UK_DBG_PROVIDER, "token lacks %s: buffering the message for %s",
               ukp11_mech_name(raw_mech(c)), ukp11_mech_name(m));
        c->stream = STREAM_BUFFER;
        c->buflen = 0;
        return 1;
    }
    if (!EVP_DigestInit_ex(c->mdctx, c->md, NULL)) {
        UK_raise(c->prov, UK_R_INTERNAL, "cannot start the %s digest",
                 EVP_MD_get0_name(c->md));
        return 0;
    }
    c->stream = STREAM_HASH;
    return 1;
}

static int stream_update(SIGCTX *c, const unsigned char *data, size_t datalen)
{
    if (c == NULL || c->key == NULL || c->mdctx == NULL)
        return 0;
    if (c->stream == STREAM_UNDECIDED && !stream_start(c))
        return 0;
    if (c->stream == STREAM_HASH) {
        if (!EVP_DigestUpdate(c->mdctx, data, datalen)) {
            UK_raise(c->prov, UK_R_INTERNAL, "digest update failed");
            return 0;
        }
        return 1;
    }
    if (datalen > c->bufcap - c->buflen) {
        size_t cap = c->bufcap == 0 ? 1024 : c->bufcap;
        unsigned char *n;

        while (cap - c->buflen < datalen) {
            if (cap > ((size_t)-1) / 2) {
                UK_raise(c->prov, UK_R_INPUT_TOO_LARGE, "message too long");
                return 0;
            }
            cap *= 2;
        }
        if ((n = OPENSSL_realloc(c->buf, cap)) == NULL) {
            UK_raise(c->prov, UK_R_MALLOC, "message buffer");
            return 0;
        }
        c->buf = n;
        c->bufcap = cap;
    }
    if (datalen > 0)
        memcpy(c->buf + c->buflen, data, datalen);
    c->buflen += datalen;
    return 1;
}

static int ukprov_sig_digest_sign_update(void *vctx, const unsigned char *data,
                                         size_t datalen)
{
    return stream_update(vctx, data, datalen);
}

static int ukprov_sig_digest_verify_update(void *vctx, const unsigned char *data,
                                           size_t datalen)
{
    return stream_update(vctx, data, datalen);
}

/* Finish the digest; the stream is undecided again afterwards. */
static int stream_digest(SIGCTX *c, unsigned char *dgst, size_t *dlen)
{
    unsigned int n = 0;

    if (c->stream == STREAM_UNDECIDED && !stream_start(c))
        return 0;
    c->stream = STREAM_UNDECIDED;
    if (!EVP_DigestFinal_ex(c->mdctx, dgst, &n)) {
        UK_raise(c->prov, UK_R_INTERNAL, "digest final failed");
        return 0;
    }
    *dlen = n;
    return 1;
}

static int ukprov_sig_digest_sign_final(void *vctx, unsigned char *sig,
                                        size_t *siglen, size_t sigsize)
{
    SIGCTX *c = vctx;
    unsigned char dgst[EVP_MAX_MD_SIZE];
    size_t dlen = 0;
    int ok;

    if (c == NULL || c->key == NULL || c->mdctx == NULL
        || c->operation != EVP_PKEY_OP_SIGN)
        return 0;
    if (sig == NULL) {
        *siglen = (size_t)c->key->maxsize;
        return 1;
    }
    if (!check_sigsize(c, sigsize))
        return 0;
    if (c->stream == STREAM_UNDECIDED && !stream_start(c))
        return 0;
    if (c->stream == STREAM_BUFFER) {
        CK_MECHANISM mech = { combined_mech(c), NULL, 0 };
        CK_RSA_PKCS_PSS_PARAMS pp;

        if (c->alg == SIG_RSA && c->pad == RSA_PKCS1_PSS_PADDING) {
            if (!pss_params(c, &pp))
                return 0;
            mech.pParameter = &pp;
            mech.ulParameterLen = sizeof(pp);
        }
        ok = token_sign(c, &mech, c->buf, c->buflen, sig, siglen, sigsize);
        c->buflen = 0;
        c->stream = STREAM_UNDECIDED;
        return ok;
    }
    if (!stream_digest(c, dgst, &dlen))
        return 0;
    ok = sign_digest(c, sig, siglen, sigsize, dgst, dlen);
    OPENSSL_cleanse(dgst, sizeof(dgst));
    return ok;
}

static int ukprov_sig_digest_verify_final(void *vctx, const unsigned char *sig,
                                          size_t siglen)
{
    SIGCTX *c = vctx;
    unsigned char dgst[EVP_MAX_MD_SIZE];
    size_t dlen = 0;

    if (c == NULL || c->key == NULL || c->mdctx == NULL
        || c->operation != EVP_PKEY_OP_VERIFY)
        return 0;
    if (!stream_digest(c, dgst, &dlen))
        return 0;
    return host_verify(c, sig, siglen, dgst, dlen);
}

/* ---- Ed25519: one shot over the message ------------------------------------------------ */

static int ed_init(SIGCTX *c, const char *mdname, UKPROV_KEY *key,
                   const OSSL_PARAM params[], int operation)
{
    if (!sig_init(c, key, params, operation) || !set_digest(c, mdname))
        return 0;
    if (c->mdctx == NULL && (c->mdctx = EVP_MD_CTX_new()) == NULL) {
        UK_raise(c->prov, UK_R_MALLOC, "digest context");
        return 0;
    }
    return 1;
}

static int ukprov_ed25519_digest_sign_init(void *vctx, const char *mdname, void *vkey,
                                           const OSSL_PARAM params[])
{
    return ed_init(vctx, mdname, vkey, params, EVP_PKEY_OP_SIGN);
}

static int ukprov_ed25519_digest_verify_init(void *vctx, const char *mdname, void *vkey,
                                             const OSSL_PARAM params[])
{
    return ed_init(vctx, mdname, vkey, params, EVP_PKEY_OP_VERIFY);
}

static int ukprov_ed25519_digest_sign(void *vctx, unsigned char *sig, size_t *siglen,
                                      size_t sigsize, const unsigned char *tbs,
                                      size_t tbslen)
{
    SIGCTX *c = vctx;
    CK_MECHANISM mech = { CKM_EDDSA, NULL, 0 };

    if (c == NULL || c->key == NULL || c->operation != EVP_PKEY_OP_SIGN)
        return 0;
    if (sig == NULL) {
        *siglen = (size_t)c->key->maxsize;
        return 1;
    }
    if (!check_sigsize(c, sigsize))
        return 0;
    if (c->key->hostpriv) {
        OSSL_LIB_CTX *host = ukprov_hostctx(c->prov);

        *siglen = sigsize;
        EVP_MD_CTX_reset(c->mdctx);
        if (host == NULL
            || EVP_DigestSignInit_ex(c->mdctx, NULL, NULL, host, NULL, c->key->pub,
                                     NULL) != 1
            || EVP_DigestSign(c->mdctx, sig, siglen, tbs, tbslen) != 1) {
            UK_raise(c->prov, UK_R_SIGN_FAILED, "host Ed25519 signature failed");
            return 0;
        }
        return 1;
    }
    return token_sign(c, &mech, tbs, tbslen, sig, siglen, sigsize);
}

static int ukprov_ed25519_digest_verify(void *vctx, const unsigned char *sig,
                                        size_t siglen, const unsigned char *tbs,
                                        size_t tbslen)
{
    SIGCTX *c = vctx;
    OSSL_LIB_CTX *host;
    int ret;

    if (c == NULL || c->key == NULL || c->operation != EVP_PKEY_OP_VERIFY)
        return 0;
    if ((host = ukprov_hostctx(c->prov)) == NULL)
        return 0;
    ERR_set_mark();
    /* reset: a re-used context must not keep the previous key's pkey ctx */
    EVP_MD_CTX_reset(c->mdctx);
    if (EVP_DigestVerifyInit_ex(c->mdctx, NULL, NULL, host, NULL, c->key->pub,
                                NULL) != 1) {
        ERR_clear_last_mark();
        UK_raise(c->prov, UK_R_INTERNAL, "cannot start the host Ed25519 verify");
        return 0;
    }
    ret = EVP_DigestVerify(c->mdctx, sig, siglen, tbs, tbslen);
    if (ret == 1) {
        ERR_clear_last_mark();
        return 1;
    }
    ERR_pop_to_mark();
    return 0;
}

/* ---- dispatch tables --------------------------------------------------------------------- */

#define FN(id, fn) { OSSL_FUNC_SIGNATURE_##id, (void (*)(void))(fn) }

const OSSL_DISPATCH ukprov_rsa_signature_functions[] = {
    FN(NEWCTX, ukprov_rsa_newctx),
    FN(FREECTX, ukprov_sig_freectx),
    FN(DUPCTX, ukprov_sig_dupctx),
    FN(SIGN_INIT, ukprov_sig_sign_init),
    FN(SIGN, ukprov_sig_sign),
    FN(VERIFY_INIT, ukprov_sig_verify_init),
    FN(VERIFY, ukprov_sig_verify),
    FN(DIGEST_SIGN_INIT, ukprov_sig_digest_sign_init),
    FN(DIGEST_SIGN_UPDATE, ukprov_sig_digest_sign_update),
    FN(DIGEST_SIGN_FINAL, ukprov_sig_digest_sign_final),
    FN(DIGEST_VERIFY_INIT, ukprov_sig_digest_verify_init),
    FN(DIGEST_VERIFY_UPDATE, ukprov_sig_digest_verify_update),
    FN(DIGEST_VERIFY_FINAL, ukprov_sig_digest_verify_final),
    FN(GET_CTX_PARAMS, ukprov_sig_get_ctx_params),
    FN(GETTABLE_CTX_PARAMS, ukprov_rsa_gettable_ctx_params),
    FN(SET_CTX_PARAMS, ukprov_sig_set_ctx_params),
    FN(SETTABLE_CTX_PARAMS, ukprov_rsa_settable_ctx_params),
    { 0, NULL }
};

const OSSL_DISPATCH ukprov_ecdsa_signature_functions[] = {
    FN(NEWCTX, ukprov_ecdsa_newctx),
    FN(FREECTX, ukprov_sig_freectx),
    FN(DUPCTX, ukprov_sig_dupctx),
    FN(SIGN_INIT, ukprov_sig_sign_init),
    FN(SIGN, ukprov_sig_sign),
    FN(VERIFY_INIT, ukprov_sig_verify_init),
    FN(VERIFY, ukprov_sig_verify),
    FN(DIGEST_SIGN_INIT, ukprov_sig_digest_sign_init),
    FN(DIGEST_SIGN_UPDATE, ukprov_sig_digest_sign_update),
    FN(DIGEST_SIGN_FINAL, ukprov_sig_digest_sign_final),
    FN(DIGEST_VERIFY_INIT, ukprov_sig_digest_verify_init),
    FN(DIGEST_VERIFY_UPDATE, ukprov_sig_digest_verify_update),
    FN(DIGEST_VERIFY_FINAL, ukprov_sig_digest_verify_final),
    FN(GET_CTX_PARAMS, ukprov_sig_get_ctx_params),
    FN(GETTABLE_CTX_PARAMS, ukprov_ecdsa_gettable_ctx_params),
    FN(SET_CTX_PARAMS, ukprov_sig_set_ctx_params),
    FN(SETTABLE_CTX_PARAMS, ukprov_ecdsa_settable_ctx_params),
    { 0, NULL }
};

const OSSL_DISPATCH ukprov_ed25519_signature_functions[] = {
    FN(NEWCTX, ukprov_ed25519_newctx),
    FN(FREECTX, ukprov_sig_freectx),
    FN(DUPCTX, ukprov_sig_dupctx),
    FN(DIGEST_SIGN_INIT, ukprov_ed25519_digest_sign_init),
    FN(DIGEST_SIGN, ukprov_ed25519_digest_sign),
    FN(DIGEST_VERIFY_INIT, ukprov_ed25519_digest_verify_init),
    FN(DIGEST_VERIFY, ukprov_ed25519_digest_verify),
    FN(GET_CTX_PARAMS, ukprov_sig_get_ctx_params),
    FN(GETTABLE_CTX_PARAMS, ukprov_ecdsa_gettable_ctx_params),
    FN(SET_CTX_PARAMS, ukprov_sig_set_ctx_params),
    FN(SETTABLE_CTX_PARAMS, ukprov_ed25519_settable_ctx_params),
    { 0, NULL }
};
