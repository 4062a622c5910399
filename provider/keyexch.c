/* uakey provider/: KEYEXCH ECDH.
 *
 * Our private key is in the token; the peer arrives as a uakey key object
 * (OpenSSL exports a foreign peer, even a whole key pair, into our keymgmt,
 * which keeps only its public part).  Its encoded point goes to
 * ukp11_derive_ecdh (CKM_ECDH1_DERIVE, no KDF), which leaves no object
 * behind.  The secret is the x coordinate, field-size bytes. */
#include "config.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ukprov.h"

/* Largest encoded point (P-521 uncompressed is 133 bytes). */
#define MAX_POINT 160
#define MAX_SECRET 80

typedef struct {
    UKPROV_CTX *prov;
    UKPROV_KEY *key;
    UKPROV_KEY *peer;
    int cofactor_mode;          /* -1 (curve default) or 0/1 */
} KXCTX;

UKPROV_FN(keyexch, newctx, ukprov_ecdh_newctx);
UKPROV_FN(keyexch, init, ukprov_ecdh_init);
UKPROV_FN(keyexch, set_peer, ukprov_ecdh_set_peer);
UKPROV_FN(keyexch, derive, ukprov_ecdh_derive);
UKPROV_FN(keyexch, freectx, ukprov_ecdh_freectx);
UKPROV_FN(keyexch, dupctx, ukprov_ecdh_dupctx);
UKPROV_FN(keyexch, set_ctx_params, ukprov_ecdh_set_ctx_params);
UKPROV_FN(keyexch, settable_ctx_params, ukprov_ecdh_settable_ctx_params);
UKPROV_FN(keyexch, get_ctx_params, ukprov_ecdh_get_ctx_params);
UKPROV_FN(keyexch, gettable_ctx_params, ukprov_ecdh_gettable_ctx_params);

static void *ukprov_ecdh_newctx(void *provctx)
{
    KXCTX *c = OPENSSL_zalloc(sizeof(*c));

    if (c == NULL) {
        UK_raise(provctx, UK_R_MALLOC, "key exchange context");
        return NULL;
    }
    c->prov = provctx;
    c->cofactor_mode = -1;
    return c;
}

static void ukprov_ecdh_freectx(void *vctx)
{
    KXCTX *c = vctx;

    if (c == NULL)
        return;
    ukprov_key_free(c->key);
    ukprov_key_free(c->peer);
    OPENSSL_free(c);
}

static void *ukprov_ecdh_dupctx(void *vctx)
{
    KXCTX *src = vctx, *c;

    if ((c = OPENSSL_memdup(src, sizeof(*src))) == NULL) {
        UK_raise(src->prov, UK_R_MALLOC, "key exchange context copy");
        return NULL;
    }
    c->key = src->key != NULL ? ukprov_key_ref(src->key) : NULL;
    c->peer = src->peer != NULL ? ukprov_key_ref(src->peer) : NULL;
    return c;
}

/* The curve name of a key: the cached one, else asked of the host key. */
static const char *key_group(const UKPROV_KEY *key, char *buf, size_t cap)
{
    if (key->group[0] != '\0')
        return key->group;
    if (key->pub != NULL
        && EVP_PKEY_get_utf8_string_param(key->pub, OSSL_PKEY_PARAM_GROUP_NAME,
                                          buf, cap, NULL))
        return buf;
    return "";
}

/* Every curve uakey handles has cofactor 1, where cofactor ECDH is plain
 * ECDH; anything else is refused rather than computed wrongly. */
static int cofactor_is_one(KXCTX *c)
{
    BIGNUM *h = NULL;
    int one;

    if (c->key == NULL || c->key->pub == NULL)
        return 1;               /* checked again at derive time */
    if (!EVP_PKEY_get_bn_param(c->key->pub, OSSL_PKEY_PARAM_EC_COFACTOR, &h))
        return 1;               /* named curves without explicit cofactor */
    one = BN_is_one(h);
    BN_free(h);
    return one;
}

static int check_cofactor(KXCTX *c)
{
    if (c->cofactor_mode == 1 && !cofactor_is_one(c)) {
        UK_raise(c->prov, UK_R_NOT_SUPPORTED, "cofactor ECDH is not supported on "
                 "curve %s (the token derives plain ECDH)", c->key->group);
        return 0;
    }
    return 1;
}

