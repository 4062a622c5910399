/* uakey provider: key objects shared by every key type.
 *
 * A UKPROV_KEY pairs a token object (the private key, which never leaves
 * the token) with a host EVP_PKEY holding the public part.  The host key
 * lives in the provider's private library context, so verify, encrypt,
 * export and comparisons run in OpenSSL's default provider and never come
 * back to uakey. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "keymgmt_int.h"
#include "ukprov.h"

/* The largest encoded EC point we accept (P-521 uncompressed is 133). */
#define UKPROV_MAX_POINT 160

/* ---- life cycle ------------------------------------------------------------ */

UKPROV_KEY *ukprov_key_new(UKPROV_CTX *ctx, UKPROV_KEYTYPE type)
{
    UKPROV_KEY *key = calloc(1, sizeof(*key));

    if (key == NULL) {
        UK_raise(ctx, UK_R_MALLOC, "cannot allocate a key object");
        return NULL;
    }
    key->prov = ctx;
    key->type = type;
    key->refcnt = 1;
    return key;
}

UKPROV_KEY *ukprov_key_ref(UKPROV_KEY *key)
{
    if (key != NULL)
        __atomic_add_fetch(&key->refcnt, 1, __ATOMIC_RELAXED);
    return key;
}

void ukprov_key_free(UKPROV_KEY *key)
{
    if (key == NULL)
        return;
    if (__atomic_sub_fetch(&key->refcnt, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    ukp11_obj_free(key->priv);
    ukp11_obj_free(key->pubobj);
    EVP_PKEY_free(key->pub);
    free(key->uri);
    free(key);
}

int ukprov_key_set_sizes(UKPROV_KEY *key)
{
    if (key == NULL || key->pub == NULL)
        return 0;
    key->bits = EVP_PKEY_get_bits(key->pub);
    key->secbits = EVP_PKEY_get_security_bits(key->pub);
    key->maxsize = EVP_PKEY_get_size(key->pub);
    if (key->type == UKPROV_KT_EC || key->type == UKPROV_KT_ED25519) {
        char name[sizeof(key->group)];
        size_t len = 0;

        if (key->type == UKPROV_KT_ED25519) {
            strcpy(key->group, "ED25519");
        } else if (EVP_PKEY_get_utf8_string_param(key->pub, OSSL_PKEY_PARAM_GROUP_NAME,
                                                  name, sizeof(name), &len)) {
            memcpy(key->group, name, len);
            key->group[len] = '\0';
        }
    }
    return key->bits > 0;
}

const char *ukprov_keytype_name(UKPROV_KEYTYPE t)
{
    switch (t) {
    case UKPROV_KT_RSA:
        return "RSA";
    case UKPROV_KT_RSA_PSS:
        return "RSA-PSS";
    case UKPROV_KT_EC:
        return "EC";
    case UKPROV_KT_ED25519:
        return "ED25519";
    }
    return "unknown";
}

UKPROV_KEY *ukprov_key_from_pub(UKPROV_CTX *ctx, UKPROV_KEYTYPE type, EVP_PKEY *pub)
{
    UKPROV_KEY *key = ukprov_key_new(ctx, type);

    if (key == NULL) {
        EVP_PKEY_free(pub);
        return NULL;
    }
    key->pub = pub;
    if (!ukprov_key_set_sizes(key)) {
        UK_raise(ctx, UK_R_BAD_KEY, "cannot read the size of the %s public key",
                 ukprov_keytype_name(type));
        ukprov_key_free(key);
        return NULL;
    }
    return key;
}

/* ---- building the host public key ----------------------------------------- */

/* EVP_PKEY_fromdata of |params| for algorithm |alg|, with |sel| one of
 * EVP_PKEY_PUBLIC_KEY (token keys, imported public keys) or
 * EVP_PKEY_KEYPAIR (software keys, see UKPROV_KEY.hostpriv). */
static EVP_PKEY *pkey_fromdata(UKPROV_CTX *ctx, const char *alg, OSSL_PARAM *params,
                               int sel)
{
    OSSL_LIB_CTX *host = ukprov_hostctx(ctx);
    EVP_PKEY_CTX *pctx;
    EVP_PKEY *pkey = NULL;

    if (host == NULL)
        return NULL;
    pctx = EVP_PKEY_CTX_new_from_name(host, alg, NULL);
    if (pctx == NULL
        || EVP_PKEY_fromdata_init(pctx) <= 0
        || EVP_PKEY_fromdata(pctx, &pkey, sel, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(pctx);
    return pkey;
}

static EVP_PKEY *pub_fromdata(UKPROV_CTX *ctx, const char *alg, OSSL_PARAM *params)
{
    return pkey_fromdata(ctx, alg, params, EVP_PKEY_PUBLIC_KEY);
}

static EVP_PKEY *rsa_pub(UKPROV_CTX *ctx, const unsigned char *n, size_t nlen,
                         const unsigned char *e, size_t elen)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
    EVP_PKEY *pkey = NULL;

    if (bld != NULL && bn != NULL && be != NULL
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be)
        && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL)
        pkey = pub_fromdata(ctx, "RSA", params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

static EVP_PKEY *ec_pub(UKPROV_CTX *ctx, const char *group,
                        const unsigned char *pt, size_t ptlen)
{
    OSSL_PARAM params[3];

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  (void *)pt, ptlen);
    params[2] = OSSL_PARAM_construct_end();
    return pub_fromdata(ctx, "EC", params);
}

static EVP_PKEY *ed25519_pub(UKPROV_CTX *ctx, const unsigned char *pt, size_t ptlen)
{
    OSSL_PARAM params[2];

    params[0] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  (void *)pt, ptlen);
    params[1] = OSSL_PARAM_construct_end();
    return pub_fromdata(ctx, "ED25519", params);
}

/* CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 2.40); some
 * tokens store the raw point.  Returns the inner bytes when |p| is exactly
 * one OCTET STRING, else NULL. */
static const unsigned char *unwrap_octet_string(const unsigned char *p, size_t len,
                                                size_t *inner)
{
    size_t hdr, n;

    if (len < 2 || p[0] != 0x04)
        return NULL;
    if (p[1] < 0x80) {
        hdr = 2;
        n = p[1];
    } else if (p[1] == 0x81 && len >= 3) {
        hdr = 3;
        n = p[2];
    } else if (p[1] == 0x82 && len >= 4) {
        hdr = 4;
        n = ((size_t)p[2] << 8) | p[3];
    } else {
        return NULL;
    }
    if (hdr + n != len)
        return NULL;
    *inner = n;
    return p + hdr;
}

/* What CKA_EC_PARAMS names: an OID (namedCurve) or, for EdDSA, the
 * PrintableString "edwards25519".  Fills |name| with the curve short name
 * ("prime256v1", "ED25519"); returns the NID, or NID_undef. */
static int ec_params_curve(const unsigned char *der, size_t len, char *name, size_t cap)
{
    const unsigned char *p = der;
    ASN1_OBJECT *oid;
    int nid = NID_undef;

    if (der == NULL || len < 2)
        return NID_undef;
    if (der[0] == 0x13) { /* PrintableString */
        static const char ed[] = "edwards25519";

        if (len == 2 + sizeof(ed) - 1 && der[1] == sizeof(ed) - 1
            && memcmp(der + 2, ed, sizeof(ed) - 1) == 0) {
            snprintf(name, cap, "%s", "ED25519");
            return NID_ED25519;
        }
        return NID_undef;
    }
    if (der[0] != 0x06)
        return NID_undef; /* explicit parameters are not supported */
    oid = d2i_ASN1_OBJECT(NULL, &p, (long)len);
    if (oid != NULL && p == der + len) {
        nid = OBJ_obj2nid(oid);
        if (nid != NID_undef && OBJ_nid2sn(nid) != NULL)
            snprintf(name, cap, "%s", OBJ_nid2sn(nid));
        else
            nid = NID_undef;
    }
    ASN1_OBJECT_free(oid);
    return nid;
}

/* The encoded public point of the certificate |der|, copied into |out|. */
static int point_from_cert(UKPROV_CTX *ctx, const unsigned char *der, size_t derlen,
                           unsigned char *out, size_t cap, size_t *outlen)
{
    OSSL_LIB_CTX *host = ukprov_hostctx(ctx);
    const unsigned char *p = der;
    X509 *x;
    EVP_PKEY *pk;
    int ok = 0;

    if (host == NULL || der == NULL || (x = X509_new_ex(host, NULL)) == NULL)
        return 0;
    if (d2i_X509(&x, &p, (long)derlen) != NULL
        && (pk = X509_get0_pubkey(x)) != NULL
        && EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                           out, cap, outlen))
        ok = 1;
    X509_free(x);
    return ok;
}

UKPROV_KEY *ukprov_key_from_obj(UKPROV_CTX *ctx, UKP11_OBJ *obj,
                                const unsigned char *certder, size_t certlen)
{
    CK_OBJECT_CLASS cls = ukp11_obj_class(obj);
    CK_KEY_TYPE kt = ukp11_obj_key_type(obj);
    UKPROV_KEYTYPE type;
    EVP_PKEY *pub = NULL;
    UKPROV_KEY *key;
    char curve[32] = "";
    unsigned char certpt[UKPROV_MAX_POINT];

    if (cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY) {
        UK_raise(ctx, UK_R_WRONG_KEY_TYPE, "token object is not a key (class %lu)",
                 (unsigned long)cls);
        return NULL;
    }
    if (kt == CKK_RSA) {
        size_t nlen, elen;
        const unsigned char *n = ukp11_obj_attr(obj, CKA_MODULUS, &nlen);
        const unsigned char *e = ukp11_obj_attr(obj, CKA_PUBLIC_EXPONENT, &elen);

        type = UKPROV_KT_RSA;
        if (n == NULL || e == NULL || nlen == 0 || elen == 0) {
            UK_raise(ctx, UK_R_BAD_KEY, "RSA key object lacks CKA_MODULUS or "
                     "CKA_PUBLIC_EXPONENT");
            return NULL;
        }
        pub = rsa_pub(ctx, n, nlen, e, elen);
    } else if (kt == CKK_EC || kt == CKK_EC_EDWARDS) {
        size_t plen = 0, ptlen = 0, inlen = 0;
        const unsigned char *params = ukp11_obj_attr(obj, CKA_EC_PARAMS, &plen);
        const unsigned char *pt = ukp11_obj_attr(obj, CKA_EC_POINT, &ptlen);
        const unsigned char *in;
        int nid = ec_params_curve(params, plen, curve, sizeof(curve));

        if (nid == NID_undef) {
            UK_raise(ctx, UK_R_BAD_KEY, "%s key has missing or unsupported "
                     "CKA_EC_PARAMS (only named curves)",
                     kt == CKK_EC ? "EC" : "EdDSA");
            return NULL;
        }
        if (kt == CKK_EC_EDWARDS && nid != NID_ED25519) {
            UK_raise(ctx, UK_R_BAD_KEY, "EdDSA curve %s is not supported (Ed25519 only)",
                     curve);
            return NULL;
        }
        if (kt == CKK_EC && nid == NID_ED25519) {
            UK_raise(ctx, UK_R_BAD_KEY, "CKK_EC key with Ed25519 parameters");
            return NULL;
        }
        type = kt == CKK_EC ? UKPROV_KT_EC : UKPROV_KT_ED25519;
        if (pt == NULL && certder != NULL
            && point_from_cert(ctx, certder, certlen, certpt, sizeof(certpt), &ptlen)) {
            uk_dbg(UK_DBG_PROVIDER, "EC point taken from the certificate (%zu bytes)",
                   ptlen);
            pt = certpt;
        }
        if (pt == NULL || ptlen == 0) {
            UK_raise(ctx, UK_R_BAD_KEY, "%s key has no CKA_EC_POINT, no public key "
                     "object and no certificate with the same CKA_ID",
                     kt == CKK_EC ? "EC" : "EdDSA");
            return NULL;
        }
        in = unwrap_octet_string(pt, ptlen, &inlen);
        if (type == UKPROV_KT_ED25519) {
            if (in != NULL && inlen == 32)
                pub = ed25519_pub(ctx, in, inlen);
            else if (ptlen == 32)
                pub = ed25519_pub(ctx, pt, ptlen);
        } else {
            /* DER form first; a raw point that happens to parse as DER is
             * rejected by the curve check and tried as is. */
            if (in != NULL)
                pub = ec_pub(ctx, curve, in, inlen);
            if (pub == NULL)
                pub = ec_pub(ctx, curve, pt, ptlen);
        }
        OPENSSL_cleanse(certpt, sizeof(certpt));
    } else {
        UK_raise(ctx, UK_R_WRONG_KEY_TYPE, "unsupported key type CKK 0x%lx "
                 "(RSA, EC and Ed25519 are supported)", (unsigned long)kt);
        return NULL;
    }
    if (pub == NULL) {
        UK_raise(ctx, UK_R_BAD_KEY, "cannot build the %s public key from the token "
                 "attributes%s%s", ukprov_keytype_name(type),
                 curve[0] != '\0' ? " on curve " : "", curve);
        return NULL;
    }
    key = ukprov_key_from_pub(ctx, type, pub);
    if (key == NULL)
        return NULL;
    if (curve[0] != '\0' && type == UKPROV_KT_EC)
        snprintf(key->group, sizeof(key->group), "%s", curve);
    if (cls == CKO_PRIVATE_KEY)
        key->priv = ukp11_obj_ref(obj);
    else
        key->pubobj = ukp11_obj_ref(obj);
    key->uri = ukp11_obj_uri(obj);
    uk_dbg(UK_DBG_PROVIDER, "key %p: %s %d bits%s%s, %s", (void *)key,
           ukprov_keytype_name(type), key->bits, key->group[0] ? " " : "",
           key->group, cls == CKO_PRIVATE_KEY ? "private" : "public");
    return key;
}

/* ---- PIN prompt ---------------------------------------------------------------- */

int ukprov_pin_cb(char *buf, size_t cap, size_t *len, const char *info, void *arg)
{
    UKPROV_PIN_ARG *pa = arg;
    OSSL_PARAM params[2];
    size_t got = 0;

    if (pa == NULL || pa->cb == NULL)
        return 0;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PASSPHRASE_PARAM_INFO,
                                                 (char *)(info != NULL ? info : ""), 0);
    params[1] = OSSL_PARAM_construct_end();
    /* The callback writes straight into the backend's buffer, which the
     * backend wipes after login: no copy of the PIN is made here. */
    if (!pa->cb(buf, cap, &got, params, pa->cbarg) || got > cap) {
        OPENSSL_cleanse(buf, cap);
        return 0;
    }
    *len = got;
    return 1;
}

