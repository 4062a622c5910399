/* OPC UA Binary encoding primitives (see uabin.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "uabin.h"

/* 1601-01-01 to 1970-01-01 in seconds. */
#define UA_EPOCH_DIFF 11644473600LL
#define UA_TICKS 10000000LL

/* ---- writer ---- */

void uab_w_init(UA_WBUF *w, size_t max)
{
    memset(w, 0, sizeof(*w));
    w->max = max;
}

void uab_w_free(UA_WBUF *w)
{
    if (w->data != NULL)
        OPENSSL_clear_free(w->data, w->cap);
    w->data = NULL;
    w->len = w->cap = 0;
}

unsigned char *uab_w_take(UA_WBUF *w, size_t *len)
{
    unsigned char *p = w->data;

    *len = w->len;
    w->data = NULL;
    w->len = w->cap = 0;
    return p;
}

unsigned char *uab_w_extend(UA_WBUF *w, size_t n)
{
    unsigned char *p;

    if (w->err)
        return NULL;
    if (n > SIZE_MAX / 2 - w->len || (w->max != 0 && w->len + n > w->max)) {
        w->err = 1;
        return NULL;
    }
    if (w->len + n > w->cap || w->data == NULL) {   /* even for n == 0: never NULL + 0 */
        size_t cap = w->cap ? w->cap : 256;
        unsigned char *nd;

        while (cap < w->len + n)
            cap *= 2;
        /* Not realloc: the old buffer may hold plaintext and is wiped. */
        nd = OPENSSL_malloc(cap);
        if (nd == NULL) {
            w->err = 1;
            return NULL;
        }
        if (w->len)
            memcpy(nd, w->data, w->len);
        if (w->data != NULL)
            OPENSSL_clear_free(w->data, w->cap);
        w->data = nd;
        w->cap = cap;
    }
    p = w->data + w->len;
    w->len += n;
    return p;
}

void uab_put_raw(UA_WBUF *w, const void *p, size_t n)
{
    unsigned char *d = uab_w_extend(w, n);

    if (d != NULL && n)
        memcpy(d, p, n);
}

static void put_le(UA_WBUF *w, uint64_t v, size_t n)
{
    unsigned char *d = uab_w_extend(w, n);
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < n; i++)
        d[i] = (unsigned char)(v >> (8 * i));
}

void uab_put_u8(UA_WBUF *w, uint8_t v) { put_le(w, v, 1); }
void uab_put_bool(UA_WBUF *w, int v) { put_le(w, v ? 1 : 0, 1); }
void uab_put_u16(UA_WBUF *w, uint16_t v) { put_le(w, v, 2); }
void uab_put_u32(UA_WBUF *w, uint32_t v) { put_le(w, v, 4); }
void uab_put_i32(UA_WBUF *w, int32_t v) { put_le(w, (uint32_t)v, 4); }
void uab_put_u64(UA_WBUF *w, uint64_t v) { put_le(w, v, 8); }
void uab_put_i64(UA_WBUF *w, int64_t v) { put_le(w, (uint64_t)v, 8); }

void uab_put_f64(UA_WBUF *w, double v)
{
    uint64_t u;

    memcpy(&u, &v, sizeof(u));
    put_le(w, u, 8);
}

void uab_patch_u32(UA_WBUF *w, size_t off, uint32_t v)
{
    size_t i;

    if (w->err || off > w->len || w->len - off < 4) {
        w->err = 1;
        return;
    }
    for (i = 0; i < 4; i++)
        w->data[off + i] = (unsigned char)(v >> (8 * i));
}

void uab_put_bytes(UA_WBUF *w, const unsigned char *p, size_t n)
{
    if (p == NULL) {
        uab_put_i32(w, -1);
        return;
    }
    if (n > INT32_MAX) {
        w->err = 1;
        return;
    }
    uab_put_i32(w, (int32_t)n);
    uab_put_raw(w, p, n);
}

