/* OPC UA TCP transport and SecureChannel (OPC 10000-6 6.7 and 7.1) for the
 * uakey client: Hello/Acknowledge, OpenSecureChannel with asymmetric
 * security through the policy adapter (so the private-key work happens
 * wherever the EVP_PKEY lives: the token), symmetric MSG/CLO with the
 * derived keys, chunking both ways, sequence numbers, request ids, token
 * renewal, and a timeout on every wait.
 *
 * Every function that can fail returns 0 and leaves an OPC UA StatusCode
 * and a one-line cause in the channel (uachan_status / uachan_detail). */
#ifndef UACHAN_H
#define UACHAN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "uakey/uakey.h"
#include "uabin.h"

typedef struct uachan_st UACHAN;

/* Limits we announce in Hello (what we accept) and defaults. */
#define UACHAN_RECV_BUFFER     65536u
#define UACHAN_MAX_MESSAGE     (4u * 1024u * 1024u)
#define UACHAN_MAX_CHUNKS      256u

/* StatusCodes the transport reports (OPC UA values). */
#define UA_BadUnexpectedError           0x80010000u
#define UA_BadInternalError             0x80020000u
#define UA_BadOutOfMemory               0x80030000u
#define UA_BadCommunicationError        0x80050000u
#define UA_BadEncodingError             0x80060000u
#define UA_BadDecodingError             0x80070000u
#define UA_BadEncodingLimitsExceeded    0x80080000u
#define UA_BadTimeout                   0x800A0000u
#define UA_BadSecurityChecksFailed      0x80130000u
#define UA_BadCertificateInvalid        0x80120000u
#define UA_BadTcpMessageTypeInvalid     0x807E0000u
#define UA_BadTcpMessageTooLarge        0x80800000u
#define UA_BadTcpEndpointUrlInvalid     0x80830000u
#define UA_BadSecureChannelIdInvalid    0x80220000u
#define UA_BadSecureChannelTokenUnknown 0x80870000u
#define UA_BadSequenceNumberInvalid     0x80880000u
#define UA_BadSecurityPolicyRejected    0x80550000u
#define UA_BadConnectionRejected        0x80AC0000u
#define UA_BadConnectionClosed          0x80AE0000u
#define UA_BadNotConnected              0x808A0000u
#define UA_BadRequestTooLarge           0x80B80000u
#define UA_BadResponseTooLarge          0x80B90000u
#define UA_BadApplicationSignatureInvalid 0x80580000u
#define UA_BadNonceInvalid              0x80240000u
#define UA_BadServerUriInvalid          0x804F0000u
#define UA_BadInvalidArgument           0x80AB0000u
#define UA_BadIdentityTokenInvalid      0x80200000u

/* A new, unconnected channel.  timeout_ms bounds every wait (connect,
 * each read, each write, each request). */
UACHAN *uachan_new(unsigned int timeout_ms);
/* Sends CloseSecureChannel when a channel is open, closes the socket,
 * wipes the keys, frees. */
void uachan_free(UACHAN *ch);

/* Parse "opc.tcp://HOST:PORT[/path]"; host and port malloc'd. */
int uachan_parse_url(const char *url, char **host, char **port);

/* TCP connect (IPv4/IPv6 by getaddrinfo) + Hello/Acknowledge. */
int uachan_connect(UACHAN *ch, const char *url);

/* OpenSecureChannel (Issue).  pol NULL: SecurityPolicy None (key, cert
 * and server_cert unused).  Otherwise |key| is our private key (a token
 * key: sign and decrypt happen there), |cert| our certificate, and
 * |server_cert| the server's (encryption target, signature check).
 * lifetime_ms: the RequestedLifetime. */
int uachan_open(UACHAN *ch, const UAKEY_POLICY *pol, uint32_t mode, EVP_PKEY *key,
                X509 *cert, X509 *server_cert, uint32_t lifetime_ms);

/* OpenSecureChannel (Renew); uachan_call does it by itself when 75% of
 * the token's lifetime has passed. */
int uachan_renew(UACHAN *ch);

/* One service call: |req| (type NodeId + body, from uamsg_put_*) sent as
 * a MSG message (chunked as needed); the response body (type NodeId +
 * body) returned in *resp (malloc'd, *resp_len) for uamsg_get_*. */
int uachan_call(UACHAN *ch, const UA_WBUF *req, unsigned char **resp, size_t *resp_len);

/* CloseSecureChannel + socket close (also done by uachan_free). */
void uachan_close(UACHAN *ch);

uint32_t uachan_status(const UACHAN *ch);
const char *uachan_detail(const UACHAN *ch);
/* Set the status from outside (the session layer) with a printf cause. */
void uachan_fail(UACHAN *ch, uint32_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Milliseconds of CLOCK_MONOTONIC (for deadlines). */
long long uachan_now_ms(void);

/* Facts about the open channel. */
uint32_t uachan_channel_id(const UACHAN *ch);
uint32_t uachan_token_id(const UACHAN *ch);
uint32_t uachan_revised_lifetime(const UACHAN *ch);
unsigned int uachan_renewals(const UACHAN *ch);
/* Count of private-key operations done with our key (sign, decrypt). */
unsigned int uachan_key_ops(const UACHAN *ch);
/* The server certificate the OPN response carried (DER), NULL for None. */
const unsigned char *uachan_peer_cert(const UACHAN *ch, size_t *len);

/* ---- for the fuzz target and tests: no socket ---- */

/* A channel in the state after Hello/Acknowledge and an open None channel
 * with id |channel_id|, fed from memory instead of a socket. */
UACHAN *uachan_new_offline(uint32_t channel_id);
/* Feed one whole received chunk (header included).  Returns 1 and the
 * assembled message (*msg, malloc'd) when it completed one, 1 with
 * *msg NULL when more chunks are needed, 0 on error (status set). */
int uachan_feed_chunk(UACHAN *ch, const unsigned char *chunk, size_t len,
                      unsigned char **msg, size_t *msg_len);

#endif