/* ---- loading one private key by URI ------------------------------------------ */

/* The URI of |obj| without object= and type=, which selects the other
 * objects (certificate, public key) sharing its token and CKA_ID. */
static char *same_id_uri(const UKP11_OBJ *obj)
{
    char *full = ukp11_obj_uri(obj), *out, *tok, *save = NULL, *w;
    size_t n;

    if (full == NULL || strncmp(full, "pkcs11:", 7) != 0) {
        free(full);
        return NULL;
    }
    n = strlen(full);
    out = malloc(n + 1);
    if (out == NULL) {
        free(full);
        return NULL;
    }
    memcpy(out, "pkcs11:", 7);
    w = out + 7;
    for (tok = strtok_r(full + 7, ";", &save); tok != NULL;
         tok = strtok_r(NULL, ";", &save)) {
        if (strncmp(tok, "object=", 7) == 0 || strncmp(tok, "type=", 5) == 0)
            continue;
        if (w != out + 7)
            *w++ = ';';
        n = strlen(tok);
        memcpy(w, tok, n);
        w += n;
    }
    *w = '\0';
    free(full);
    return out;
}

/* The DER of a certificate sharing |obj|'s CKA_ID (malloc'd), or NULL. */
unsigned char *ukprov_find_cert_for(UKPROV_CTX *ctx, const UKP11_OBJ *obj,
                                    size_t *len)
{
    size_t idlen = 0, n = 0, vlen = 0;
    char *s;
    UKP11_URI *u = NULL;
    UKP11_OBJ **certs = NULL;
    unsigned char *der = NULL;
    const unsigned char *v;

    if (ukp11_obj_attr(obj, CKA_ID, &idlen) == NULL || idlen == 0)
        return NULL;
    if ((s = same_id_uri(obj)) == NULL)
        return NULL;
    if (ukp11_uri_parse(ctx->p11, s, &u) == CKR_OK
        && ukp11_find(ctx->p11, u, CKO_CERTIFICATE, NULL, NULL, &certs, &n) == CKR_OK
        && n >= 1 && (v = ukp11_obj_attr(certs[0], CKA_VALUE, &vlen)) != NULL
        && (der = malloc(vlen)) != NULL) {
        memcpy(der, v, vlen);
        *len = vlen;
    }
    uk_dbg(UK_DBG_PROVIDER, "certificate lookup for an EC key without point: %zu found",
           n);
    ukp11_objs_free(certs, n);
    ukp11_uri_free(u);
    free(s);
    return der;
}

