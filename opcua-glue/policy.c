/* libuakey: the OPC UA SecurityPolicies uakey knows, as one table with a
 * row per policy (OPC 10000-7 profiles; numbers as collected in
 * opcua-security.md section 2), and the certificate side of the policy:
 * key type, key length and certificate signature algorithm
 * (OPC 10000-4 6.1.3 step "Security Policy Check"), the key check of the
 * adapter and the names and lengths it reports.  The operations that use
 * the algorithm columns are in policy_ops.c. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "policy_int.h"
#include "ukua_int.h"

#define POLICY_URI_PREFIX "http://opcfoundation.org/UA/SecurityPolicy#"

/* RSA signatures "RSA-SHA1 or stronger" for the two legacy policies, SHA-256
 * or stronger for the current RSA ones (section 2 lists RSA-PKCS15-SHA256;
 * SHA-384/512 are accepted as stronger of the same family).  ECDSA and
 * EdDSA policies: the hash of the policy or stronger, resp. the curve's own
 * EdDSA algorithm. */
#define RSA_SHA1_UP \
    { NID_sha1WithRSAEncryption, NID_sha256WithRSAEncryption, \
      NID_sha384WithRSAEncryption, NID_sha512WithRSAEncryption, NID_undef }
#define RSA_SHA256_UP \
    { NID_sha256WithRSAEncryption, NID_sha384WithRSAEncryption, \
      NID_sha512WithRSAEncryption, NID_undef }
#define ECDSA_SHA256_UP \
    { NID_ecdsa_with_SHA256, NID_ecdsa_with_SHA384, NID_ecdsa_with_SHA512, NID_undef }
#define ECDSA_SHA384_UP \
    { NID_ecdsa_with_SHA384, NID_ecdsa_with_SHA512, NID_undef }

/* The algorithm columns, one macro per choice so a row reads left to right:
 * asymmetric signature (name, RSA padding, digest), asymmetric encryption
 * (name, RSA padding, OAEP digest, padding bytes per block), key
 * derivation (name, kind, digest), symmetric signature (name, derived key
 * length), symmetric encryption (OpenSSL cipher name, key length, IV
 * length).  Facts: OPC 10000-7 profiles, opcua-security.md section 2. */
#define SIG_NONE            NULL, 0, NULL
#define SIG_RSA_PKCS1_SHA1  "RSA-PKCS1-SHA1", RSA_PKCS1_PADDING, "SHA1"
#define SIG_RSA_PKCS1_SHA256 "RSA-PKCS1-SHA256", RSA_PKCS1_PADDING, "SHA256"
#define SIG_RSA_PSS_SHA256  "RSA-PSS-SHA256", RSA_PKCS1_PSS_PADDING, "SHA256"
#define SIG_ECDSA_SHA256    "ECDSA-SHA256", 0, "SHA256"
#define SIG_ECDSA_SHA384    "ECDSA-SHA384", 0, "SHA384"
#define SIG_ED25519         "Ed25519", 0, NULL
#define SIG_ED448           "Ed448", 0, NULL

#define ENC_NONE            NULL, 0, NULL, 0
#define ENC_RSA_PKCS1       "RSA-PKCS1", RSA_PKCS1_PADDING, NULL, 11
#define ENC_RSA_OAEP_SHA1   "RSA-OAEP-SHA1", RSA_PKCS1_OAEP_PADDING, NULL, 42
#define ENC_RSA_OAEP_SHA256 "RSA-OAEP-SHA256", RSA_PKCS1_OAEP_PADDING, "SHA256", 66

#define KDF_NONE            NULL, UKUA_KDF_NONE, NULL
#define KDF_P_SHA1          "P_SHA1", UKUA_KDF_P_HASH, "SHA1"
#define KDF_P_SHA256        "P_SHA256", UKUA_KDF_P_HASH, "SHA256"
#define KDF_HKDF_SHA256     "HKDF-SHA256", UKUA_KDF_HKDF, "SHA256"
#define KDF_HKDF_SHA384     "HKDF-SHA384", UKUA_KDF_HKDF, "SHA384"

#define SYM_SIGN_NONE       NULL, 0
#define HMAC_SHA1(keylen)   "HMAC-SHA1", (keylen)
#define HMAC_SHA256         "HMAC-SHA256", 32
#define HMAC_SHA384         "HMAC-SHA384", 48
/* AEAD: the Poly1305 tag is the message signature; the signing key length
 * is the AEAD key's (Part 7 lists no separate HMAC key for these). */
#define CHACHA_POLY_SIGN    "ChaCha20-Poly1305", 32

