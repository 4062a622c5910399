/* uakey provider: encoders for token keys.
 *
 * Per key type (RSA, RSA-PSS, EC, Ed25519):
 * - SubjectPublicKeyInfo, DER and PEM ("PUBLIC KEY"), from the host public
 *   key: openssl pkey -pubout, X509_PUBKEY_set / i2d_PUBKEY (certificate
 *   and request building);
 * - text: what openssl pkey -text prints, public parts and the URI only;
 * - the key reference (DER, or PEM labelled "PKCS#11 PROVIDER URI") for a
 *   private key: the only "private key encoding" a token key has.
 *
 * Output structures for the key reference: OpenSSL 3.0 asks for a private
 * key under two structure names.  PEM_write_bio_PrivateKey wants "PEM" +
 * "PrivateKeyInfo"; i2d_PrivateKey (and i2d_PrivateKey_bio, which genpkey
 * -outform DER uses) tries "DER" + "type-specific" first, then "DER" +
 * "PrivateKeyInfo"; openssl pkey -traditional wants "type-specific".  The
 * encoder framework (crypto/encode_decode/encoder_lib.c, encoder_process)
 * drops a chain when the caller named a structure and no encoder in it
 * declares that structure, so an encoder without a structure property is
 * never used for these requests: each key-reference encoder is registered
 * once per structure.  The selection (the private key must be asked for)
 * keeps them away from public-key requests, which the SubjectPublicKeyInfo
 * encoders serve.  The framework tries the encoders of the key's own
 * provider first, so token keys reach these and host keys keep OpenSSL's
 * own encoders.  A PEM write with a cipher still writes the plain
 * reference (it holds nothing secret).
 *
 * The private key never leaves the token: nothing here reads it. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "keyref.h"
#include "names.h"
#include "ukprov.h"

typedef enum {
    UKPROV_ENC_SPKI_DER = 1,
    UKPROV_ENC_SPKI_PEM,
    UKPROV_ENC_TEXT,
    UKPROV_ENC_KEYREF_DER,
    UKPROV_ENC_KEYREF_PEM
} UKPROV_ENC_KIND;

typedef struct {
    UKPROV_CTX *prov;
    UKPROV_KEYTYPE type;
    UKPROV_ENC_KIND kind;
} UKPROV_ENC_CTX;

UKPROV_FN(encoder, freectx, ukprov_enc_freectx);
UKPROV_FN(encoder, does_selection, ukprov_enc_pub_does_selection);
UKPROV_FN(encoder, does_selection, ukprov_enc_text_does_selection);
UKPROV_FN(encoder, does_selection, ukprov_enc_priv_does_selection);
UKPROV_FN(encoder, encode, ukprov_enc_encode);
UKPROV_FN(encoder, import_object, ukprov_enc_import_object);
UKPROV_FN(encoder, import_object, ukprov_enc_keyref_import_object);
UKPROV_FN(encoder, free_object, ukprov_enc_free_object);

static void *enc_newctx(void *provctx, UKPROV_KEYTYPE type, UKPROV_ENC_KIND kind)
{
    UKPROV_ENC_CTX *ectx = calloc(1, sizeof(*ectx));

    if (ectx == NULL) {
        UK_raise(provctx, UK_R_MALLOC, "cannot allocate an encoder context");
        return NULL;
    }
    ectx->prov = provctx;
    ectx->type = type;
    ectx->kind = kind;
    return ectx;
}

static void ukprov_enc_freectx(void *vctx)
{
    free(vctx);
}

/* SubjectPublicKeyInfo: any request that wants the public key. */
static int ukprov_enc_pub_does_selection(void *provctx, int selection)
{
    return (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0;
}

/* Text: whatever is asked, we print the public parts (and say whether the
 * private half is in a token). */
static int ukprov_enc_text_does_selection(void *provctx, int selection)
{
    return selection == 0 || (selection & OSSL_KEYMGMT_SELECT_ALL) != 0;
}

/* Key reference: only requests for the private key. */
static int ukprov_enc_priv_does_selection(void *provctx, int selection)
{
    return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;
}

/* ---- output helpers ------------------------------------------------------- */

static int out_write(UKPROV_ENC_CTX *ectx, OSSL_CORE_BIO *cout, const void *data,
                     size_t len)
{
    const unsigned char *p = data;
    size_t done;

    if (ectx->prov->core_bio_write_ex == NULL) {
        UK_raise(ectx->prov, UK_R_INTERNAL, "core BIO write function missing");
        return 0;
    }
    while (len > 0) {
        done = 0;
        if (!ectx->prov->core_bio_write_ex(cout, p, len, &done) || done == 0) {
            UK_raise(ectx->prov, UK_R_IO, "cannot write the encoded key");
            return 0;
        }
        p += done;
        len -= done;
    }
    return 1;
}

/* Writes what a memory BIO holds. */
static int out_mem(UKPROV_ENC_CTX *ectx, OSSL_CORE_BIO *cout, BIO *mem)
{
    char *data = NULL;
    long n = BIO_get_mem_data(mem, &data);

    if (n < 0 || (n > 0 && data == NULL)) {
        UK_raise(ectx->prov, UK_R_INTERNAL, "memory BIO holds no data");
        return 0;
    }
    return out_write(ectx, cout, data, (size_t)n);
}

/* A printable copy of |uri| with any pin-value replaced: key->uri never
 * carries a PIN, but this text can end up in logs and tickets. */
static char *uri_for_print(const char *uri)
{
    const char *pin = strstr(uri, "pin-value=");
    char *out;
    size_t pre, rest;
    const char *end;

    if (pin == NULL)
        return strdup(uri);
    pre = (size_t)(pin - uri) + strlen("pin-value=");
    end = pin + strlen("pin-value=");
    end += strcspn(end, ";?&");
    rest = strlen(end);
    if ((out = malloc(pre + 3 + rest + 1)) == NULL)
        return NULL;
    memcpy(out, uri, pre);
    memcpy(out + pre, "***", 3);
    memcpy(out + pre + 3, end, rest + 1);
    return out;
}

/* ---- the encodings -------------------------------------------------------- */

static int encode_spki(UKPROV_ENC_CTX *ectx, OSSL_CORE_BIO *cout, const UKPROV_KEY *key,
                       int pem)
{
    unsigned char *der = NULL;
    int len, ok = 0;
    BIO *mem;

    if (!pem) {
        /* the host key lives in the provider's private library context, so
         * this runs in OpenSSL's default provider, never back in uakey */
        if ((len = i2d_PUBKEY(key->pub, &der)) <= 0) {
            UK_raise(ectx->prov, UK_R_INTERNAL, "cannot encode the public key");
            return 0;
        }
        ok = out_write(ectx, cout, der, (size_t)len);
        OPENSSL_free(der);
        return ok;
    }
    if ((mem = BIO_new(BIO_s_mem())) == NULL) {
        UK_raise(ectx->prov, UK_R_MALLOC, "cannot allocate a memory BIO");
        return 0;
    }
    if (PEM_write_bio_PUBKEY(mem, key->pub) <= 0)
        UK_raise(ectx->prov, UK_R_INTERNAL, "cannot encode the public key as PEM");
    else
        ok = out_mem(ectx, cout, mem);
    BIO_free(mem);
    return ok;
}

static int encode_text(UKPROV_ENC_CTX *ectx, OSSL_CORE_BIO *cout, const UKPROV_KEY *key,
                       int selection)
{
    BIO *mem;
    char *uri = NULL;
    int ok = 0, bits = key->bits > 0 ? key->bits : EVP_PKEY_get_bits(key->pub);

    if ((mem = BIO_new(BIO_s_mem())) == NULL) {
        UK_raise(ectx->prov, UK_R_MALLOC, "cannot allocate a memory BIO");
        return 0;
    }
    if (key->priv != NULL && (selection == 0
                              || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0))
        BIO_printf(mem, "%s Private-Key: (%d bit), held in a PKCS#11 token "
                   "(private parts not available)\n",
                   ukprov_keytype_name(key->type), bits);
    if (key->uri != NULL) {
        if ((uri = uri_for_print(key->uri)) == NULL) {
            UK_raise(ectx->prov, UK_R_MALLOC, "cannot copy the key URI");
            goto end;
        }
        BIO_printf(mem, "URI: %s\n", uri);
    }
    /* the host key holds only public parts, so nothing private can print;
     * for EC it names the curve ("ASN1 OID:", "NIST CURVE:") itself */
    if (EVP_PKEY_print_public(mem, key->pub, 0, NULL) <= 0) {
        UK_raise(ectx->prov, UK_R_INTERNAL, "cannot print the public key");
        goto end;
    }
    ok = out_mem(ectx, cout, mem);
 end:
    free(uri);
    BIO_free(mem);
    return ok;
}

static int encode_keyref(UKPROV_ENC_CTX *ectx, OSSL_CORE_BIO *cout, const UKPROV_KEY *key,
                         int pem)
{
    unsigned char *der = NULL;
    size_t derlen = 0;
    char *text = NULL;
    int ok = 0;

    if (key->hostpriv) {
        /* A software key (uakey listed before the default provider) is the
         * application's own: write it as OpenSSL's default provider would,
         * PKCS#8, so host keys stay host keys. */
        BIO *mem = BIO_new(BIO_s_mem());

        ok = mem != NULL
            && (pem ? PEM_write_bio_PKCS8PrivateKey(mem, key->pub, NULL, NULL, 0, NULL, NULL)
                    : i2d_PKCS8PrivateKey_bio(mem, key->pub, NULL, NULL, 0, NULL, NULL)) == 1
            && out_mem(ectx, cout, mem);
        if (!ok)
            UK_raise(ectx->prov, UK_R_INTERNAL, "cannot encode the software %s key",
                     ukprov_keytype_name(key->type));
        BIO_free(mem);
        return ok;
    }
    if (key->priv == NULL || key->uri == NULL) {
        /* a public key has no token object to refer to */
        UK_raise(ectx->prov, UK_R_NOT_SUPPORTED,
                 "only a private key held in a token can be written as a key reference");
        return 0;
    }
    if (!ukprov_keyref_encode(key->uri, &der, &derlen)) {
        UK_raise(ectx->prov, UK_R_MALLOC, "cannot encode the key reference");
        return 0;
    }
    if (!pem) {
        ok = out_write(ectx, cout, der, derlen);
    } else if ((text = ukprov_keyref_pem(der, derlen)) == NULL) {
        UK_raise(ectx->prov, UK_R_MALLOC, "cannot encode the key reference as PEM");
    } else {
        ok = out_write(ectx, cout, text, strlen(text));
    }
    free(text);
    free(der);
    return ok;
}

static int ukprov_enc_encode(void *vctx, OSSL_CORE_BIO *cout, const void *obj_raw,
                             const OSSL_PARAM obj_abstract[], int selection,
                             OSSL_PASSPHRASE_CALLBACK *cb, void *cbarg)
{
    UKPROV_ENC_CTX *ectx = vctx;
    const UKPROV_KEY *key = obj_raw;

    if (key == NULL) {
        /* we offer import_object, so OpenSSL passes keys as objects */
        UK_raise(ectx->prov, UK_R_BAD_PARAM, "no key object to encode");
        return 0;
    }
    if (key->pub == NULL) {
        UK_raise(ectx->prov, UK_R_BAD_KEY, "key has no public part");
        return 0;
    }
    switch (ectx->kind) {
    case UKPROV_ENC_SPKI_DER:
        return encode_spki(ectx, cout, key, 0);
    case UKPROV_ENC_SPKI_PEM:
        return encode_spki(ectx, cout, key, 1);
    case UKPROV_ENC_TEXT:
        return encode_text(ectx, cout, key, selection);
    case UKPROV_ENC_KEYREF_DER:
        return encode_keyref(ectx, cout, key, 0);
    case UKPROV_ENC_KEYREF_PEM:
        return encode_keyref(ectx, cout, key, 1);
    }
    UK_raise(ectx->prov, UK_R_INTERNAL, "unknown encoder kind %d", (int)ectx->kind);
    return 0;
}

/* A key of another provider reaches our encoder only when OpenSSL picks it
 * anyway; it then exports the key's parameters to us.  For the public
 * encodings we build a public-only key in the host context (so
 * i2d_PUBKEY / print work as for our own keys); private parts in |params|
 * are ignored. */
static void *ukprov_enc_import_object(void *vctx, int selection, const OSSL_PARAM params[])
{
    UKPROV_ENC_CTX *ectx = vctx;
    OSSL_LIB_CTX *host = ukprov_hostctx(ectx->prov);
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pub = NULL;
    UKPROV_KEY *key = NULL;

    if (host == NULL)
        return NULL;
    if ((pctx = EVP_PKEY_CTX_new_from_name(host, ukprov_keytype_name(ectx->type),
                                           NULL)) == NULL
        || EVP_PKEY_fromdata_init(pctx) <= 0
        || EVP_PKEY_fromdata(pctx, &pub, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) <= 0) {
        UK_raise(ectx->prov, UK_R_BAD_KEY, "cannot import a %s public key to encode",
                 ukprov_keytype_name(ectx->type));
        goto end;
    }
    key = ukprov_key_from_pub(ectx->prov, ectx->type, pub);
    pub = NULL; /* owned by |key| now (or freed on its failure) */
 end:
    EVP_PKEY_free(pub);
    EVP_PKEY_CTX_free(pctx);
    return key;
}

/* A key of another provider has no token object, hence no reference: fail
 * with a clear message (and without this function OpenSSL 3.0 would call a
 * NULL import_object). */
static void *ukprov_enc_keyref_import_object(void *vctx, int selection,
                                             const OSSL_PARAM params[])
{
    UKPROV_ENC_CTX *ectx = vctx;

    UK_raise(ectx->prov, UK_R_NOT_SUPPORTED,
             "a key not held in a token cannot be written as a key reference");
    return NULL;
}

static void ukprov_enc_free_object(void *obj)
{
    ukprov_key_free(obj);
}

/* ---- tables --------------------------------------------------------------- */

#define UKPROV_ENC_NEWCTX(alg, TYPE, kindname, KIND)                               \
    static OSSL_FUNC_encoder_newctx_fn ukprov_enc_##alg##_##kindname##_newctx;     \
    static void *ukprov_enc_##alg##_##kindname##_newctx(void *provctx)             \
    {                                                                              \
        return enc_newctx(provctx, TYPE, KIND);                                    \
    }

#define UKPROV_ENC_TABLE(alg, TYPE, kindname, KIND, selfn, importfn)               \
    UKPROV_ENC_NEWCTX(alg, TYPE, kindname, KIND)                                   \
    static const OSSL_DISPATCH ukprov_enc_##alg##_##kindname##_functions[] = {     \
        { OSSL_FUNC_ENCODER_NEWCTX,                                                \
          (void (*)(void))ukprov_enc_##alg##_##kindname##_newctx },                \
        { OSSL_FUNC_ENCODER_FREECTX, (void (*)(void))ukprov_enc_freectx },         \
        { OSSL_FUNC_ENCODER_DOES_SELECTION, (void (*)(void))selfn },               \
        { OSSL_FUNC_ENCODER_ENCODE, (void (*)(void))ukprov_enc_encode },           \
        { OSSL_FUNC_ENCODER_IMPORT_OBJECT, (void (*)(void))importfn },             \
        { OSSL_FUNC_ENCODER_FREE_OBJECT, (void (*)(void))ukprov_enc_free_object }, \
        { 0, NULL }                                                                \
    };

#define UKPROV_ENC_ALG(alg, TYPE)                                                  \
    UKPROV_ENC_TABLE(alg, TYPE, spkider, UKPROV_ENC_SPKI_DER,                      \
                     ukprov_enc_pub_does_selection, ukprov_enc_import_object)      \
    UKPROV_ENC_TABLE(alg, TYPE, spkipem, UKPROV_ENC_SPKI_PEM,                      \
                     ukprov_enc_pub_does_selection, ukprov_enc_import_object)      \
    UKPROV_ENC_TABLE(alg, TYPE, text, UKPROV_ENC_TEXT,                             \
                     ukprov_enc_text_does_selection, ukprov_enc_import_object)     \
    UKPROV_ENC_TABLE(alg, TYPE, refder, UKPROV_ENC_KEYREF_DER,                     \
                     ukprov_enc_priv_does_selection, ukprov_enc_keyref_import_object) \
    UKPROV_ENC_TABLE(alg, TYPE, refpem, UKPROV_ENC_KEYREF_PEM,                     \
                     ukprov_enc_priv_does_selection, ukprov_enc_keyref_import_object)

UKPROV_ENC_ALG(rsa, UKPROV_KT_RSA)
UKPROV_ENC_ALG(rsapss, UKPROV_KT_RSA_PSS)
UKPROV_ENC_ALG(ec, UKPROV_KT_EC)
UKPROV_ENC_ALG(ed25519, UKPROV_KT_ED25519)

#define UKPROV_ENC_SPKI_DER_PROPS UKPROV_PROPS ",output=der,structure=SubjectPublicKeyInfo"
#define UKPROV_ENC_SPKI_PEM_PROPS UKPROV_PROPS ",output=pem,structure=SubjectPublicKeyInfo"
#define UKPROV_ENC_TEXT_PROPS UKPROV_PROPS ",output=text"
/* one registration per structure: see the comment at the top */
#define UKPROV_ENC_REF_DER_P8_PROPS UKPROV_PROPS ",output=der,structure=PrivateKeyInfo"
#define UKPROV_ENC_REF_PEM_P8_PROPS UKPROV_PROPS ",output=pem,structure=PrivateKeyInfo"
#define UKPROV_ENC_REF_DER_TS_PROPS UKPROV_PROPS ",output=der,structure=type-specific"
#define UKPROV_ENC_REF_PEM_TS_PROPS UKPROV_PROPS ",output=pem,structure=type-specific"

#define UKPROV_ENC_ENTRIES(NAMES, alg, label)                                      \
    { NAMES, UKPROV_ENC_SPKI_DER_PROPS, ukprov_enc_##alg##_spkider_functions,      \
      "uakey " label " SubjectPublicKeyInfo DER" },                                \
    { NAMES, UKPROV_ENC_SPKI_PEM_PROPS, ukprov_enc_##alg##_spkipem_functions,      \
      "uakey " label " SubjectPublicKeyInfo PEM" },                                \
    { NAMES, UKPROV_ENC_TEXT_PROPS, ukprov_enc_##alg##_text_functions,             \
      "uakey " label " key as text" },                                             \
    { NAMES, UKPROV_ENC_REF_DER_P8_PROPS, ukprov_enc_##alg##_refder_functions,     \
      "uakey " label " key reference DER (for PrivateKeyInfo requests)" },          \
    { NAMES, UKPROV_ENC_REF_PEM_P8_PROPS, ukprov_enc_##alg##_refpem_functions,     \
      "uakey " label " key reference PEM (for PrivateKeyInfo requests)" },          \
    { NAMES, UKPROV_ENC_REF_DER_TS_PROPS, ukprov_enc_##alg##_refder_functions,     \
      "uakey " label " key reference DER (for type-specific requests)" },           \
    { NAMES, UKPROV_ENC_REF_PEM_TS_PROPS, ukprov_enc_##alg##_refpem_functions,     \
      "uakey " label " key reference PEM (for type-specific requests)" }

const OSSL_ALGORITHM ukprov_encoders[] = {
    UKPROV_ENC_ENTRIES(UKPROV_NAMES_RSA, rsa, "RSA"),
    UKPROV_ENC_ENTRIES(UKPROV_NAMES_RSA_PSS, rsapss, "RSA-PSS"),
    UKPROV_ENC_ENTRIES(UKPROV_NAMES_EC, ec, "EC"),
    UKPROV_ENC_ENTRIES(UKPROV_NAMES_ED25519, ed25519, "Ed25519"),
    { NULL, NULL, NULL, NULL }
};
