/* OPC UA TCP transport and SecureChannel for the uakey client (see
 * uachan.h).  Facts: OPC 10000-6 6.7 (secure conversation: chunk layout,
 * padding, signatures, key derivation, token renewal) and 7.1 (UA TCP:
 * Hello, Acknowledge, Error, limits). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "uachan.h"
#include "uamsg.h"
#include "ukua_int.h"

#define POLICY_NONE_URI "http://opcfoundation.org/UA/SecurityPolicy#None"
#define HDR_LEN 8            /* MessageType(3) ChunkType(1) MessageSize(4) */
#define SYM_HDR_LEN 16       /* + SecureChannelId + TokenId */
#define SEQ_LEN 8            /* SequenceNumber + RequestId */
#define MIN_CHUNK 8192u      /* smallest buffer OPC 10000-6 7.1.2.3 allows */

struct keyset {
    int valid;
    uint32_t token_id;
    unsigned char sign[64], enc[64], iv[32];
    size_t sign_len, enc_len, iv_len;
};

struct uachan_st {
    int fd;
    unsigned int timeout_ms;
    uint32_t status;
    char detail[768];
    char *url;

    /* what the server accepts (from Acknowledge) and what we accept */
    uint32_t peer_recv_buf, peer_max_msg, peer_max_chunks;
    uint32_t recv_buf, max_msg, max_chunks;

    /* security */
    const UAKEY_POLICY *pol;        /* NULL: None */
    uint32_t mode;
    EVP_PKEY *key;                  /* ours, not owned */
    unsigned char *cert_der;        /* ours */
    size_t cert_len;
    EVP_PKEY *peer_key;             /* the server's public key */
    unsigned char *peer_der;        /* the server certificate we expect */
    size_t peer_len;
    unsigned char peer_thumb[SHA_DIGEST_LENGTH], own_thumb[SHA_DIGEST_LENGTH];
    const EVP_MD *hmac_md;          /* symmetric signature digest */
    size_t hmac_len;
    const char *cipher_name;

    int open;
    uint32_t channel_id, token_id, lifetime_ms;
    struct timespec token_time;
    struct keyset send_keys, recv_cur, recv_prev;
    unsigned char client_nonce[64];
    size_t nonce_len;
    uint32_t seq_out, seq_in;
    int have_seq_in;
    uint32_t request_id;
    unsigned int renewals, key_ops;
    int offline;

    /* the message being assembled from chunks */
    UA_WBUF asm_buf;
    int asm_active;
    uint32_t asm_request_id;
    unsigned int asm_chunks;
    char asm_type[4];
    uint32_t last_request_id;       /* request id of the last completed message */

    const char *capture_dir;
    unsigned int capture_n;
};

/* ---- status ---- */

static void vfail(UACHAN *ch, uint32_t status, const char *fmt, va_list ap)
{
    if (ch->status != 0)            /* keep the first, most precise cause */
        return;
    ch->status = status;
    vsnprintf(ch->detail, sizeof(ch->detail), fmt, ap);
}

void uachan_fail(UACHAN *ch, uint32_t status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(ch, status, fmt, ap);
    va_end(ap);
}

#define fail uachan_fail

/* A failure of an OpenSSL/uakey operation: the cause from the error queue
 * (which names the token call when the token failed). */
static int fail_crypto(UACHAN *ch, uint32_t status, const char *what)
{
    char buf[512];

    fail(ch, status, "%s: %s", what, uakey_error_string(buf, sizeof(buf)));
    ERR_clear_error();
    return 0;
}

uint32_t uachan_status(const UACHAN *ch) { return ch->status; }
const char *uachan_detail(const UACHAN *ch) { return ch->detail; }
uint32_t uachan_channel_id(const UACHAN *ch) { return ch->channel_id; }
uint32_t uachan_token_id(const UACHAN *ch) { return ch->token_id; }
uint32_t uachan_revised_lifetime(const UACHAN *ch) { return ch->lifetime_ms; }
unsigned int uachan_renewals(const UACHAN *ch) { return ch->renewals; }
unsigned int uachan_key_ops(const UACHAN *ch) { return ch->key_ops; }

const unsigned char *uachan_peer_cert(const UACHAN *ch, size_t *len)
{
    *len = ch->peer_len;
    return ch->peer_der;
}

/* ---- life cycle ---- */

UACHAN *uachan_new(unsigned int timeout_ms)
{
    UACHAN *ch = calloc(1, sizeof(*ch));

    if (ch == NULL)
        return NULL;
    ch->fd = -1;
    ch->timeout_ms = timeout_ms ? timeout_ms : 10000;
    ch->recv_buf = UACHAN_RECV_BUFFER;
    ch->max_msg = UACHAN_MAX_MESSAGE;
    ch->max_chunks = UACHAN_MAX_CHUNKS;
    uab_w_init(&ch->asm_buf, 0);
    ch->capture_dir = getenv("UAKEY_CAPTURE_DIR");
    if (ch->capture_dir != NULL && *ch->capture_dir == '\0')
        ch->capture_dir = NULL;
    return ch;
}

UACHAN *uachan_new_offline(uint32_t channel_id)
{
    UACHAN *ch = uachan_new(1000);

    if (ch == NULL)
        return NULL;
    ch->offline = 1;
    ch->open = 1;
    ch->channel_id = channel_id;
    ch->capture_dir = NULL;
    return ch;
}

static void wipe_keys(UACHAN *ch)
{
    OPENSSL_cleanse(&ch->send_keys, sizeof(ch->send_keys));
    OPENSSL_cleanse(&ch->recv_cur, sizeof(ch->recv_cur));
    OPENSSL_cleanse(&ch->recv_prev, sizeof(ch->recv_prev));
    OPENSSL_cleanse(ch->client_nonce, sizeof(ch->client_nonce));
}

void uachan_free(UACHAN *ch)
{
    if (ch == NULL)
        return;
    uachan_close(ch);
    wipe_keys(ch);
    uab_w_free(&ch->asm_buf);
    OPENSSL_free(ch->cert_der);
    OPENSSL_free(ch->peer_der);
    EVP_PKEY_free(ch->peer_key);
    EVP_MD_free((EVP_MD *)ch->hmac_md);
    free(ch->url);
    free(ch);
}

/* ---- socket I/O with deadlines ---- */

long long uachan_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(UACHAN *ch, short events, long long deadline, const char *what)
{
    for (;;) {
        struct pollfd p = { ch->fd, events, 0 };
        long long left = deadline - uachan_now_ms();
        int r;

        if (left <= 0) {
            fail(ch, UA_BadTimeout, "no answer from the server within %u ms (%s)",
                 ch->timeout_ms, what);
            return 0;
        }
        r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR) {
            fail(ch, UA_BadCommunicationError, "poll: %s", strerror(errno));
            return 0;
        }
    }
}