#define SYM_ENC_NONE        NULL, 0, 0
#define AES_128_CBC         "AES-128-CBC", 16, 16
#define AES_256_CBC         "AES-256-CBC", 32, 16
#define CHACHA20_POLY1305   "ChaCha20-Poly1305", 32, 12

#define P(short_name) POLICY_URI_PREFIX short_name, short_name

static const struct uakey_policy_st policies[] = {
    /* uri, name                  family            curve                 min   max   cert signatures  deprecated
     *                            asym sign             asym enc             KDF              sym sign          sym enc            nonce */
    { P("None"),                  UKUA_KEY_NONE,    NID_undef,            0,    0,    { NID_undef },   0,
                                  SIG_NONE,             ENC_NONE,            KDF_NONE,        SYM_SIGN_NONE,    SYM_ENC_NONE,      0 },
    { P("Basic128Rsa15"),         UKUA_KEY_RSA,     NID_undef,            1024, 2048, RSA_SHA1_UP,     1,
                                  SIG_RSA_PKCS1_SHA1,   ENC_RSA_PKCS1,       KDF_P_SHA1,      HMAC_SHA1(16),    AES_128_CBC,       16 },
    { P("Basic256"),              UKUA_KEY_RSA,     NID_undef,            1024, 2048, RSA_SHA1_UP,     1,
                                  SIG_RSA_PKCS1_SHA1,   ENC_RSA_OAEP_SHA1,   KDF_P_SHA1,      HMAC_SHA1(24),    AES_256_CBC,       32 },
    { P("Basic256Sha256"),        UKUA_KEY_RSA,     NID_undef,            2048, 4096, RSA_SHA256_UP,   0,
                                  SIG_RSA_PKCS1_SHA256, ENC_RSA_OAEP_SHA1,   KDF_P_SHA256,    HMAC_SHA256,      AES_256_CBC,       32 },
    { P("Aes128_Sha256_RsaOaep"), UKUA_KEY_RSA,     NID_undef,            2048, 4096, RSA_SHA256_UP,   0,
                                  SIG_RSA_PKCS1_SHA256, ENC_RSA_OAEP_SHA1,   KDF_P_SHA256,    HMAC_SHA256,      AES_128_CBC,       32 },
    { P("Aes256_Sha256_RsaPss"),  UKUA_KEY_RSA,     NID_undef,            2048, 4096, RSA_SHA256_UP,   0,
                                  SIG_RSA_PSS_SHA256,   ENC_RSA_OAEP_SHA256, KDF_P_SHA256,    HMAC_SHA256,      AES_256_CBC,       32 },
    { P("ECC_nistP256"),          UKUA_KEY_EC,      NID_X9_62_prime256v1, 256,  256,  ECDSA_SHA256_UP, 0,
                                  SIG_ECDSA_SHA256,     ENC_NONE,            KDF_HKDF_SHA256, HMAC_SHA256,      AES_128_CBC,       64 },
    { P("ECC_nistP384"),          UKUA_KEY_EC,      NID_secp384r1,        384,  384,  ECDSA_SHA384_UP, 0,
                                  SIG_ECDSA_SHA384,     ENC_NONE,            KDF_HKDF_SHA384, HMAC_SHA384,      AES_256_CBC,       96 },
    { P("ECC_brainpoolP256r1"),   UKUA_KEY_EC,      NID_brainpoolP256r1,  256,  256,  ECDSA_SHA256_UP, 0,
                                  SIG_ECDSA_SHA256,     ENC_NONE,            KDF_HKDF_SHA256, HMAC_SHA256,      AES_128_CBC,       64 },
    { P("ECC_brainpoolP384r1"),   UKUA_KEY_EC,      NID_brainpoolP384r1,  384,  384,  ECDSA_SHA384_UP, 0,
                                  SIG_ECDSA_SHA384,     ENC_NONE,            KDF_HKDF_SHA384, HMAC_SHA384,      AES_256_CBC,       96 },
    /* EdDSA key lengths are those of Part 7 (256 / 456); OpenSSL reports
     * 253 / 456 bits for these keys, so the family alone is checked. */
    { P("ECC_curve25519"),        UKUA_KEY_ED25519, NID_undef,            256,  256,  { NID_ED25519, NID_undef }, 0,
                                  SIG_ED25519,          ENC_NONE,            KDF_HKDF_SHA256, CHACHA_POLY_SIGN, CHACHA20_POLY1305, 32 },
    { P("ECC_curve448"),          UKUA_KEY_ED448,   NID_undef,            456,  456,  { NID_ED448, NID_undef },   0,
                                  SIG_ED448,            ENC_NONE,            KDF_HKDF_SHA256, CHACHA_POLY_SIGN, CHACHA20_POLY1305, 56 },
};