UKPROV_KEY *ukprov_load_private_key(UKPROV_CTX *ctx, const char *uri,
                                    OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    UKP11_URI *u = NULL;
    UKP11_OBJ **objs = NULL;
    size_t n = 0, certlen = 0;
    UKPROV_PIN_ARG pa = { pw_cb, pw_cbarg };
    UKPROV_KEY *key = NULL;
    unsigned char *cert = NULL;
    char *red = NULL;

    if (uri == NULL) {
        UK_raise(ctx, UK_R_BAD_URI, "no pkcs11 URI given");
        return NULL;
    }
    if (ukp11_uri_parse(ctx->p11, uri, &u) != CKR_OK)
        return NULL;
    red = ukp11_uri_redacted(u);
    if (ukp11_find(ctx->p11, u, CKO_PRIVATE_KEY, pw_cb != NULL ? ukprov_pin_cb : NULL,
                   &pa, &objs, &n) != CKR_OK)
        goto end;
    if (n == 0) {
        UK_raise(ctx, UK_R_OBJECT_NOT_FOUND, "no private key matches %s",
                 red != NULL ? red : "the URI");
        goto end;
    }
    if (n > 1) {
        UK_raise(ctx, UK_R_AMBIGUOUS_OBJECT, "%zu private keys match %s; add object= "
                 "or id=", n, red != NULL ? red : "the URI");
        goto end;
    }
    if ((ukp11_obj_key_type(objs[0]) == CKK_EC
         || ukp11_obj_key_type(objs[0]) == CKK_EC_EDWARDS)
        && ukp11_obj_attr(objs[0], CKA_EC_POINT, NULL) == NULL)
        cert = ukprov_find_cert_for(ctx, objs[0], &certlen);
    key = ukprov_key_from_obj(ctx, objs[0], cert, certlen);
 end:
    free(cert);
    ukp11_objs_free(objs, n);
    free(red);
    ukp11_uri_free(u);
    return key;
}