static int write_all(UACHAN *ch, const unsigned char *p, size_t n)
{
    long long deadline = uachan_now_ms() + ch->timeout_ms;

    if (ch->fd < 0) {
        fail(ch, UA_BadNotConnected, "not connected");
        return 0;
    }
    while (n > 0) {
        ssize_t w = send(ch->fd, p, n, MSG_NOSIGNAL);

        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            if (!wait_fd(ch, POLLOUT, deadline, "sending"))
                return 0;
            continue;
        }
        fail(ch, UA_BadConnectionClosed, "the server closed the connection (send: %s)",
             w < 0 ? strerror(errno) : "no progress");
        return 0;
    }
    return 1;
}

static int read_exact(UACHAN *ch, unsigned char *p, size_t n, long long deadline,
                      const char *what)
{
    while (n > 0) {
        ssize_t r = recv(ch->fd, p, n, 0);

        if (r > 0) {
            p += r;
            n -= (size_t)r;
            continue;
        }
        if (r == 0) {
            fail(ch, UA_BadConnectionClosed, "the server closed the connection (%s)", what);
            return 0;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (!wait_fd(ch, POLLIN, deadline, what))
                return 0;
            continue;
        }
        fail(ch, UA_BadCommunicationError, "receive: %s", strerror(errno));
        return 0;
    }
    return 1;
}

static void capture(UACHAN *ch, const char *kind, const unsigned char *p, size_t n)
{
    char path[4096];
    FILE *f;

    if (ch->capture_dir == NULL)
        return;
    snprintf(path, sizeof(path), "%s/%s-%04u-%d.bin", ch->capture_dir, kind,
             ch->capture_n++, (int)getpid());
    f = fopen(path, "wb");
    if (f == NULL)
        return;
    fwrite(p, 1, n, f);
    fclose(f);
}

/* MessageSize, the little-endian UInt32 at offset 4 of a chunk header. */
static uint32_t chunk_size(const unsigned char *hdr)
{
    return (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 | (uint32_t)hdr[6] << 16 |
           (uint32_t)hdr[7] << 24;
}

/* The 3-byte message type of a chunk, printable ('?' for other bytes). */
static const char *chunk_type_text(const unsigned char *chunk, char out[4])
{
    int i;

    for (i = 0; i < 3; i++)
        out[i] = chunk[i] >= 0x20 && chunk[i] < 0x7f ? (char)chunk[i] : '?';
    out[3] = '\0';
    return out;
}

/* One whole chunk from the socket: header checked against our limits. */
static int recv_chunk(UACHAN *ch, unsigned char **out, size_t *outlen, const char *what)
{
    unsigned char hdr[HDR_LEN], *buf;
    long long deadline = uachan_now_ms() + ch->timeout_ms;
    uint32_t size;

    *out = NULL;
    if (ch->fd < 0) {
        fail(ch, UA_BadNotConnected, "not connected");
        return 0;
    }
    if (!read_exact(ch, hdr, sizeof(hdr), deadline, what))
        return 0;
    size = chunk_size(hdr);
    /* the type first: random bytes are not a UA TCP message, whatever size
     * they seem to claim (a client receives ACK, ERR, OPN, MSG, CLO) */
    if ((memcmp(hdr, "ACK", 3) != 0 && memcmp(hdr, "ERR", 3) != 0 && memcmp(hdr, "OPN", 3) != 0 &&
         memcmp(hdr, "MSG", 3) != 0 && memcmp(hdr, "CLO", 3) != 0) ||
        (hdr[3] != 'F' && hdr[3] != 'C' && hdr[3] != 'A')) {
        fail(ch, UA_BadTcpMessageTypeInvalid,
             "the server sent something that is not an OPC UA TCP message (it starts with "
             "%02x %02x %02x %02x)", hdr[0], hdr[1], hdr[2], hdr[3]);
        return 0;
    }
    /* no exception for ACK: below HDR_LEN, size - HDR_LEN wraps around */
    if (size < HDR_LEN + 4) {
        fail(ch, UA_BadTcpMessageTypeInvalid, "chunk of %u bytes is too short", size);
        return 0;
    }
    if (size > ch->recv_buf) {
        fail(ch, UA_BadTcpMessageTooLarge,
             "the server sent a chunk of %u bytes, more than the %u we accept", size,
             ch->recv_buf);
        return 0;
    }
    buf = malloc(size);
    if (buf == NULL) {
        fail(ch, UA_BadOutOfMemory, "out of memory");
        return 0;
    }
    memcpy(buf, hdr, HDR_LEN);
    if (!read_exact(ch, buf + HDR_LEN, size - HDR_LEN, deadline, what)) {
        free(buf);
        return 0;
    }
    capture(ch, "chunk", buf, size);
    *out = buf;
    *outlen = size;
    return 1;
}

/* ---- Hello / Acknowledge ---- */

int uachan_parse_url(const char *url, char **host, char **port)
{
    const char *p, *h, *hend, *pt;
    size_t hl, pl;

    *host = *port = NULL;
    if (url == NULL || strncmp(url, "opc.tcp://", 10) != 0)
        return 0;
    p = url + 10;
    if (*p == '[') {                /* [IPv6]:port */
        h = p + 1;
        hend = strchr(h, ']');
        if (hend == NULL)
            return 0;
        pt = hend + 1;
    } else {
        h = p;
        hend = h + strcspn(h, ":/");
        pt = hend;
    }
    hl = (size_t)(hend - h);
    if (hl == 0 || hl > 255)
        return 0;
    if (*pt == ':') {
        pt++;
        pl = strspn(pt, "0123456789");
        if (pl == 0 || pl > 5 || (pt[pl] != '\0' && pt[pl] != '/') || atoi(pt) > 65535 ||
            atoi(pt) == 0)
            return 0;
    } else if (*pt == '\0' || *pt == '/') {
        pt = "4840";
        pl = 4;
    } else {
        return 0;
    }
    *host = strndup(h, hl);
    *port = strndup(pt, pl);
    if (*host == NULL || *port == NULL) {
        free(*host);
        free(*port);
        *host = *port = NULL;
        return 0;
    }
    return 1;
}

static int tcp_connect(UACHAN *ch, const char *host, const char *port)
{
    struct addrinfo hints, *res = NULL, *ai;
    long long deadline = uachan_now_ms() + ch->timeout_ms;
    int rc, last_err = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fail(ch, UA_BadTcpEndpointUrlInvalid, "cannot resolve %s: %s", host, gai_strerror(rc));
        return 0;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

        if (fd < 0) {
            last_err = errno;
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            int err = 0;
            socklen_t el = sizeof(err);

            ch->fd = fd;
            if (!wait_fd(ch, POLLOUT, deadline, "connecting")) {
                close(fd);
                ch->fd = -1;
                freeaddrinfo(res);
                return 0;
            }
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
            if (err == 0) {
                freeaddrinfo(res);
                return 1;
            }
            last_err = err;
            ch->fd = -1;
        } else {
            last_err = errno;
        }
        close(fd);
    }
    freeaddrinfo(res);
    fail(ch, UA_BadNotConnected, "cannot connect to %s port %s: %s", host, port,
         strerror(last_err ? last_err : ECONNREFUSED));
    return 0;
}

