/* uakey provider/: OpenSSL plumbing over pkcs11/. */
#ifndef UKPROV_H
#define UKPROV_H

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ukp11.h"
#include "uk_debug.h"
#include "uk_err.h"

/* The compiler checks each dispatch function against OpenSSL's type. */
#define UKPROV_FN(type, op, name) static OSSL_FUNC_##type##_##op##_fn name

#define UKPROV_PROPS "provider=uakey"

typedef struct ukprov_ctx_st {
    const OSSL_CORE_HANDLE *handle;
    /* Private library context with only OpenSSL's default provider: host
     * hashing, public-key operations (verify, encrypt), public key objects.
     * Never reaches uakey, so SoftHSM's own libcrypto calls cannot re-enter.
     * Created on first use (ukprov_hostctx), never during provider init,
     * which may run inside OpenSSL's config loading. */
    OSSL_LIB_CTX *hostctx_;
    OSSL_PROVIDER *hostdefault_;
    void *hostlock_;
    UKP11_CTX *p11;
    int oaep_fallback;      /* "pkcs11-oaep-fallback", default 1 */
    char *module_path;      /* config copies */
    char *token_pin;        /* wiped on free */
    /* core error functions */
    OSSL_FUNC_core_new_error_fn *core_new_error;
    OSSL_FUNC_core_set_error_debug_fn *core_set_error_debug;
    OSSL_FUNC_core_vset_error_fn *core_vset_error;
    /* core BIO functions (decoders read, encoders write through these) */
    OSSL_FUNC_BIO_read_ex_fn *core_bio_read_ex;
    OSSL_FUNC_BIO_write_ex_fn *core_bio_write_ex;
} UKPROV_CTX;

/* The host library context (see above); NULL only on allocation failure
 * (an error is raised then). */
OSSL_LIB_CTX *ukprov_hostctx(UKPROV_CTX *ctx);

/* Raise an error through the core: reason UK_R_*, formatted text.  Also
 * written to the debug log (provider category). */
