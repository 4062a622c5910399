/* OPC UA service messages the client sends and receives (OPC 10000-4
 * services, OPC 10000-6 binary encoding): encoders for requests, decoders
 * for responses.  A request encoder writes the type NodeId
 * (…_Encoding_DefaultBinary) followed by the body; a response decoder
 * starts at the type NodeId.
 *
 * Decoded strings are malloc'd copies owned by the structure (free with
 * the matching _free function); ByteStrings are malloc'd too (p, len;
 * p NULL for a null ByteString).  Decoders return 1 on success, 0 when
 * the bytes are malformed (the reader's err flag is set) or a different
 * message type arrived; a ServiceFault is decoded into the header and
 * returns 1 with hdr.service_fault = 1 (hdr.result is its StatusCode). */
#ifndef UAMSG_H
#define UAMSG_H

#include <stddef.h>
#include <stdint.h>

#include "uabin.h"

/* Encoding NodeIds (ns=0) of the DefaultBinary encodings. */
#define UA_ID_SERVICEFAULT            397
#define UA_ID_GETENDPOINTS_REQ        428
#define UA_ID_GETENDPOINTS_RESP       431
#define UA_ID_OPENSECURECHANNEL_REQ   446
#define UA_ID_OPENSECURECHANNEL_RESP  449
#define UA_ID_CLOSESECURECHANNEL_REQ  452
#define UA_ID_CREATESESSION_REQ       461
#define UA_ID_CREATESESSION_RESP      464
#define UA_ID_ACTIVATESESSION_REQ     467
#define UA_ID_ACTIVATESESSION_RESP    470
#define UA_ID_CLOSESESSION_REQ        473
#define UA_ID_CLOSESESSION_RESP       476
#define UA_ID_READ_REQ                631
#define UA_ID_READ_RESP               634
#define UA_ID_ANONYMOUSIDENTITYTOKEN  321
#define UA_ID_USERNAMEIDENTITYTOKEN   324

enum { UA_MODE_INVALID = 0, UA_MODE_NONE = 1, UA_MODE_SIGN = 2, UA_MODE_SIGNANDENCRYPT = 3 };
enum { UA_TOKEN_ANONYMOUS = 0, UA_TOKEN_USERNAME = 1, UA_TOKEN_CERTIFICATE = 2, UA_TOKEN_ISSUED = 3 };

typedef struct {
    unsigned char *p;      /* NULL: null ByteString */
    size_t len;
} UA_BYTES;

/* ---- headers ---- */
typedef struct {
    const UA_NODEID *auth_token;   /* NULL: the null NodeId (before ActivateSession) */
    uint32_t handle;
    uint32_t timeout_ms;
} UA_REQHDR;

typedef struct {
    int64_t timestamp;
    uint32_t handle;
    uint32_t result;               /* serviceResult */
    int service_fault;             /* 1: the message was a ServiceFault */
} UA_RESPHDR;

/* ---- structures ---- */
typedef struct {
    char *application_uri, *product_uri, *application_name;  /* name: LocalizedText text */
    uint32_t application_type;     /* 0 Server 1 Client 2 ClientAndServer 3 DiscoveryServer */
    char *gateway_server_uri, *discovery_profile_uri;
    char **discovery_urls;
    size_t n_discovery_urls;
} UA_APPDESC;

typedef struct {
    char *policy_id;
    uint32_t token_type;           /* UA_TOKEN_* */
    char *issued_token_type, *issuer_endpoint_url, *security_policy_uri;
} UA_USERTOKENPOLICY;

typedef struct {
    char *endpoint_url;
    UA_APPDESC server;
    UA_BYTES server_certificate;
    uint32_t security_mode;        /* UA_MODE_* */
    char *security_policy_uri;
    UA_USERTOKENPOLICY *tokens;
    size_t n_tokens;
    char *transport_profile_uri;
    uint8_t security_level;
} UA_ENDPOINT;

typedef struct {
    char *algorithm;
    UA_BYTES signature;
} UA_SIGDATA;

/* A decoded Variant, reduced to what the client prints: the built-in type
 * id (1 Boolean ... 13 DateTime ... 22 ExtensionObject, 0 null), whether it
 * is an array (and its length), and a text rendering ("2026-11-26T10:00:00.000Z",
 * "42", "\"text\"", "[3 elements: 1, 2, 3]", "ExtensionObject ns=0;i=864 (52 bytes)"). */
typedef struct {
    uint8_t type;
    int is_array;
    int32_t array_len;
    char *text;
} UA_VARIANT;

typedef struct {
    int has_value;
    UA_VARIANT value;
    uint32_t status;               /* Good when absent */
    int64_t source_timestamp, server_timestamp;   /* 0 when absent */
} UA_DATAVALUE;

/* ---- requests ---- */

void uamsg_put_reqhdr(UA_WBUF *w, const UA_REQHDR *h);

void uamsg_put_getendpoints(UA_WBUF *w, const UA_REQHDR *h, const char *endpoint_url);

/* request_type: 0 Issue, 1 Renew.  nonce NULL/0: null ByteString. */
void uamsg_put_opensecurechannel(UA_WBUF *w, const UA_REQHDR *h, uint32_t request_type,
                                 uint32_t security_mode, const unsigned char *nonce,
                                 size_t nonce_len, uint32_t requested_lifetime_ms);

void uamsg_put_closesecurechannel(UA_WBUF *w, const UA_REQHDR *h);