/* An ERR message: the server's StatusCode and reason. */
static int fail_err_message(UACHAN *ch, const unsigned char *buf, size_t len)
{
    UA_RBUF r;
    uint32_t code;
    UA_SPAN reason;
    char text[256];
    size_t i, n;

    uab_r_init(&r, buf + HDR_LEN, len - HDR_LEN);
    code = uab_get_u32(&r);
    reason = uab_get_span(&r);
    if (r.err) {
        fail(ch, UA_BadDecodingError, "the server sent a malformed Error message");
        return 0;
    }
    n = reason.null ? 0 : reason.len;
    if (n > sizeof(text) - 1)
        n = sizeof(text) - 1;
    for (i = 0; i < n; i++)
        text[i] = (reason.p[i] >= 0x20 && reason.p[i] < 0x7f) ? (char)reason.p[i] : '?';
    text[n] = '\0';
    fail(ch, code ? code : UA_BadUnexpectedError, "the server answered with an Error: %s%s%s",
         uakey_status_name(code), n ? ": " : "", text);
    return 0;
}

int uachan_connect(UACHAN *ch, const char *url)
{
    char *host = NULL, *port = NULL;
    UA_WBUF w;
    unsigned char *buf = NULL;
    size_t len;
    UA_RBUF r;
    int ok = 0;

    if (!uachan_parse_url(url, &host, &port)) {
        fail(ch, UA_BadTcpEndpointUrlInvalid,
             "'%s' is not an endpoint URL of the form opc.tcp://HOST:PORT[/PATH]", url);
        return 0;
    }
    free(ch->url);
    ch->url = strdup(url);
    if (!tcp_connect(ch, host, port))
        goto end;

    uab_w_init(&w, 0);
    uab_put_raw(&w, "HELF", 4);
    uab_put_u32(&w, 0);                   /* size, patched */
    uab_put_u32(&w, 0);                   /* ProtocolVersion */
    uab_put_u32(&w, ch->recv_buf);        /* ReceiveBufferSize */
    uab_put_u32(&w, ch->recv_buf);        /* SendBufferSize */
    uab_put_u32(&w, ch->max_msg);         /* MaxMessageSize */
    uab_put_u32(&w, ch->max_chunks);      /* MaxChunkCount */
    uab_put_string(&w, url);
    uab_patch_u32(&w, 4, (uint32_t)w.len);
    if (w.err || !write_all(ch, w.data, w.len)) {
        if (w.err)
            fail(ch, UA_BadEncodingError, "cannot encode Hello");
        uab_w_free(&w);
        goto end;
    }
    uab_w_free(&w);
    if (!recv_chunk(ch, &buf, &len, "waiting for Acknowledge"))
        goto end;
    if (memcmp(buf, "ERR", 3) == 0) {
        fail_err_message(ch, buf, len);
        goto end;
    }
    if (memcmp(buf, "ACKF", 4) != 0) {
        fail(ch, UA_BadTcpMessageTypeInvalid, "expected Acknowledge, got '%.3s'", (char *)buf);
        goto end;
    }
    uab_r_init(&r, buf + HDR_LEN, len - HDR_LEN);
    (void)uab_get_u32(&r);                /* ProtocolVersion */
    ch->peer_recv_buf = uab_get_u32(&r);
    (void)uab_get_u32(&r);                /* the server's SendBufferSize */
    ch->peer_max_msg = uab_get_u32(&r);
    ch->peer_max_chunks = uab_get_u32(&r);
    if (r.err || ch->peer_recv_buf < MIN_CHUNK) {
        fail(ch, UA_BadDecodingError, "malformed Acknowledge (receive buffer %u)",
             ch->peer_recv_buf);
        goto end;
    }
    ukua_dbg("Acknowledge from %s: receive buffer %u, max message %u, max chunks %u", url,
             ch->peer_recv_buf, ch->peer_max_msg, ch->peer_max_chunks);
    ok = 1;
end:
    free(buf);
    free(host);
    free(port);
    return ok;
}

/* ---- helpers for the security ---- */

static int sha1_of(const unsigned char *p, size_t n, unsigned char out[SHA_DIGEST_LENGTH])
{
    unsigned int l = 0;

    return EVP_Digest(p, n, out, &l, EVP_sha1(), NULL) && l == SHA_DIGEST_LENGTH;
}

static int encrypting(const UACHAN *ch)
{
    return ch->pol != NULL && ch->mode == UA_MODE_SIGNANDENCRYPT;
}

static int signing(const UACHAN *ch)
{
    return ch->pol != NULL && (ch->mode == UA_MODE_SIGN || ch->mode == UA_MODE_SIGNANDENCRYPT);
}

static int key_bits(EVP_PKEY *k)
{
    return k ? EVP_PKEY_get_bits(k) : 0;
}

/* AES-CBC without padding over |p| in place. */
static int sym_crypt(UACHAN *ch, const struct keyset *ks, int enc, unsigned char *p, size_t n)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, ch->cipher_name, NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = 0, l1 = 0, l2 = 0;
    unsigned char *out = malloc(n + 32);

    if (c == NULL || ctx == NULL || out == NULL)
        goto end;
    if (!EVP_CipherInit_ex2(ctx, c, ks->enc, ks->iv, enc, NULL) ||
        !EVP_CIPHER_CTX_set_padding(ctx, 0) ||
        !EVP_CipherUpdate(ctx, out, &l1, p, (int)n) ||
        !EVP_CipherFinal_ex(ctx, out + l1, &l2) || (size_t)(l1 + l2) != n)
        goto end;
    memcpy(p, out, n);
    ok = 1;
end:
    if (out != NULL)
        OPENSSL_clear_free(out, n + 32);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    if (!ok)
        fail_crypto(ch, UA_BadSecurityChecksFailed, enc ? "symmetric encryption failed"
                                                       : "symmetric decryption failed");
    return ok;
}

static int hmac(UACHAN *ch, const struct keyset *ks, const unsigned char *p, size_t n,
                unsigned char *out)
{
    size_t l = 0;

    if (EVP_Q_mac(NULL, "HMAC", NULL, EVP_MD_get0_name(ch->hmac_md), NULL, ks->sign,
                  ks->sign_len, p, n, out, ch->hmac_len, &l) == NULL || l != ch->hmac_len)
        return fail_crypto(ch, UA_BadSecurityChecksFailed, "HMAC failed");
    return 1;
}