void uab_put_string(UA_WBUF *w, const char *s)
{
    uab_put_bytes(w, (const unsigned char *)s, s ? strlen(s) : 0);
}

void uab_put_nodeid_num(UA_WBUF *w, uint16_t ns, uint32_t id)
{
    if (ns == 0 && id <= 0xff) {
        uab_put_u8(w, 0x00);
        uab_put_u8(w, (uint8_t)id);
    } else if (ns <= 0xff && id <= 0xffff) {
        uab_put_u8(w, 0x01);
        uab_put_u8(w, (uint8_t)ns);
        uab_put_u16(w, (uint16_t)id);
    } else {
        uab_put_u8(w, 0x02);
        uab_put_u16(w, ns);
        uab_put_u32(w, id);
    }
}

void uab_put_nodeid(UA_WBUF *w, const UA_NODEID *id)
{
    if (id->raw != NULL && id->rawlen > 0) {
        /* The flag bits for NamespaceUri/ServerIndex belong to an
         * ExpandedNodeId only; the raw bytes of a plain NodeId have none. */
        uab_put_raw(w, id->raw, id->rawlen);
        return;
    }
    if (id->kind != UA_NODEID_NUMERIC) {
        w->err = 1;
        return;
    }
    uab_put_nodeid_num(w, id->ns, id->num);
}

void uab_put_null_extobj(UA_WBUF *w)
{
    uab_put_u8(w, 0x00);   /* TypeId: two-byte NodeId 0 */
    uab_put_u8(w, 0x00);
    uab_put_u8(w, 0x00);   /* no body */
}

/* ---- reader ---- */

void uab_r_init(UA_RBUF *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->err = 0;
}

size_t uab_r_left(const UA_RBUF *r)
{
    return r->err ? 0 : r->len - r->pos;
}

const unsigned char *uab_get_raw(UA_RBUF *r, size_t n)
{
    const unsigned char *p;

    if (r->err || n > r->len - r->pos) {
        r->err = 1;
        return NULL;
    }
    p = r->data + r->pos;
    r->pos += n;
    return p;
}

void uab_skip(UA_RBUF *r, size_t n)
{
    (void)uab_get_raw(r, n);
}

