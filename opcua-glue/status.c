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
    /* service and transport level codes an OPC UA client meets (values
     * from the OPC Foundation's StatusCode.csv, UA-Nodeset Schema/) */
    { 0x40000000u,                                 "Uncertain" },
    { 0x80000000u,                                 "Bad" },
    { 0x80010000u,                                 "BadUnexpectedError" },
    { 0x80020000u,                                 "BadInternalError" },
    { 0x80030000u,                                 "BadOutOfMemory" },
    { 0x80040000u,                                 "BadResourceUnavailable" },
    { 0x80050000u,                                 "BadCommunicationError" },
    { 0x80060000u,                                 "BadEncodingError" },
    { 0x80070000u,                                 "BadDecodingError" },
    { 0x80080000u,                                 "BadEncodingLimitsExceeded" },
    { 0x80B80000u,                                 "BadRequestTooLarge" },
    { 0x80B90000u,                                 "BadResponseTooLarge" },
    { 0x80090000u,                                 "BadUnknownResponse" },
    { 0x800A0000u,                                 "BadTimeout" },
    { 0x800B0000u,                                 "BadServiceUnsupported" },
    { 0x800C0000u,                                 "BadShutdown" },
    { 0x800D0000u,                                 "BadServerNotConnected" },
    { 0x800E0000u,                                 "BadServerHalted" },
    { 0x800F0000u,                                 "BadNothingToDo" },
    { 0x80100000u,                                 "BadTooManyOperations" },
    { 0x80110000u,                                 "BadDataTypeIdUnknown" },
    { 0x801F0000u,                                 "BadUserAccessDenied" },
    { 0x80220000u,                                 "BadSecureChannelIdInvalid" },
    { 0x80230000u,                                 "BadInvalidTimestamp" },
    { 0x80250000u,                                 "BadSessionIdInvalid" },
    { 0x80260000u,                                 "BadSessionClosed" },
    { 0x80270000u,                                 "BadSessionNotActivated" },
    { 0x802A0000u,                                 "BadRequestHeaderInvalid" },
    { 0x802B0000u,                                 "BadTimestampsToReturnInvalid" },
    { 0x802C0000u,                                 "BadRequestCancelledByClient" },
    { 0x80310000u,                                 "BadNoCommunication" },
    { 0x80320000u,                                 "BadWaitingForInitialData" },
    { 0x80330000u,                                 "BadNodeIdInvalid" },
    { 0x80340000u,                                 "BadNodeIdUnknown" },
    { 0x80350000u,                                 "BadAttributeIdInvalid" },
    { 0x80360000u,                                 "BadIndexRangeInvalid" },
    { 0x80380000u,                                 "BadDataEncodingInvalid" },
    { 0x80390000u,                                 "BadDataEncodingUnsupported" },
    { 0x803A0000u,                                 "BadNotReadable" },
    { 0x803D0000u,                                 "BadNotSupported" },
    { 0x803E0000u,                                 "BadNotFound" },
    { 0x80400000u,                                 "BadNotImplemented" },
    { 0x804F0000u,                                 "BadServerUriInvalid" },
    { 0x80530000u,                                 "BadRequestTypeInvalid" },
    { 0x80560000u,                                 "BadTooManySessions" },
    { 0x80590000u,                                 "BadNoValidCertificates" },
    { 0x806F0000u,                                 "BadNoMatch" },
    { 0x80700000u,                                 "BadMaxAgeInvalid" },
    { 0x80E60000u,                                 "BadSecurityModeInsufficient" },
    { 0x80EE0000u,                                 "BadServerTooBusy" },
    { 0x807D0000u,                                 "BadTcpServerTooBusy" },
    { 0x807E0000u,                                 "BadTcpMessageTypeInvalid" },
    { 0x807F0000u,                                 "BadTcpSecureChannelUnknown" },
    { 0x80800000u,                                 "BadTcpMessageTooLarge" },
    { 0x80810000u,                                 "BadTcpNotEnoughResources" },
    { 0x80820000u,                                 "BadTcpInternalError" },
    { 0x80830000u,                                 "BadTcpEndpointUrlInvalid" },
    { 0x80840000u,                                 "BadRequestInterrupted" },
    { 0x80850000u,                                 "BadRequestTimeout" },
    { 0x80860000u,                                 "BadSecureChannelClosed" },
    { 0x80870000u,                                 "BadSecureChannelTokenUnknown" },
    { 0x80880000u,                                 "BadSequenceNumberInvalid" },
    { 0x80BE0000u,                                 "BadProtocolVersionUnsupported" },
    { 0x808A0000u,                                 "BadNotConnected" },
    { 0x80AB0000u,                                 "BadInvalidArgument" },
    { 0x80AC0000u,                                 "BadConnectionRejected" },
    { 0x80AD0000u,                                 "BadDisconnect" },
    { 0x80AE0000u,                                 "BadConnectionClosed" },
    { 0x80AF0000u,                                 "BadInvalidState" },
    { 0x80B00000u,                                 "BadEndOfStream" },
    { 0x80B70000u,                                 "BadMaxConnectionsReached" },
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
