/* uakey provider/: ASYM_CIPHER for RSA.
 *
 * Encryption uses only the public key and runs on the host (OpenSSL's
 * default provider, key->pub).  Decryption runs in the token: CKM_RSA_PKCS,
 * CKM_RSA_X_509 (no padding) or CKM_RSA_PKCS_OAEP.  Tokens that refuse an
 * OAEP variant (SoftHSM 2.6.1 takes SHA-1 only and answers
 * CKR_ARGUMENTS_BAD for SHA-256) get raw RSA in the token and OAEP decoding
 * on the host in constant time (oaep.c), when "pkcs11-oaep-fallback" is on
 * (the default).  The refusal is remembered in key->quirks so later calls
 * go straight to the fallback.  With the fallback on, an OAEP label is
 * always checked on the host (see decrypt_oaep). */
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "ukprov.h"

/* Largest modulus decrypted through a stack buffer: 16384 bits. */
#define MAX_K 2048

/* key->quirks bits owned by this file: "the token refused OAEP with this
 * (hash, MGF1 hash) pair", one bit per pair from bit 8 up.  Index of a
 * digest: its place in ukprov_digests (5 of them). */
#define QUIRK_OAEP_BASE 8
#define QUIRK_OAEP_BIT(h, m) (1UL << (QUIRK_OAEP_BASE + (h) * 5 + (m)))

/* Index of |md| in ukprov_digests (the quirk bit and the PKCS#11 names),
 * or -1 when OAEP with it is not supported. */
static int oaep_index(const EVP_MD *md)
{
    const UKPROV_DIGEST *d = ukprov_digest_find(md);

    return d != NULL ? (int)(d - ukprov_digests) : -1;
}

typedef struct {
    UKPROV_CTX *prov;
    UKPROV_KEY *key;
    int operation;              /* EVP_PKEY_OP_ENCRYPT or _DECRYPT */
    int pad;                    /* RSA_PKCS1_PADDING, _OAEP_PADDING, RSA_NO_PADDING */
    EVP_MD *md;                 /* OAEP digest; NULL: SHA-1 */
    EVP_MD *mgf1md;             /* NULL: the OAEP digest */
    unsigned char *label;
    size_t llen;
    char *propq;
} ACCTX;

UKPROV_FN(asym_cipher, newctx, ukprov_rsa_ac_newctx);
UKPROV_FN(asym_cipher, freectx, ukprov_rsa_ac_freectx);
UKPROV_FN(asym_cipher, dupctx, ukprov_rsa_ac_dupctx);
UKPROV_FN(asym_cipher, encrypt_init, ukprov_rsa_encrypt_init);
UKPROV_FN(asym_cipher, encrypt, ukprov_rsa_encrypt);
UKPROV_FN(asym_cipher, decrypt_init, ukprov_rsa_decrypt_init);
UKPROV_FN(asym_cipher, decrypt, ukprov_rsa_decrypt);
UKPROV_FN(asym_cipher, get_ctx_params, ukprov_rsa_ac_get_ctx_params);
UKPROV_FN(asym_cipher, gettable_ctx_params, ukprov_rsa_ac_gettable_ctx_params);
UKPROV_FN(asym_cipher, set_ctx_params, ukprov_rsa_ac_set_ctx_params);
UKPROV_FN(asym_cipher, settable_ctx_params, ukprov_rsa_ac_settable_ctx_params);

static void *ukprov_rsa_ac_newctx(void *provctx)
{
    ACCTX *c = OPENSSL_zalloc(sizeof(*c));

    if (c == NULL) {
        UK_raise(provctx, UK_R_MALLOC, "cipher context");
        return NULL;
    }
    c->prov = provctx;
    c->pad = RSA_PKCS1_PADDING;
    return c;
}

static void ukprov_rsa_ac_freectx(void *vctx)
{
    ACCTX *c = vctx;

    if (c == NULL)
        return;
    ukprov_key_free(c->key);
    EVP_MD_free(c->md);
    EVP_MD_free(c->mgf1md);
    OPENSSL_clear_free(c->label, c->llen);
    OPENSSL_free(c->propq);
    OPENSSL_free(c);
}