/* P_hash derivation of one side's keys (OPC 10000-6 6.7.5). */
static int derive_keys(UACHAN *ch, const unsigned char *secret, size_t slen,
                       const unsigned char *seed, size_t seedlen, struct keyset *ks,
                       uint32_t token_id)
{
    unsigned char out[160];
    size_t sl, el, il;

    uakey_policy_derived_lengths(ch->pol, &sl, &el, &il);
    if (sl > sizeof(ks->sign) || el > sizeof(ks->enc) || il > sizeof(ks->iv)) {
        fail(ch, UA_BadInternalError, "derived key lengths out of range");
        return 0;
    }
    if (!uakey_policy_derive(ch->pol, secret, slen, seed, seedlen, NULL, 0, out, sl + el + il))
        return fail_crypto(ch, UA_BadSecurityChecksFailed, "key derivation failed");
    memcpy(ks->sign, out, sl);
    memcpy(ks->enc, out + sl, el);
    memcpy(ks->iv, out + sl + el, il);
    ks->sign_len = sl;
    ks->enc_len = el;
    ks->iv_len = il;
    ks->token_id = token_id;
    ks->valid = 1;
    OPENSSL_cleanse(out, sizeof(out));
    return 1;
}

/* ---- sending ---- */

static uint32_t next_seq(UACHAN *ch)
{
    uint32_t s = ch->seq_out;

    /* wrap before 2^32 - 1024 (OPC 10000-6 6.7.2.4) */
    ch->seq_out = (s >= 4294966271u) ? 1 : s + 1;
    return s;
}

/* Padding for |unpadded| bytes to a multiple of |block|, with the extra
 * byte when the encrypting key is longer than 2048 bits. */
static void put_padding(UA_WBUF *w, size_t unpadded, size_t block, int extra)
{
    size_t total = unpadded + 1 + (extra ? 1 : 0);
    size_t n = (block - total % block) % block, i;

    uab_put_u8(w, (uint8_t)(n & 0xff));
    for (i = 0; i < n; i++)
        uab_put_u8(w, (uint8_t)(n & 0xff));
    if (extra)
        uab_put_u8(w, (uint8_t)(n >> 8));
}

/* An asymmetric OPN chunk carrying |body|. */
static int send_opn(UACHAN *ch, const UA_WBUF *body, uint32_t request_id)
{
    UA_WBUF w;
    size_t hdr_end, sig_len = 0, plain_block = 0, cipher_block = 0, enc_start, enc_len;
    unsigned char *sig = NULL, *ct = NULL;
    int ok = 0, extra;

    uab_w_init(&w, 0);
    uab_put_raw(&w, "OPNF", 4);
    uab_put_u32(&w, 0);
    uab_put_u32(&w, ch->channel_id);
    if (ch->pol == NULL) {
        uab_put_string(&w, POLICY_NONE_URI);
        uab_put_bytes(&w, NULL, 0);
        uab_put_bytes(&w, NULL, 0);
    } else {
        uab_put_string(&w, uakey_policy_uri(ch->pol));
        uab_put_bytes(&w, ch->cert_der, ch->cert_len);
        uab_put_bytes(&w, ch->peer_thumb, sizeof(ch->peer_thumb));
    }
    hdr_end = w.len;
    uab_put_u32(&w, next_seq(ch));
    uab_put_u32(&w, request_id);
    uab_put_raw(&w, body->data, body->len);

    if (ch->pol != NULL) {
        sig_len = uakey_policy_signature_size(ch->pol, ch->key);
        plain_block = uakey_policy_plain_block_size(ch->pol, ch->peer_key);
        cipher_block = uakey_policy_cipher_block_size(ch->pol, ch->peer_key);
        if (sig_len == 0 || plain_block == 0 || cipher_block == 0) {
            fail(ch, UA_BadSecurityPolicyRejected,
                 "the keys do not fit %s (our key %d bits, the server's %d bits)",
                 uakey_policy_name(ch->pol), key_bits(ch->key), key_bits(ch->peer_key));
            goto end;
        }
        extra = key_bits(ch->peer_key) > 2048;
        put_padding(&w, w.len - hdr_end + sig_len, plain_block, extra);
        enc_len = (w.len - hdr_end + sig_len) / plain_block * cipher_block;
        uab_patch_u32(&w, 4, (uint32_t)(hdr_end + enc_len));
        if (w.err)
            goto encode_err;
        /* signed: the whole chunk as it will be sent, before encryption */
        sig = malloc(sig_len);
        if (sig == NULL)
            goto encode_err;
        {
            size_t sl = sig_len;

            ch->key_ops++;
            if (!uakey_policy_sign(ch->pol, ch->key, w.data, w.len, sig, &sl) ||
                sl != sig_len) {
                fail_crypto(ch, UA_BadSecurityChecksFailed,
                            "signing the OpenSecureChannel request failed");
                goto end;
            }
        }
        uab_put_raw(&w, sig, sig_len);
        enc_start = hdr_end;
        ct = malloc(enc_len);
        if (w.err || ct == NULL)
            goto encode_err;
        {
            size_t cl = enc_len;

            if (!uakey_policy_encrypt(ch->pol, ch->peer_key, w.data + enc_start,
                                      w.len - enc_start, ct, &cl) || cl != enc_len) {
                fail_crypto(ch, UA_BadSecurityChecksFailed,
                            "encrypting the OpenSecureChannel request failed");
                goto end;
            }
        }
        w.len = enc_start;
        uab_put_raw(&w, ct, enc_len);
    } else {
        uab_patch_u32(&w, 4, (uint32_t)w.len);
    }
    if (w.err)
        goto encode_err;
    if (w.len > ch->peer_recv_buf) {
        fail(ch, UA_BadRequestTooLarge,
             "the OpenSecureChannel request (%zu bytes) exceeds the server's buffer (%u)",
             w.len, ch->peer_recv_buf);
        goto end;
    }
    ok = write_all(ch, w.data, w.len);
    goto end;
encode_err:
    fail(ch, UA_BadEncodingError, "cannot encode the OpenSecureChannel request");
end:
    free(sig);
    free(ct);
    uab_w_free(&w);
    return ok;
}

/* A symmetric MSG or CLO message, split into chunks as the server's
 * buffer requires. */