/* ---- dispatch bodies shared by the keymgmt tables ---------------------------- */

void *ukprov_km_new(void *provctx, UKPROV_KEYTYPE type)
{
    return ukprov_key_new(provctx, type);
}

void ukprov_km_free(void *keydata)
{
    ukprov_key_free(keydata);
}

/* |ref| is the address of a UKPROV_KEY pointer that the store or decoder
 * holds; we take our own reference (the caller frees its own). */
void *ukprov_km_load(const void *ref, size_t ref_sz, UKPROV_KEYTYPE type)
{
    UKPROV_KEY *key;

    if (ref == NULL || ref_sz != sizeof(key))
        return NULL;
    memcpy(&key, ref, sizeof(key));
    if (key == NULL)
        return NULL;
    if (key->type != type) {
        UK_raise(key->prov, UK_R_WRONG_KEY_TYPE, "a %s key cannot be loaded as %s",
                 ukprov_keytype_name(key->type), ukprov_keytype_name(type));
        return NULL;
    }
    return ukprov_key_ref(key);
}

/* An EC key may hold only its group (parameters, no point yet). */
static int pub_present(const UKPROV_KEY *key)
{
    size_t len = 0;

    if (key->pub == NULL)
        return 0;
    if (key->type != UKPROV_KT_EC)
        return 1;
    return EVP_PKEY_get_octet_string_param(key->pub, OSSL_PKEY_PARAM_PUB_KEY, NULL, 0,
                                           &len) == 1 && len > 0;
}