static void *ukprov_rsa_ac_dupctx(void *vctx)
{
    ACCTX *src = vctx, *c;

    if ((c = OPENSSL_memdup(src, sizeof(*src))) == NULL) {
        UK_raise(src->prov, UK_R_MALLOC, "cipher context copy");
        return NULL;
    }
    c->key = src->key != NULL ? ukprov_key_ref(src->key) : NULL;
    if (c->md != NULL && !EVP_MD_up_ref(c->md))
        c->md = NULL;
    if (c->mgf1md != NULL && !EVP_MD_up_ref(c->mgf1md))
        c->mgf1md = NULL;
    c->label = NULL;
    c->propq = NULL;
    if ((src->label != NULL
         && (c->label = OPENSSL_memdup(src->label, src->llen)) == NULL)
        || (src->propq != NULL && (c->propq = OPENSSL_strdup(src->propq)) == NULL)) {
        UK_raise(src->prov, UK_R_MALLOC, "cipher context copy");
        ukprov_rsa_ac_freectx(c);
        return NULL;
    }
    return c;
}

/* ---- parameters ----------------------------------------------------------------- */

static int fetch_md(ACCTX *c, const OSSL_PARAM *p, EVP_MD **slot, int *idx,
                    const char *what)
{
    const char *name = NULL;
    OSSL_LIB_CTX *host;
    EVP_MD *md;
    int i;

    if (!OSSL_PARAM_get_utf8_string_ptr(p, &name)) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "%s must be a string", what);
        return 0;
    }
    if ((host = ukprov_hostctx(c->prov)) == NULL)
        return 0;
    /* The host context has only the default provider: no property query. */
    if ((md = EVP_MD_fetch(host, name, NULL)) == NULL) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "unknown %s %s", what, name);
        return 0;
    }
    if ((i = oaep_index(md)) < 0) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "%s %s is not supported (SHA-1, "
                 "SHA-224, SHA-256, SHA-384, SHA-512 are)", what, name);
        EVP_MD_free(md);
        return 0;
    }
    EVP_MD_free(*slot);
    *slot = md;
    if (idx != NULL)
        *idx = i;
    return 1;
}

static int ukprov_rsa_ac_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    ACCTX *c = vctx;
    const OSSL_PARAM *p;

    if (c == NULL)
        return 0;
    if (params == NULL)
        return 1;

    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE)) != NULL) {
        int pad = 0;

        if (p->data_type == OSSL_PARAM_UTF8_STRING) {
            const char *s = p->data;

            if (s != NULL && strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0)
                pad = RSA_PKCS1_PADDING;
            else if (s != NULL && strcmp(s, OSSL_PKEY_RSA_PAD_MODE_OAEP) == 0)
                pad = RSA_PKCS1_OAEP_PADDING;
            else if (s != NULL && strcmp(s, OSSL_PKEY_RSA_PAD_MODE_NONE) == 0)
                pad = RSA_NO_PADDING;
            else {
                UK_raise(c->prov, UK_R_BAD_PARAM, "padding mode \"%s\" is not "
                         "supported for RSA encryption (pkcs1, oaep, none are)",
                         s != NULL ? s : "");
                return 0;
            }
        } else if (!OSSL_PARAM_get_int(p, &pad)) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "padding mode must be an integer or a name");
            return 0;
        }
        if (pad != RSA_PKCS1_PADDING && pad != RSA_PKCS1_OAEP_PADDING
            && pad != RSA_NO_PADDING) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "padding mode %d is not supported for "
                     "RSA encryption (pkcs1, oaep, none are)", pad);
            return 0;
        }
        c->pad = pad;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST)) != NULL
        && !fetch_md(c, p, &c->md, NULL, "OAEP digest"))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST)) != NULL
        && !fetch_md(c, p, &c->mgf1md, NULL, "MGF1 digest"))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL)) != NULL) {
        void *label = NULL;
        size_t llen = 0;

        if (!OSSL_PARAM_get_octet_string(p, &label, 0, &llen)) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "OAEP label must be an octet string");
            return 0;
        }
        OPENSSL_clear_free(c->label, c->llen);
        c->label = label;
        c->llen = llen;
        if (llen == 0) {
            OPENSSL_free(label);
            c->label = NULL;
        }
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_PROPERTIES)) != NULL) {
        char *pq = NULL;

        if (!OSSL_PARAM_get_utf8_string(p, &pq, 0)) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "properties must be a string");
            return 0;
        }
        OPENSSL_free(c->propq);
        c->propq = pq;
    }
    return 1;
}

