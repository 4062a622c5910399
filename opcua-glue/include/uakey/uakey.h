/* libuakey: OPC UA application identity with the private key in a PKCS#11
 * token.  Uses only the public OpenSSL 3 API: any provider that reaches the
 * key works (uakey_provider_load() registers uakey itself, so an
 * application needs no openssl.cnf edit).
 *
 * Conventions:
 *  - Functions returning int return 1 on success and 0 on failure; the
 *    cause is on OpenSSL's error queue under the library "uakey" (see
 *    uakey_error_string()).  Functions returning a pointer return NULL on
 *    failure, likewise.
 *  - Nothing written by libuakey ever contains private key material: a
 *    token key is stored as a key reference (PEM "PKCS#11 PROVIDER URI").
 *  - Files are written to a temporary name in the same directory and
 *    renamed, so a crash or a full disk never leaves a half-written file.
 *  - OPC UA StatusCodes are uint32_t values as OPC 10000-4/-6 define them.
 */
#ifndef UAKEY_UAKEY_H
#define UAKEY_UAKEY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/ui.h>
#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UAKEY_API __attribute__((visibility("default")))

/* ==== errors ============================================================ */

/* The ERR library code of libuakey (registered on first use). */
UAKEY_API int uakey_err_lib(void);
/* Raise an error (reason from common/uk_err.h UK_R_*, printf text). */
UAKEY_API void uakey_raise(int reason, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The most useful line from the error queue, "cause: detail" (the last
 * error raised, with its data), copied into buf; clears the queue.
 * Returns buf ("unknown error" when the queue is empty). */
UAKEY_API const char *uakey_error_string(char *buf, size_t len);

/* ==== provider ========================================================== */

/* Load the uakey provider (OpenSSL's modules directory, or OPENSSL_MODULES)
 * and the default provider into |libctx| (NULL: the default context), once
 * per context.  The token module comes from the URI (module-path) or
 * UAKEY_PKCS11_MODULE, else the p11-kit proxy. */
UAKEY_API int uakey_provider_load(OSSL_LIB_CTX *libctx);

/* ==== keys and certificates by path or URI ============================== */

/* A private key from |ref|: a "pkcs11:" URI, a key-reference file, or an
 * ordinary PEM/DER key file (installations without a token).  |ui| and
 * |ui_data| (may be NULL) answer a PIN or passphrase prompt; |pin_file|
 * (may be NULL) names a file holding the token PIN (used as the URI's
 * pin-source when the URI has no PIN of its own, and to answer the PIN
 * prompt of a key-reference file).  A token key loads the uakey provider
 * into |libctx| first when it is not there (no openssl.cnf edit needed). */
UAKEY_API EVP_PKEY *uakey_load_key(OSSL_LIB_CTX *libctx, const char *ref,
                                   const char *pin_file, const UI_METHOD *ui,
                                   void *ui_data);
/* A certificate from a file (DER or PEM) or "pkcs11:...;type=cert". */
UAKEY_API X509 *uakey_load_cert(OSSL_LIB_CTX *libctx, const char *ref);
/* A CRL from a file (DER or PEM). */
UAKEY_API X509_CRL *uakey_load_crl(OSSL_LIB_CTX *libctx, const char *path);

/* ==== keys in the token ================================================= */

/* Key types for uakey_key_generate: "rsa2048", "rsa3072", "rsa4096",
 * "ec-p256", "ec-p384", "ec-brainpoolp256r1", "ec-brainpoolp384r1". */
UAKEY_API int uakey_key_type_valid(const char *type);

/* Generate a key pair in the token named by |token_uri| (e.g.
 * "pkcs11:token=T", may carry pin-value/pin-source/module-path) with label
 * |label|.  Sensitive and non-extractable.  Fails if a private key with
 * that label exists.  *key_uri gets the new key's URI (malloc'd, no PIN). */
UAKEY_API int uakey_key_generate(OSSL_LIB_CTX *libctx, const char *token_uri,
                                 const char *label, const char *type,
                                 const char *pin_file, char **key_uri);

typedef struct {
    char *uri;      /* the key's URI (no PIN) */
    char *label;    /* CKA_LABEL, may be "" */
    char *type;     /* "RSA", "EC", "ED25519" */
    int bits;       /* modulus or field size */
    char *curve;    /* EC curve name or NULL */
} UAKEY_KEY_INFO;

/* The private keys in the token(s) |token_uri| selects. */
UAKEY_API int uakey_key_list(OSSL_LIB_CTX *libctx, const char *token_uri,
                             const char *pin_file, UAKEY_KEY_INFO **keys,
                             size_t *n);
UAKEY_API void uakey_key_info_free(UAKEY_KEY_INFO *keys, size_t n);

/* The URI of a token key (malloc'd, no PIN); NULL (no error raised) for a
 * key that is not held in a token. */
UAKEY_API char *uakey_key_uri(EVP_PKEY *key);

/* Write a key-reference file for a token key (atomically, mode 0600).
 * Refuses a key that is not in a token (no key material is ever written). */
UAKEY_API int uakey_keyref_write(EVP_PKEY *key, const char *path);

/* ==== certificate facts ================================================= */

/* SHA-1 thumbprint as 40 upper-case hex digits (OPC UA's thumbprint). */
UAKEY_API int uakey_cert_thumbprint(const X509 *cert, char hex[41]);
/* The first URI in subjectAltName (the ApplicationUri), malloc'd; NULL
 * (no error raised) when there is none. */
UAKEY_API char *uakey_cert_app_uri(const X509 *cert);
/* The subject's CN (malloc'd) or NULL. */
UAKEY_API char *uakey_cert_common_name(const X509 *cert);

/* ==== PKI directory store =============================================== */

typedef struct uakey_pki_st UAKEY_PKI;

typedef enum {
    UAKEY_PKI_OWN = 0,      /* own/certs (own/private holds key references) */
    UAKEY_PKI_TRUSTED,      /* trusted/certs, trusted/crl */
    UAKEY_PKI_ISSUERS,      /* issuers/certs, issuers/crl (also read: issuer/) */
    UAKEY_PKI_REJECTED      /* rejected/certs */
} UAKEY_PKI_GROUP;

#define UAKEY_PKI_DEFAULT_MAX_REJECTED 100

/* Warnings (a corrupt or foreign file skipped, ...): one line each. */
typedef void uakey_warn_fn(void *arg, const char *msg);

/* Create the layout under |dir| (own/{certs,private}, trusted/{certs,crl},
 * issuers/{certs,crl}, rejected/certs; private/ 0700, others 0755) if
 * missing, and record max_rejected (<= 0: keep the current or default)
 * in <dir>/uakey-pki.conf.  Existing files are never touched. */
UAKEY_API int uakey_pki_init(const char *dir, int max_rejected);
/* Open an existing store (it must have the layout). */
UAKEY_API UAKEY_PKI *uakey_pki_open(const char *dir);
UAKEY_API void uakey_pki_free(UAKEY_PKI *pki);
UAKEY_API void uakey_pki_set_warn(UAKEY_PKI *pki, uakey_warn_fn *fn, void *arg);
UAKEY_API const char *uakey_pki_dir(const UAKEY_PKI *pki);
UAKEY_API int uakey_pki_max_rejected(const UAKEY_PKI *pki);

typedef struct {
    UAKEY_PKI_GROUP group;
    char *path;             /* file in the store */
    char *subject;          /* one-line RFC 2253 subject */
    char *app_uri;          /* ApplicationUri or NULL */
    char thumbprint[41];
    time_t not_before, not_after;
    int is_ca;
} UAKEY_CERT_INFO;

/* Certificates of one group (own: own/certs), sorted by file name.
 * Corrupt files are skipped with a warning. */
UAKEY_API int uakey_pki_list(UAKEY_PKI *pki, UAKEY_PKI_GROUP group,
                             UAKEY_CERT_INFO **certs, size_t *n);
UAKEY_API void uakey_cert_info_free(UAKEY_CERT_INFO *certs, size_t n);

/* Store a certificate as DER "<CN> [<THUMBPRINT>].der" (CN characters
 * other than letters, digits, space, '-', '_', '.' become '_'; an empty CN
 * becomes "cert").  Storing the same certificate again is a success.
 * *path (may be NULL) gets the file name, malloc'd. */
UAKEY_API int uakey_pki_add_cert(UAKEY_PKI *pki, UAKEY_PKI_GROUP group,
                                 X509 *cert, char **path);
/* Store a CRL in trusted/crl or issuers/crl as DER "<issuer CN>
 * [<SHA-1 of the CRL DER>].crl"; its signature is checked against a CA
 * certificate of the store first (BadCertificateInvalid otherwise). */
UAKEY_API int uakey_pki_add_crl(UAKEY_PKI *pki, UAKEY_PKI_GROUP group,
                                X509_CRL *crl);
/* Remove the certificate with |thumbprint| (40 hex digits, any case)
 * from |group|; 0 with UK_R_OBJECT_NOT_FOUND when it is not there. */
UAKEY_API int uakey_pki_remove(UAKEY_PKI *pki, UAKEY_PKI_GROUP group,
                               const char *thumbprint);
/* Put a presented certificate into rejected/; when rejected/ holds the
 * maximum, the oldest files (modification time, then name) go first. */
UAKEY_API int uakey_pki_reject(UAKEY_PKI *pki, X509 *cert);
/* Move a rejected certificate to trusted/. */
UAKEY_API int uakey_pki_trust_rejected(UAKEY_PKI *pki, const char *thumbprint);
/* Delete every file in rejected/certs. */
UAKEY_API int uakey_pki_clear_rejected(UAKEY_PKI *pki);

/* Every readable certificate / CRL of a group (issuers: issuers/ and
 * issuer/).  Corrupt files are skipped with a warning.  Never NULL on
 * success (maybe empty). */
UAKEY_API STACK_OF(X509) *uakey_pki_certs(UAKEY_PKI *pki, UAKEY_PKI_GROUP group);
UAKEY_API STACK_OF(X509_CRL) *uakey_pki_crls(UAKEY_PKI *pki, UAKEY_PKI_GROUP group);

/* Revocation checks per CA (OPC 10000-4 6.1.3 step 10: no error when the
 * administrator turned revocation off for that CA), kept as lines
 * "no-revocation = <THUMBPRINT>" in <dir>/uakey-pki.conf, read at every
 * call and every uakey_verify (a change by another process applies to the
 * next validation).  |ca_thumbprint|: the CA certificate's SHA-1, 40 hex
 * digits, any case (stored upper case); the CA need not be in the store.
 * |check| 0: the CRLs of that CA are not required and not looked at when
 * a certificate it issued is validated (so such a certificate is never
 * found revoked either); 1: back to the default (its CRL is required and
 * checked).  Setting what is already set is a success. */
UAKEY_API int uakey_pki_set_revocation_check(UAKEY_PKI *pki, const char *ca_thumbprint,
                                             int check);
/* 1: revocation is checked for the CA (the default), 0: it is off; -1
 * with the error raised for a bad thumbprint or an unreadable conf. */
UAKEY_API int uakey_pki_revocation_checked(UAKEY_PKI *pki, const char *ca_thumbprint);
/* The CAs with revocation off, in the order of the conf, each once:
 * *thumbprints gets *n entries (40 upper-case hex digits each) in one
 * malloc'd block to free() (NULL when there are none). */
UAKEY_API int uakey_pki_revocation_off(UAKEY_PKI *pki, char (**thumbprints)[41], size_t *n);

/* Own identity |name| (letters, digits, '-', '_', '.'; no '/' or ".."):
 * own/certs/<name>.der and own/private/<name>.pem (a key reference). */
UAKEY_API int uakey_pki_name_valid(const char *name);
UAKEY_API int uakey_pki_write_own(UAKEY_PKI *pki, const char *name, X509 *cert,
                                  EVP_PKEY *key);
UAKEY_API X509 *uakey_pki_own_cert(UAKEY_PKI *pki, const char *name);
/* Path of own/private/<name>.pem, malloc'd (whether or not it exists). */
UAKEY_API char *uakey_pki_own_key_path(UAKEY_PKI *pki, const char *name);

/* ==== application instance certificates and requests ==================== */

typedef struct {
    const char *app_uri;            /* required: subjectAltName URI */
    const char *const *dns;         /* host names for subjectAltName */
    size_t ndns;
    const char *const *ips;         /* IPv4/IPv6 addresses */
    size_t nips;
    const char *common_name;        /* default: the first DNS name or "uakey" */
    const char *organization;       /* O; default: "uakey" */
    const char *org_unit;           /* OU, optional */
    const char *locality;           /* L, optional */
    const char *state;              /* ST, optional */
    const char *country;            /* C, optional (2 letters) */
    const char *domain_component;   /* DC, optional */
    int days;                       /* validity; <= 0: 365 */
    time_t not_before;              /* 0: now */
} UAKEY_CERT_PARAMS;

/* A self-signed application instance certificate for |key| (OPC 10000-6
 * 6.2.2): v3, random positive 16-byte serial, subjectAltName (URI first,
 * then DNS, then IP), basicConstraints critical CA:FALSE, keyUsage
 * critical (RSA: digitalSignature, nonRepudiation, keyEncipherment,
 * dataEncipherment, keyCertSign; EC: digitalSignature, nonRepudiation,
 * keyCertSign), extendedKeyUsage serverAuth + clientAuth,
 * subjectKeyIdentifier, authorityKeyIdentifier; SHA-256 (SHA-384 for
 * P-384 / brainpoolP384r1).  Signed with |key| (in the token). */
UAKEY_API X509 *uakey_appcert_create(OSSL_LIB_CTX *libctx, EVP_PKEY *key,
                                     const UAKEY_CERT_PARAMS *p);
/* A PKCS#10 request with the same subject and subjectAltName (plus
 * keyUsage and extendedKeyUsage as requested extensions), signed with
 * |key|. */
UAKEY_API X509_REQ *uakey_appcert_csr(OSSL_LIB_CTX *libctx, EVP_PKEY *key,
                                      const UAKEY_CERT_PARAMS *p);
/* Install an issued certificate as own identity |name|: checked against
 * |key| (X509_check_private_key), every issuer certificate stored in
 * issuers/, then own/certs/<name>.der and own/private/<name>.pem written. */
UAKEY_API int uakey_appcert_install(UAKEY_PKI *pki, const char *name, X509 *cert,
                                    STACK_OF(X509) *issuers, EVP_PKEY *key);

/* ==== OPC UA certificate validation ===================================== */

/* OPC UA StatusCodes used here (OPC 10000-4 6.1.3, 10000-6). */
#define UAKEY_Good                                  0x00000000u
#define UAKEY_BadCertificateInvalid                 0x80120000u
#define UAKEY_BadSecurityChecksFailed               0x80130000u
#define UAKEY_BadCertificateTimeInvalid             0x80140000u
#define UAKEY_BadCertificateIssuerTimeInvalid       0x80150000u
#define UAKEY_BadCertificateHostNameInvalid         0x80160000u
#define UAKEY_BadCertificateUriInvalid              0x80170000u
#define UAKEY_BadCertificateUseNotAllowed           0x80180000u
#define UAKEY_BadCertificateIssuerUseNotAllowed     0x80190000u
#define UAKEY_BadCertificateUntrusted               0x801A0000u
#define UAKEY_BadCertificateRevocationUnknown       0x801B0000u
#define UAKEY_BadCertificateIssuerRevocationUnknown 0x801C0000u
#define UAKEY_BadCertificateRevoked                 0x801D0000u
#define UAKEY_BadCertificateIssuerRevoked           0x801E0000u
#define UAKEY_BadCertificateChainIncomplete         0x810D0000u
#define UAKEY_BadCertificatePolicyCheckFailed       0x81140000u
#define UAKEY_BadSecurityPolicyRejected             0x80550000u

/* "BadCertificateUntrusted" etc.; "Unknown" for codes not listed above. */
UAKEY_API const char *uakey_status_name(uint32_t code);

/* What the spec lets an administrator suppress (OPC 10000-4 6.1.3). */
#define UAKEY_SUPPRESS_CHAIN_INCOMPLETE       (1u << 0)
#define UAKEY_SUPPRESS_POLICY_CHECK           (1u << 1)
#define UAKEY_SUPPRESS_TIME_INVALID           (1u << 2)
#define UAKEY_SUPPRESS_ISSUER_TIME_INVALID    (1u << 3)
#define UAKEY_SUPPRESS_HOST_NAME_INVALID      (1u << 4)
#define UAKEY_SUPPRESS_USE_NOT_ALLOWED        (1u << 5)
#define UAKEY_SUPPRESS_REVOCATION_UNKNOWN     (1u << 6)   /* also Issuer... */
#define UAKEY_NO_REVOCATION_CHECK             (1u << 7)   /* skip CRL steps */

typedef struct {
    const char *app_uri;    /* expected ApplicationUri; NULL: skip step 8 */
    const char *host;       /* expected host name or IP; NULL: skip step 7 */
    const char *policy_uri; /* SecurityPolicy URI; NULL: skip step 4 */
    time_t now;             /* 0: time(NULL) */
    unsigned int flags;     /* UAKEY_SUPPRESS_*, UAKEY_NO_REVOCATION_CHECK */
} UAKEY_VERIFY_OPTS;

/* Validate |cert| (with |extra|, the chain the peer sent, may be NULL)
 * against the store, steps in OPC 10000-4 6.1.3 order: structure, chain,
 * signature, security policy, trust list, validity, host name, URI, key
 * usage, CRL presence, revocation (the last two skipped for a certificate
 * whose CA has revocation off, uakey_pki_set_revocation_check, and for all
 * with UAKEY_NO_REVOCATION_CHECK).  Returns the StatusCode of the first
 * failing step (UAKEY_Good when none fails); *detail (may be NULL) gets a
 * one-line explanation, malloc'd. */
UAKEY_API uint32_t uakey_verify(UAKEY_PKI *pki, X509 *cert, STACK_OF(X509) *extra,
                                const UAKEY_VERIFY_OPTS *opts, char **detail);

/* ==== security policies (the table grows with the adapter) ============== */

typedef struct uakey_policy_st UAKEY_POLICY;

/* The policy of a SecurityPolicy URI (full URI or the part after '#'),
 * NULL (with an error) when unknown. */
UAKEY_API const UAKEY_POLICY *uakey_policy_find(const char *uri);
UAKEY_API const char *uakey_policy_uri(const UAKEY_POLICY *pol);
/* UAKEY_Good, or UAKEY_BadCertificatePolicyCheckFailed when the
 * certificate's key type/length or signature algorithm does not fit. */
UAKEY_API uint32_t uakey_policy_check_cert(const UAKEY_POLICY *pol, X509 *cert,
                                           char **detail);

/* ==== the security-policy adapter (OPC 10000-7 profiles) ================ */
/* Every private-key operation goes through the EVP_PKEY it is given, so a
 * token key (uakey provider) works and so does a key in memory.  Sizes
 * are in bytes.  All int functions: 1 success, 0 failure (error raised). */

/* "Basic256Sha256" etc. */
UAKEY_API const char *uakey_policy_name(const UAKEY_POLICY *pol);
/* 1 for the ECC_* policies (no asymmetric encryption; ECDH + HKDF). */
UAKEY_API int uakey_policy_is_ecc(const UAKEY_POLICY *pol);
UAKEY_API int uakey_policy_min_key_bits(const UAKEY_POLICY *pol);
UAKEY_API int uakey_policy_max_key_bits(const UAKEY_POLICY *pol);
/* Length of the nonces the policy exchanges (OPN, CreateSession). */
UAKEY_API size_t uakey_policy_nonce_length(const UAKEY_POLICY *pol);
/* Names of the algorithms: asymmetric signature ("RSA-PKCS1-SHA256",
 * "RSA-PSS-SHA256", "ECDSA-SHA256", "Ed25519"), asymmetric encryption
 * ("RSA-PKCS1", "RSA-OAEP-SHA1", "RSA-OAEP-SHA256", NULL for ECC), key
 * derivation ("P_SHA1", "P_SHA256", "HKDF-SHA256", "HKDF-SHA384"),
 * symmetric signature ("HMAC-SHA1", "HMAC-SHA256", "HMAC-SHA384") and
 * symmetric encryption (OpenSSL cipher names: "AES-128-CBC",
 * "AES-256-CBC", "ChaCha20-Poly1305"). */
UAKEY_API const char *uakey_policy_asym_sign_alg(const UAKEY_POLICY *pol);
UAKEY_API const char *uakey_policy_asym_enc_alg(const UAKEY_POLICY *pol);
UAKEY_API const char *uakey_policy_kdf_alg(const UAKEY_POLICY *pol);
UAKEY_API const char *uakey_policy_sym_sign_alg(const UAKEY_POLICY *pol);
UAKEY_API const char *uakey_policy_sym_enc_alg(const UAKEY_POLICY *pol);
/* Lengths of the keys the KDF derives: signing key, encrypting key, IV. */
UAKEY_API void uakey_policy_derived_lengths(const UAKEY_POLICY *pol, size_t *sign_key,
                                            size_t *enc_key, size_t *iv);

/* 1 when |key|'s type and length fit the policy; 0 with UK_R_WRONG_KEY_TYPE
 * or UK_R_BAD_KEY naming what is wrong (no error for pol "None": 0). */
UAKEY_API int uakey_policy_key_fits(const UAKEY_POLICY *pol, EVP_PKEY *key);

/* Signature length for |key| (RSA: modulus bytes; ECDSA: raw r||s, twice
 * the field size; Ed25519: 64).  0 when the key does not fit. */
UAKEY_API size_t uakey_policy_signature_size(const UAKEY_POLICY *pol, EVP_PKEY *key);
/* Asymmetric signature of |data| with the policy's algorithm (ECDSA as raw
 * r||s, as OPC UA puts it on the wire).  *siglen: in the capacity of sig,
 * out the length.  |key| is a private key (token or memory). */
UAKEY_API int uakey_policy_sign(const UAKEY_POLICY *pol, EVP_PKEY *key,
                                const unsigned char *data, size_t len,
                                unsigned char *sig, size_t *siglen);
/* 1 when |sig| is a valid signature of |data| by |key| (public key or
 * certificate key); 0 otherwise (an error is raised only for bad input,
 * not for a mismatch). */
UAKEY_API int uakey_policy_verify(const UAKEY_POLICY *pol, EVP_PKEY *key,
                                  const unsigned char *data, size_t len,
                                  const unsigned char *sig, size_t siglen);

/* Plaintext and ciphertext block sizes of the policy's asymmetric
 * encryption for |key| (plaintext: k - 11 PKCS#1 v1.5, k - 42 OAEP-SHA1,
 * k - 66 OAEP-SHA256; ciphertext: k).  0 for ECC policies or unfit keys. */
UAKEY_API size_t uakey_policy_plain_block_size(const UAKEY_POLICY *pol, EVP_PKEY *key);
UAKEY_API size_t uakey_policy_cipher_block_size(const UAKEY_POLICY *pol, EVP_PKEY *key);
/* Ciphertext length for |inlen| plaintext bytes (whole blocks). */
UAKEY_API size_t uakey_policy_encrypted_size(const UAKEY_POLICY *pol, EVP_PKEY *key,
                                             size_t inlen);
/* Multi-block asymmetric encryption to |key| (a public key: the peer's
 * certificate key).  *outlen: in capacity, out length. */
UAKEY_API int uakey_policy_encrypt(const UAKEY_POLICY *pol, EVP_PKEY *key,
                                   const unsigned char *in, size_t inlen,
                                   unsigned char *out, size_t *outlen);
/* Multi-block asymmetric decryption with |key| (private: token or memory).
 * The ciphertext must be a whole number of blocks.  A block that fails to
 * decrypt fails the whole call: no plaintext is released (|out| is wiped).
 * *outlen: in capacity (at least inlen is always enough), out length. */
UAKEY_API int uakey_policy_decrypt(const UAKEY_POLICY *pol, EVP_PKEY *key,
                                   const unsigned char *in, size_t inlen,
                                   unsigned char *out, size_t *outlen);

/* The policy's key derivation: P_SHA1 / P_SHA256 (OPC 10000-6 6.7.5:
 * P_hash(secret, seed)) for RSA policies; HKDF (RFC 5869: ikm = secret,
 * salt = seed, info = info) for ECC policies.  Writes outlen bytes. */
UAKEY_API int uakey_policy_derive(const UAKEY_POLICY *pol,
                                  const unsigned char *secret, size_t secretlen,
                                  const unsigned char *seed, size_t seedlen,
                                  const unsigned char *info, size_t infolen,
                                  unsigned char *out, size_t outlen);

/* ==== a compact OPC UA client (uakey discover / uakey connect) ========== */
/* OPC UA Binary over TCP (OPC 10000-6 7): Hello, SecureChannel, the
 * session services and Read.  Every asymmetric operation goes through the
 * policy adapter above, so with a token key the token signs and decrypts.
 * Results come back as OPC UA StatusCodes (UAKEY_Good on success) with a
 * one-line cause in *detail (malloc'd, may be NULL). */

/* One line of output (no newline). */
typedef void uakey_line_fn(void *arg, const char *line);
/* A yes/no question (trust this server certificate?): 1 yes, 0 no. */
typedef int uakey_confirm_fn(void *arg, const char *question);

typedef struct {
    unsigned int timeout_ms;    /* every wait; 0: 10000 */
    const char *save_cert;      /* write the server certificate (DER) here */
    uakey_line_fn *out;         /* the endpoints, one line each */
    void *out_arg;
} UAKEY_DISCOVER_OPTS;

/* Hello, a None SecureChannel, GetEndpoints: prints every endpoint (URL,
 * SecurityPolicy, mode, user token types, server certificate subject,
 * ApplicationUri, thumbprint, validity). */
UAKEY_API uint32_t uakey_discover(const char *url, const UAKEY_DISCOVER_OPTS *o,
                                  char **detail);

typedef struct {
    const char *url;            /* opc.tcp://HOST:PORT[/path] */
    UAKEY_PKI *pki;             /* validates the server certificate */
    EVP_PKEY *key;              /* our private key (token or memory) */
    X509 *cert;                 /* our application instance certificate */
    const char *own_name;       /* own/certs/<name>.der, for messages */
    const char *policy;         /* name or URI; NULL: Basic256Sha256 */
    uint32_t mode;              /* 2 Sign, 3 SignAndEncrypt; 0: 3 */
    const char *user;           /* UserName identity; NULL: anonymous */
    const char *password;
    const char *read_node;      /* NULL: ns=0;i=2258 (CurrentTime) */
    int trust_server;           /* trust an unknown server certificate */
    unsigned int verify_flags;  /* UAKEY_SUPPRESS_* for the server's */
    unsigned int timeout_ms;    /* every wait; 0: 10000 */
    unsigned int watch_s;       /* keep reading this long (0: once) */
    unsigned int interval_ms;   /* between reads when watching; 0: 1000 */
    uint32_t lifetime_ms;       /* requested token lifetime; 0: 3600000 */
    uakey_line_fn *out;
    void *out_arg;
    uakey_confirm_fn *confirm;  /* NULL: never ask */
    void *confirm_arg;
} UAKEY_CONNECT_OPTS;

/* OpenSecureChannel, CreateSession, ActivateSession, Read, CloseSession,
 * CloseSecureChannel, with the first-connection trust flow: an unknown
 * server certificate is put into rejected/ and the call ends with
 * BadCertificateUntrusted (unless trust_server or a yes from confirm). */
UAKEY_API uint32_t uakey_connect(const UAKEY_CONNECT_OPTS *o, char **detail);

#ifdef __cplusplus
}
#endif

#endif