int ukprov_km_has(const void *keydata, int selection)
{
    const UKPROV_KEY *key = keydata;
    int ok = 1;

    if (key == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0)
        ok = ok && (key->priv != NULL || key->hostpriv);
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0)
        ok = ok && pub_present(key);
    if ((selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) != 0
        && key->type == UKPROV_KT_EC)
        ok = ok && key->pub != NULL;
    return ok;
}

/* Only public parts can be compared: a token key equals a host key (a
 * certificate's) when their public halves are equal. */
int ukprov_km_match(const void *k1, const void *k2, int selection)
{
    const UKPROV_KEY *a = k1, *b = k2;

    if (a == NULL || b == NULL || a->pub == NULL || b->pub == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0)
        return EVP_PKEY_eq(a->pub, b->pub) == 1;
    if ((selection & OSSL_KEYMGMT_SELECT_ALL_PARAMETERS) != 0)
        return EVP_PKEY_parameters_eq(a->pub, b->pub) == 1;
    return 1;
}

/* The parameter that carries the public key for |type|. */
static const char *pub_param_name(UKPROV_KEYTYPE type)
{
    return type == UKPROV_KT_RSA || type == UKPROV_KT_RSA_PSS
        ? OSSL_PKEY_PARAM_RSA_N : OSSL_PKEY_PARAM_PUB_KEY;
}

/* The parameter that carries the private key for |type|. */
static const char *priv_param_name(UKPROV_KEYTYPE type)
{
    return type == UKPROV_KT_RSA || type == UKPROV_KT_RSA_PSS
        ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;
}

/* OpenSSL exports a whole default-provider key pair into us when a host
 * key meets a token key (ECDH peer, EVP_PKEY_eq), and hands us software
 * keys outright when uakey is listed before the default provider.  Such a
 * key stays a software key held in the host context (hostpriv): nothing
 * ever goes into the token this way, and its operations run on the host. */
int ukprov_km_import(void *keydata, int selection, const OSSL_PARAM params[])
{
    UKPROV_KEY *key = keydata;
    EVP_PKEY *pub;
    const char *alg;
    int keypair;

    if (key == NULL)
        return 0;
    alg = ukprov_keytype_name(key->type);
    if (key->priv != NULL) {
        UK_raise(key->prov, UK_R_NOT_SUPPORTED, "cannot import into a token %s key", alg);
        return 0;
    }
    if (OSSL_PARAM_locate_const(params, pub_param_name(key->type)) == NULL
        && key->type == UKPROV_KT_EC
        && (selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) != 0
        && OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_GROUP_NAME) != NULL) {
        /* An EC group alone: libssl makes a peer's key share this way and
         * then sets its point (ukprov_km_set_params). */
        pub = pkey_fromdata(key->prov, alg, (OSSL_PARAM *)params, EVP_PKEY_KEY_PARAMETERS);
        if (pub == NULL) {
            UK_raise(key->prov, UK_R_BAD_KEY, "cannot import the EC parameters");
            return 0;
        }
        EVP_PKEY_free(key->pub);
        key->pub = pub;
        key->hostpriv = 0;
        return ukprov_key_set_sizes(key);
    }
    if (OSSL_PARAM_locate_const(params, pub_param_name(key->type)) == NULL) {
        UK_raise(key->prov, UK_R_NOT_SUPPORTED, "%s import needs the public key "
                 "(\"%s\"); uakey imports public keys only", alg,
                 pub_param_name(key->type));
        return 0;
    }
    keypair = (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0
        && OSSL_PARAM_locate_const(params, priv_param_name(key->type)) != NULL;
    pub = pkey_fromdata(key->prov, alg, (OSSL_PARAM *)params,
                        keypair ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
    if (pub == NULL) {
        UK_raise(key->prov, UK_R_BAD_KEY, "cannot import the %s %s", alg,
                 keypair ? "key pair" : "public key");
        return 0;
    }
    EVP_PKEY_free(key->pub);
    key->pub = pub;
    key->hostpriv = keypair;
    if (!ukprov_key_set_sizes(key)) {
        UK_raise(key->prov, UK_R_BAD_KEY, "cannot read the size of the imported %s key",
                 alg);
        return 0;
    }
    return 1;
}

/* Public parts and domain parameters only.  Refusing a selection with the
 * private key for a token key is what makes OpenSSL 3.0 run private-key
 * operations in uakey instead of exporting the key to another provider. */
int ukprov_km_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
    UKPROV_KEY *key = keydata;
    OSSL_PARAM *params = NULL;
    int sel, ok;

    if (key == NULL || key->pub == NULL || cb == NULL)
        return 0;
    if (key->priv != NULL && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0) {
        uk_dbg(UK_DBG_PROVIDER, "key %p: export of the private part refused",
               (void *)key);
        return 0;
    }
    if (key->hostpriv && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0)
        sel = EVP_PKEY_KEYPAIR;     /* a software key: the host's own */
    else if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0)
        sel = EVP_PKEY_PUBLIC_KEY;
    else
        sel = EVP_PKEY_KEY_PARAMETERS;
    if (EVP_PKEY_todata(key->pub, sel, &params) <= 0) {
        UK_raise(key->prov, UK_R_INTERNAL, "cannot export the %s public key",
                 ukprov_keytype_name(key->type));
        return 0;
    }
    ok = cb(params, cbarg);
    OSSL_PARAM_free(params);
    return ok;
}

