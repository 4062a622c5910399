/* OPC UA Binary encoding (OPC 10000-6 5.2): a growing writer and a
 * bounds-checked reader for the built-in types the client needs.
 *
 * Both carry a sticky error flag: after a failed call (allocation failure,
 * a read past the end, a negative or oversized length) every later call is
 * a no-op returning zero/NULL, so a decoder can read a whole structure and
 * check the flag once.  Nothing here raises OpenSSL errors; callers turn a
 * set flag into BadDecodingError / BadEncodingError. */
#ifndef UABIN_H
#define UABIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char *data;
    size_t len, cap;
    size_t max;        /* 0: no limit; else growing past it sets err */
    int err;
} UA_WBUF;

typedef struct {
    const unsigned char *data;
    size_t len, pos;
    int err;
} UA_RBUF;

/* A byte run inside a reader's buffer (no copy).  null: the encoded
 * length was -1 (a null String/ByteString). */
typedef struct {
    const unsigned char *p;
    size_t len;
    int null;
} UA_SPAN;

/* NodeId, any of the six encodings.  For String/ByteString identifiers
 * |str| points into the reader's buffer.  raw/rawlen: the whole encoded
 * NodeId as it was on the wire (for echoing back an authenticationToken
 * unchanged). */
enum { UA_NODEID_NUMERIC = 0, UA_NODEID_STRING = 3, UA_NODEID_GUID = 4, UA_NODEID_BYTES = 5 };
typedef struct {
    uint16_t ns;
    int kind;                 /* UA_NODEID_* */
    uint32_t num;
    unsigned char guid[16];
    UA_SPAN str;
    const unsigned char *raw;
    size_t rawlen;
} UA_NODEID;

/* ---- writer ---- */
void uab_w_init(UA_WBUF *w, size_t max);
/* Frees the buffer; wipes it first (it may have held plaintext). */
void uab_w_free(UA_WBUF *w);
/* Hands the buffer to the caller (*len set), leaving |w| empty. */
unsigned char *uab_w_take(UA_WBUF *w, size_t *len);
/* Makes room for |n| more bytes; returns a pointer to them (len grows by
 * n) or NULL with err set. */
unsigned char *uab_w_extend(UA_WBUF *w, size_t n);
void uab_put_raw(UA_WBUF *w, const void *p, size_t n);
void uab_put_u8(UA_WBUF *w, uint8_t v);
void uab_put_bool(UA_WBUF *w, int v);
void uab_put_u16(UA_WBUF *w, uint16_t v);
void uab_put_u32(UA_WBUF *w, uint32_t v);
void uab_put_i32(UA_WBUF *w, int32_t v);
void uab_put_u64(UA_WBUF *w, uint64_t v);
void uab_put_i64(UA_WBUF *w, int64_t v);
void uab_put_f64(UA_WBUF *w, double v);
/* Overwrite 4 bytes at |off| (message sizes patched after the fact). */
void uab_patch_u32(UA_WBUF *w, size_t off, uint32_t v);
/* String: NULL is encoded as the null string (length -1). */
void uab_put_string(UA_WBUF *w, const char *s);
/* ByteString: p == NULL is the null ByteString. */
void uab_put_bytes(UA_WBUF *w, const unsigned char *p, size_t n);
/* Numeric NodeId in the shortest encoding (two-byte, four-byte, full). */
void uab_put_nodeid_num(UA_WBUF *w, uint16_t ns, uint32_t id);
/* A NodeId re-encoded from a decoded one (uses its raw bytes). */
void uab_put_nodeid(UA_WBUF *w, const UA_NODEID *id);
/* The null ExtensionObject (TypeId ns=0;i=0, no body). */
void uab_put_null_extobj(UA_WBUF *w);

/* ---- reader ---- */
void uab_r_init(UA_RBUF *r, const void *data, size_t len);
size_t uab_r_left(const UA_RBUF *r);
/* |n| bytes from the current position (NULL with err when short). */
const unsigned char *uab_get_raw(UA_RBUF *r, size_t n);
void uab_skip(UA_RBUF *r, size_t n);
uint8_t uab_get_u8(UA_RBUF *r);
int uab_get_bool(UA_RBUF *r);
uint16_t uab_get_u16(UA_RBUF *r);
uint32_t uab_get_u32(UA_RBUF *r);
int32_t uab_get_i32(UA_RBUF *r);
uint64_t uab_get_u64(UA_RBUF *r);
int64_t uab_get_i64(UA_RBUF *r);
double uab_get_f64(UA_RBUF *r);
/* String or ByteString as a span into the buffer; a length below -1 or
 * beyond the remaining bytes sets err. */
UA_SPAN uab_get_span(UA_RBUF *r);
/* String copied into a NUL-terminated malloc'd string (NULL for the null
 * string, or on error; an embedded NUL sets err). */
char *uab_get_string(UA_RBUF *r);
/* Array length (Int32; -1 = null array = 0 elements).  A count larger
 * than the remaining bytes divided by |min_elem| sets err, so a hostile
 * count cannot make the caller allocate or loop without bound. */
int32_t uab_get_array_len(UA_RBUF *r, size_t min_elem);
void uab_get_nodeid(UA_RBUF *r, UA_NODEID *id);
/* ExpandedNodeId: NodeId plus optional NamespaceUri and ServerIndex. */
void uab_get_expanded_nodeid(UA_RBUF *r, UA_NODEID *id);
/* 1 if the NodeId is numeric ns/num. */
int uab_nodeid_is(const UA_NODEID *id, uint16_t ns, uint32_t num);

/* OPC UA DateTime (100 ns ticks since 1601-01-01 UTC) <-> Unix seconds,
 * and "YYYY-MM-DDTHH:MM:SS.mmmZ" (buf of at least 32 bytes). */
int64_t uab_datetime_now(void);
int64_t uab_datetime_from_unix(int64_t secs);
void uab_datetime_format(int64_t dt, char *buf, size_t n);

#endif
