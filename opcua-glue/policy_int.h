/* libuakey internals: the row type of the SecurityPolicy table.  Only
 * policy.c (the table, certificate and key checks, names and lengths) and
 * policy_ops.c (the asymmetric operations and the key derivation) include
 * this; everything else sees the opaque UAKEY_POLICY of uakey.h. */
#ifndef UKUA_POLICY_INT_H
#define UKUA_POLICY_INT_H

#include <stddef.h>

#include "uakey/uakey.h"

/* The kind of key a policy's certificates must carry. */
enum ukua_key_family {
    UKUA_KEY_NONE = 0,      /* policy None: no certificate needed */
    UKUA_KEY_RSA,
    UKUA_KEY_EC,            /* named curve in curve_nid */
    UKUA_KEY_ED25519,
    UKUA_KEY_ED448
};

/* How the policy derives its symmetric keys. */
enum ukua_kdf {
    UKUA_KDF_NONE = 0,
    UKUA_KDF_P_HASH,        /* OPC 10000-6 6.7.5 P_hash(secret, seed) */
    UKUA_KDF_HKDF           /* RFC 5869, extract and expand */
};

#define UKUA_MAX_CERT_SIGS 4

/* One SecurityPolicy.  Fields are named so rows read as a table (see
 * policy.c); the operations read only these columns, never the name. */
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

    /* asymmetric signature: name; RSA padding (RSA_PKCS1_PADDING or
     * RSA_PKCS1_PSS_PADDING, 0 for ECDSA and EdDSA); digest (NULL: pure
     * EdDSA, one-shot over the message).  PSS uses MGF1 with the same
     * digest and a salt as long as the digest. */
    const char *sign_alg;
    int sign_padding;
    const char *sign_md;

    /* asymmetric encryption: name (NULL: none, the ECC policies); RSA
     * padding (0: none); OAEP digest, also used for MGF1 (NULL: OpenSSL's
     * default, SHA-1, and only the padding is set, as stacks do it);
     * bytes of padding per block (k - overhead is the plaintext block). */
    const char *enc_alg;
    int enc_padding;
    const char *oaep_md;
    size_t enc_overhead;

    /* key derivation: name, kind, digest */
    const char *kdf_alg;
    enum ukua_kdf kdf;
    const char *kdf_md;

    /* symmetric signature: name and derived signing key length */
    const char *sym_sign_alg;
    size_t sym_sign_key_len;
    /* symmetric encryption: OpenSSL cipher name, key and IV lengths */
    const char *sym_enc_alg;
    size_t sym_enc_key_len;
    size_t sym_enc_iv_len;

    size_t nonce_len;               /* SecureChannel / session nonces */
};

#endif