/* Everything the host key knows (n, e, group, pub, encoded-pub-key,
 * default-digest, ...), then our cached sizes. */
int ukprov_km_get_params(void *keydata, OSSL_PARAM params[])
{
    UKPROV_KEY *key = keydata;
    OSSL_PARAM *p;

    if (key == NULL)
        return 0;
    if (key->pub == NULL)
        return 1;
    if (!EVP_PKEY_get_params(key->pub, params)) {
        UK_raise(key->prov, UK_R_BAD_PARAM, "cannot get the %s key parameters",
                 ukprov_keytype_name(key->type));
        return 0;
    }
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_BITS)) != NULL
        && !OSSL_PARAM_set_int(p, key->bits))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_SECURITY_BITS)) != NULL
        && !OSSL_PARAM_set_int(p, key->secbits))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MAX_SIZE)) != NULL
        && !OSSL_PARAM_set_int(p, key->maxsize))
        return 0;
    return 1;
}

/* The encoded public key of a key that has none fixed by a token: the
 * point of a peer's key share (libssl), set on an EC key that holds only
 * its group. */
int ukprov_km_set_params(void *keydata, const OSSL_PARAM params[])
{
    UKPROV_KEY *key = keydata;
    const OSSL_PARAM *p;

    if (key == NULL)
        return 0;
    p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
    if (p == NULL)
        return 1;
    if (key->priv != NULL || key->pub == NULL) {
        UK_raise(key->prov, UK_R_NOT_SUPPORTED, "the public key of a token %s key "
                 "cannot be replaced", ukprov_keytype_name(key->type));
        return 0;
    }
    if (p->data_type != OSSL_PARAM_OCTET_STRING
        || EVP_PKEY_set1_encoded_public_key(key->pub, p->data, p->data_size) != 1) {
        UK_raise(key->prov, UK_R_BAD_KEY, "invalid encoded %s public key",
                 ukprov_keytype_name(key->type));
        return 0;
    }
    key->hostpriv = 0;
    return ukprov_key_set_sizes(key);
}

void *ukprov_km_dup(const void *keydata, int selection)
{
    const UKPROV_KEY *src = keydata;
    UKPROV_KEY *key;

    if (src == NULL || (key = ukprov_key_new(src->prov, src->type)) == NULL)
        return NULL;
    if (src->pub != NULL && (key->pub = EVP_PKEY_dup(src->pub)) == NULL) {
        UK_raise(src->prov, UK_R_MALLOC, "cannot copy the public key");
        ukprov_key_free(key);
        return NULL;
    }
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 && src->priv != NULL)
        key->priv = ukp11_obj_ref(src->priv);
    key->hostpriv = src->hostpriv;
    if (src->pubobj != NULL)
        key->pubobj = ukp11_obj_ref(src->pubobj);
    if (src->uri != NULL && (key->uri = strdup(src->uri)) == NULL) {
        UK_raise(src->prov, UK_R_MALLOC, "cannot copy the key URI");
        ukprov_key_free(key);
        return NULL;
    }
    key->bits = src->bits;
    key->secbits = src->secbits;
    key->maxsize = src->maxsize;
    memcpy(key->group, src->group, sizeof(key->group));
    key->quirks = __atomic_load_n(&src->quirks, __ATOMIC_RELAXED);
    return key;
}

/* ---- key generation in the token ------------------------------------------- */

void *ukprov_km_gen_init(void *provctx, int selection, const OSSL_PARAM params[],
                         UKPROV_KEYTYPE type)
{
    UKPROV_CTX *ctx = provctx;
    UKPROV_GEN *g = calloc(1, sizeof(*g));

    if (g == NULL) {
        UK_raise(ctx, UK_R_MALLOC, "cannot allocate a key generation context");
        return NULL;
    }
    g->prov = ctx;
    g->type = type;
    g->selection = selection;
    g->bits = 2048;
    if (!ukprov_km_gen_set_params(g, params)) {
        ukprov_km_gen_cleanup(g);
        return NULL;
    }
    return g;
}

