/* The uakey OPC UA client: discovery and a session whose every asymmetric
 * operation runs through the policy adapter (so through the token when the
 * key is a token key).  Services: OPC 10000-4 5.4 (GetEndpoints), 5.5
 * (OpenSecureChannel), 5.6 (CreateSession, ActivateSession, CloseSession),
 * 5.10.2 (Read).  The first-connection flow follows the seed's story:
 * validate the server certificate against the PKI store, reject and
 * explain, or trust on request. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "uachan.h"
#include "uamsg.h"
#include "ukua_int.h"

#define DEFAULT_TIMEOUT 10000u
#define DEFAULT_NODE "ns=0;i=2258"
#define SESSION_NONCE_LEN 32

/* Algorithm URIs that go on the wire (SignatureData.algorithm,
 * UserNameIdentityToken.encryptionAlgorithm), keyed by the adapter's
 * algorithm names (OPC 10000-7 profiles; XML-DSig / XML-Enc URIs). */
static const struct {
    const char *name, *uri;
} alg_uris[] = {
    { "RSA-PKCS1-SHA1", "http://www.w3.org/2000/09/xmldsig#rsa-sha1" },
    { "RSA-PKCS1-SHA256", "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" },
    { "RSA-PSS-SHA256", "http://opcfoundation.org/UA/security/rsa-pss-sha2-256" },
    { "RSA-PKCS1", "http://www.w3.org/2001/04/xmlenc#rsa-1_5" },
    { "RSA-OAEP-SHA1", "http://www.w3.org/2001/04/xmlenc#rsa-oaep" },
    { "RSA-OAEP-SHA256", "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256" },
};

static const char *alg_uri(const char *name)
{
    size_t i;

    for (i = 0; name != NULL && i < sizeof(alg_uris) / sizeof(alg_uris[0]); i++) {
        if (strcmp(alg_uris[i].name, name) == 0)
            return alg_uris[i].uri;
    }
    return NULL;
}

static const char *mode_name(uint32_t m)
{
    switch (m) {
    case UA_MODE_NONE: return "None";
    case UA_MODE_SIGN: return "Sign";
    case UA_MODE_SIGNANDENCRYPT: return "SignAndEncrypt";
    default: return "Invalid";
    }
}

static const char *token_type_name(uint32_t t)
{
    switch (t) {
    case UA_TOKEN_ANONYMOUS: return "Anonymous";
    case UA_TOKEN_USERNAME: return "UserName";
    case UA_TOKEN_CERTIFICATE: return "Certificate";
    case UA_TOKEN_ISSUED: return "IssuedToken";
    default: return "Unknown";
    }
}

/* The part of a SecurityPolicy URI after '#'. */
static const char *policy_short(const char *uri)
{
    const char *h = uri ? strrchr(uri, '#') : NULL;

    return h ? h + 1 : (uri ? uri : "(none)");
}

typedef struct {
    uakey_line_fn *out;
    void *out_arg;
    uint32_t status;
    char *detail;
} RESULT;