#undef P

const UAKEY_POLICY *uakey_policy_find(const char *uri)
{
    size_t i, plen = strlen(POLICY_URI_PREFIX);
    const char *name;

    if (uri == NULL) {
        uakey_raise(UK_R_POLICY_UNKNOWN, "no SecurityPolicy URI given");
        return NULL;
    }
    /* the full URI or just the part after '#' */
    name = strncmp(uri, POLICY_URI_PREFIX, plen) == 0 ? uri + plen : uri;
    for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
        if (strcmp(policies[i].name, name) == 0)
            return &policies[i];
    }
    uakey_raise(UK_R_POLICY_UNKNOWN, "unknown SecurityPolicy \"%s\"", uri);
    return NULL;
}

const char *uakey_policy_uri(const UAKEY_POLICY *pol)
{
    return pol != NULL ? pol->uri : NULL;
}

/* A malloc'd printf string into *detail (when detail is not NULL). */
static void set_detail(char **detail, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_detail(char **detail, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;

    if (detail == NULL)
        return;
    free(*detail);
    *detail = NULL;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *detail = s;
}

static const char *family_name(enum ukua_key_family f)
{
    switch (f) {
    case UKUA_KEY_RSA:
        return "RSA";
    case UKUA_KEY_EC:
        return "EC";
    case UKUA_KEY_ED25519:
        return "Ed25519";
    case UKUA_KEY_ED448:
        return "Ed448";
    default:
        return "none";
    }
}

/* The key family of |pkey| (UKUA_KEY_NONE for anything else, e.g.
 * RSA-PSS-only keys, which cannot encrypt as RSA policies need). */
static enum ukua_key_family key_family(const EVP_PKEY *pkey)
{
    if (EVP_PKEY_is_a(pkey, "RSA"))
        return UKUA_KEY_RSA;
    if (EVP_PKEY_is_a(pkey, "EC"))
        return UKUA_KEY_EC;
    if (EVP_PKEY_is_a(pkey, "ED25519"))
        return UKUA_KEY_ED25519;
    if (EVP_PKEY_is_a(pkey, "ED448"))
        return UKUA_KEY_ED448;
    return UKUA_KEY_NONE;
}

/* How |pkey| misses |pol|'s key requirements. */
enum key_misfit {
    KEY_FITS = 0,
    KEY_WRONG_TYPE,         /* another algorithm, or another curve */
    KEY_WRONG_LENGTH        /* RSA / EC key length outside min..max */
};

/* Check |pkey|'s family, curve and length against |pol| (not None); a
 * misfit is described in msg ("Basic256Sha256 needs an RSA key, <whose>
 * is EC"), |whose| naming the key ("the certificate's key", "the key"). */
static enum key_misfit key_misfit(const UAKEY_POLICY *pol, EVP_PKEY *pkey,
                                  const char *whose, char *msg, size_t len)
{
    enum ukua_key_family fam = key_family(pkey);
    int bits;

    if (fam != pol->family) {
        /* every family name starts with a vowel sound: "an" */
        snprintf(msg, len, "%s needs an %s key, %s is %s", pol->name,
                 family_name(pol->family), whose,
                 EVP_PKEY_get0_type_name(pkey) != NULL
                 ? EVP_PKEY_get0_type_name(pkey) : "of an unknown type");
        return KEY_WRONG_TYPE;
    }
    if (fam == UKUA_KEY_EC) {
        char group[64] = "";
        size_t glen = 0;
        int nid = NID_undef;

        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen))
            nid = OBJ_txt2nid(group);
        if (nid == NID_undef) {
            /* some names only resolve as short names ("P-256" aliases) */
            nid = EC_curve_nist2nid(group);
        }
        if (nid != pol->curve_nid) {
            snprintf(msg, len, "%s needs curve %s, %s is on %s", pol->name,
                     OBJ_nid2sn(pol->curve_nid), whose,
                     group[0] != '\0' ? group : "an unnamed curve");
            return KEY_WRONG_TYPE;
        }
    }
    if (fam == UKUA_KEY_RSA || fam == UKUA_KEY_EC) {
        bits = EVP_PKEY_get_bits(pkey);
        if ((pol->min_key_bits > 0 && bits < pol->min_key_bits)
            || (pol->max_key_bits > 0 && bits > pol->max_key_bits)) {
            snprintf(msg, len, "%s allows %d to %d bit keys, %s has %d (too %s)",
                     pol->name, pol->min_key_bits, pol->max_key_bits, whose, bits,
                     bits < pol->min_key_bits ? "short" : "long");
            return KEY_WRONG_LENGTH;
        }
    }
    return KEY_FITS;
}