int ukprov_km_gen_set_params(void *genctx, const OSSL_PARAM params[])
{
    UKPROV_GEN *g = genctx;
    const OSSL_PARAM *p;

    if (g == NULL)
        return 0;
    if (params == NULL)
        return 1;
    if ((p = OSSL_PARAM_locate_const(params, UKPROV_GEN_PARAM_URI)) != NULL) {
        const char *s = NULL;

        if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || s == NULL) {
            UK_raise(g->prov, UK_R_BAD_PARAM, "%s must be a string",
                     UKPROV_GEN_PARAM_URI);
            return 0;
        }
        free(g->uri);
        if ((g->uri = strdup(s)) == NULL) {
            UK_raise(g->prov, UK_R_MALLOC, "cannot copy %s", UKPROV_GEN_PARAM_URI);
            return 0;
        }
    }
    if (g->type == UKPROV_KT_RSA || g->type == UKPROV_KT_RSA_PSS) {
        if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_BITS)) != NULL
            && (!OSSL_PARAM_get_size_t(p, &g->bits) || g->bits < 1024
                || g->bits > 16384)) {
            UK_raise(g->prov, UK_R_BAD_PARAM, "RSA key size must be 1024 to 16384 bits");
            return 0;
        }
        if ((p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_E)) != NULL) {
            BIGNUM *e = NULL;
            int n;

            if (!OSSL_PARAM_get_BN(p, &e) || BN_is_zero(e) || !BN_is_odd(e)
                || (n = BN_num_bytes(e)) > (int)sizeof(g->e)) {
                BN_free(e);
                UK_raise(g->prov, UK_R_BAD_PARAM, "invalid RSA public exponent");
                return 0;
            }
            g->elen = (size_t)BN_bn2bin(e, g->e);
            BN_free(e);
        }
    }
    if (g->type == UKPROV_KT_EC
        && (p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_GROUP_NAME)) != NULL) {
        const char *s = NULL;

        if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || s == NULL
            || strlen(s) >= sizeof(g->group)) {
            UK_raise(g->prov, UK_R_BAD_PARAM, "invalid EC group name");
            return 0;
        }
        strcpy(g->group, s);
    }
    return 1;
}

/* A key to take the domain parameters from (EVP_PKEY_CTX_new_from_pkey
 * then keygen: libssl makes its ECDHE share from the peer's key this way). */
int ukprov_km_gen_set_template(void *genctx, void *templ)
{
    UKPROV_GEN *g = genctx;
    const UKPROV_KEY *t = templ;

    if (g == NULL || t == NULL)
        return 0;
    if (g->type == UKPROV_KT_EC && t->type == UKPROV_KT_EC) {
        if (t->group[0] == '\0' || strlen(t->group) >= sizeof(g->group)) {
            UK_raise(g->prov, UK_R_BAD_PARAM, "the template key names no EC curve");
            return 0;
        }
        strcpy(g->group, t->group);
    }
    return 1;
}

/* "P-256", "prime256v1", "brainpoolP256r1" or a dotted OID -> NID. */
static int curve_nid(const char *name)
{
    int nid = EC_curve_nist2nid(name);

    if (nid == NID_undef)
        nid = OBJ_sn2nid(name);
    if (nid == NID_undef)
        nid = OBJ_ln2nid(name);
    if (nid == NID_undef)
        nid = OBJ_txt2nid(name);
    return nid;
}

/* DER of the OID of |nid| (malloc'd by OpenSSL). */
static int nid_der(int nid, unsigned char **der)
{
    ASN1_OBJECT *o = OBJ_nid2obj(nid);

    *der = NULL;
    return o != NULL ? i2d_ASN1_OBJECT(o, der) : 0;
}

/* An RSA key built from the token is plain RSA; an RSA-PSS key wants its
 * host key to be an RSA-PSS one (unrestricted). */
static int make_pss(UKPROV_KEY *key)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pss = NULL;

    if (EVP_PKEY_todata(key->pub, EVP_PKEY_PUBLIC_KEY, &params) > 0)
        pss = pub_fromdata(key->prov, "RSA-PSS", params);
    OSSL_PARAM_free(params);
    if (pss == NULL) {
        UK_raise(key->prov, UK_R_BAD_KEY, "cannot make an RSA-PSS public key");
        return 0;
    }
    EVP_PKEY_free(key->pub);
    key->pub = pss;
    key->type = UKPROV_KT_RSA_PSS;
    return ukprov_key_set_sizes(key);
}

/* Without pkcs11_uri the request is not for a token key: OpenSSL sends
 * ordinary software key generation (genpkey, TLS ephemeral keys) to uakey
 * when uakey is listed before the default provider.  Generate it on the
 * host as the default provider would; it stays a software key. */