static int send_sym(UACHAN *ch, const char *type, const unsigned char *body, size_t len,
                    uint32_t request_id)
{
    size_t sig_len = signing(ch) ? ch->hmac_len : 0, avail, max_body, off = 0, nchunks;
    const size_t block = 16;
    int ok = 0;

    avail = ch->peer_recv_buf - SYM_HDR_LEN;
    if (encrypting(ch))
        avail = avail / block * block - 1;    /* room for the PaddingSize byte */
    max_body = avail - SEQ_LEN - sig_len;
    nchunks = len == 0 ? 1 : (len + max_body - 1) / max_body;
    if ((ch->peer_max_chunks && nchunks > ch->peer_max_chunks) ||
        (ch->peer_max_msg && len > ch->peer_max_msg)) {
        fail(ch, UA_BadRequestTooLarge,
             "the request (%zu bytes, %zu chunks) exceeds the server's limits "
             "(%u bytes, %u chunks)", len, nchunks, ch->peer_max_msg, ch->peer_max_chunks);
        return 0;
    }
    if (nchunks > 1)
        ukua_dbg("%s request %u: %zu bytes in %zu chunks of at most %zu", type, request_id, len,
                 nchunks, max_body);
    do {
        size_t n = len - off > max_body ? max_body : len - off;
        int final = off + n >= len;
        UA_WBUF w;
        unsigned char mac[EVP_MAX_MD_SIZE];

        uab_w_init(&w, 0);
        uab_put_raw(&w, type, 3);
        uab_put_u8(&w, final ? 'F' : 'C');
        uab_put_u32(&w, 0);
        uab_put_u32(&w, ch->channel_id);
        uab_put_u32(&w, ch->token_id);
        uab_put_u32(&w, next_seq(ch));
        uab_put_u32(&w, request_id);
        uab_put_raw(&w, body + off, n);
        if (encrypting(ch))
            put_padding(&w, w.len - SYM_HDR_LEN + sig_len, block, 0);
        uab_patch_u32(&w, 4, (uint32_t)(w.len + sig_len));
        if (w.err) {
            fail(ch, UA_BadEncodingError, "cannot encode the request");
            uab_w_free(&w);
            return 0;
        }
        if (signing(ch)) {
            if (!hmac(ch, &ch->send_keys, w.data, w.len, mac)) {
                uab_w_free(&w);
                return 0;
            }
            uab_put_raw(&w, mac, sig_len);
        }
        if (encrypting(ch) &&
            !sym_crypt(ch, &ch->send_keys, 1, w.data + SYM_HDR_LEN, w.len - SYM_HDR_LEN)) {
            uab_w_free(&w);
            return 0;
        }
        ok = !w.err && write_all(ch, w.data, w.len);
        uab_w_free(&w);
        off += n;
        if (!ok)
            return 0;
    } while (off < len);
    return 1;
}

/* ---- receiving ---- */

static int check_seq(UACHAN *ch, uint32_t seq)
{
    if (ch->have_seq_in) {
        uint32_t expect = ch->seq_in + 1;

        /* after 2^32 - 1024 the sender may wrap to a value below 1024 */
        if (seq != expect && !(ch->seq_in > 4294966271u && seq < 1024)) {
            fail(ch, UA_BadSequenceNumberInvalid,
                 "sequence number %u where %u was expected", seq, expect);
            return 0;
        }
    }
    ch->seq_in = seq;
    ch->have_seq_in = 1;
    return 1;
}

/* Strip signature and padding from a verified plaintext |p| of |len|
 * bytes (sequence header onwards); returns the length of sequence header
 * plus body, or 0 on bad padding. */
static size_t strip_padding(UACHAN *ch, const unsigned char *p, size_t len, size_t sig_len,
                            int padded, int extra)
{
    size_t end, n, i;
    unsigned char lsb, bad = 0;

    if (len < sig_len + SEQ_LEN)
        goto bad;
    end = len - sig_len;
    if (!padded)
        return end;
    if (end < SEQ_LEN + 1 + (extra ? 1u : 0u))
        goto bad;
    n = 0;
    if (extra) {
        n = (size_t)p[end - 1] << 8;
        end--;
    }
    lsb = p[end - 1];
    n |= lsb;
    if (n + 1 > end - SEQ_LEN)
        goto bad;
    for (i = 0; i <= n; i++)
        bad |= (unsigned char)(p[end - 1 - i] ^ lsb);
    if (bad)
        goto bad;
    return end - n - 1;
bad:
    fail(ch, UA_BadSecurityChecksFailed, "bad padding in a message from the server");
    return 0;
}

/* An asymmetric OPN chunk: security header checks, decryption through our
 * key, signature check with the server's key.  *plain / *plen: sequence
 * header + body (malloc'd). */
static int open_opn(UACHAN *ch, const unsigned char *buf, size_t len, unsigned char **plain,
                    size_t *plen)
{
    UA_RBUF r;
    UA_SPAN uri, cert, thumb;
    size_t sec_end, ctlen, ptlen, sig_len, bodylen;
    unsigned char *pt = NULL, *signed_data = NULL;
    uint32_t chid;
    int ok = 0;

    uab_r_init(&r, buf, len);
    uab_skip(&r, HDR_LEN);
    chid = uab_get_u32(&r);
    uri = uab_get_span(&r);
    cert = uab_get_span(&r);
    thumb = uab_get_span(&r);
    if (r.err) {
        fail(ch, UA_BadDecodingError, "malformed OpenSecureChannel response header");
        return 0;
    }
    sec_end = r.pos;
    if (ch->channel_id != 0 && chid != ch->channel_id) {
        fail(ch, UA_BadSecureChannelIdInvalid, "OpenSecureChannel response for channel %u, not %u",
             chid, ch->channel_id);
        return 0;
    }
    if (ch->pol == NULL) {
        if (uri.null || uri.len != strlen(POLICY_NONE_URI) ||
            memcmp(uri.p, POLICY_NONE_URI, uri.len) != 0) {
            fail(ch, UA_BadSecurityPolicyRejected,
                 "the server answered with another SecurityPolicy than None");
            return 0;
        }
        *plen = len - sec_end;
        if (*plen < SEQ_LEN) {
            fail(ch, UA_BadDecodingError, "truncated OpenSecureChannel response");
            return 0;
        }
        *plain = malloc(*plen);
        if (*plain == NULL) {
            fail(ch, UA_BadOutOfMemory, "out of memory");
            return 0;
        }
        memcpy(*plain, buf + sec_end, *plen);
        return 1;
    }
    if (uri.null || uri.len != strlen(uakey_policy_uri(ch->pol)) ||
        memcmp(uri.p, uakey_policy_uri(ch->pol), uri.len) != 0) {
        fail(ch, UA_BadSecurityPolicyRejected,
             "the server answered with another SecurityPolicy than %s", uakey_policy_name(ch->pol));
        return 0;
    }
    if (cert.null || cert.len != ch->peer_len || memcmp(cert.p, ch->peer_der, cert.len) != 0) {
        fail(ch, UA_BadCertificateInvalid,
             "the server signed with a certificate other than the one of its endpoint "
             "description");
        return 0;
    }
    if (thumb.null || thumb.len != SHA_DIGEST_LENGTH ||
        memcmp(thumb.p, ch->own_thumb, SHA_DIGEST_LENGTH) != 0) {
        fail(ch, UA_BadCertificateInvalid,
             "the server encrypted its response for another certificate than ours");
        return 0;
    }
    ctlen = len - sec_end;
    if (ctlen == 0 || ctlen % uakey_policy_cipher_block_size(ch->pol, ch->key) != 0) {
        fail(ch, UA_BadSecurityChecksFailed,
             "OpenSecureChannel response: %zu encrypted bytes is not a whole number of blocks",
             ctlen);
        return 0;
    }
    pt = malloc(ctlen);
    if (pt == NULL) {
        fail(ch, UA_BadOutOfMemory, "out of memory");
        return 0;
    }
    ptlen = ctlen;
    ch->key_ops++;
    if (!uakey_policy_decrypt(ch->pol, ch->key, buf + sec_end, ctlen, pt, &ptlen)) {
        fail_crypto(ch, UA_BadSecurityChecksFailed,
                    "decrypting the OpenSecureChannel response with our key failed");
        goto end;
    }
    sig_len = uakey_policy_signature_size(ch->pol, ch->peer_key);
    if (ptlen < sig_len + SEQ_LEN) {
        fail(ch, UA_BadSecurityChecksFailed, "OpenSecureChannel response too short");
        goto end;
    }
    signed_data = malloc(sec_end + ptlen - sig_len);
    if (signed_data == NULL) {
        fail(ch, UA_BadOutOfMemory, "out of memory");
        goto end;
    }
    memcpy(signed_data, buf, sec_end);
    memcpy(signed_data + sec_end, pt, ptlen - sig_len);
    if (!uakey_policy_verify(ch->pol, ch->peer_key, signed_data, sec_end + ptlen - sig_len,
                             pt + ptlen - sig_len, sig_len)) {
        ERR_clear_error();
        fail(ch, UA_BadSecurityChecksFailed,
             "the signature of the OpenSecureChannel response does not verify with the "
             "server certificate");
        goto end;
    }
    bodylen = strip_padding(ch, pt, ptlen, sig_len, 1, key_bits(ch->key) > 2048);
    if (bodylen == 0)
        goto end;
    *plain = pt;
    *plen = bodylen;
    pt = NULL;
    ok = 1;
end:
    if (pt != NULL)
        OPENSSL_clear_free(pt, ctlen);
    free(signed_data);
    return ok;
}