uint32_t uakey_policy_check_cert(const UAKEY_POLICY *pol, X509 *cert, char **detail)
{
    EVP_PKEY *pkey;
    char msg[256];
    int sig_nid, i, sig_ok;

    if (detail != NULL)
        *detail = NULL;
    if (pol == NULL || cert == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_policy_check_cert: no policy or certificate");
        set_detail(detail, "no policy or certificate given");
        return UAKEY_BadCertificatePolicyCheckFailed;
    }
    if (pol->family == UKUA_KEY_NONE)
        return UAKEY_Good;          /* None: nothing to check */

    pkey = X509_get0_pubkey(cert);
    if (pkey == NULL) {
        set_detail(detail, "%s: the certificate's public key cannot be decoded", pol->name);
        return UAKEY_BadCertificatePolicyCheckFailed;
    }
    if (key_misfit(pol, pkey, "the certificate's key", msg, sizeof(msg)) != KEY_FITS) {
        set_detail(detail, "%s", msg);
        return UAKEY_BadCertificatePolicyCheckFailed;
    }

    sig_nid = X509_get_signature_nid(cert);
    sig_ok = pol->cert_sig_nids[0] == NID_undef;
    for (i = 0; !sig_ok && pol->cert_sig_nids[i] != NID_undef; i++)
        sig_ok = pol->cert_sig_nids[i] == sig_nid;
    if (!sig_ok) {
        set_detail(detail, "%s does not allow certificates signed with %s", pol->name,
                   sig_nid != NID_undef ? OBJ_nid2ln(sig_nid) : "an unknown algorithm");
        return UAKEY_BadCertificatePolicyCheckFailed;
    }
    return UAKEY_Good;
}

int uakey_policy_key_fits(const UAKEY_POLICY *pol, EVP_PKEY *key)
{
    char msg[256];

    if (pol == NULL || key == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_policy_key_fits: no policy or key");
        return 0;
    }
    if (pol->family == UKUA_KEY_NONE)
        return 0;                   /* None uses no keys; not an error */
    switch (key_misfit(pol, key, "the key", msg, sizeof(msg))) {
    case KEY_FITS:
        return 1;
    case KEY_WRONG_TYPE:
        uakey_raise(UK_R_WRONG_KEY_TYPE, "%s", msg);
        return 0;
    default:
        uakey_raise(UK_R_BAD_KEY, "%s", msg);
        return 0;
    }
}

/* ---- names and lengths: straight from the row -------------------------- */

const char *uakey_policy_name(const UAKEY_POLICY *pol)
{
    return pol != NULL ? pol->name : NULL;
}

int uakey_policy_is_ecc(const UAKEY_POLICY *pol)
{
    return pol != NULL && (pol->family == UKUA_KEY_EC || pol->family == UKUA_KEY_ED25519
                           || pol->family == UKUA_KEY_ED448);
}

int uakey_policy_min_key_bits(const UAKEY_POLICY *pol)
{
    return pol != NULL ? pol->min_key_bits : 0;
}

int uakey_policy_max_key_bits(const UAKEY_POLICY *pol)
{
    return pol != NULL ? pol->max_key_bits : 0;
}

size_t uakey_policy_nonce_length(const UAKEY_POLICY *pol)
{
    return pol != NULL ? pol->nonce_len : 0;
}

const char *uakey_policy_asym_sign_alg(const UAKEY_POLICY *pol)
{
    return pol != NULL ? pol->sign_alg : NULL;
}

const char *uakey_policy_asym_enc_alg(const UAKEY_POLICY *pol)
{
    return pol != NULL ? pol->enc_alg : NULL;
}

const char *uakey_policy_kdf_alg(const UAKEY_POLICY *pol)
{
    return pol != NULL ? pol->kdf_alg : NULL;
}

const char *uakey_policy_sym_sign_alg(const UAKEY_POLICY *pol)
{
    return pol != NULL ? pol->sym_sign_alg : NULL;
}

const char *uakey_policy_sym_enc_alg(const UAKEY_POLICY *pol)
{
    return pol != NULL ? pol->sym_enc_alg : NULL;
}

void uakey_policy_derived_lengths(const UAKEY_POLICY *pol, size_t *sign_key,
                                  size_t *enc_key, size_t *iv)
{
    if (sign_key != NULL)
        *sign_key = pol != NULL ? pol->sym_sign_key_len : 0;
    if (enc_key != NULL)
        *enc_key = pol != NULL ? pol->sym_enc_key_len : 0;
    if (iv != NULL)
        *iv = pol != NULL ? pol->sym_enc_iv_len : 0;
}