static UKPROV_KEY *host_gen(UKPROV_GEN *g)
{
    OSSL_LIB_CTX *host = ukprov_hostctx(g->prov);
    const char *alg = ukprov_keytype_name(g->type);
    EVP_PKEY_CTX *pctx = NULL;
    OSSL_PARAM params[3], *p = params;
    BIGNUM *e = NULL;
    EVP_PKEY *pk = NULL;
    UKPROV_KEY *key = NULL;
    int keypair;

    if (host == NULL)
        return NULL;
    if (g->type == UKPROV_KT_RSA || g->type == UKPROV_KT_RSA_PSS) {
        *p++ = OSSL_PARAM_construct_size_t(OSSL_PKEY_PARAM_RSA_BITS, &g->bits);
        if (g->elen > 0) {
            e = BN_bin2bn(g->e, (int)g->elen, NULL);
            if (e == NULL)
                goto end;
        }
    } else if (g->type == UKPROV_KT_EC) {
        if (g->group[0] == '\0') {
            UK_raise(g->prov, UK_R_BAD_PARAM, "EC key generation needs a curve "
                     "(e.g. -pkeyopt ec_paramgen_curve:P-256)");
            goto end;
        }
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, g->group, 0);
    }
    *p = OSSL_PARAM_construct_end();
    pctx = EVP_PKEY_CTX_new_from_name(host, alg, NULL);
    keypair = (g->selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0;
    if (pctx == NULL
        || (keypair ? EVP_PKEY_keygen_init(pctx) : EVP_PKEY_paramgen_init(pctx)) != 1
        || EVP_PKEY_CTX_set_params(pctx, params) != 1
        || (e != NULL && EVP_PKEY_CTX_set1_rsa_keygen_pubexp(pctx, e) != 1)
        || EVP_PKEY_generate(pctx, &pk) != 1) {
        UK_raise(g->prov, UK_R_KEYGEN_FAILED, "host %s key generation failed "
                 "(no %s given, so not a token key)", alg, UKPROV_GEN_PARAM_URI);
        goto end;
    }
    key = ukprov_key_from_pub(g->prov, g->type, pk);
    pk = NULL;
    if (key != NULL) {
        key->hostpriv = keypair;
        uk_dbg(UK_DBG_PROVIDER, "generated a software %s key %p on the host", alg,
               (void *)key);
    }
 end:
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(pctx);
    BN_free(e);
    return key;
}

void *ukprov_km_gen(void *genctx, OSSL_CALLBACK *cb, void *cbarg)
{
    static const unsigned char ed25519_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
    UKPROV_GEN *g = genctx;
    UKP11_KEYGEN p;
    UKP11_URI *u = NULL;
    UKP11_OBJ *priv = NULL;
    UKPROV_KEY *key = NULL;
    unsigned char *der = NULL;
    int derlen, nid;

    if (g == NULL)
        return NULL;
    if (g->uri == NULL)
        return host_gen(g);
    if ((g->selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0) {
        UK_raise(g->prov, UK_R_NOT_SUPPORTED, "a token holds key pairs, not bare %s "
                 "parameters", ukprov_keytype_name(g->type));
        return NULL;
    }
    memset(&p, 0, sizeof(p));
    switch (g->type) {
    case UKPROV_KT_RSA:
    case UKPROV_KT_RSA_PSS:
        p.type = CKK_RSA;
        p.bits = g->bits;
        if (g->elen > 0) {
            p.pubexp = g->e;
            p.pubexp_len = g->elen;
        }
        break;
    case UKPROV_KT_EC:
        if (g->group[0] == '\0') {
            UK_raise(g->prov, UK_R_BAD_PARAM, "EC key generation needs a curve "
                     "(e.g. -pkeyopt ec_paramgen_curve:P-256)");
            return NULL;
        }
        nid = curve_nid(g->group);
        if (nid == NID_undef || (derlen = nid_der(nid, &der)) <= 0) {
            UK_raise(g->prov, UK_R_BAD_PARAM, "unknown EC curve \"%s\"", g->group);
            return NULL;
        }
        p.type = CKK_EC;
        p.ec_params = der;
        p.ec_params_len = (size_t)derlen;
        break;
    case UKPROV_KT_ED25519:
        p.type = CKK_EC_EDWARDS;
        p.ec_params = ed25519_oid;
        p.ec_params_len = sizeof(ed25519_oid);
        break;
    }
    if (ukp11_uri_parse(g->prov->p11, g->uri, &u) != CKR_OK)
        goto end;
    /* The PIN comes from the URI or the provider configuration: the
     * generation callback cannot prompt. */
    if (ukp11_generate(g->prov->p11, u, &p, NULL, NULL, &priv) != CKR_OK)
        goto end;
    key = ukprov_key_from_obj(g->prov, priv, NULL, 0);
    if (key != NULL && g->type == UKPROV_KT_RSA_PSS && !make_pss(key)) {
        ukprov_key_free(key);
        key = NULL;
    }
    if (key != NULL)
        uk_dbg(UK_DBG_PROVIDER, "generated %s key %p in the token",
               ukprov_keytype_name(key->type), (void *)key);
 end:
    ukp11_obj_free(priv);
    ukp11_uri_free(u);
    OPENSSL_free(der);
    return key;
}

void ukprov_km_gen_cleanup(void *genctx)
{
    UKPROV_GEN *g = genctx;

    if (g == NULL)
        return;
    free(g->uri);
    free(g);
}