static const OSSL_PARAM ac_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM ac_gettable[] = {
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_octet_ptr(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_rsa_ac_settable_ctx_params(void *vctx, void *provctx)
{
    return ac_settable;
}

static const OSSL_PARAM *ukprov_rsa_ac_gettable_ctx_params(void *vctx, void *provctx)
{
    return ac_gettable;
}

/* The OAEP digests in force: SHA-1 when none was set (as OpenSSL's own
 * provider); MGF1 follows the OAEP digest unless set. */
static int oaep_mds(ACCTX *c, EVP_MD **md, EVP_MD **mgf1)
{
    OSSL_LIB_CTX *host;

    if (c->md == NULL) {
        if ((host = ukprov_hostctx(c->prov)) == NULL)
            return 0;
        if ((c->md = EVP_MD_fetch(host, "SHA1", NULL)) == NULL) {
            UK_raise(c->prov, UK_R_INTERNAL, "SHA-1 unavailable on the host");
            return 0;
        }
    }
    *md = c->md;
    *mgf1 = c->mgf1md != NULL ? c->mgf1md : c->md;
    return 1;
}

static const char *pad_name(int pad)
{
    switch (pad) {
    case RSA_PKCS1_PADDING:
        return OSSL_PKEY_RSA_PAD_MODE_PKCSV15;
    case RSA_PKCS1_OAEP_PADDING:
        return OSSL_PKEY_RSA_PAD_MODE_OAEP;
    default:
        return OSSL_PKEY_RSA_PAD_MODE_NONE;
    }
}

static int ukprov_rsa_ac_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    ACCTX *c = vctx;
    OSSL_PARAM *p;
    EVP_MD *md, *mgf1;

    if (c == NULL)
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE)) != NULL) {
        int ok = p->data_type == OSSL_PARAM_UTF8_STRING
            ? OSSL_PARAM_set_utf8_string(p, pad_name(c->pad))
            : OSSL_PARAM_set_int(p, c->pad);

        if (!ok)
            return 0;
    }
    if (OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST) != NULL
        || OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST) != NULL) {
        if (!oaep_mds(c, &md, &mgf1))
            return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST)) != NULL
            && !OSSL_PARAM_set_utf8_string(p, EVP_MD_get0_name(md)))
            return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST)) != NULL
            && !OSSL_PARAM_set_utf8_string(p, EVP_MD_get0_name(mgf1)))
            return 0;
    }
    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL)) != NULL) {
        int ok = p->data_type == OSSL_PARAM_OCTET_PTR
            ? OSSL_PARAM_set_octet_ptr(p, c->label, c->llen)
            : OSSL_PARAM_set_octet_string(p, c->label, c->llen);

        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- init -------------------------------------------------------------------------- */

static int ac_init(ACCTX *c, UKPROV_KEY *key, const OSSL_PARAM params[], int op)
{
    if (c == NULL)
        return 0;
    if (key == NULL) {
        UK_raise(c->prov, UK_R_BAD_KEY, "no key given for RSA %s",
                 op == EVP_PKEY_OP_ENCRYPT ? "encryption" : "decryption");
        return 0;
    }
    if (key->type != UKPROV_KT_RSA) {
        UK_raise(c->prov, UK_R_WRONG_KEY_TYPE, "RSA %s needs an RSA key, got %s",
                 op == EVP_PKEY_OP_ENCRYPT ? "encryption" : "decryption",
                 ukprov_keytype_name(key->type));
        return 0;
    }
    if (key->pub == NULL) {
        UK_raise(c->prov, UK_R_BAD_KEY, "the key is empty (no public part)");
        return 0;
    }
    if (op == EVP_PKEY_OP_DECRYPT && key->priv == NULL && !key->hostpriv) {
        UK_raise(c->prov, UK_R_BAD_KEY, "cannot decrypt with a public key: this "
                 "RSA key has no private key object in the token");
        return 0;
    }
    ukprov_key_ref(key);
    ukprov_key_free(c->key);
    c->key = key;
    c->operation = op;
    c->pad = RSA_PKCS1_PADDING;
    EVP_MD_free(c->md);
    EVP_MD_free(c->mgf1md);
    c->md = c->mgf1md = NULL;
    OPENSSL_clear_free(c->label, c->llen);
    c->label = NULL;
    c->llen = 0;
    return ukprov_rsa_ac_set_ctx_params(c, params);
}

static int ukprov_rsa_encrypt_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    return ac_init(vctx, vkey, params, EVP_PKEY_OP_ENCRYPT);
}