static void say(RESULT *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(RESULT *res, const char *fmt, ...)
{
    char line[2048];
    va_list ap;

    if (res->out == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    res->out(res->out_arg, line);
}

static uint32_t set_result(RESULT *res, uint32_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static uint32_t set_result(RESULT *res, uint32_t status, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;

    if (res->status != 0)
        return res->status;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    res->status = status;
    free(res->detail);
    res->detail = strdup(buf);
    return status;
}

static uint32_t chan_result(RESULT *res, UACHAN *ch, const char *step)
{
    uint32_t st = uachan_status(ch) ? uachan_status(ch) : UA_BadUnexpectedError;

    return set_result(res, st, "%s: %s", step, uachan_detail(ch));
}

static void finish(RESULT *res, char **detail)
{
    if (detail != NULL)
        *detail = res->detail;
    else
        free(res->detail);
    res->detail = NULL;
}

static X509 *cert_from_bytes(const UA_BYTES *b)
{
    const unsigned char *p = b->p;

    if (b->p == NULL || b->len == 0 || b->len > 65536)
        return NULL;
    return d2i_X509(NULL, &p, (long)b->len);
}

static void describe_cert(RESULT *res, const char *indent, X509 *cert)
{
    char thumb[41] = "", *uri = uakey_cert_app_uri(cert), nb[64], na[64], *subj;
    const ASN1_TIME *t;
    struct tm tm;

    subj = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
    uakey_cert_thumbprint(cert, thumb);
    strcpy(nb, "?");
    strcpy(na, "?");
    t = X509_get0_notBefore(cert);
    if (ASN1_TIME_to_tm(t, &tm))
        strftime(nb, sizeof(nb), "%Y-%m-%dT%H:%M:%SZ", &tm);
    t = X509_get0_notAfter(cert);
    if (ASN1_TIME_to_tm(t, &tm))
        strftime(na, sizeof(na), "%Y-%m-%dT%H:%M:%SZ", &tm);
    say(res, "%ssubject:        %s", indent, subj ? subj : "?");
    say(res, "%sApplicationUri: %s", indent, uri ? uri : "(none)");
    say(res, "%sthumbprint:     %s", indent, thumb);
    say(res, "%svalid:          %s to %s", indent, nb, na);
    OPENSSL_free(subj);
    free(uri);
}

/* Hello + None channel + GetEndpoints. */
static int get_endpoints(RESULT *res, const char *url, unsigned int timeout,
                         UA_GETENDPOINTS_RESP *ge)
{
    UACHAN *ch = uachan_new(timeout);
    UA_WBUF w;
    UA_REQHDR h;
    UA_RBUF r;
    unsigned char *msg = NULL;
    size_t len = 0;
    int ok = 0;

    memset(ge, 0, sizeof(*ge));
    uab_w_init(&w, 0);
    if (ch == NULL) {
        set_result(res, UA_BadOutOfMemory, "out of memory");
        goto end;
    }
    if (!uachan_connect(ch, url)) {
        chan_result(res, ch, "connect");
        goto end;
    }
    if (!uachan_open(ch, NULL, UA_MODE_NONE, NULL, NULL, NULL, 600000)) {
        chan_result(res, ch, "OpenSecureChannel (None)");
        goto end;
    }
    memset(&h, 0, sizeof(h));
    h.handle = 1;
    h.timeout_ms = timeout;
    uamsg_put_getendpoints(&w, &h, url);
    if (!uachan_call(ch, &w, &msg, &len)) {
        chan_result(res, ch, "GetEndpoints");
        goto end;
    }
    uab_r_init(&r, msg, len);
    if (!uamsg_get_getendpoints(&r, ge)) {
        set_result(res, UA_BadDecodingError, "GetEndpoints: malformed response");
        goto end;
    }
    if (ge->hdr.result >= 0x80000000u) {
        set_result(res, ge->hdr.result, "GetEndpoints refused: %s",
                   uakey_status_name(ge->hdr.result));
        goto end;
    }
    ok = 1;
end:
    free(msg);
    uab_w_free(&w);
    uachan_free(ch);
    return ok;
}

uint32_t uakey_discover(const char *url, const UAKEY_DISCOVER_OPTS *o, char **detail)
{
    RESULT res;
    UA_GETENDPOINTS_RESP ge;
    size_t i, j;
    int saved = 0;

    memset(&res, 0, sizeof(res));
    res.out = o ? o->out : NULL;
    res.out_arg = o ? o->out_arg : NULL;
    if (detail != NULL)
        *detail = NULL;
    if (!get_endpoints(&res, url, o && o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT, &ge)) {
        uamsg_free_getendpoints(&ge);
        finish(&res, detail);
        return res.status;
    }
    say(&res, "%s: %zu endpoint%s", url, ge.n_endpoints, ge.n_endpoints == 1 ? "" : "s");
    for (i = 0; i < ge.n_endpoints; i++) {
        const UA_ENDPOINT *e = &ge.endpoints[i];
        char tokens[512] = "", *eurl, *epol, *etok, *ename, *euri;
        X509 *cert;

        for (j = 0; j < e->n_tokens; j++) {
            const UA_USERTOKENPOLICY *t = &e->tokens[j];
            size_t l = strlen(tokens);

            snprintf(tokens + l, sizeof(tokens) - l, "%s%s%s%s%s", j ? ", " : "",
                     token_type_name(t->token_type),
                     t->security_policy_uri && *t->security_policy_uri ? " (" : "",
                     t->security_policy_uri && *t->security_policy_uri
                         ? policy_short(t->security_policy_uri) : "",
                     t->security_policy_uri && *t->security_policy_uri ? ")" : "");
        }
        /* everything the server sent is escaped before it is printed */
        eurl = uamsg_printable(e->endpoint_url ? e->endpoint_url : "(no url)", 200);
        epol = uamsg_printable(policy_short(e->security_policy_uri), 200);
        etok = uamsg_printable(tokens[0] ? tokens : "(none)", 600);
        ename = uamsg_printable(e->server.application_name ? e->server.application_name : "?",
                                200);
        euri = uamsg_printable(e->server.application_uri ? e->server.application_uri
                                                         : "no ApplicationUri", 200);
        say(&res, "endpoint %zu: %s", i + 1, eurl ? eurl : "?");
        say(&res, "  SecurityPolicy: %s", epol ? epol : "?");
        say(&res, "  SecurityMode:   %s", mode_name(e->security_mode));
        say(&res, "  SecurityLevel:  %u", e->security_level);
        say(&res, "  UserTokens:     %s", etok ? etok : "?");
        say(&res, "  Server:         %s (%s)", ename ? ename : "?", euri ? euri : "?");
        free(eurl);
        free(epol);
        free(etok);
        free(ename);
        free(euri);
        cert = cert_from_bytes(&e->server_certificate);
        if (cert != NULL) {
            say(&res, "  certificate:");
            describe_cert(&res, "    ", cert);
            if (o && o->save_cert && !saved) {
                if (ukua_write_file_atomic(o->save_cert, e->server_certificate.p,
                                           e->server_certificate.len, 0644)) {
                    say(&res, "  certificate saved to %s", o->save_cert);
                    saved = 1;
                } else {
                    char buf[512];

                    set_result(&res, UA_BadInternalError, "cannot save the certificate: %s",
                               uakey_error_string(buf, sizeof(buf)));
                    ERR_clear_error();
                }
            }
            X509_free(cert);
        } else if (e->server_certificate.p != NULL) {
            say(&res, "  certificate:    (not a valid X.509 certificate)");
        } else {
            say(&res, "  certificate:    (none)");
        }
    }
    if (o && o->save_cert && !saved && res.status == 0)
        set_result(&res, UA_BadCertificateInvalid, "no endpoint carries a server certificate to save");
    uamsg_free_getendpoints(&ge);
    finish(&res, detail);
    return res.status;
}

/* ---- connect ---- */

typedef struct {
    RESULT res;
    const UAKEY_CONNECT_OPTS *o;
    const UAKEY_POLICY *pol;
    uint32_t mode;
    char *key_uri;               /* "pkcs11:..." or "a key in memory" */
    char own_thumb[41];
    UACHAN *ch;
    X509 *server_cert;
    UA_ENDPOINT *ep;             /* the chosen endpoint (in ge) */
    UA_GETENDPOINTS_RESP ge;
    UA_NODEID auth_token;
    unsigned char *auth_raw;
    uint32_t handle;
    unsigned int shown_renewals;
} CONN;

static void req_hdr(CONN *c, UA_REQHDR *h)
{
    memset(h, 0, sizeof(*h));
    h->auth_token = c->auth_raw ? &c->auth_token : NULL;
    h->handle = ++c->handle;
    h->timeout_ms = c->o->timeout_ms ? c->o->timeout_ms : DEFAULT_TIMEOUT;
}

/* A call whose response is decoded by the caller. */
static int call(CONN *c, UA_WBUF *w, unsigned char **msg, size_t *len, const char *step)
{
    int ok = uachan_call(c->ch, w, msg, len);

    uab_w_free(w);
    if (!ok) {
        chan_result(&c->res, c->ch, step);
        return 0;
    }
    if (uachan_renewals(c->ch) != c->shown_renewals) {
        c->shown_renewals = uachan_renewals(c->ch);
        say(&c->res, "SecureChannel token renewed: channel %u token %u, lifetime %u ms "
            "(request signed and response decrypted by %s)", uachan_channel_id(c->ch),
            uachan_token_id(c->ch), uachan_revised_lifetime(c->ch), c->key_uri);
    }
    return 1;
}

static int choose_endpoint(CONN *c)
{
    size_t i;
    const char *uri = uakey_policy_uri(c->pol);
    char offered[1024] = "";

    for (i = 0; i < c->ge.n_endpoints; i++) {
        UA_ENDPOINT *e = &c->ge.endpoints[i];
        size_t l = strlen(offered);

        if (e->security_policy_uri && strcmp(e->security_policy_uri, uri) == 0 &&
            e->security_mode == c->mode) {
            c->ep = e;
            return 1;
        }
        snprintf(offered + l, sizeof(offered) - l, "%s%s/%s", l ? ", " : "",
                 policy_short(e->security_policy_uri), mode_name(e->security_mode));
    }
    set_result(&c->res, UA_BadSecurityPolicyRejected,
               "the server offers no endpoint with %s/%s (it offers: %s)",
               uakey_policy_name(c->pol), mode_name(c->mode), offered[0] ? offered : "nothing");
    return 0;
}

/* OPC UA validation of the server certificate against our store, for the
 * endpoint in use (its ApplicationUri, our host name, the policy). */
static uint32_t verify_server(CONN *c, const char *host, char **why)
{
    UAKEY_VERIFY_OPTS vo;
    uint32_t st;

    memset(&vo, 0, sizeof(vo));
    vo.app_uri = c->ep->server.application_uri;
    vo.host = host;
    vo.policy_uri = uakey_policy_uri(c->pol);
    vo.flags = c->o->verify_flags;
    *why = NULL;
    st = uakey_verify(c->o->pki, c->server_cert, NULL, &vo, why);
    ERR_clear_error();
    return st;
}

/* Validate the server certificate; the first-connection flow. */
static int check_server_cert(CONN *c, const char *host)
{
    char *why = NULL, thumb[41] = "";
    uint32_t st;

    c->server_cert = cert_from_bytes(&c->ep->server_certificate);
    if (c->server_cert == NULL) {
        set_result(&c->res, UA_BadCertificateInvalid,
                   "the endpoint's server certificate is missing or not a valid X.509 "
                   "certificate");
        return 0;
    }
    uakey_cert_thumbprint(c->server_cert, thumb);
    st = verify_server(c, host, &why);
    if (st == UAKEY_Good) {
        say(&c->res, "server certificate %s: Good (trusted in %s)", thumb,
            uakey_pki_dir(c->o->pki));
        free(why);
        return 1;
    }
    if (st != UAKEY_BadCertificateUntrusted) {
        say(&c->res, "server certificate %s: %s 0x%08X", thumb, uakey_status_name(st),
            (unsigned int)st);
        describe_cert(&c->res, "  ", c->server_cert);
        set_result(&c->res, st, "the server certificate is not acceptable: %s",
                   why ? why : uakey_status_name(st));
        free(why);
        return 0;
    }
    free(why);
    say(&c->res, "server certificate %s is not trusted (BadCertificateUntrusted 0x801A0000):",
        thumb);
    describe_cert(&c->res, "  ", c->server_cert);
    if (!uakey_pki_reject(c->o->pki, c->server_cert)) {
        char buf[512];

        set_result(&c->res, UAKEY_BadCertificateUntrusted,
                   "cannot store the server certificate in rejected/: %s",
                   uakey_error_string(buf, sizeof(buf)));
        ERR_clear_error();
        return 0;
    }
    if (!c->o->trust_server && c->o->confirm != NULL) {
        char q[256];

        snprintf(q, sizeof(q), "Trust the server certificate %s?", thumb);
        if (c->o->confirm(c->o->confirm_arg, q))
            goto trust;
    }
    if (!c->o->trust_server) {
        say(&c->res, "  stored in %s/rejected/certs; to trust it:", uakey_pki_dir(c->o->pki));
        say(&c->res, "    uakey rejected trust --pki %s %s", uakey_pki_dir(c->o->pki), thumb);
        set_result(&c->res, UAKEY_BadCertificateUntrusted,
                   "the server certificate %s is not trusted; trust it with: uakey rejected "
                   "trust --pki %s %s", thumb, uakey_pki_dir(c->o->pki), thumb);
        return 0;
    }
trust:
    if (!uakey_pki_trust_rejected(c->o->pki, thumb)) {
        char buf[512];

        set_result(&c->res, UAKEY_BadCertificateUntrusted, "cannot trust the certificate: %s",
                   uakey_error_string(buf, sizeof(buf)));
        ERR_clear_error();
        return 0;
    }
    say(&c->res, "  now trusted (moved to %s/trusted/certs)", uakey_pki_dir(c->o->pki));
    /* validate again: the remaining steps (validity, host, URI, ...) */
    st = verify_server(c, host, &why);
    if (st != UAKEY_Good) {
        set_result(&c->res, st, "the server certificate is not acceptable: %s",
                   why ? why : uakey_status_name(st));
        free(why);
        return 0;
    }
    free(why);
    return 1;
}

/* Explain what a refused OpenSecureChannel most likely means. */
static void explain_opn_failure(CONN *c)
{
    uint32_t st = uachan_status(c->ch);

    if (st == UA_BadSecurityChecksFailed || st == UAKEY_BadCertificateUntrusted ||
        st == UA_BadConnectionClosed) {
        say(&c->res, "the server refused our certificate: it has most likely put it into its "
            "own rejected list and must trust it");
        say(&c->res, "  our certificate: %s%s%s thumbprint %s",
            c->o->own_name ? "own/certs/" : "", c->o->own_name ? c->o->own_name : "(given)",
            c->o->own_name ? ".der" : "", c->own_thumb);
        set_result(&c->res, st,
                   "OpenSecureChannel refused (%s): the server has most likely put our "
                   "certificate (thumbprint %s) into its rejected list and must trust it",
                   uakey_status_name(st), c->own_thumb);
        return;
    }
    chan_result(&c->res, c->ch, "OpenSecureChannel");
}

static int bytes_eq(const UA_BYTES *b, const unsigned char *p, size_t n)
{
    return b->p != NULL && b->len == n && memcmp(b->p, p, n) == 0;
}

/* Sign cert||nonce with our key (the token): ActivateSession's
 * clientSignature. */
static int sign_concat(CONN *c, const unsigned char *a, size_t al, const unsigned char *b,
                       size_t bl, unsigned char **sig, size_t *siglen)
{
    unsigned char *data = malloc(al + bl + 1);
    size_t cap = uakey_policy_signature_size(c->pol, c->o->key);
    int ok = 0;

    *sig = cap ? malloc(cap) : NULL;
    if (data == NULL || *sig == NULL)
        goto end;
    memcpy(data, a, al);
    memcpy(data + al, b, bl);
    *siglen = cap;
    ok = uakey_policy_sign(c->pol, c->o->key, data, al + bl, *sig, siglen);
end:
    free(data);
    if (!ok) {
        free(*sig);
        *sig = NULL;
    }
    return ok;
}

static const UA_USERTOKENPOLICY *find_token(const UA_ENDPOINT *e, uint32_t type)
{
    size_t i;

    for (i = 0; i < e->n_tokens; i++) {
        if (e->tokens[i].token_type == type)
            return &e->tokens[i];
    }
    return NULL;
}

static int create_session(CONN *c, unsigned char *own_der, size_t own_len,
                          UA_BYTES *server_nonce)
{
    UA_WBUF w;
    UA_REQHDR h;
    UA_APPDESC client;
    UA_CREATESESSION_RESP cs;
    UA_RBUF r;
    unsigned char nonce[SESSION_NONCE_LEN], *msg = NULL, *data = NULL;
    size_t len = 0, i;
    char *app_uri = uakey_cert_app_uri(c->o->cert);
    int ok = 0, match = 0;
    const char *sig_uri = alg_uri(uakey_policy_asym_sign_alg(c->pol));

    memset(&cs, 0, sizeof(cs));
    memset(&client, 0, sizeof(client));
    client.application_uri = app_uri;
    client.product_uri = (char *)"urn:uakey:connect";
    client.application_name = (char *)"uakey connect";
    client.application_type = 1;
    if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
        set_result(&c->res, UA_BadInternalError, "cannot make a nonce");
        goto end;
    }
    req_hdr(c, &h);
    uab_w_init(&w, 0);
    uamsg_put_createsession(&w, &h, &client, c->o->url, "uakey connect", nonce, sizeof(nonce),
                            own_der, own_len, 600000.0, UACHAN_MAX_MESSAGE);
    if (!call(c, &w, &msg, &len, "CreateSession"))
        goto end;
    uab_r_init(&r, msg, len);
    if (!uamsg_get_createsession(&r, &cs)) {
        set_result(&c->res, UA_BadDecodingError, "CreateSession: malformed response");
        goto end;
    }
    if (cs.hdr.result >= 0x80000000u) {
        set_result(&c->res, cs.hdr.result, "CreateSession refused: %s",
                   uakey_status_name(cs.hdr.result));
        goto end;
    }
    if (!bytes_eq(&cs.server_certificate, c->ep->server_certificate.p,
                  c->ep->server_certificate.len)) {
        set_result(&c->res, UA_BadCertificateInvalid,
                   "CreateSession: the server certificate differs from its endpoint "
                   "description");
        goto end;
    }
    /* the endpoints must be the ones GetEndpoints gave (OPC 10000-4 5.6.2) */
    for (i = 0; i < cs.n_endpoints; i++) {
        if (cs.endpoints[i].security_policy_uri && c->ep->security_policy_uri &&
            strcmp(cs.endpoints[i].security_policy_uri, c->ep->security_policy_uri) == 0 &&
            cs.endpoints[i].security_mode == c->ep->security_mode)
            match = 1;
    }
    if (cs.n_endpoints > 0 && !match) {
        set_result(&c->res, UA_BadSecurityChecksFailed,
                   "CreateSession: the server's endpoint list lacks the endpoint in use");
        goto end;
    }
    if (cs.server_nonce.p == NULL || cs.server_nonce.len < SESSION_NONCE_LEN) {
        set_result(&c->res, UA_BadNonceInvalid, "CreateSession: server nonce of %zu bytes",
                   cs.server_nonce.len);
        goto end;
    }
    /* serverSignature = sign(clientCertificate || clientNonce) */
    if (cs.server_signature.algorithm == NULL || sig_uri == NULL ||
        strcmp(cs.server_signature.algorithm, sig_uri) != 0) {
        set_result(&c->res, UA_BadApplicationSignatureInvalid,
                   "CreateSession: server signature algorithm '%s', expected '%s'",
                   cs.server_signature.algorithm ? cs.server_signature.algorithm : "(none)",
                   sig_uri ? sig_uri : "?");
        goto end;
    }
    data = malloc(own_len + sizeof(nonce));
    if (data == NULL) {
        set_result(&c->res, UA_BadOutOfMemory, "out of memory");
        goto end;
    }
    memcpy(data, own_der, own_len);
    memcpy(data + own_len, nonce, sizeof(nonce));
    {
        EVP_PKEY *spub = X509_get0_pubkey(c->server_cert);

        if (cs.server_signature.signature.p == NULL ||
            !uakey_policy_verify(c->pol, spub, data, own_len + sizeof(nonce),
                                 cs.server_signature.signature.p,
                                 cs.server_signature.signature.len)) {
            ERR_clear_error();
            set_result(&c->res, UA_BadApplicationSignatureInvalid,
                       "CreateSession: the server signature does not verify with the server "
                       "certificate");
            goto end;
        }
    }
    /* keep the authentication token and the nonce */
    c->auth_raw = malloc(cs.auth_token.rawlen);
    if (c->auth_raw == NULL) {
        set_result(&c->res, UA_BadOutOfMemory, "out of memory");
        goto end;
    }
    memcpy(c->auth_raw, cs.auth_token.raw, cs.auth_token.rawlen);
    c->auth_token = cs.auth_token;
    c->auth_token.raw = c->auth_raw;
    c->auth_token.str.p = NULL;
    server_nonce->p = malloc(cs.server_nonce.len);
    if (server_nonce->p == NULL) {
        set_result(&c->res, UA_BadOutOfMemory, "out of memory");
        goto end;
    }
    memcpy(server_nonce->p, cs.server_nonce.p, cs.server_nonce.len);
    server_nonce->len = cs.server_nonce.len;
    say(&c->res, "CreateSession: session timeout %.0f ms; server signature verified with the "
        "server certificate", cs.revised_timeout_ms);
    ok = 1;
end:
    free(data);
    free(msg);
    free(app_uri);
    uamsg_free_createsession(&cs);
    return ok;
}

/* UserName password per OPC 10000-4 7.36.2.3 (legacy format): length
 * (UInt32) || password || server nonce, encrypted for the server. */
static int encrypt_password(CONN *c, const UAKEY_POLICY *tpol, const UA_BYTES *nonce,
                            unsigned char **out, size_t *outlen)
{
    size_t pl = strlen(c->o->password), n = 4 + pl + nonce->len, cap;
    unsigned char *plain = malloc(n);
    EVP_PKEY *spub = X509_get0_pubkey(c->server_cert);
    int ok = 0;

    *out = NULL;
    if (plain == NULL)
        return 0;
    plain[0] = (unsigned char)((pl + nonce->len) & 0xff);
    plain[1] = (unsigned char)(((pl + nonce->len) >> 8) & 0xff);
    plain[2] = (unsigned char)(((pl + nonce->len) >> 16) & 0xff);
    plain[3] = (unsigned char)(((pl + nonce->len) >> 24) & 0xff);
    memcpy(plain + 4, c->o->password, pl);
    memcpy(plain + 4 + pl, nonce->p, nonce->len);
    cap = uakey_policy_encrypted_size(tpol, spub, n);
    *out = cap ? malloc(cap) : NULL;
    if (*out != NULL) {
        *outlen = cap;
        ok = uakey_policy_encrypt(tpol, spub, plain, n, *out, outlen);
    }
    OPENSSL_clear_free(plain, n);
    if (!ok) {
        free(*out);
        *out = NULL;
    }
    return ok;
}

static int activate_session(CONN *c, const UA_BYTES *server_nonce)
{
    UA_WBUF w;
    UA_REQHDR h;
    UA_IDENTITY id;
    UA_ACTIVATESESSION_RESP as;
    UA_RBUF r;
    unsigned char *sig = NULL, *msg = NULL, *pw = NULL;
    size_t siglen = 0, len = 0, pwlen = 0, i;
    const UA_USERTOKENPOLICY *tp;
    int ok = 0;
    const char *who;

    memset(&as, 0, sizeof(as));
    memset(&id, 0, sizeof(id));
    /* clientSignature = sign(serverCertificate || serverNonce), in the token */
    if (!sign_concat(c, c->ep->server_certificate.p, c->ep->server_certificate.len,
                     server_nonce->p, server_nonce->len, &sig, &siglen)) {
        char buf[512];

        set_result(&c->res, UA_BadSecurityChecksFailed,
                   "ActivateSession: signing with our key failed: %s",
                   uakey_error_string(buf, sizeof(buf)));
        ERR_clear_error();
        goto end;
    }
    if (getenv("UAKEY_TEST_CORRUPT_CLIENT_SIGNATURE") != NULL && siglen > 0)
        sig[siglen / 2] ^= 0x01;      /* test hook: the server must refuse it */

    if (c->o->user == NULL) {
        tp = find_token(c->ep, UA_TOKEN_ANONYMOUS);
        if (tp == NULL) {
            set_result(&c->res, UA_BadSecurityPolicyRejected,
                       "the endpoint accepts no anonymous user; give --user");
            goto end;
        }
        id.policy_id = tp->policy_id;
        who = "anonymous";
    } else {
        const UAKEY_POLICY *tpol = c->pol;

        tp = find_token(c->ep, UA_TOKEN_USERNAME);
        if (tp == NULL) {
            set_result(&c->res, UA_BadSecurityPolicyRejected,
                       "the endpoint accepts no UserName identity");
            goto end;
        }
        if (tp->security_policy_uri != NULL && *tp->security_policy_uri != '\0') {
            if (strcmp(policy_short(tp->security_policy_uri), "None") == 0) {
                tpol = NULL;
            } else {
                tpol = uakey_policy_find(tp->security_policy_uri);
                ERR_clear_error();
                if (tpol == NULL || uakey_policy_asym_enc_alg(tpol) == NULL) {
                    set_result(&c->res, UA_BadSecurityPolicyRejected,
                               "the user token policy %s is not supported",
                               tp->security_policy_uri);
                    goto end;
                }
            }
        }
        id.policy_id = tp->policy_id;
        id.user_name = c->o->user;
        if (tpol == NULL) {
            if (c->mode != UA_MODE_SIGNANDENCRYPT) {
                set_result(&c->res, UA_BadSecurityPolicyRejected,
                           "the server wants the password unencrypted over a channel that is "
                           "not encrypted; refused");
                goto end;
            }
            id.password = (const unsigned char *)c->o->password;
            id.password_len = strlen(c->o->password);
        } else {
            if (!encrypt_password(c, tpol, server_nonce, &pw, &pwlen)) {
                char buf[512];

                set_result(&c->res, UA_BadIdentityTokenInvalid,
                           "cannot encrypt the password: %s",
                           uakey_error_string(buf, sizeof(buf)));
                ERR_clear_error();
                goto end;
            }
            id.password = pw;
            id.password_len = pwlen;
            id.enc_alg = alg_uri(uakey_policy_asym_enc_alg(tpol));
        }
        who = c->o->user;
    }
    req_hdr(c, &h);
    uab_w_init(&w, 0);
    uamsg_put_activatesession(&w, &h, alg_uri(uakey_policy_asym_sign_alg(c->pol)), sig, siglen,
                              &id);
    if (!call(c, &w, &msg, &len, "ActivateSession"))
        goto end;
    uab_r_init(&r, msg, len);
    if (!uamsg_get_activatesession(&r, &as)) {
        set_result(&c->res, UA_BadDecodingError, "ActivateSession: malformed response");
        goto end;
    }
    if (as.hdr.result >= 0x80000000u) {
        set_result(&c->res, as.hdr.result, "ActivateSession refused: %s%s",
                   uakey_status_name(as.hdr.result),
                   as.hdr.result == UA_BadApplicationSignatureInvalid
                       ? " (the server did not accept our clientSignature)" : "");
        goto end;
    }
    for (i = 0; i < as.n_results; i++) {
        if (as.results[i] >= 0x80000000u) {
            set_result(&c->res, as.results[i], "ActivateSession: software certificate %zu: %s",
                       i, uakey_status_name(as.results[i]));
            goto end;
        }
    }
    say(&c->res, "ActivateSession: user %s; clientSignature made by %s", who, c->key_uri);
    ok = 1;
end:
    if (pw != NULL)
        OPENSSL_clear_free(pw, pwlen);
    free(sig);
    free(msg);
    uamsg_free_activatesession(&as);
    return ok;
}

static int read_node(CONN *c, const char *node)
{
    UA_WBUF w;
    UA_REQHDR h;
    UA_READ_RESP rr;
    UA_RBUF r;
    unsigned char *msg = NULL;
    size_t len = 0;
    int ok = 0;
    char ts[40];

    memset(&rr, 0, sizeof(rr));
    req_hdr(c, &h);
    uab_w_init(&w, 0);
    if (!uamsg_put_read(&w, &h, node)) {
        uab_w_free(&w);
        set_result(&c->res, 0x80330000u /* BadNodeIdInvalid */,
                   "'%.80s%s' is not a NodeId (e.g. ns=0;i=2258 or ns=1;s=Name)", node,
                   strlen(node) > 80 ? "..." : "");
        return 0;
    }
    if (!call(c, &w, &msg, &len, "Read"))
        goto end;
    uab_r_init(&r, msg, len);
    if (!uamsg_get_read(&r, &rr)) {
        set_result(&c->res, UA_BadDecodingError, "Read: malformed response");
        goto end;
    }
    if (rr.hdr.result >= 0x80000000u) {
        set_result(&c->res, rr.hdr.result, "Read refused: %s", uakey_status_name(rr.hdr.result));
        goto end;
    }
    if (rr.n_results != 1) {
        set_result(&c->res, UA_BadUnexpectedError, "Read: %zu results for one node",
                   rr.n_results);
        goto end;
    }
    if (rr.results[0].status >= 0x80000000u) {
        set_result(&c->res, rr.results[0].status, "Read %.80s%s: %s", node,
                   strlen(node) > 80 ? "..." : "", uakey_status_name(rr.results[0].status));
        goto end;
    }
    uab_datetime_format(rr.results[0].server_timestamp, ts, sizeof(ts));
    say(&c->res, "Read %.80s%s: %s (server timestamp %s)", node, strlen(node) > 80 ? "..." : "",
        rr.results[0].has_value && rr.results[0].value.text ? rr.results[0].value.text
                                                            : "(no value)", ts);
    ok = 1;
end:
    free(msg);
    uamsg_free_read(&rr);
    return ok;
}

static void close_session(CONN *c)
{
    UA_WBUF w;
    UA_REQHDR h;
    UA_RESPHDR rh;
    UA_RBUF r;
    unsigned char *msg = NULL;
    size_t len = 0;

    req_hdr(c, &h);
    uab_w_init(&w, 0);
    uamsg_put_closesession(&w, &h, 1);
    if (!call(c, &w, &msg, &len, "CloseSession"))
        return;
    uab_r_init(&r, msg, len);
    if (!uamsg_get_closesession(&r, &rh))
        set_result(&c->res, UA_BadDecodingError, "CloseSession: malformed response");
    else if (rh.result >= 0x80000000u)
        set_result(&c->res, rh.result, "CloseSession: %s", uakey_status_name(rh.result));
    else
        say(&c->res, "CloseSession: Good");
    free(msg);
}

uint32_t uakey_connect(const UAKEY_CONNECT_OPTS *o, char **detail)
{
    CONN c;
    char *host = NULL, *port = NULL;
    unsigned char *own_der = NULL;
    size_t own_len = 0;
    UA_BYTES server_nonce = { NULL, 0 };
    unsigned int timeout;
    int session = 0, n;

    memset(&c, 0, sizeof(c));
    c.o = o;
    c.res.out = o->out;
    c.res.out_arg = o->out_arg;
    if (detail != NULL)
        *detail = NULL;
    timeout = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT;
    if (o->pki == NULL || o->key == NULL || o->cert == NULL || o->url == NULL) {
        set_result(&c.res, UA_BadInvalidArgument, "connect needs a URL, a PKI store, a key and "
                   "a certificate");
        goto end;
    }
    if (!uachan_parse_url(o->url, &host, &port)) {
        set_result(&c.res, UA_BadTcpEndpointUrlInvalid,
                   "'%s' is not an endpoint URL of the form opc.tcp://HOST:PORT[/PATH]", o->url);
        goto end;
    }
    c.pol = uakey_policy_find(o->policy ? o->policy : "Basic256Sha256");
    ERR_clear_error();
    if (c.pol == NULL) {
        set_result(&c.res, UA_BadSecurityPolicyRejected, "unknown SecurityPolicy '%s'",
                   o->policy);
        goto end;
    }
    if (uakey_policy_is_ecc(c.pol) || uakey_policy_asym_enc_alg(c.pol) == NULL) {
        set_result(&c.res, UA_BadSecurityPolicyRejected,
                   "%s is not supported by uakey connect (Basic256Sha256, "
                   "Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss, Basic256, Basic128Rsa15)",
                   uakey_policy_name(c.pol));
        goto end;
    }
    c.mode = o->mode ? o->mode : UA_MODE_SIGNANDENCRYPT;
    if (c.mode != UA_MODE_SIGN && c.mode != UA_MODE_SIGNANDENCRYPT) {
        set_result(&c.res, UA_BadSecurityPolicyRejected, "mode must be Sign or SignAndEncrypt");
        goto end;
    }
    if (!uakey_policy_key_fits(c.pol, o->key)) {
        char buf[512];

        set_result(&c.res, UA_BadSecurityPolicyRejected, "our key does not fit %s: %s",
                   uakey_policy_name(c.pol), uakey_error_string(buf, sizeof(buf)));
        ERR_clear_error();
        goto end;
    }
    if (X509_check_private_key(o->cert, o->key) != 1) {
        ERR_clear_error();
        set_result(&c.res, UA_BadCertificateInvalid,
                   "our certificate does not belong to our key");
        goto end;
    }
    c.key_uri = uakey_key_uri(o->key);
    ERR_clear_error();
    if (c.key_uri == NULL)
        c.key_uri = strdup("a key in memory (not in a token)");
    uakey_cert_thumbprint(o->cert, c.own_thumb);
    n = i2d_X509(o->cert, &own_der);
    own_len = n > 0 ? (size_t)n : 0;
    if (c.key_uri == NULL || n <= 0) {
        set_result(&c.res, UA_BadOutOfMemory, "out of memory");
        goto end;
    }

    /* 1. the endpoints and the server certificate (None channel) */
    if (!get_endpoints(&c.res, o->url, timeout, &c.ge))
        goto end;
    if (!choose_endpoint(&c))
        goto end;
    say(&c.res, "endpoint %s: %s %s", c.ep->endpoint_url ? c.ep->endpoint_url : o->url,
        uakey_policy_name(c.pol), mode_name(c.mode));
    if (!check_server_cert(&c, host))
        goto end;

    /* 2. the secure channel, asymmetric work with our key */
    c.ch = uachan_new(timeout);
    if (c.ch == NULL) {
        set_result(&c.res, UA_BadOutOfMemory, "out of memory");
        goto end;
    }
    if (!uachan_connect(c.ch, o->url)) {
        chan_result(&c.res, c.ch, "connect");
        goto end;
    }
    if (!uachan_open(c.ch, c.pol, c.mode, o->key, o->cert, c.server_cert,
                     o->lifetime_ms ? o->lifetime_ms : 3600000u)) {
        explain_opn_failure(&c);
        goto end;
    }
    say(&c.res, "OpenSecureChannel: %s %s, channel %u token %u, lifetime %u ms; request "
        "signed and response decrypted by %s", uakey_policy_name(c.pol), mode_name(c.mode),
        uachan_channel_id(c.ch), uachan_token_id(c.ch), uachan_revised_lifetime(c.ch),
        c.key_uri);

    /* 3. session */
    if (!create_session(&c, own_der, own_len, &server_nonce))
        goto end;
    session = 1;
    if (!activate_session(&c, &server_nonce))
        goto end;

    /* 4. read (and keep reading with --watch) */
    if (!read_node(&c, o->read_node ? o->read_node : DEFAULT_NODE))
        goto end;
    if (o->watch_s > 0) {
        long long stop = uachan_now_ms() + (long long)o->watch_s * 1000;
        unsigned int iv = o->interval_ms ? o->interval_ms : 1000;

        while (uachan_now_ms() + iv <= stop) {
            struct timespec ts = { (time_t)(iv / 1000), (long)(iv % 1000) * 1000000L };

            nanosleep(&ts, NULL);
            if (!read_node(&c, o->read_node ? o->read_node : DEFAULT_NODE))
                goto end;
        }
    }
    close_session(&c);
    session = 0;
    if (c.res.status == 0)
        say(&c.res, "done: %u private-key operations (sign, decrypt) by %s, %u token "
            "renewal%s", uachan_key_ops(c.ch) + 1, c.key_uri, uachan_renewals(c.ch),
            uachan_renewals(c.ch) == 1 ? "" : "s");
end:
    if (session && c.res.status != 0 && c.ch != NULL && uachan_status(c.ch) == 0) {
        uint32_t keep = c.res.status;
        char *kd = c.res.detail;

        c.res.status = 0;
        c.res.detail = NULL;
        close_session(&c);
        free(c.res.detail);
        c.res.status = keep;
        c.res.detail = kd;
    }
    uachan_free(c.ch);
    uamsg_free_getendpoints(&c.ge);
    X509_free(c.server_cert);
    free(c.auth_raw);
    free(server_nonce.p);
    OPENSSL_free(own_der);
    free(c.key_uri);
    free(host);
    free(port);
    finish(&c.res, detail);
    return c.res.status;
}
