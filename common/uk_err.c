/* uakey: reason strings. */
#include "uk_err.h"

static const char *const uk_reason_text[UK_R_MAX] = {
    [UK_R_NONE] = "no error",
    [UK_R_INTERNAL] = "internal error",
    [UK_R_MALLOC] = "out of memory",
    [UK_R_BAD_URI] = "malformed pkcs11 URI",
    [UK_R_UNKNOWN_URI_ATTR] = "unsupported pkcs11 URI attribute",
    [UK_R_MODULE_LOAD] = "cannot load PKCS#11 module",
    [UK_R_MODULE_INIT] = "cannot initialize PKCS#11 module",
    [UK_R_TOKEN_NOT_FOUND] = "no matching token",
    [UK_R_TOKEN_NOT_PRESENT] = "token not present",
    [UK_R_OBJECT_NOT_FOUND] = "no matching object",
    [UK_R_AMBIGUOUS_OBJECT] = "several objects match",
    [UK_R_LOGIN_FAILED] = "login failed",
    [UK_R_PIN_REQUIRED] = "PIN required but none available",
    [UK_R_PIN_SOURCE] = "cannot read PIN source",
    [UK_R_SESSION] = "cannot open session",
    [UK_R_PKCS11_CALL] = "PKCS#11 call failed",
    [UK_R_MECH_UNSUPPORTED] = "mechanism not supported by token",
    [UK_R_WRONG_KEY_TYPE] = "wrong key type for operation",
    [UK_R_BAD_KEY] = "key object incomplete or invalid",
    [UK_R_KEYGEN_FAILED] = "key generation failed",
    [UK_R_BAD_PARAM] = "invalid parameter",
    [UK_R_BUFFER_TOO_SMALL] = "output buffer too small",
    [UK_R_INPUT_TOO_LARGE] = "input too large",
    [UK_R_SIGN_FAILED] = "signing failed",
    [UK_R_DECRYPT_FAILED] = "decryption failed",
    [UK_R_DERIVE_FAILED] = "key derivation failed",
    [UK_R_BAD_KEYREF] = "malformed key reference",
    [UK_R_NOT_SUPPORTED] = "operation not supported",
    [UK_R_FORKED] = "process forked",
    [UK_R_BAD_CONFIG] = "invalid configuration",
    [UK_R_IO] = "I/O error",
    [UK_R_PKI_STORE] = "PKI store error",
    [UK_R_BAD_CERT] = "invalid certificate",
    [UK_R_BAD_CRL] = "invalid CRL",
    [UK_R_BAD_NAME] = "invalid name",
    [UK_R_PERMISSION] = "permission denied",
    [UK_R_POLICY_UNKNOWN] = "unknown security policy",
    [UK_R_KEY_MISMATCH] = "certificate does not match the key",
};

const char *uk_reason_string(int reason)
{
    if (reason <= 0 || reason >= UK_R_MAX || uk_reason_text[reason] == NULL)
        return "unknown reason";
    return uk_reason_text[reason];
}