static int ukprov_rsa_decrypt_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    return ac_init(vctx, vkey, params, EVP_PKEY_OP_DECRYPT);
}

static size_t rsa_k(const UKPROV_KEY *key)
{
    return ((size_t)key->bits + 7) / 8;
}

/* ---- encrypt (host) ------------------------------------------------------------------- */

/* Encryption, and decryption with a software key (UKPROV_KEY.hostpriv),
 * run on the host with the context's padding settings. */
static int host_crypt(ACCTX *c, int op, unsigned char *out, size_t *outlen,
                      size_t outsize, const unsigned char *in, size_t inlen)
{
    OSSL_LIB_CTX *host;
    EVP_PKEY_CTX *pctx = NULL;
    OSSL_PARAM params[5], *p = params;
    EVP_MD *md, *mgf1;
    int pad, ok = 0;

    pad = c->pad;
    *p++ = OSSL_PARAM_construct_int(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, &pad);
    if (pad == RSA_PKCS1_OAEP_PADDING) {
        if (!oaep_mds(c, &md, &mgf1))
            return 0;
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                                (char *)EVP_MD_get0_name(md), 0);
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST,
                                                (char *)EVP_MD_get0_name(mgf1), 0);
        if (c->label != NULL)
            *p++ = OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL,
                                                     c->label, c->llen);
    }
    *p = OSSL_PARAM_construct_end();

    if ((host = ukprov_hostctx(c->prov)) == NULL)
        return 0;
    if ((pctx = EVP_PKEY_CTX_new_from_pkey(host, c->key->pub, NULL)) == NULL
        || (op == EVP_PKEY_OP_ENCRYPT ? EVP_PKEY_encrypt_init_ex(pctx, params)
                                      : EVP_PKEY_decrypt_init_ex(pctx, params)) != 1) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "cannot set up RSA %s on the host",
                 op == EVP_PKEY_OP_ENCRYPT ? "encryption" : "decryption");
        goto end;
    }
    *outlen = outsize;
    if (op == EVP_PKEY_OP_DECRYPT) {
        if (EVP_PKEY_decrypt(pctx, out, outlen, in, inlen) != 1)
            UK_raise(c->prov, UK_R_DECRYPT_FAILED, "host RSA decryption with a "
                     "software key failed");
        else
            ok = 1;
        goto end;
    }
    if (EVP_PKEY_encrypt(pctx, out, outlen, in, inlen) != 1) {
        UK_raise(c->prov, UK_R_INPUT_TOO_LARGE, "RSA encryption of %zu bytes with "
                 "%s padding failed (message too long for a %d-bit key?)",
                 inlen, pad_name(pad), c->key->bits);
        goto end;
    }
    ok = 1;

 end:
    EVP_PKEY_CTX_free(pctx);
    return ok;
}

static int ukprov_rsa_encrypt(void *vctx, unsigned char *out, size_t *outlen,
                              size_t outsize, const unsigned char *in, size_t inlen)
{
    ACCTX *c = vctx;

    if (c == NULL || c->key == NULL || c->operation != EVP_PKEY_OP_ENCRYPT)
        return 0;
    if (out == NULL) {
        *outlen = (size_t)c->key->maxsize;
        return 1;
    }
    if (outsize < rsa_k(c->key)) {
        UK_raise(c->prov, UK_R_BUFFER_TOO_SMALL, "output buffer is %zu, should be "
                 "at least %zu", outsize, rsa_k(c->key));
        return 0;
    }
    return host_crypt(c, EVP_PKEY_OP_ENCRYPT, out, outlen, outsize, in, inlen);
}

/* ---- decrypt (token) ------------------------------------------------------------------- */

/* Decrypt with |mech| into out (capacity outsize) through a k-byte stack
 * buffer when out is smaller than the modulus. */