/* A symmetric MSG/CLO chunk: token, decryption, HMAC, padding.  Works in
 * place on |buf| (a private copy). */
static int open_sym(UACHAN *ch, unsigned char *buf, size_t len, unsigned char **plain,
                    size_t *plen)
{
    UA_RBUF r;
    uint32_t chid, tid;
    const struct keyset *ks = NULL;
    size_t sig_len = signing(ch) ? ch->hmac_len : 0, bodylen;
    unsigned char mac[EVP_MAX_MD_SIZE];

    uab_r_init(&r, buf, len);
    uab_skip(&r, HDR_LEN);
    chid = uab_get_u32(&r);
    tid = uab_get_u32(&r);
    if (r.err) {
        fail(ch, UA_BadDecodingError, "truncated message header");
        return 0;
    }
    if (chid != ch->channel_id) {
        fail(ch, UA_BadSecureChannelIdInvalid, "message for channel %u, ours is %u", chid,
             ch->channel_id);
        return 0;
    }
    if (ch->pol != NULL) {
        if (ch->recv_cur.valid && ch->recv_cur.token_id == tid)
            ks = &ch->recv_cur;
        else if (ch->recv_prev.valid && ch->recv_prev.token_id == tid)
            ks = &ch->recv_prev;
        if (ks == NULL) {
            fail(ch, UA_BadSecureChannelTokenUnknown, "message with unknown security token %u",
                 tid);
            return 0;
        }
    } else if (tid != ch->token_id) {
        fail(ch, UA_BadSecureChannelTokenUnknown, "message with unknown security token %u", tid);
        return 0;
    }
    if (encrypting(ch)) {
        if ((len - SYM_HDR_LEN) % 16 != 0 || len == SYM_HDR_LEN) {
            fail(ch, UA_BadSecurityChecksFailed,
                 "encrypted message of %zu bytes is not a whole number of blocks",
                 len - SYM_HDR_LEN);
            return 0;
        }
        if (!sym_crypt(ch, ks, 0, buf + SYM_HDR_LEN, len - SYM_HDR_LEN))
            return 0;
    }
    if (signing(ch)) {
        if (len < SYM_HDR_LEN + SEQ_LEN + sig_len) {
            fail(ch, UA_BadSecurityChecksFailed, "message too short for its signature");
            return 0;
        }
        if (!hmac(ch, ks, buf, len - sig_len, mac))
            return 0;
        if (CRYPTO_memcmp(mac, buf + len - sig_len, sig_len) != 0) {
            fail(ch, UA_BadSecurityChecksFailed, "a message from the server has a bad signature");
            return 0;
        }
    }
    bodylen = strip_padding(ch, buf + SYM_HDR_LEN, len - SYM_HDR_LEN, sig_len,
                            encrypting(ch), 0);
    if (bodylen == 0)
        return 0;
    *plain = malloc(bodylen);
    if (*plain == NULL) {
        fail(ch, UA_BadOutOfMemory, "out of memory");
        return 0;
    }
    memcpy(*plain, buf + SYM_HDR_LEN, bodylen);
    *plen = bodylen;
    return 1;
}