static int ukprov_ecdh_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    KXCTX *c = vctx;
    const OSSL_PARAM *p;

    if (c == NULL)
        return 0;
    if (params == NULL)
        return 1;
    if ((p = OSSL_PARAM_locate_const(params,
                                     OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE)) != NULL) {
        int mode;

        if (!OSSL_PARAM_get_int(p, &mode) || mode < -1 || mode > 1) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "ECDH cofactor mode must be -1, 0 or 1");
            return 0;
        }
        c->cofactor_mode = mode;
        if (!check_cofactor(c))
            return 0;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_KDF_TYPE)) != NULL) {
        const char *s = NULL;

        if (!OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "KDF type must be a string");
            return 0;
        }
        if (s != NULL && s[0] != '\0') {
            UK_raise(c->prov, UK_R_NOT_SUPPORTED, "ECDH with KDF \"%s\" is not "
                     "supported: derive the plain secret and apply the KDF on it", s);
            return 0;
        }
    }
    /* "pad" concerns DH; ECDH secrets are always field-size.  Accepted. */
    if ((p = OSSL_PARAM_locate_const(params, OSSL_EXCHANGE_PARAM_PAD)) != NULL) {
        unsigned int pad;

        if (!OSSL_PARAM_get_uint(p, &pad)) {
            UK_raise(c->prov, UK_R_BAD_PARAM, "pad must be an unsigned integer");
            return 0;
        }
    }
    return 1;
}

static const OSSL_PARAM kx_settable[] = {
    OSSL_PARAM_int(OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE, NULL),
    OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, NULL, 0),
    OSSL_PARAM_uint(OSSL_EXCHANGE_PARAM_PAD, NULL),
    OSSL_PARAM_END
};

static const OSSL_PARAM kx_gettable[] = {
    OSSL_PARAM_int(OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE, NULL),
    OSSL_PARAM_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, NULL, 0),
    OSSL_PARAM_END
};

static const OSSL_PARAM *ukprov_ecdh_settable_ctx_params(void *vctx, void *provctx)
{
    return kx_settable;
}

static const OSSL_PARAM *ukprov_ecdh_gettable_ctx_params(void *vctx, void *provctx)
{
    return kx_gettable;
}

static int ukprov_ecdh_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    KXCTX *c = vctx;
    OSSL_PARAM *p;

    if (c == NULL)
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_EC_ECDH_COFACTOR_MODE)) != NULL
        && !OSSL_PARAM_set_int(p, c->cofactor_mode < 0 ? 0 : c->cofactor_mode))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_EXCHANGE_PARAM_KDF_TYPE)) != NULL
        && !OSSL_PARAM_set_utf8_string(p, ""))
        return 0;
    return 1;
}

static int ukprov_ecdh_init(void *vctx, void *vkey, const OSSL_PARAM params[])
{
    KXCTX *c = vctx;
    UKPROV_KEY *key = vkey;

    if (c == NULL)
        return 0;
    if (key == NULL) {
        UK_raise(c->prov, UK_R_BAD_KEY, "no key given for ECDH");
        return 0;
    }
    if (key->type != UKPROV_KT_EC) {
        UK_raise(c->prov, UK_R_WRONG_KEY_TYPE, "ECDH needs an EC key, got %s",
                 ukprov_keytype_name(key->type));
        return 0;
    }
    if (key->priv == NULL && !key->hostpriv) {
        UK_raise(c->prov, UK_R_BAD_KEY, "ECDH needs a private key; this EC key "
                 "has no private key object in the token");
        return 0;
    }
    ukprov_key_ref(key);
    ukprov_key_free(c->key);
    c->key = key;
    c->cofactor_mode = -1;
    return ukprov_ecdh_set_ctx_params(c, params);
}

static int ukprov_ecdh_set_peer(void *vctx, void *vpeer)
{
    KXCTX *c = vctx;
    UKPROV_KEY *peer = vpeer;
    char g1[64], g2[64];
    const char *kg, *pg;

    if (c == NULL)
        return 0;
    if (peer == NULL || peer->pub == NULL) {
        UK_raise(c->prov, UK_R_BAD_KEY, "ECDH peer key is empty");
        return 0;
    }
    if (peer->type != UKPROV_KT_EC) {
        UK_raise(c->prov, UK_R_WRONG_KEY_TYPE, "ECDH peer must be an EC key, got %s",
                 ukprov_keytype_name(peer->type));
        return 0;
    }
    if (c->key != NULL) {
        kg = key_group(c->key, g1, sizeof(g1));
        pg = key_group(peer, g2, sizeof(g2));
        if (kg[0] == '\0' || strcmp(kg, pg) != 0) {
            UK_raise(c->prov, UK_R_BAD_KEY, "ECDH peer is on curve %s, our key on %s",
                     pg[0] != '\0' ? pg : "(unknown)", kg[0] != '\0' ? kg : "(unknown)");
            return 0;
        }
    }
    ukprov_key_ref(peer);
    ukprov_key_free(c->peer);
    c->peer = peer;
    return 1;
}

