/* libuakey: the OPC UA SecurityPolicies uakey knows, as one table with a
 * row per policy (OPC 10000-7 profiles; numbers as collected in
 * opcua-security.md section 2), and the certificate side of the policy:
 * key type, key length and certificate signature algorithm
 * (OPC 10000-4 6.1.3 step "Security Policy Check"). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "ukua_int.h"

#define POLICY_URI_PREFIX "http://opcfoundation.org/UA/SecurityPolicy#"

/* The kind of key a policy's certificates must carry. */
enum ukua_key_family {
    UKUA_KEY_NONE = 0,      /* policy None: no certificate needed */
    UKUA_KEY_RSA,
    UKUA_KEY_EC,            /* named curve in curve_nid */
    UKUA_KEY_ED25519,
    UKUA_KEY_ED448
};

#define UKUA_MAX_CERT_SIGS 4

/* One SecurityPolicy.  Fields are named so rows read as a table; the next
 * columns (asymmetric sign/encrypt, KDF, symmetric algorithms) go below the
 * certificate ones. */
struct uakey_policy_st {
    const char *uri;                /* full SecurityPolicy URI */
    const char *name;               /* the part after '#' */
    enum ukua_key_family family;
    int curve_nid;                  /* UKUA_KEY_EC: the only allowed curve */
    int min_key_bits;               /* MinAsymmetricKeyLength (0: none) */
    int max_key_bits;               /* MaxAsymmetricKeyLength (0: none) */
    /* allowed certificate signature algorithms, NID_undef-terminated
     * (empty list: no check) */
    int cert_sig_nids[UKUA_MAX_CERT_SIGS + 1];
    int deprecated;                 /* deprecated by the OPC Foundation */
};

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

#define P(short_name) POLICY_URI_PREFIX short_name, short_name

static const struct uakey_policy_st policies[] = {
    /*  uri, name                     family            curve                  min   max   cert signatures   deprecated */
    { P("None"),                  UKUA_KEY_NONE,    NID_undef,             0,    0,    { NID_undef },    0 },
    { P("Basic128Rsa15"),         UKUA_KEY_RSA,     NID_undef,             1024, 2048, RSA_SHA1_UP,      1 },
    { P("Basic256"),              UKUA_KEY_RSA,     NID_undef,             1024, 2048, RSA_SHA1_UP,      1 },
    { P("Basic256Sha256"),        UKUA_KEY_RSA,     NID_undef,             2048, 4096, RSA_SHA256_UP,    0 },
    { P("Aes128_Sha256_RsaOaep"), UKUA_KEY_RSA,     NID_undef,             2048, 4096, RSA_SHA256_UP,    0 },
    { P("Aes256_Sha256_RsaPss"),  UKUA_KEY_RSA,     NID_undef,             2048, 4096, RSA_SHA256_UP,    0 },
    { P("ECC_nistP256"),          UKUA_KEY_EC,      NID_X9_62_prime256v1,  256,  256,  ECDSA_SHA256_UP,  0 },
    { P("ECC_nistP384"),          UKUA_KEY_EC,      NID_secp384r1,         384,  384,  ECDSA_SHA384_UP,  0 },
    { P("ECC_brainpoolP256r1"),   UKUA_KEY_EC,      NID_brainpoolP256r1,   256,  256,  ECDSA_SHA256_UP,  0 },
    { P("ECC_brainpoolP384r1"),   UKUA_KEY_EC,      NID_brainpoolP384r1,   384,  384,  ECDSA_SHA384_UP,  0 },
    /* EdDSA key lengths are those of Part 7 (256 / 456); OpenSSL reports
     * 253 / 456 bits for these keys, so the family alone is checked. */
    { P("ECC_curve25519"),        UKUA_KEY_ED25519, NID_undef,             256,  256,  { NID_ED25519, NID_undef }, 0 },
    { P("ECC_curve448"),          UKUA_KEY_ED448,   NID_undef,             456,  456,  { NID_ED448, NID_undef },   0 },
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

uint32_t uakey_policy_check_cert(const UAKEY_POLICY *pol, X509 *cert, char **detail)
{
    EVP_PKEY *pkey;
    enum ukua_key_family fam;
    int sig_nid, bits, i, sig_ok;

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
    fam = key_family(pkey);
    if (fam != pol->family) {
        set_detail(detail, "%s needs a%s %s key, the certificate has %s", pol->name,
                   pol->family == UKUA_KEY_RSA ? "n" : "", family_name(pol->family),
                   EVP_PKEY_get0_type_name(pkey) != NULL
                   ? EVP_PKEY_get0_type_name(pkey) : "an unknown key type");
        return UAKEY_BadCertificatePolicyCheckFailed;
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
            set_detail(detail, "%s needs curve %s, the certificate's key is on %s",
                       pol->name, OBJ_nid2sn(pol->curve_nid),
                       group[0] != '\0' ? group : "an unnamed curve");
            return UAKEY_BadCertificatePolicyCheckFailed;
        }
    }
    if (fam == UKUA_KEY_RSA || fam == UKUA_KEY_EC) {
        bits = EVP_PKEY_get_bits(pkey);
        if ((pol->min_key_bits > 0 && bits < pol->min_key_bits)
            || (pol->max_key_bits > 0 && bits > pol->max_key_bits)) {
            set_detail(detail, "%s allows %d to %d bit keys, the certificate's key has %d",
                       pol->name, pol->min_key_bits, pol->max_key_bits, bits);
            return UAKEY_BadCertificatePolicyCheckFailed;
        }
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