/* client: our ApplicationDescription (type Client; name, uris). */
void uamsg_put_createsession(UA_WBUF *w, const UA_REQHDR *h, const UA_APPDESC *client,
                             const char *endpoint_url, const char *session_name,
                             const unsigned char *nonce, size_t nonce_len,
                             const unsigned char *cert, size_t cert_len,
                             double session_timeout_ms, uint32_t max_response_size);

/* Identity token: anonymous when user_name is NULL (policy_id of the
 * endpoint's anonymous UserTokenPolicy), else UserName with |password|
 * already encrypted (or plain for a None policy) and |enc_alg| the
 * encryption algorithm URI (NULL when not encrypted). */
typedef struct {
    const char *policy_id;
    const char *user_name;
    const unsigned char *password;
    size_t password_len;
    const char *enc_alg;
} UA_IDENTITY;

void uamsg_put_activatesession(UA_WBUF *w, const UA_REQHDR *h, const char *sig_alg_uri,
                               const unsigned char *sig, size_t sig_len,
                               const UA_IDENTITY *identity);

void uamsg_put_closesession(UA_WBUF *w, const UA_REQHDR *h, int delete_subscriptions);

/* Read of the Value attribute (13) of one node, timestamps Both.
 * node_id: text form "ns=1;s=Name", "i=2258", "ns=2;g=GUID", "ns=3;b=BASE64".
 * Returns 0 (nothing written) when the text is not a NodeId. */
int uamsg_put_read(UA_WBUF *w, const UA_REQHDR *h, const char *node_id);

/* Text NodeId to its binary encoding; 0 when malformed. */
int uamsg_put_nodeid_text(UA_WBUF *w, const char *text);

/* ---- responses ---- */

/* Type NodeId + ResponseHeader.  Returns 1 and the header when the type is
 * |expected| or ServiceFault; 0 for anything else or malformed bytes. */
int uamsg_get_resphdr(UA_RBUF *r, uint32_t expected, UA_RESPHDR *h);

typedef struct {
    UA_RESPHDR hdr;
    UA_ENDPOINT *endpoints;
    size_t n_endpoints;
} UA_GETENDPOINTS_RESP;
int uamsg_get_getendpoints(UA_RBUF *r, UA_GETENDPOINTS_RESP *resp);
void uamsg_free_getendpoints(UA_GETENDPOINTS_RESP *resp);

typedef struct {
    UA_RESPHDR hdr;
    uint32_t server_protocol_version;
    uint32_t channel_id, token_id;
    int64_t created_at;
    uint32_t revised_lifetime_ms;
    UA_BYTES server_nonce;
} UA_OPN_RESP;
int uamsg_get_opensecurechannel(UA_RBUF *r, UA_OPN_RESP *resp);
void uamsg_free_opensecurechannel(UA_OPN_RESP *resp);

typedef struct {
    UA_RESPHDR hdr;
    UA_NODEID session_id, auth_token;   /* raw point into a copy kept in _buf */
    double revised_timeout_ms;
    UA_BYTES server_nonce, server_certificate;
    UA_ENDPOINT *endpoints;
    size_t n_endpoints;
    UA_SIGDATA server_signature;
    uint32_t max_request_size;
    unsigned char *_buf;                /* owns the NodeIds' raw bytes */
} UA_CREATESESSION_RESP;
int uamsg_get_createsession(UA_RBUF *r, UA_CREATESESSION_RESP *resp);
void uamsg_free_createsession(UA_CREATESESSION_RESP *resp);

typedef struct {
    UA_RESPHDR hdr;
    UA_BYTES server_nonce;
    uint32_t *results;
    size_t n_results;
} UA_ACTIVATESESSION_RESP;
int uamsg_get_activatesession(UA_RBUF *r, UA_ACTIVATESESSION_RESP *resp);
void uamsg_free_activatesession(UA_ACTIVATESESSION_RESP *resp);

typedef struct {
    UA_RESPHDR hdr;
    UA_DATAVALUE *results;
    size_t n_results;
} UA_READ_RESP;
int uamsg_get_read(UA_RBUF *r, UA_READ_RESP *resp);
void uamsg_free_read(UA_READ_RESP *resp);

/* CloseSession: header only. */
int uamsg_get_closesession(UA_RBUF *r, UA_RESPHDR *hdr);

/* Free helpers for single structures. */
void uamsg_free_endpoint(UA_ENDPOINT *e);
void uamsg_free_endpoints(UA_ENDPOINT *e, size_t n);
void uamsg_free_appdesc(UA_APPDESC *a);

/* Skips (bounded recursion, depth limit 16 → err): */
void uamsg_skip_diaginfo(UA_RBUF *r);
void uamsg_skip_extobj(UA_RBUF *r);
void uamsg_skip_variant(UA_RBUF *r);

/* Decodes one DataValue / Variant (text rendering as described above). */
void uamsg_get_datavalue(UA_RBUF *r, UA_DATAVALUE *dv);
void uamsg_free_datavalue(UA_DATAVALUE *dv);

/* A decoded string from the server made safe to print: control bytes,
 * invalid UTF-8, C1/bidi/zero-width characters escaped (\n, \xNN,
 * \u{XXXX}) the way Variant texts are; at most |max_chars| characters
 * (and about 2 KiB), then "…".  malloc'd; NULL for NULL or when out of
 * memory. */
char *uamsg_printable(const char *s, size_t max_chars);

#endif