static int ukprov_ecdh_derive(void *vctx, unsigned char *secret, size_t *secretlen,
                              size_t outlen)
{
    KXCTX *c = vctx;
    unsigned char point[MAX_POINT], buf[MAX_SECRET];
    size_t plen = 0, fsize, n;

    if (c == NULL)
        return 0;
    if (c->key == NULL) {
        UK_raise(c->prov, UK_R_BAD_KEY, "ECDH derive without a key");
        return 0;
    }
    fsize = ((size_t)c->key->bits + 7) / 8;
    if (secret == NULL) {
        *secretlen = fsize;
        return 1;
    }
    if (c->peer == NULL) {
        UK_raise(c->prov, UK_R_BAD_KEY, "ECDH derive without a peer key");
        return 0;
    }
    if (fsize == 0 || fsize > sizeof(buf)) {
        UK_raise(c->prov, UK_R_BAD_KEY, "unsupported EC field size (%d bits)",
                 c->key->bits);
        return 0;
    }
    if (!check_cofactor(c))
        return 0;
    if (!EVP_PKEY_get_octet_string_param(c->peer->pub,
                                         OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                         point, sizeof(point), &plen)
        || plen == 0) {
        UK_raise(c->prov, UK_R_BAD_KEY, "cannot read the ECDH peer's public point");
        return 0;
    }
    if (point[0] != 0x04 || plen != 2 * fsize + 1) {
        UK_raise(c->prov, UK_R_BAD_KEY, "ECDH peer point is not an uncompressed "
                 "%zu-byte point (got %zu bytes, form 0x%02x)", 2 * fsize + 1, plen,
                 point[0]);
        return 0;
    }
    /* Truncation to a shorter buffer follows OpenSSL's own provider. */
    n = sizeof(buf);
    if (c->key->hostpriv) {
        /* a software key (uakey listed before default): ECDH on the host */
        OSSL_LIB_CTX *host = ukprov_hostctx(c->prov);
        EVP_PKEY_CTX *dctx = host != NULL
            ? EVP_PKEY_CTX_new_from_pkey(host, c->key->pub, NULL) : NULL;
        int ok = dctx != NULL && EVP_PKEY_derive_init(dctx) == 1
            && EVP_PKEY_derive_set_peer(dctx, c->peer->pub) == 1
            && EVP_PKEY_derive(dctx, buf, &n) == 1;

        EVP_PKEY_CTX_free(dctx);
        if (!ok) {
            UK_raise(c->prov, UK_R_DERIVE_FAILED, "host ECDH with a software key failed");
            return 0;
        }
    } else if (ukp11_derive_ecdh(c->key->priv, point, plen, buf, &n) != CKR_OK) {
        return 0;
    }
    if (n != fsize) {
        OPENSSL_cleanse(buf, sizeof(buf));
        UK_raise(c->prov, UK_R_DERIVE_FAILED, "token derived %zu bytes, expected %zu",
                 n, fsize);
        return 0;
    }
    if (outlen < n)
        n = outlen;
    memcpy(secret, buf, n);
    *secretlen = n;
    OPENSSL_cleanse(buf, sizeof(buf));
    return 1;
}

#define FN(id, fn) { OSSL_FUNC_KEYEXCH_##id, (void (*)(void))(fn) }

const OSSL_DISPATCH ukprov_ecdh_keyexch_functions[] = {
    FN(NEWCTX, ukprov_ecdh_newctx),
    FN(INIT, ukprov_ecdh_init),
    FN(SET_PEER, ukprov_ecdh_set_peer),
    FN(DERIVE, ukprov_ecdh_derive),
    FN(FREECTX, ukprov_ecdh_freectx),
    FN(DUPCTX, ukprov_ecdh_dupctx),
    FN(SET_CTX_PARAMS, ukprov_ecdh_set_ctx_params),
    FN(SETTABLE_CTX_PARAMS, ukprov_ecdh_settable_ctx_params),
    FN(GET_CTX_PARAMS, ukprov_ecdh_get_ctx_params),
    FN(GETTABLE_CTX_PARAMS, ukprov_ecdh_gettable_ctx_params),
    { 0, NULL }
};