int uachan_feed_chunk(UACHAN *ch, const unsigned char *chunk, size_t len,
                      unsigned char **msg, size_t *msg_len)
{
    unsigned char *copy = NULL, *plain = NULL;
    size_t plen = 0;
    uint32_t size, seq, reqid;
    char chunk_type, tt[4];
    UA_RBUF r;
    int ok = 0;

    *msg = NULL;
    *msg_len = 0;
    if (len < HDR_LEN) {
        fail(ch, UA_BadDecodingError, "truncated chunk (%zu bytes)", len);
        return 0;
    }
    size = chunk_size(chunk);
    if (size != len) {
        fail(ch, UA_BadDecodingError, "chunk size %u does not match its length %zu", size, len);
        return 0;
    }
    if (memcmp(chunk, "ERR", 3) == 0)
        return fail_err_message(ch, chunk, len);
    chunk_type = (char)chunk[3];
    if (chunk_type != 'F' && chunk_type != 'C' && chunk_type != 'A') {
        fail(ch, UA_BadTcpMessageTypeInvalid, "unknown chunk type 0x%02x", chunk[3]);
        return 0;
    }
    if (memcmp(chunk, "OPN", 3) == 0) {
        if (chunk_type != 'F') {
            fail(ch, UA_BadTcpMessageTypeInvalid, "chunked OpenSecureChannel response");
            return 0;
        }
        if (!open_opn(ch, chunk, len, &plain, &plen))
            return 0;
    } else if (memcmp(chunk, "MSG", 3) == 0 || memcmp(chunk, "CLO", 3) == 0) {
        copy = malloc(len);
        if (copy == NULL) {
            fail(ch, UA_BadOutOfMemory, "out of memory");
            return 0;
        }
        memcpy(copy, chunk, len);
        if (!open_sym(ch, copy, len, &plain, &plen))
            goto end;
    } else {
        fail(ch, UA_BadTcpMessageTypeInvalid, "unexpected message type '%s'",
             chunk_type_text(chunk, tt));
        return 0;
    }
    uab_r_init(&r, plain, plen);
    seq = uab_get_u32(&r);
    reqid = uab_get_u32(&r);
    if (r.err) {
        fail(ch, UA_BadDecodingError, "truncated sequence header");
        goto end;
    }
    if (memcmp(chunk, "OPN", 3) == 0)
        ch->have_seq_in = 0;           /* a new token: the server may restart */
    if (!check_seq(ch, seq))
        goto end;
    if (chunk_type == 'A') {
        uint32_t code = uab_get_u32(&r);
        char *reason = uab_get_string(&r);

        fail(ch, code ? code : UA_BadUnexpectedError,
             "the server aborted the response: %s%s%s", uakey_status_name(code),
             reason ? ": " : "", reason ? reason : "");
        free(reason);
        uab_w_free(&ch->asm_buf);
        ch->asm_active = 0;
        goto end;
    }
    if (ch->asm_active && (ch->asm_request_id != reqid || memcmp(ch->asm_type, chunk, 3) != 0)) {
        fail(ch, UA_BadTcpMessageTypeInvalid,
             "a chunk of request %u arrived in the middle of request %u", reqid,
             ch->asm_request_id);
        goto end;
    }
    if (!ch->asm_active) {
        uab_w_free(&ch->asm_buf);
        uab_w_init(&ch->asm_buf, ch->max_msg);
        ch->asm_active = 1;
        ch->asm_request_id = reqid;
        ch->asm_chunks = 0;
        memcpy(ch->asm_type, chunk, 3);
        ch->asm_type[3] = '\0';
    }
    if (++ch->asm_chunks > ch->max_chunks) {
        fail(ch, UA_BadEncodingLimitsExceeded,
             "the response has more than %u chunks", ch->max_chunks);
        goto end;
    }
    uab_put_raw(&ch->asm_buf, plain + SEQ_LEN, plen - SEQ_LEN);
    if (ch->asm_buf.err) {
        fail(ch, UA_BadResponseTooLarge, "the response is larger than %u bytes", ch->max_msg);
        goto end;
    }
    if (chunk_type == 'F') {
        if (ch->asm_chunks > 1)
            ukua_dbg("response to request %u: %zu bytes in %u chunks", reqid, ch->asm_buf.len,
                     ch->asm_chunks);
        ch->last_request_id = reqid;
        ch->asm_active = 0;
        *msg = uab_w_take(&ch->asm_buf, msg_len);
        if (*msg == NULL) {                 /* an empty body */
            *msg = malloc(1);
            if (*msg == NULL) {
                fail(ch, UA_BadOutOfMemory, "out of memory");
                goto end;
            }
        }
        capture(ch, "msg", *msg, *msg_len);
    }
    ok = 1;
end:
    if (!ok) {
        ch->asm_active = 0;
        uab_w_free(&ch->asm_buf);
    }
    if (plain != NULL)
        OPENSSL_clear_free(plain, plen);
    if (copy != NULL)
        OPENSSL_clear_free(copy, len);
    return ok;
}

/* Receive until a whole message of |type| for |request_id| arrived. */
static int recv_message(UACHAN *ch, const char *type, uint32_t request_id,
                        unsigned char **msg, size_t *msg_len, const char *what)
{
    for (;;) {
        unsigned char *chunk = NULL;
        size_t len = 0;
        char tt[4];
        int ok;

        if (!recv_chunk(ch, &chunk, &len, what))
            return 0;
        if (memcmp(chunk, type, 3) != 0 && memcmp(chunk, "ERR", 3) != 0) {
            fail(ch, UA_BadTcpMessageTypeInvalid, "expected '%s', got '%s'", type,
                 chunk_type_text(chunk, tt));
            free(chunk);
            return 0;
        }
        ok = uachan_feed_chunk(ch, chunk, len, msg, msg_len);
        free(chunk);
        if (!ok)
            return 0;
        if (*msg != NULL) {
            if (ch->last_request_id != request_id) {
                fail(ch, UA_BadUnexpectedError,
                     "a response to request %u arrived while waiting for %u",
                     ch->last_request_id, request_id);
                free(*msg);
                *msg = NULL;
                return 0;
            }
            return 1;
        }
    }
}

/* ---- OpenSecureChannel ---- */

static int do_opn(UACHAN *ch, uint32_t request_type)
{
    UA_WBUF body;
    UA_REQHDR h;
    UA_OPN_RESP resp;
    UA_RBUF r;
    unsigned char *msg = NULL;
    size_t msg_len = 0;
    uint32_t reqid = ++ch->request_id;
    int ok = 0;

    memset(&resp, 0, sizeof(resp));
    ch->nonce_len = 0;
    if (ch->pol != NULL) {
        ch->nonce_len = uakey_policy_nonce_length(ch->pol);
        if (ch->nonce_len == 0 || ch->nonce_len > sizeof(ch->client_nonce) ||
            RAND_bytes(ch->client_nonce, (int)ch->nonce_len) != 1) {
            fail(ch, UA_BadInternalError, "cannot make a nonce");
            return 0;
        }
    }
    memset(&h, 0, sizeof(h));
    h.handle = reqid;
    h.timeout_ms = ch->timeout_ms;
    uab_w_init(&body, 0);
    uamsg_put_opensecurechannel(&body, &h, request_type, ch->pol ? ch->mode : UA_MODE_NONE,
                                ch->nonce_len ? ch->client_nonce : NULL, ch->nonce_len,
                                ch->lifetime_ms);
    if (body.err) {
        fail(ch, UA_BadEncodingError, "cannot encode the OpenSecureChannel request");
        goto end;
    }
    if (!send_opn(ch, &body, reqid))
        goto end;
    if (!recv_message(ch, "OPN", reqid, &msg, &msg_len, "waiting for the OpenSecureChannel "
                      "response"))
        goto end;
    uab_r_init(&r, msg, msg_len);
    if (!uamsg_get_opensecurechannel(&r, &resp)) {
        fail(ch, UA_BadDecodingError, "malformed OpenSecureChannel response");
        goto end;
    }
    if (resp.hdr.service_fault || resp.hdr.result >= 0x80000000u) {
        fail(ch, resp.hdr.result, "OpenSecureChannel was refused: %s",
             uakey_status_name(resp.hdr.result));
        goto end;
    }
    if (request_type == 1 && resp.channel_id != ch->channel_id) {
        fail(ch, UA_BadSecureChannelIdInvalid, "the renewed token is for another channel");
        goto end;
    }
    if (ch->pol != NULL) {
        struct keyset send_new, recv_new;

        if (resp.server_nonce.p == NULL || resp.server_nonce.len != ch->nonce_len) {
            fail(ch, UA_BadNonceInvalid, "the server nonce has %zu bytes, %s needs %zu",
                 resp.server_nonce.len, uakey_policy_name(ch->pol), ch->nonce_len);
            goto end;
        }
        memset(&send_new, 0, sizeof(send_new));
        memset(&recv_new, 0, sizeof(recv_new));
        /* client keys: P(serverNonce, clientNonce); server keys: the reverse */
        if (!derive_keys(ch, resp.server_nonce.p, resp.server_nonce.len, ch->client_nonce,
                         ch->nonce_len, &send_new, resp.token_id) ||
            !derive_keys(ch, ch->client_nonce, ch->nonce_len, resp.server_nonce.p,
                         resp.server_nonce.len, &recv_new, resp.token_id)) {
            OPENSSL_cleanse(&send_new, sizeof(send_new));
            OPENSSL_cleanse(&recv_new, sizeof(recv_new));
            goto end;
        }
        ch->recv_prev = ch->recv_cur;
        ch->recv_cur = recv_new;
        ch->send_keys = send_new;
        OPENSSL_cleanse(&send_new, sizeof(send_new));
        OPENSSL_cleanse(&recv_new, sizeof(recv_new));
    }
    ch->channel_id = resp.channel_id;
    ch->token_id = resp.token_id;
    ch->lifetime_ms = resp.revised_lifetime_ms;
    clock_gettime(CLOCK_MONOTONIC, &ch->token_time);
    ch->open = 1;
    ok = 1;
end:
    uamsg_free_opensecurechannel(&resp);
    if (msg != NULL)
        OPENSSL_clear_free(msg, msg_len);
    uab_w_free(&body);
    return ok;
}