static CK_RV token_decrypt(ACCTX *c, CK_MECHANISM *mech, const unsigned char *in,
                           size_t inlen, unsigned char *out, size_t *outlen,
                           size_t outsize, int quiet)
{
    unsigned char tmp[MAX_K];
    size_t k = rsa_k(c->key), n;
    CK_RV rv;

    if (outsize >= k) {
        *outlen = outsize;
        return ukp11_decrypt(c->key->priv, mech, in, inlen, out, outlen, quiet);
    }
    n = sizeof(tmp);
    rv = ukp11_decrypt(c->key->priv, mech, in, inlen, tmp, &n, quiet);
    if (rv == CKR_OK) {
        if (n > outsize) {
            UK_raise(c->prov, UK_R_BUFFER_TOO_SMALL, "output buffer is %zu, "
                     "should be at least %zu", outsize, n);
            rv = CKR_BUFFER_TOO_SMALL;
        } else {
            memcpy(out, tmp, n);
            *outlen = n;
        }
    }
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return rv;
}

/* Raw RSA in the token, OAEP decoding here. */
static int oaep_on_host(ACCTX *c, const EVP_MD *md, const EVP_MD *mgf1,
                        const unsigned char *in, size_t inlen,
                        unsigned char *out, size_t *outlen, size_t outsize)
{
    CK_MECHANISM mech = { CKM_RSA_X_509, NULL, 0 };
    unsigned char em[MAX_K];
    size_t k = rsa_k(c->key), emlen = sizeof(em);
    int n, ok = 0;
    CK_RV rv;

    rv = ukp11_decrypt(c->key->priv, &mech, in, inlen, em, &emlen, 1);
    if (rv != CKR_OK) {
        UK_raise(c->prov, UK_R_DECRYPT_FAILED, "raw RSA (CKM_RSA_X_509) for "
                 "host OAEP decoding: %s", ukp11_rv_name(rv));
        goto end;
    }
    /* A token may strip leading zero bytes: put them back. */
    if (emlen > k)
        goto generic;
    if (emlen < k) {
        memmove(em + (k - emlen), em, emlen);
        memset(em, 0, k - emlen);
    }
    n = ukprov_oaep_decode(c->prov, out, outsize, em, k, c->label, c->llen, md, mgf1);
    if (n < 0)
        goto generic;
    *outlen = (size_t)n;
    ok = 1;
    goto end;

 generic:
    UK_raise(c->prov, UK_R_DECRYPT_FAILED, "OAEP decoding error");
 end:
    OPENSSL_cleanse(em, sizeof(em));
    return ok;
}

static int decrypt_oaep(ACCTX *c, const unsigned char *in, size_t inlen,
                        unsigned char *out, size_t *outlen, size_t outsize)
{
    CK_RSA_PKCS_OAEP_PARAMS op;
    CK_MECHANISM mech = { CKM_RSA_PKCS_OAEP, &op, sizeof(op) };
    UKP11_TOKEN *tok = ukp11_obj_token(c->key->priv);
    EVP_MD *md, *mgf1;
    unsigned long bit;
    int hi, mi, host;
    CK_RV rv;

    if (!oaep_mds(c, &md, &mgf1))
        return 0;
    hi = oaep_index(md);
    mi = oaep_index(mgf1);
    if (hi < 0 || mi < 0) {
        UK_raise(c->prov, UK_R_BAD_PARAM, "unsupported OAEP digest");
        return 0;
    }
    bit = QUIRK_OAEP_BIT(hi, mi);
    /* A label is always checked here when the fallback is allowed: SoftHSM
     * 2.6.1 ignores pSourceData (tried: it decrypts a label-less ciphertext
     * whatever label is passed, and fails with CKR_GENERAL_ERROR on a
     * labelled one even with the right label), and a token that silently
     * skips the label check cannot be detected from here. */
    host = c->prov->oaep_fallback
        && (c->llen > 0
            || (__atomic_load_n(&c->key->quirks, __ATOMIC_RELAXED) & bit) != 0
            || !ukp11_token_has_mech(tok, CKM_RSA_PKCS_OAEP));
    if (!host) {
        op.hashAlg = ukprov_digests[hi].hash;
        op.mgf = ukprov_digests[mi].mgf;
        op.source = CKZ_DATA_SPECIFIED;
        op.pSourceData = c->label;
        op.ulSourceDataLen = c->llen;

        ERR_set_mark();
        rv = token_decrypt(c, &mech, in, inlen, out, outlen, outsize, 0);
        if (rv == CKR_OK) {
            ERR_clear_last_mark();
            return 1;
        }
        if (!(rv == CKR_ARGUMENTS_BAD || rv == CKR_MECHANISM_PARAM_INVALID
              || rv == CKR_MECHANISM_INVALID)) {
            ERR_clear_last_mark();
            return 0;
        }
        if (!c->prov->oaep_fallback) {
            ERR_clear_last_mark();
            UK_raise(c->prov, UK_R_MECH_UNSUPPORTED, "token \"%s\" refuses OAEP "
                     "with %s/MGF1-%s (%s); set pkcs11-oaep-fallback = yes to decode "
                     "OAEP on the host", ukp11_token_label(tok), EVP_MD_get0_name(md),
                     EVP_MD_get0_name(mgf1), ukp11_rv_name(rv));
            return 0;
        }
        /* The token said no to the parameters: drop its error and remember. */
        ERR_pop_to_mark();
        __atomic_fetch_or(&c->key->quirks, bit, __ATOMIC_RELAXED);
        uk_dbg(UK_DBG_PROVIDER, "token \"%s\" refused OAEP %s/MGF1-%s (%s): "
               "host decoding from now on", ukp11_token_label(tok),
               EVP_MD_get0_name(md), EVP_MD_get0_name(mgf1), ukp11_rv_name(rv));
    }
    return oaep_on_host(c, md, mgf1, in, inlen, out, outlen, outsize);
}

