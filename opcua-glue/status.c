/* libuakey: names of the OPC UA StatusCodes uakey returns or that relate to
 * certificate and security checks (values: OPC 10000-4 6.1.3 / 10000-6,
 * as listed in the UA StatusCode.csv). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "ukua_int.h"

/* One row per code; the codes that uakey.h names first, then the related
 * ones a caller may meet next to them (never returned by uakey_verify). */
static const struct {
    uint32_t code;
    const char *name;
} status_names[] = {
    { UAKEY_Good,                                  "Good" },
    { UAKEY_BadCertificateInvalid,                 "BadCertificateInvalid" },
    { UAKEY_BadSecurityChecksFailed,               "BadSecurityChecksFailed" },
    { UAKEY_BadCertificateTimeInvalid,             "BadCertificateTimeInvalid" },
    { UAKEY_BadCertificateIssuerTimeInvalid,       "BadCertificateIssuerTimeInvalid" },
    { UAKEY_BadCertificateHostNameInvalid,         "BadCertificateHostNameInvalid" },
    { UAKEY_BadCertificateUriInvalid,              "BadCertificateUriInvalid" },
    { UAKEY_BadCertificateUseNotAllowed,           "BadCertificateUseNotAllowed" },
    { UAKEY_BadCertificateIssuerUseNotAllowed,     "BadCertificateIssuerUseNotAllowed" },
    { UAKEY_BadCertificateUntrusted,               "BadCertificateUntrusted" },
    { UAKEY_BadCertificateRevocationUnknown,       "BadCertificateRevocationUnknown" },
    { UAKEY_BadCertificateIssuerRevocationUnknown, "BadCertificateIssuerRevocationUnknown" },
    { UAKEY_BadCertificateRevoked,                 "BadCertificateRevoked" },
    { UAKEY_BadCertificateIssuerRevoked,           "BadCertificateIssuerRevoked" },
    { UAKEY_BadCertificateChainIncomplete,         "BadCertificateChainIncomplete" },
    { UAKEY_BadCertificatePolicyCheckFailed,       "BadCertificatePolicyCheckFailed" },
    { UAKEY_BadSecurityPolicyRejected,             "BadSecurityPolicyRejected" },
    /* related codes (opcua-security.md section 3) */
    { 0x80540000u,                                 "BadSecurityModeRejected" },
    { 0x80570000u,                                 "BadUserSignatureInvalid" },
    { 0x80580000u,                                 "BadApplicationSignatureInvalid" },
    { 0x80200000u,                                 "BadIdentityTokenInvalid" },
    { 0x80210000u,                                 "BadIdentityTokenRejected" },
    { 0x80240000u,                                 "BadNonceInvalid" },
};

const char *uakey_status_name(uint32_t code)
{
    size_t i;

    for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
        if (status_names[i].code == code)
            return status_names[i].name;
    }
    return "Unknown";
}