static uint64_t get_le(UA_RBUF *r, size_t n)
{
    const unsigned char *p = uab_get_raw(r, n);
    uint64_t v = 0;
    size_t i;

    if (p == NULL)
        return 0;
    for (i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint8_t uab_get_u8(UA_RBUF *r) { return (uint8_t)get_le(r, 1); }
int uab_get_bool(UA_RBUF *r) { return get_le(r, 1) != 0; }
uint16_t uab_get_u16(UA_RBUF *r) { return (uint16_t)get_le(r, 2); }
uint32_t uab_get_u32(UA_RBUF *r) { return (uint32_t)get_le(r, 4); }
int32_t uab_get_i32(UA_RBUF *r) { return (int32_t)(uint32_t)get_le(r, 4); }
uint64_t uab_get_u64(UA_RBUF *r) { return get_le(r, 8); }
int64_t uab_get_i64(UA_RBUF *r) { return (int64_t)get_le(r, 8); }

double uab_get_f64(UA_RBUF *r)
{
    uint64_t u = get_le(r, 8);
    double v;

    memcpy(&v, &u, sizeof(v));
    return v;
}

UA_SPAN uab_get_span(UA_RBUF *r)
{
    UA_SPAN s = { NULL, 0, 1 };
    int32_t n = uab_get_i32(r);

    if (r->err)
        return s;
    if (n == -1)
        return s;
    if (n < -1) {
        r->err = 1;
        return s;
    }
    s.p = uab_get_raw(r, (size_t)n);
    if (s.p == NULL)
        return s;
    s.len = (size_t)n;
    s.null = 0;
    return s;
}

char *uab_get_string(UA_RBUF *r)
{
    UA_SPAN s = uab_get_span(r);
    char *out;

    if (r->err || s.null)
        return NULL;
    if (memchr(s.p, 0, s.len) != NULL) {
        r->err = 1;
        return NULL;
    }
    out = malloc(s.len + 1);
    if (out == NULL) {
        r->err = 1;
        return NULL;
    }
    memcpy(out, s.p, s.len);
    out[s.len] = '\0';
    return out;
}

int32_t uab_get_array_len(UA_RBUF *r, size_t min_elem)
{
    int32_t n = uab_get_i32(r);

    if (r->err)
        return 0;
    if (n == -1)
        return 0;
    if (n < -1 || (min_elem > 0 && (size_t)n > (r->len - r->pos) / min_elem)) {
        r->err = 1;
        return 0;
    }
    return n;
}

static void get_nodeid_body(UA_RBUF *r, UA_NODEID *id, uint8_t enc)
{
    switch (enc & 0x3f) {
    case 0x00:
        id->kind = UA_NODEID_NUMERIC;
        id->num = uab_get_u8(r);
        break;
    case 0x01:
        id->kind = UA_NODEID_NUMERIC;
        id->ns = uab_get_u8(r);
        id->num = uab_get_u16(r);
        break;
    case 0x02:
        id->kind = UA_NODEID_NUMERIC;
        id->ns = uab_get_u16(r);
        id->num = uab_get_u32(r);
        break;
    case 0x03:
        id->kind = UA_NODEID_STRING;
        id->ns = uab_get_u16(r);
        id->str = uab_get_span(r);
        break;
    case 0x04: {
        const unsigned char *g;

        id->kind = UA_NODEID_GUID;
        id->ns = uab_get_u16(r);
        g = uab_get_raw(r, 16);
        if (g != NULL)
            memcpy(id->guid, g, 16);
        break;
    }
    case 0x05:
        id->kind = UA_NODEID_BYTES;
        id->ns = uab_get_u16(r);
        id->str = uab_get_span(r);
        break;
    default:
        r->err = 1;
    }
}

void uab_get_nodeid(UA_RBUF *r, UA_NODEID *id)
{
    size_t start = r->pos;
    uint8_t enc;

    memset(id, 0, sizeof(*id));
    enc = uab_get_u8(r);
    if (r->err)
        return;
    if (enc & 0xc0) {          /* flags belong to ExpandedNodeId only */
        r->err = 1;
        return;
    }
    get_nodeid_body(r, id, enc);
    if (!r->err) {
        id->raw = r->data + start;
        id->rawlen = r->pos - start;
    }
}

void uab_get_expanded_nodeid(UA_RBUF *r, UA_NODEID *id)
{
    uint8_t enc;

    memset(id, 0, sizeof(*id));
    enc = uab_get_u8(r);
    if (r->err)
        return;
    get_nodeid_body(r, id, enc);
    if (enc & 0x80)
        (void)uab_get_span(r);     /* NamespaceUri */
    if (enc & 0x40)
        (void)uab_get_u32(r);      /* ServerIndex */
    /* raw stays NULL: an ExpandedNodeId is not echoed as a NodeId. */
}

int uab_nodeid_is(const UA_NODEID *id, uint16_t ns, uint32_t num)
{
    return id->kind == UA_NODEID_NUMERIC && id->ns == ns && id->num == num;
}

/* ---- DateTime ---- */

int64_t uab_datetime_from_unix(int64_t secs)
{
    return (secs + UA_EPOCH_DIFF) * UA_TICKS;
}

int64_t uab_datetime_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return uab_datetime_from_unix(ts.tv_sec) + ts.tv_nsec / 100;
}

void uab_datetime_format(int64_t dt, char *buf, size_t n)
{
    struct tm tm;
    time_t t;
    int64_t secs, ms;

    if (dt <= 0) {
        snprintf(buf, n, "(none)");
        return;
    }
    secs = dt / UA_TICKS - UA_EPOCH_DIFF;
    ms = (dt % UA_TICKS) / 10000;
    t = (time_t)secs;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(buf, n, "(invalid)");
        return;
    }
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
}