void ukprov_raise(UKPROV_CTX *ctx, const char *file, int line, const char *func,
                  int reason, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
#define UK_raise(ctx, reason, ...) \
    ukprov_raise((ctx), __FILE__, __LINE__, __func__, (reason), __VA_ARGS__)

/* ---- key objects (keymgmt_common.c) -------------------------------------- */

typedef enum {
    UKPROV_KT_RSA = 1,
    UKPROV_KT_RSA_PSS,
    UKPROV_KT_EC,
    UKPROV_KT_ED25519,
} UKPROV_KEYTYPE;

typedef struct ukprov_key_st {
    UKPROV_CTX *prov;
    int refcnt;             /* atomic (__atomic builtins) */
    UKPROV_KEYTYPE type;
    UKP11_OBJ *priv;        /* token private key; NULL for a public key */
    UKP11_OBJ *pubobj;      /* token public key object, if one was loaded */
    EVP_PKEY *pub;          /* public part, in prov->hostctx; NULL only for
                               an empty key (keymgmt new before import) */
    int bits, secbits, maxsize;
    char *uri;              /* token object URI (no PIN), NULL for host keys */
    char group[32];         /* EC curve short name (e.g. "prime256v1") */
    /* A software key: ->pub holds the private key too and ->priv is NULL.
     * OpenSSL hands such keys to uakey when uakey is listed before the
     * default provider (keygen without pkcs11_uri, an imported key pair);
     * every operation on them runs on the host, as the default provider
     * would run it.  Never set for a token key. */
    int hostpriv;
    /* Mechanism variants the token rejected, learnt at run time so the
     * next operation goes straight to the fallback (atomic bit set; bits
     * defined by the file that uses them). */
    unsigned long quirks;
} UKPROV_KEY;

/* Build a key from a token object (private or public key): reads the
 * cached public attributes, builds ->pub in hostctx.  For a private EC key
 * without a point, |certder| (the certificate with the same CKA_ID, may be
 * NULL) supplies it.  Raises and returns NULL on failure. */
UKPROV_KEY *ukprov_key_from_obj(UKPROV_CTX *ctx, UKP11_OBJ *obj,
                                const unsigned char *certder, size_t certlen);
/* A public-only key from a host EVP_PKEY (takes ownership of |pub|). */
UKPROV_KEY *ukprov_key_from_pub(UKPROV_CTX *ctx, UKPROV_KEYTYPE type, EVP_PKEY *pub);
UKPROV_KEY *ukprov_key_new(UKPROV_CTX *ctx, UKPROV_KEYTYPE type);
UKPROV_KEY *ukprov_key_ref(UKPROV_KEY *key);
void ukprov_key_free(UKPROV_KEY *key);
/* Fill bits/secbits/maxsize from ->pub. */
int ukprov_key_set_sizes(UKPROV_KEY *key);
/* Keytype names: "RSA", "RSA-PSS", "EC", "ED25519". */
const char *ukprov_keytype_name(UKPROV_KEYTYPE t);

/* Load every key/cert the URI selects (used by store.c and decoder.c). The
 * decoder path wants exactly one private key. */
UKPROV_KEY *ukprov_load_private_key(UKPROV_CTX *ctx, const char *uri,
                                    OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg);

/* PIN callback adapter: wraps an OSSL_PASSPHRASE_CALLBACK for ukp11. */
typedef struct {
    OSSL_PASSPHRASE_CALLBACK *cb;
    void *cbarg;
} UKPROV_PIN_ARG;
int ukprov_pin_cb(char *buf, size_t cap, size_t *len, const char *info, void *arg);

/* ---- digests (digests.c) ---------------------------------------------------- */

/* A digest as PKCS#11 and X.509 name it (SHA-1, SHA-224, SHA-256, SHA-384,
 * SHA-512): pure data, checked against OpenSSL by tests/unit/test_digests. */
typedef struct {
    int nid;
    size_t size;
    CK_MECHANISM_TYPE hash;         /* CK_RSA_PKCS_PSS_PARAMS.hashAlg etc. */
    CK_RSA_PKCS_MGF_TYPE mgf;       /* MGF1 with this digest */
    CK_MECHANISM_TYPE rsa_pkcs, rsa_pss, ecdsa;     /* combined mechanisms */
    const unsigned char *di;        /* DigestInfo prefix (RFC 8017 9.2) */
    size_t dilen;
    const unsigned char *aid_rsa, *aid_ecdsa;   /* sha*WithRSAEncryption, ecdsa-with-SHA* */
    size_t aid_rsa_len, aid_ecdsa_len;
} UKPROV_DIGEST;

#define UKPROV_N_DIGESTS 5
extern const UKPROV_DIGEST ukprov_digests[UKPROV_N_DIGESTS];
/* The entry for |md|, NULL when uakey does not support it. */
const UKPROV_DIGEST *ukprov_digest_find(const EVP_MD *md);

/* ---- host helpers -------------------------------------------------------- */

/* Constant-time OAEP decoding (RFC 8017 7.1.2 steps 3) of the raw RSA
 * output |em| (length k = modulus bytes).  Returns the message length, or
 * -1 on any padding error (no early exit on secret data); the caller
 * raises one generic error. */
int ukprov_oaep_decode(UKPROV_CTX *ctx, unsigned char *to, size_t tlen,
                       const unsigned char *em, size_t k,
                       const unsigned char *label, size_t llen,
                       const EVP_MD *md, const EVP_MD *mgf1md);

/* EMSA-PSS encoding (RFC 8017 9.1.1) of the digest |mhash| into a k-byte
 * block ready for raw RSA (CKM_RSA_X_509), for tokens whose CKM_RSA_PKCS_PSS
 * refuses a parameter combination (SoftHSM 2.6.1: MGF1 hash != hash).
 * Returns 1, or 0 when the sizes do not fit. */
int ukprov_pss_encode(OSSL_LIB_CTX *libctx, unsigned char *em, size_t k, int modbits,
                      const unsigned char *mhash, const EVP_MD *md,
                      const EVP_MD *mgf1md, size_t slen);

/* ---- dispatch tables (one file each) ------------------------------------- */

extern const OSSL_DISPATCH ukprov_rsa_keymgmt_functions[];
extern const OSSL_DISPATCH ukprov_rsapss_keymgmt_functions[];
extern const OSSL_DISPATCH ukprov_ec_keymgmt_functions[];
extern const OSSL_DISPATCH ukprov_ed25519_keymgmt_functions[];
extern const OSSL_DISPATCH ukprov_store_functions[];
extern const OSSL_DISPATCH ukprov_rsa_signature_functions[];
extern const OSSL_DISPATCH ukprov_ecdsa_signature_functions[];
extern const OSSL_DISPATCH ukprov_ed25519_signature_functions[];
extern const OSSL_DISPATCH ukprov_rsa_asym_cipher_functions[];
extern const OSSL_DISPATCH ukprov_ecdh_keyexch_functions[];
/* Decoder and encoder algorithm tables live with their code. */
extern const OSSL_ALGORITHM ukprov_decoders[];
extern const OSSL_ALGORITHM ukprov_encoders[];
/* Drop the decoder's one-slot key cache (provider teardown). */
void ukprov_decoder_cache_flush(UKPROV_CTX *ctx);

#endif
