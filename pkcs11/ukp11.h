/* uakey pkcs11/: the token backend.  The only code that calls Cryptoki.
 *
 * Returns CK_RV everywhere.  On failure a function reports exactly one
 * message into the context's error sink (see ukp11_err_fn) naming the cause,
 * the C_ function and the CKR_ name, e.g.
 *   reason UK_R_LOGIN_FAILED, "C_Login(slot 3): CKR_PIN_INCORRECT (0xa0)".
 * Never a PIN, never key bytes.
 *
 * Thread safety: every function may be called from any thread.  Fork: a
 * child re-initializes modules on first use; objects found before the fork
 * re-find their handle (by class + CKA_ID + label) transparently.
 */
#ifndef UKP11_H
#define UKP11_H

#include <stdarg.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>

#include "uk_err.h"

typedef struct ukp11_ctx_st UKP11_CTX;     /* modules, tokens, config */
typedef struct ukp11_uri_st UKP11_URI;     /* a parsed pkcs11: URI */
typedef struct ukp11_token_st UKP11_TOKEN; /* slot + token, login, sessions */
typedef struct ukp11_obj_st UKP11_OBJ;     /* an object with cached attributes */

/* Error sink: called once per failure, in the failing thread.  |reason| is
 * a UK_R_* code, |msg| a formatted, redacted message. */
typedef void ukp11_err_fn(void *arg, int reason, const char *msg);

/* PIN callback (the application's passphrase callback, wrapped).  Writes
 * the PIN into buf (not NUL terminated), sets *len; returns 1 on success,
 * 0 when no PIN can be had.  |info| names the token for a prompt. */
typedef int ukp11_pin_fn(char *buf, size_t cap, size_t *len, const char *info,
                         void *arg);

typedef struct {
    const char *module_path; /* config "pkcs11-module-path", or NULL */
    const char *token_pin;   /* config "pkcs11-module-token-pin": literal or
                                "file:/path", or NULL; copied, caller wipes */
    unsigned int max_sessions; /* per token pool bound; 0 = default (16) */
    /* Called after each successful module initialization.  The provider
     * registers its exit hook here: a hook registered after the module was
     * loaded runs before the module's own destructors at exit. */
    void (*module_loaded)(void);
} UKP11_CONFIG;

#define UKP11_DEFAULT_MAX_SESSIONS 16

/* ---- context ------------------------------------------------------------ */

/* Nothing is loaded until first use (lazy). */
UKP11_CTX *ukp11_ctx_new(const UKP11_CONFIG *cfg, ukp11_err_fn *err, void *errarg);
/* Closes sessions, logs out nothing, finalizes modules (p11-kit counted). */
void ukp11_ctx_free(UKP11_CTX *ctx);
/* Finalize all modules now (idempotent); later use reloads them.  Used by
 * the provider's exit hook so SoftHSM is finalized while libcrypto lives. */