int uachan_open(UACHAN *ch, const UAKEY_POLICY *pol, uint32_t mode, EVP_PKEY *key,
                X509 *cert, X509 *server_cert, uint32_t lifetime_ms)
{
    int n;

    if (ch->fd < 0) {
        fail(ch, UA_BadNotConnected, "not connected");
        return 0;
    }
    ch->pol = pol;
    ch->mode = pol ? mode : UA_MODE_NONE;
    ch->lifetime_ms = lifetime_ms ? lifetime_ms : 3600000;
    ch->seq_out = 1;
    if (pol != NULL) {
        const char *mac = uakey_policy_sym_sign_alg(pol);

        if (uakey_policy_is_ecc(pol) || uakey_policy_asym_enc_alg(pol) == NULL) {
            fail(ch, UA_BadSecurityPolicyRejected,
                 "%s is not supported by uakey connect (RSA policies only)",
                 uakey_policy_name(pol));
            return 0;
        }
        if (mode != UA_MODE_SIGN && mode != UA_MODE_SIGNANDENCRYPT) {
            fail(ch, UA_BadSecurityPolicyRejected, "security mode must be Sign or SignAndEncrypt");
            return 0;
        }
        if (key == NULL || cert == NULL || server_cert == NULL) {
            fail(ch, UA_BadInternalError, "a secure channel needs our key and both certificates");
            return 0;
        }
        ch->key = key;
        OPENSSL_free(ch->cert_der);
        ch->cert_der = NULL;
        n = i2d_X509(cert, &ch->cert_der);
        if (n <= 0) {
            fail(ch, UA_BadEncodingError, "cannot encode our certificate");
            return 0;
        }
        ch->cert_len = (size_t)n;
        OPENSSL_free(ch->peer_der);
        ch->peer_der = NULL;
        n = i2d_X509(server_cert, &ch->peer_der);
        if (n <= 0) {
            fail(ch, UA_BadEncodingError, "cannot encode the server certificate");
            return 0;
        }
        ch->peer_len = (size_t)n;
        EVP_PKEY_free(ch->peer_key);
        ch->peer_key = X509_get_pubkey(server_cert);
        if (ch->peer_key == NULL || !sha1_of(ch->peer_der, ch->peer_len, ch->peer_thumb) ||
            !sha1_of(ch->cert_der, ch->cert_len, ch->own_thumb)) {
            fail(ch, UA_BadCertificateInvalid, "cannot read the server certificate's key");
            return 0;
        }
        if (!uakey_policy_key_fits(pol, key)) {
            ERR_clear_error();
            fail(ch, UA_BadSecurityPolicyRejected, "our key (%d bits) does not fit %s",
                 key_bits(key), uakey_policy_name(pol));
            return 0;
        }
        if (!uakey_policy_key_fits(pol, ch->peer_key)) {
            ERR_clear_error();
            fail(ch, UA_BadCertificateInvalid, "the server's key (%d bits) does not fit %s",
                 key_bits(ch->peer_key), uakey_policy_name(pol));
            return 0;
        }
        EVP_MD_free((EVP_MD *)ch->hmac_md);
        ch->hmac_md = EVP_MD_fetch(NULL, strcmp(mac, "HMAC-SHA1") == 0 ? "SHA1" : "SHA256",
                                   NULL);
        if (ch->hmac_md == NULL) {
            fail(ch, UA_BadInternalError, "no digest for %s", mac);
            return 0;
        }
        ch->hmac_len = (size_t)EVP_MD_get_size(ch->hmac_md);
        ch->cipher_name = uakey_policy_sym_enc_alg(pol);
    }
    return do_opn(ch, 0);
}

int uachan_renew(UACHAN *ch)
{
    if (!ch->open) {
        fail(ch, UA_BadSecureChannelIdInvalid, "no open channel to renew");
        return 0;
    }
    if (!do_opn(ch, 1))
        return 0;
    ch->renewals++;
    return 1;
}

static int token_expiring(const UACHAN *ch)
{
    struct timespec ts;
    long long elapsed;

    if (ch->offline || !ch->open || ch->lifetime_ms == 0)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    elapsed = (long long)(ts.tv_sec - ch->token_time.tv_sec) * 1000 +
              (ts.tv_nsec - ch->token_time.tv_nsec) / 1000000;
    return elapsed >= (long long)ch->lifetime_ms * 3 / 4;
}

int uachan_call(UACHAN *ch, const UA_WBUF *req, unsigned char **resp, size_t *resp_len)
{
    uint32_t reqid;

    *resp = NULL;
    *resp_len = 0;
    if (!ch->open) {
        fail(ch, UA_BadSecureChannelIdInvalid, "no open secure channel");
        return 0;
    }
    if (req->err) {
        fail(ch, UA_BadEncodingError, "cannot encode the request");
        return 0;
    }
    if (token_expiring(ch) && !uachan_renew(ch))
        return 0;
    reqid = ++ch->request_id;
    if (!send_sym(ch, "MSG", req->data, req->len, reqid))
        return 0;
    return recv_message(ch, "MSG", reqid, resp, resp_len, "waiting for a response");
}

void uachan_close(UACHAN *ch)
{
    if (ch->fd >= 0) {
        if (ch->open && ch->status == 0) {
            UA_WBUF w;
            UA_REQHDR h;
            uint32_t reqid = ++ch->request_id;

            memset(&h, 0, sizeof(h));
            h.handle = reqid;
            h.timeout_ms = ch->timeout_ms;
            uab_w_init(&w, 0);
            uamsg_put_closesecurechannel(&w, &h);
            if (!w.err)
                (void)send_sym(ch, "CLO", w.data, w.len, reqid);
            uab_w_free(&w);
        }
        close(ch->fd);
        ch->fd = -1;
    }
    ch->open = 0;
    wipe_keys(ch);
}