static int ukprov_rsa_decrypt(void *vctx, unsigned char *out, size_t *outlen,
                              size_t outsize, const unsigned char *in, size_t inlen)
{
    ACCTX *c = vctx;
    CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
    size_t k;

    if (c == NULL || c->key == NULL || c->operation != EVP_PKEY_OP_DECRYPT)
        return 0;
    if (out == NULL) {
        *outlen = (size_t)c->key->maxsize;
        return 1;
    }
    k = rsa_k(c->key);
    if (inlen > k) {
        UK_raise(c->prov, UK_R_INPUT_TOO_LARGE, "ciphertext is %zu bytes, key "
                 "modulus is %zu bytes", inlen, k);
        return 0;
    }
    if (c->key->hostpriv)
        return host_crypt(c, EVP_PKEY_OP_DECRYPT, out, outlen, outsize, in, inlen);
    if (k > MAX_K) {
        UK_raise(c->prov, UK_R_BAD_KEY, "%d-bit RSA keys are not supported", c->key->bits);
        return 0;
    }
    switch (c->pad) {
    case RSA_PKCS1_OAEP_PADDING:
        return decrypt_oaep(c, in, inlen, out, outlen, outsize);
    case RSA_NO_PADDING:
        mech.mechanism = CKM_RSA_X_509;
        if (outsize < k) {
            UK_raise(c->prov, UK_R_BUFFER_TOO_SMALL, "output buffer is %zu, should "
                     "be at least %zu", outsize, k);
            return 0;
        }
        break;
    default:
        break;
    }
    return token_decrypt(c, &mech, in, inlen, out, outlen, outsize, 0) == CKR_OK;
}

/* ---- dispatch table ------------------------------------------------------------------- */

#define FN(id, fn) { OSSL_FUNC_ASYM_CIPHER_##id, (void (*)(void))(fn) }

const OSSL_DISPATCH ukprov_rsa_asym_cipher_functions[] = {
    FN(NEWCTX, ukprov_rsa_ac_newctx),
    FN(FREECTX, ukprov_rsa_ac_freectx),
    FN(DUPCTX, ukprov_rsa_ac_dupctx),
    FN(ENCRYPT_INIT, ukprov_rsa_encrypt_init),
    FN(ENCRYPT, ukprov_rsa_encrypt),
    FN(DECRYPT_INIT, ukprov_rsa_decrypt_init),
    FN(DECRYPT, ukprov_rsa_decrypt),
    FN(GET_CTX_PARAMS, ukprov_rsa_ac_get_ctx_params),
    FN(GETTABLE_CTX_PARAMS, ukprov_rsa_ac_gettable_ctx_params),
    FN(SET_CTX_PARAMS, ukprov_rsa_ac_set_ctx_params),
    FN(SETTABLE_CTX_PARAMS, ukprov_rsa_ac_settable_ctx_params),
    { 0, NULL }
};