void ukp11_ctx_finalize_modules(UKP11_CTX *ctx);
/* Report through ctx's sink (printf style). Used by callers of this layer. */
void ukp11_raise(UKP11_CTX *ctx, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- URIs (p11-kit parser; no hand-written parsing) --------------------- */

/* Parse "pkcs11:..."; UK_R_BAD_URI / UK_R_UNKNOWN_URI_ATTR raised with the
 * p11_kit_uri_message() text on error; returns CKR_ARGUMENTS_BAD then. */
CK_RV ukp11_uri_parse(UKP11_CTX *ctx, const char *str, UKP11_URI **out);
void ukp11_uri_free(UKP11_URI *uri);
/* type= as CKO_*; (CK_OBJECT_CLASS)-1 when absent. */
CK_OBJECT_CLASS ukp11_uri_class(const UKP11_URI *uri);
/* object= (label), NULL when absent; id= raw bytes, NULL when absent. */
const char *ukp11_uri_label(const UKP11_URI *uri);
const unsigned char *ukp11_uri_id(const UKP11_URI *uri, size_t *len);
/* The URI as text with pin-value removed (safe to log or print). malloc'd. */
char *ukp11_uri_redacted(const UKP11_URI *uri);

/* Module choice in order: URI module-path / module-name, cfg_path,
 * env (UAKEY_PKCS11_MODULE), proxy.  Pure; returns one of its arguments
 * (module-name is returned as is: p11-kit resolves it). */
const char *ukp11_select_module(const char *uri_module_path,
                                const char *uri_module_name,
                                const char *cfg_path, const char *env,
                                const char *proxy);

/* Read a PIN source: "file:/path" or "file:///path" reads the file (first
 * line, trailing newline stripped); any other string is a literal.
 * Returns 1 and *len on success, 0 on error (reason UK_R_PIN_SOURCE). */
int ukp11_pin_source_read(UKP11_CTX *ctx, const char *src, char *buf,
                          size_t cap, size_t *len);

/* ---- tokens -------------------------------------------------------------- */

typedef struct {
    char label[33], manufacturer[33], model[17], serial[17]; /* trimmed */
    char module[256];          /* module path or name it came from */
    CK_SLOT_ID slot;
    CK_FLAGS flags;            /* CK_TOKEN_INFO.flags */
    char uri[512];             /* pkcs11:model=..;manufacturer=..;serial=..;token=.. */
} UKP11_TOKEN_INFO;

/* List tokens whose token info matches |filter| (NULL: all), over the
 * modules the filter selects.  *infos malloc'd. */
CK_RV ukp11_list_tokens(UKP11_CTX *ctx, const UKP11_URI *filter,
                        UKP11_TOKEN_INFO **infos, size_t *n);

/* ---- objects ------------------------------------------------------------- */

/* Find the objects that match |uri|, restricted to class |cls| unless it is
 * (CK_OBJECT_CLASS)-1 (then the URI's type=, or all key and certificate
 * classes).  Logs in when private objects may be wanted and the token
 * requires it (PIN order: URI pin-value, URI pin-source, config PIN,
 * pin_cb).  One login attempt, never retried.  A token that is absent is
 * UK_R_TOKEN_NOT_FOUND.  Zero matches is CKR_OK with *n == 0 (the caller
 * decides whether that is an error).  *objs malloc'd array of refs. */
CK_RV ukp11_find(UKP11_CTX *ctx, const UKP11_URI *uri, CK_OBJECT_CLASS cls,
                 ukp11_pin_fn *pin_cb, void *pin_arg, UKP11_OBJ ***objs,
                 size_t *n);
void ukp11_objs_free(UKP11_OBJ **objs, size_t n);

UKP11_OBJ *ukp11_obj_ref(UKP11_OBJ *obj);
void ukp11_obj_free(UKP11_OBJ *obj);

CK_OBJECT_CLASS ukp11_obj_class(const UKP11_OBJ *obj);
CK_KEY_TYPE ukp11_obj_key_type(const UKP11_OBJ *obj); /* (CK_KEY_TYPE)-1 for certs */
/* Attributes read once when the object was found.  Cached: CKA_LABEL,
 * CKA_ID, CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS, CKA_EC_POINT
 * (DER OCTET STRING as the token stores it), CKA_VALUE (certificates
 * only), CKA_ALWAYS_AUTHENTICATE.  For a private EC/EdDSA key without
 * CKA_EC_POINT the point is taken from the public key object with the same
 * CKA_ID.  NULL when absent. */
const unsigned char *ukp11_obj_attr(const UKP11_OBJ *obj, CK_ATTRIBUTE_TYPE t,
                                    size_t *len);
/* "pkcs11:model=..;manufacturer=..;serial=..;token=..;id=..;object=..;type=private"
 * (no PIN).  malloc'd. */
char *ukp11_obj_uri(const UKP11_OBJ *obj);
UKP11_TOKEN *ukp11_obj_token(const UKP11_OBJ *obj);
/* 1 when the token lists mechanism |m| (cached per token). */
int ukp11_token_has_mech(UKP11_TOKEN *tok, CK_MECHANISM_TYPE m);
/* Token label, for messages. */
const char *ukp11_token_label(const UKP11_TOKEN *tok);

/* ---- private-key operations (one session from the pool per call) -------- */

/* C_SignInit + C_Sign with |mech| on |key|.  If out is NULL, *outlen gets
 * the size.  Errors raise UK_R_SIGN_FAILED "C_Sign(...): CKR_...". */
CK_RV ukp11_sign(UKP11_OBJ *key, CK_MECHANISM *mech, const unsigned char *in,
                 size_t inlen, unsigned char *out, size_t *outlen);
/* C_DecryptInit + C_Decrypt.  Errors raise UK_R_DECRYPT_FAILED unless
 * |quiet| (used by the OAEP host-decoding path so a padding failure is
 * reported once by the caller, in constant time). */
CK_RV ukp11_decrypt(UKP11_OBJ *key, CK_MECHANISM *mech, const unsigned char *in,
                    size_t inlen, unsigned char *out, size_t *outlen, int quiet);
/* ECDH (CKM_ECDH1_DERIVE, KDF null) with the peer's uncompressed point
 * (raw, not DER-wrapped; the token's expected form is tried first, the other
 * form on CKR_*_INVALID).  The derived secret object is a session object
 * (CKA_TOKEN=FALSE, CKA_EXTRACTABLE=TRUE, CKA_SENSITIVE=FALSE) read and
 * destroyed at once: nothing is left behind.  out must hold the field
 * size; *outlen in: capacity, out: length. */
CK_RV ukp11_derive_ecdh(UKP11_OBJ *key, const unsigned char *peer, size_t peerlen,
                        unsigned char *out, size_t *outlen);

/* ---- key generation ------------------------------------------------------ */

typedef struct {
    CK_KEY_TYPE type;          /* CKK_RSA, CKK_EC, CKK_EC_EDWARDS */
    CK_ULONG bits;             /* RSA */
    const unsigned char *pubexp; size_t pubexp_len; /* RSA, big-endian; NULL = 65537 */
    const unsigned char *ec_params; size_t ec_params_len; /* DER OID (EC, EdDSA) */
} UKP11_KEYGEN;

/* Generate a key pair in the token the URI selects (exactly one token must
 * match).  Label from object= (required), CKA_ID from id= or 16 random
 * bytes.  Private key: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE = TRUE,
 * CKA_EXTRACTABLE = FALSE, CKA_SIGN, CKA_DECRYPT (RSA), CKA_DERIVE (EC).
 * Fails with UK_R_KEYGEN_FAILED if a private key with the same label
 * already exists.  Returns the private key object. */
CK_RV ukp11_generate(UKP11_CTX *ctx, const UKP11_URI *uri, const UKP11_KEYGEN *p,
                     ukp11_pin_fn *pin_cb, void *pin_arg, UKP11_OBJ **priv);

/* ---- names ---------------------------------------------------------------- */

const char *ukp11_rv_name(CK_RV rv);              /* "CKR_PIN_INCORRECT" */
const char *ukp11_mech_name(CK_MECHANISM_TYPE m); /* "CKM_RSA_PKCS" */

#endif
