/* OPC UA service messages for the uakey client (see uamsg.h): request
 * encoders and response decoders in the OPC UA Binary encoding
 * (OPC 10000-6 5.2, structures from OPC 10000-4).
 *
 * Decoders treat the bytes as hostile: every count is checked against
 * the bytes left (uab_get_array_len with the smallest encoded size of one
 * element), arrays kept in memory are capped at UAMSG_MAX_ITEMS, nested
 * Variants, DataValues and DiagnosticInfos stop at UAMSG_MAX_DEPTH, and a
 * failed decode frees whatever it had built and leaves the structure
 * zeroed.  Trailing bytes after a complete message are tolerated. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "uamsg.h"

/* Deepest nesting of Variant / DataValue / DiagnosticInfo we follow. */
#define UAMSG_MAX_DEPTH 16
/* Largest decoded array we allocate (endpoints, results, URLs...). */
#define UAMSG_MAX_ITEMS 4096

/* Variant rendering limits: total text, array elements shown, characters
 * shown of one string, bytes shown of one ByteString. */
#define TEXT_MAX 2048
#define TEXT_ELEMS 8
#define TEXT_CHARS 256
#define TEXT_BYTES 32

/* U+2026, the ellipsis that marks anything cut short. */
#define ELLIPSIS "\xe2\x80\xa6"

/* Built-in type ids (OPC 10000-6 Table 1). */
enum {
    BT_NULL = 0, BT_BOOLEAN = 1, BT_SBYTE = 2, BT_BYTE = 3, BT_INT16 = 4, BT_UINT16 = 5,
    BT_INT32 = 6, BT_UINT32 = 7, BT_INT64 = 8, BT_UINT64 = 9, BT_FLOAT = 10, BT_DOUBLE = 11,
    BT_STRING = 12, BT_DATETIME = 13, BT_GUID = 14, BT_BYTESTRING = 15, BT_XMLELEMENT = 16,
    BT_NODEID = 17, BT_EXPANDEDNODEID = 18, BT_STATUSCODE = 19, BT_QUALIFIEDNAME = 20,
    BT_LOCALIZEDTEXT = 21, BT_EXTENSIONOBJECT = 22, BT_DATAVALUE = 23, BT_VARIANT = 24,
    BT_DIAGNOSTICINFO = 25
};

/* ==== small text builder ================================================ */

/* Grows up to TEXT_MAX bytes.  Pieces are added whole or not at all, so a
 * cut never splits an escape or a UTF-8 sequence; once a piece does not
 * fit, |full| is set, everything after is dropped and the final text ends
 * with an ellipsis. */
typedef struct {
    char *p;
    size_t len, cap;
    int full;
    int err;
} TXT;

static void txt_add(TXT *t, const char *s, size_t n)
{
    if (t == NULL || t->full || t->err)
        return;
    if (t->len + n > TEXT_MAX) {
        t->full = 1;
        return;
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        char *np;

        while (cap < t->len + n + 1)
            cap *= 2;
        np = realloc(t->p, cap);
        if (np == NULL) {
            t->err = 1;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void txt_str(TXT *t, const char *s)
{
    txt_add(t, s, strlen(s));
}

static void txt_fmt(TXT *t, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    int n;

    if (t == NULL)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    txt_add(t, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* The finished text (malloc'd, owned by the caller); NULL after an
 * allocation failure. */
static char *txt_finish(TXT *t)
{
    char *out;
    size_t n;

    if (t->err) {
        free(t->p);
        t->p = NULL;
        return NULL;
    }
    n = t->len;
    out = realloc(t->p, n + (t->full ? sizeof(ELLIPSIS) : 1));
    if (out == NULL) {
        free(t->p);
        t->p = NULL;
        return NULL;
    }
    if (t->full)
        memcpy(out + n, ELLIPSIS, sizeof(ELLIPSIS));
    else
        out[n] = '\0';
    t->p = NULL;
    return out;
}

/* Length of the valid UTF-8 sequence at s (1..4) and its code point, or 0
 * when the bytes there are not valid UTF-8 (overlong forms, surrogates
 * and values above U+10FFFF included). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len, i;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        *cp = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        *cp = c & 0x07;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        unsigned char b = s[i];

        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf))
            return 0;
        *cp = (*cp << 6) | (b & 0x3f);
    }
    return len;
}

/* Code points that are valid but would act on a terminal or reorder the
 * text around them: C1 controls, zero-width and bidirectional formatting
 * characters, line/paragraph separators, the BOM. */
static int unsafe_cp(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

/* Appends |n| bytes of a string with everything unprintable escaped
 * (\n \r \t \" \\, \xNN for other control and invalid bytes, \u{XXXX} for
 * unsafe code points); at most |max_chars| characters, then an ellipsis. */
static void txt_escaped(TXT *t, const unsigned char *s, size_t n, size_t max_chars)
{
    size_t i = 0, chars = 0;

    while (i < n) {
        uint32_t cp = 0;
        size_t len = utf8_seq(s + i, n - i, &cp);
        char esc[16];

        if (chars == max_chars) {
            txt_str(t, ELLIPSIS);
            return;
        }
        chars++;
        if (len == 0) {
            snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
            txt_str(t, esc);
            i++;
            continue;
        }
        if (len == 1) {
            const char *e = NULL;

            switch (s[i]) {
            case '"':  e = "\\\""; break;
            case '\\': e = "\\\\"; break;
            case '\n': e = "\\n"; break;
            case '\r': e = "\\r"; break;
            case '\t': e = "\\t"; break;
            default:
                break;
            }
            if (e != NULL) {
                txt_str(t, e);
            } else if (s[i] < 0x20 || s[i] == 0x7f) {
                snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
                txt_str(t, esc);
            } else {
                txt_add(t, (const char *)s + i, 1);
            }
        } else if (unsafe_cp(cp)) {
            snprintf(esc, sizeof(esc), "\\u{%04x}", (unsigned int)cp);
            txt_str(t, esc);
        } else {
            txt_add(t, (const char *)s + i, len);
        }
        i += len;
    }
}

static void txt_quoted(TXT *t, const UA_SPAN *s)
{
    if (s->null) {
        txt_str(t, "null");
        return;
    }
    txt_str(t, "\"");
    txt_escaped(t, s->p, s->len, TEXT_CHARS);
    txt_str(t, "\"");
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 (with padding) of at most |max| bytes, an ellipsis after. */
static void txt_base64(TXT *t, const unsigned char *p, size_t n, size_t max)
{
    size_t i, shown = n < max ? n : max;

    for (i = 0; i < shown; i += 3) {
        char q[4];
        uint32_t v = (uint32_t)p[i] << 16;
        size_t k = shown - i < 3 ? shown - i : 3;

        if (k > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (k > 2)
            v |= p[i + 2];
        q[0] = b64_alphabet[(v >> 18) & 63];
        q[1] = b64_alphabet[(v >> 12) & 63];
        q[2] = k > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
        q[3] = k > 2 ? b64_alphabet[v & 63] : '=';
        txt_add(t, q, 4);
    }
    if (shown < n)
        txt_str(t, ELLIPSIS);
}

static void txt_guid(TXT *t, const unsigned char g[16])
{
    /* Data1..Data3 are little-endian on the wire, Data4 is a byte run. */
    txt_fmt(t, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
            g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
            g[13], g[14], g[15]);
}

static void txt_nodeid(TXT *t, const UA_NODEID *id)
{
    txt_fmt(t, "ns=%u;", (unsigned int)id->ns);
    switch (id->kind) {
    case UA_NODEID_NUMERIC:
        txt_fmt(t, "i=%lu", (unsigned long)id->num);
        break;
    case UA_NODEID_STRING:
        txt_str(t, "s=");
        if (!id->str.null)
            txt_escaped(t, id->str.p, id->str.len, TEXT_CHARS);
        break;
    case UA_NODEID_GUID:
        txt_str(t, "g=");
        txt_guid(t, id->guid);
        break;
    case UA_NODEID_BYTES:
        txt_str(t, "b=");
        if (!id->str.null)
            txt_base64(t, id->str.p, id->str.len, 48);
        break;
    default:
        break;
    }
}

/* Shortest "%.Ng" that reads back as the same value. */
static void txt_double(TXT *t, double v, int is_float)
{
    char buf[64];
    int prec;

    for (prec = is_float ? 6 : 15; prec <= (is_float ? 9 : 17); prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v);
        if (is_float ? (float)strtod(buf, NULL) == (float)v : strtod(buf, NULL) == v)
            break;
    }
    txt_str(t, buf);   /* NaN never compares equal: the %.17g form stays */
}

/* ==== readers shared by skipping and rendering ========================== */

static void read_variant(UA_RBUF *r, TXT *t, int depth, UA_VARIANT *out);
static void read_datavalue(UA_RBUF *r, TXT *t, int depth, UA_DATAVALUE *out);
static void read_diaginfo(UA_RBUF *r, int depth);

/* Smallest encoded size of one value of a built-in type (array bounds). */
static size_t min_size(uint8_t type)
{
    switch (type) {
    case BT_BOOLEAN: case BT_SBYTE: case BT_BYTE:
    case BT_LOCALIZEDTEXT: case BT_DATAVALUE: case BT_VARIANT: case BT_DIAGNOSTICINFO:
        return 1;
    case BT_INT16: case BT_UINT16: case BT_NODEID: case BT_EXPANDEDNODEID:
        return 2;
    case BT_EXTENSIONOBJECT:
        return 3;
    case BT_QUALIFIEDNAME:
        return 6;
    case BT_INT64: case BT_UINT64: case BT_DOUBLE: case BT_DATETIME:
        return 8;
    case BT_GUID:
        return 16;
    default:   /* 4-byte numbers, String, ByteString, XmlElement, ids 26-31 */
        return 4;
    }
}

/* Encoded size of a NodeId body (after its encoding byte). */
static size_t nodeid_body_len(const UA_NODEID *id, uint8_t enc)
{
    switch (enc & 0x3f) {
    case 0x00: return 1;
    case 0x01: return 3;
    case 0x02: return 6;
    case 0x04: return 18;
    default:   return 6 + (id->str.null ? 0 : id->str.len);
    }
}

/* ExpandedNodeId: uab_get_expanded_nodeid does the decoding; for the text
 * the NamespaceUri and ServerIndex are read back from where they sit,
 * right after the NodeId body. */
static void read_expanded_nodeid(UA_RBUF *r, TXT *t)
{
    size_t start = r->pos;
    uint8_t enc;
    UA_NODEID id;
    UA_RBUF tail;

    uab_get_expanded_nodeid(r, &id);
    if (r->err || t == NULL)
        return;
    enc = r->data[start];
    uab_r_init(&tail, r->data + start + 1 + nodeid_body_len(&id, enc),
               r->pos - start - 1 - nodeid_body_len(&id, enc));
    if (enc & 0x80) {
        UA_SPAN uri = uab_get_span(&tail);

        txt_str(t, "nsu=");
        if (!uri.null)
            txt_escaped(t, uri.p, uri.len, TEXT_CHARS);
        txt_str(t, ";");
    }
    if (enc & 0x40)
        txt_fmt(t, "svr=%lu;", (unsigned long)uab_get_u32(&tail));
    txt_nodeid(t, &id);
}

static void read_extobj(UA_RBUF *r, TXT *t)
{
    UA_NODEID id;
    uint8_t enc;
    UA_SPAN body = { NULL, 0, 1 };

    uab_get_nodeid(r, &id);
    enc = uab_get_u8(r);
    if (r->err)
        return;
    if (enc == 1 || enc == 2) {
        body = uab_get_span(r);
    } else if (enc != 0) {
        r->err = 1;
        return;
    }
    if (r->err || t == NULL)
        return;
    txt_str(t, "ExtensionObject ");
    txt_nodeid(t, &id);
    if (enc == 0 || body.null)
        txt_str(t, " (no body)");
    else
        txt_fmt(t, " (%s%zu bytes)", enc == 2 ? "XML, " : "", body.len);
}

static void read_loctext(UA_RBUF *r, TXT *t, char **text_out)
{
    uint8_t mask = uab_get_u8(r);
    UA_SPAN text = { NULL, 0, 1 };

    if (mask & 0x01)
        (void)uab_get_span(r);             /* locale */
    if (mask & 0x02) {
        if (text_out != NULL)
            *text_out = uab_get_string(r);
        else
            text = uab_get_span(r);
    }
    if (r->err || t == NULL)
        return;
    text.null = 0;                         /* absent text shows as "" */
    txt_quoted(t, &text);
}

/* One value of built-in type |type| (26-31 read as ByteString). */
static void read_builtin(UA_RBUF *r, uint8_t type, TXT *t, int depth)
{
    switch (type) {
    case BT_BOOLEAN: {
        int v = uab_get_bool(r);

        if (!r->err)
            txt_str(t, v ? "true" : "false");
        break;
    }
    case BT_SBYTE: {
        int8_t v = (int8_t)uab_get_u8(r);

        if (!r->err)
            txt_fmt(t, "%d", (int)v);
        break;
    }
    case BT_BYTE: {
        uint8_t v = uab_get_u8(r);

        if (!r->err)
            txt_fmt(t, "%u", (unsigned int)v);
        break;
    }
    case BT_INT16: {
        int16_t v = (int16_t)uab_get_u16(r);

        if (!r->err)
            txt_fmt(t, "%d", (int)v);
        break;
    }
    case BT_UINT16: {
        uint16_t v = uab_get_u16(r);

        if (!r->err)
            txt_fmt(t, "%u", (unsigned int)v);
        break;
    }
    case BT_INT32: {
        int32_t v = uab_get_i32(r);

        if (!r->err)
            txt_fmt(t, "%ld", (long)v);
        break;
    }
    case BT_UINT32: {
        uint32_t v = uab_get_u32(r);

        if (!r->err)
            txt_fmt(t, "%lu", (unsigned long)v);
        break;
    }
    case BT_INT64: {
        int64_t v = uab_get_i64(r);

        if (!r->err)
            txt_fmt(t, "%lld", (long long)v);
        break;
    }
    case BT_UINT64: {
        uint64_t v = uab_get_u64(r);

        if (!r->err)
            txt_fmt(t, "%llu", (unsigned long long)v);
        break;
    }
    case BT_FLOAT: {
        uint32_t u = uab_get_u32(r);
        float f;

        memcpy(&f, &u, sizeof(f));
        if (!r->err && t != NULL)
            txt_double(t, f, 1);
        break;
    }
    case BT_DOUBLE: {
        double d = uab_get_f64(r);

        if (!r->err && t != NULL)
            txt_double(t, d, 0);
        break;
    }
    case BT_STRING:
    case BT_XMLELEMENT: {
        UA_SPAN s = uab_get_span(r);

        if (!r->err && t != NULL)
            txt_quoted(t, &s);
        break;
    }
    case BT_DATETIME: {
        int64_t v = uab_get_i64(r);
        char buf[48];

        if (!r->err && t != NULL) {
            uab_datetime_format(v, buf, sizeof(buf));
            txt_str(t, buf);
        }
        break;
    }
    case BT_GUID: {
        const unsigned char *g = uab_get_raw(r, 16);

        if (g != NULL && t != NULL)
            txt_guid(t, g);
        break;
    }
    case BT_NODEID: {
        UA_NODEID id;

        uab_get_nodeid(r, &id);
        if (!r->err && t != NULL)
            txt_nodeid(t, &id);
        break;
    }
    case BT_EXPANDEDNODEID:
        read_expanded_nodeid(r, t);
        break;
    case BT_STATUSCODE: {
        uint32_t v = uab_get_u32(r);

        if (!r->err)
            txt_fmt(t, "0x%08lX", (unsigned long)v);
        break;
    }
    case BT_QUALIFIEDNAME: {
        uint16_t ns = uab_get_u16(r);
        UA_SPAN name = uab_get_span(r);

        if (!r->err && t != NULL) {
            txt_fmt(t, "%u:", (unsigned int)ns);
            if (!name.null)
                txt_escaped(t, name.p, name.len, TEXT_CHARS);
        }
        break;
    }
    case BT_LOCALIZEDTEXT:
        read_loctext(r, t, NULL);
        break;
    case BT_EXTENSIONOBJECT:
        read_extobj(r, t);
        break;
    case BT_DATAVALUE:
        read_datavalue(r, t, depth + 1, NULL);
        break;
    case BT_VARIANT:
        read_variant(r, t, depth + 1, NULL);
        break;
    case BT_DIAGNOSTICINFO:
        read_diaginfo(r, depth + 1);
        if (!r->err)
            txt_str(t, "DiagnosticInfo");
        break;
    default: {     /* ByteString, and the reserved ids 26-31 */
        UA_SPAN s = uab_get_span(r);
        size_t i;

        if (r->err || t == NULL)
            break;
        if (s.null || s.len == 0) {
            txt_str(t, s.null ? "null" : "(0 bytes)");
            break;
        }
        txt_str(t, "0x");
        for (i = 0; i < s.len && i < TEXT_BYTES; i++)
            txt_fmt(t, "%02x", s.p[i]);
        if (s.len > TEXT_BYTES)
            txt_str(t, ELLIPSIS);
        txt_fmt(t, " (%zu byte%s)", s.len, s.len == 1 ? "" : "s");
        break;
    }
    }
}

/* A Variant.  Renders into |t| (when not NULL), or, with |out|, into a
 * text of its own stored in out->text along with the type and array
 * facts. */
static void read_variant(UA_RBUF *r, TXT *t, int depth, UA_VARIANT *out)
{
    TXT own = { NULL, 0, 0, 0, 0 };
    uint8_t mask, type;
    int32_t n = 0, i;

    if (depth > UAMSG_MAX_DEPTH) {
        r->err = 1;
        return;
    }
    if (out != NULL)
        t = &own;
    mask = uab_get_u8(r);
    if (r->err)
        goto end;
    type = mask & 0x3f;
    if (type == BT_NULL) {
        if (mask != 0)
            r->err = 1;
        txt_str(t, "null");
        goto end;
    }
    if (mask & 0x80) {
        n = uab_get_array_len(r, min_size(type));
        txt_fmt(t, "[%ld element%s", (long)n, n == 1 ? "" : "s");
        for (i = 0; i < n && !r->err; i++) {
            TXT *shown = i < TEXT_ELEMS ? t : NULL;

            txt_str(shown, i == 0 ? ": " : ", ");
            read_builtin(r, type, shown, depth);
        }
        if (n > TEXT_ELEMS)
            txt_str(t, ", " ELLIPSIS);
        txt_str(t, "]");
        if (mask & 0x40) {
            int32_t nd = uab_get_array_len(r, 4);

            txt_str(t, " (");
            for (i = 0; i < nd && !r->err; i++) {
                int32_t d = uab_get_i32(r);

                if (i < TEXT_ELEMS)
                    txt_fmt(t, "%s%ld", i ? "x" : "", (long)d);
            }
            txt_str(t, nd > TEXT_ELEMS ? "x" ELLIPSIS ")" : ")");
        }
    } else if ((mask & 0x40) || type == BT_VARIANT) {
        /* dimensions without an array, or a Variant directly inside a
         * Variant: both forbidden by OPC 10000-6 5.2.2.16 */
        r->err = 1;
    } else {
        read_builtin(r, type, t, depth);
    }
    if (out != NULL && !r->err) {
        out->type = type;
        out->is_array = (mask & 0x80) != 0;
        out->array_len = n;
    }
end:
    if (out != NULL) {
        if (r->err) {
            free(own.p);
        } else {
            out->text = txt_finish(&own);
            if (out->text == NULL)
                r->err = 1;
        }
    }
}

static void read_datavalue(UA_RBUF *r, TXT *t, int depth, UA_DATAVALUE *out)
{
    uint8_t mask;
    uint32_t status = 0;

    if (depth > UAMSG_MAX_DEPTH) {
        r->err = 1;
        return;
    }
    mask = uab_get_u8(r);
    txt_str(t, "DataValue{");
    if (mask & 0x01) {
        if (out != NULL) {
            read_variant(r, NULL, depth + 1, &out->value);
            out->has_value = !r->err;
        } else {
            read_variant(r, t, depth + 1, NULL);
        }
    } else {
        txt_str(t, "no value");
    }
    if (mask & 0x02)
        status = uab_get_u32(r);
    if (mask & 0x04) {
        int64_t ts = uab_get_i64(r);

        if (out != NULL)
            out->source_timestamp = ts;
    }
    if (mask & 0x10)
        (void)uab_get_u16(r);    /* source picoseconds */
    if (mask & 0x08) {
        int64_t ts = uab_get_i64(r);

        if (out != NULL)
            out->server_timestamp = ts;
    }
    if (mask & 0x20)
        (void)uab_get_u16(r);    /* server picoseconds */
    if (out != NULL)
        out->status = status;
    if (status != 0)
        txt_fmt(t, ", status 0x%08lX", (unsigned long)status);
    txt_str(t, "}");
}

static void read_diaginfo(UA_RBUF *r, int depth)
{
    uint8_t mask;

    if (depth > UAMSG_MAX_DEPTH) {
        r->err = 1;
        return;
    }
    mask = uab_get_u8(r);
    if (mask & 0x01)
        (void)uab_get_i32(r);    /* SymbolicId */
    if (mask & 0x02)
        (void)uab_get_i32(r);    /* NamespaceUri */
    if (mask & 0x08)
        (void)uab_get_i32(r);    /* Locale */
    if (mask & 0x04)
        (void)uab_get_i32(r);    /* LocalizedText */
    if (mask & 0x10)
        (void)uab_get_span(r);   /* AdditionalInfo */
    if (mask & 0x20)
        (void)uab_get_u32(r);    /* InnerStatusCode */
    if ((mask & 0x40) && !r->err)
        read_diaginfo(r, depth + 1);
}

void uamsg_skip_diaginfo(UA_RBUF *r)
{
    read_diaginfo(r, 1);
}

void uamsg_skip_extobj(UA_RBUF *r)
{
    read_extobj(r, NULL);
}

void uamsg_skip_variant(UA_RBUF *r)
{
    read_variant(r, NULL, 1, NULL);
}

void uamsg_get_datavalue(UA_RBUF *r, UA_DATAVALUE *dv)
{
    memset(dv, 0, sizeof(*dv));
    read_datavalue(r, NULL, 1, dv);
    if (r->err)
        uamsg_free_datavalue(dv);
}

void uamsg_free_datavalue(UA_DATAVALUE *dv)
{
    if (dv == NULL)
        return;
    free(dv->value.text);
    memset(dv, 0, sizeof(*dv));
}

char *uamsg_printable(const char *s, size_t max_chars)
{
    TXT t = { NULL, 0, 0, 0, 0 };

    if (s == NULL)
        return NULL;
    txt_str(&t, "");
    txt_escaped(&t, (const unsigned char *)s, strlen(s), max_chars);
    return txt_finish(&t);
}

/* ==== request encoders ================================================== */

static void put_type(UA_WBUF *w, uint32_t id)
{
    uab_put_nodeid_num(w, 0, id);
}

/* An array length for |n| elements (an empty array, not the null one). */
static void put_count(UA_WBUF *w, size_t n)
{
    if (n > INT32_MAX) {
        w->err = 1;
        return;
    }
    uab_put_i32(w, (int32_t)n);
}

void uamsg_put_reqhdr(UA_WBUF *w, const UA_REQHDR *h)
{
    if (h->auth_token != NULL)
        uab_put_nodeid(w, h->auth_token);
    else
        uab_put_nodeid_num(w, 0, 0);       /* the null NodeId */
    uab_put_i64(w, uab_datetime_now());    /* timestamp */
    uab_put_u32(w, h->handle);             /* requestHandle */
    uab_put_u32(w, 0);                     /* returnDiagnostics: none */
    uab_put_string(w, NULL);               /* auditEntryId */
    uab_put_u32(w, h->timeout_ms);         /* timeoutHint */
    uab_put_null_extobj(w);                /* additionalHeader */
}

void uamsg_put_getendpoints(UA_WBUF *w, const UA_REQHDR *h, const char *endpoint_url)
{
    put_type(w, UA_ID_GETENDPOINTS_REQ);
    uamsg_put_reqhdr(w, h);
    uab_put_string(w, endpoint_url);
    put_count(w, 0);                       /* localeIds */
    put_count(w, 0);                       /* profileUris */
}

void uamsg_put_opensecurechannel(UA_WBUF *w, const UA_REQHDR *h, uint32_t request_type,
                                 uint32_t security_mode, const unsigned char *nonce,
                                 size_t nonce_len, uint32_t requested_lifetime_ms)
{
    put_type(w, UA_ID_OPENSECURECHANNEL_REQ);
    uamsg_put_reqhdr(w, h);
    uab_put_u32(w, 0);                     /* clientProtocolVersion */
    uab_put_u32(w, request_type);          /* SecurityTokenRequestType */
    uab_put_u32(w, security_mode);         /* MessageSecurityMode */
    uab_put_bytes(w, nonce_len ? nonce : NULL, nonce_len);
    uab_put_u32(w, requested_lifetime_ms);
}

void uamsg_put_closesecurechannel(UA_WBUF *w, const UA_REQHDR *h)
{
    put_type(w, UA_ID_CLOSESECURECHANNEL_REQ);
    uamsg_put_reqhdr(w, h);
}

/* LocalizedText with only the text (none at all for NULL). */
static void put_loctext(UA_WBUF *w, const char *text)
{
    if (text == NULL) {
        uab_put_u8(w, 0x00);
        return;
    }
    uab_put_u8(w, 0x02);
    uab_put_string(w, text);
}

static void put_appdesc(UA_WBUF *w, const UA_APPDESC *a)
{
    size_t i;

    uab_put_string(w, a->application_uri);
    uab_put_string(w, a->product_uri);
    put_loctext(w, a->application_name);
    uab_put_u32(w, a->application_type);
    uab_put_string(w, a->gateway_server_uri);
    uab_put_string(w, a->discovery_profile_uri);
    if (a->discovery_urls == NULL) {
        put_count(w, 0);
        return;
    }
    put_count(w, a->n_discovery_urls);
    for (i = 0; i < a->n_discovery_urls; i++)
        uab_put_string(w, a->discovery_urls[i]);
}

void uamsg_put_createsession(UA_WBUF *w, const UA_REQHDR *h, const UA_APPDESC *client,
                             const char *endpoint_url, const char *session_name,
                             const unsigned char *nonce, size_t nonce_len,
                             const unsigned char *cert, size_t cert_len,
                             double session_timeout_ms, uint32_t max_response_size)
{
    if (client == NULL) {
        w->err = 1;
        return;
    }
    put_type(w, UA_ID_CREATESESSION_REQ);
    uamsg_put_reqhdr(w, h);
    put_appdesc(w, client);                /* clientDescription */
    uab_put_string(w, NULL);               /* serverUri */
    uab_put_string(w, endpoint_url);
    uab_put_string(w, session_name);
    uab_put_bytes(w, nonce, nonce_len);    /* clientNonce */
    uab_put_bytes(w, cert, cert_len);      /* clientCertificate */
    uab_put_f64(w, session_timeout_ms);    /* requestedSessionTimeout */
    uab_put_u32(w, max_response_size);     /* maxResponseMessageSize */
}

/* userIdentityToken: an ExtensionObject with a binary body whose length
 * is patched in once the body is written. */
static void put_identity(UA_WBUF *w, const UA_IDENTITY *id)
{
    int user = id != NULL && id->user_name != NULL;
    size_t len_off, start;

    put_type(w, user ? UA_ID_USERNAMEIDENTITYTOKEN : UA_ID_ANONYMOUSIDENTITYTOKEN);
    uab_put_u8(w, 0x01);                   /* body: ByteString */
    len_off = w->len;
    uab_put_i32(w, 0);
    start = w->len;
    uab_put_string(w, id != NULL ? id->policy_id : NULL);
    if (user) {
        uab_put_string(w, id->user_name);
        if (id->password != NULL)
            uab_put_bytes(w, id->password, id->password_len);
        else
            uab_put_bytes(w, (const unsigned char *)"", 0);
        uab_put_string(w, id->enc_alg);
    }
    if (w->err)
        return;
    if (w->len - start > INT32_MAX) {
        w->err = 1;
        return;
    }
    uab_patch_u32(w, len_off, (uint32_t)(w->len - start));
}

void uamsg_put_activatesession(UA_WBUF *w, const UA_REQHDR *h, const char *sig_alg_uri,
                               const unsigned char *sig, size_t sig_len,
                               const UA_IDENTITY *identity)
{
    put_type(w, UA_ID_ACTIVATESESSION_REQ);
    uamsg_put_reqhdr(w, h);
    uab_put_string(w, sig_alg_uri);        /* clientSignature.algorithm */
    uab_put_bytes(w, sig, sig_len);        /* clientSignature.signature */
    put_count(w, 0);                       /* clientSoftwareCertificates */
    put_count(w, 0);                       /* localeIds */
    put_identity(w, identity);             /* userIdentityToken */
    uab_put_string(w, NULL);               /* userTokenSignature.algorithm */
    uab_put_bytes(w, NULL, 0);             /* userTokenSignature.signature */
}

void uamsg_put_closesession(UA_WBUF *w, const UA_REQHDR *h, int delete_subscriptions)
{
    put_type(w, UA_ID_CLOSESESSION_REQ);
    uamsg_put_reqhdr(w, h);
    uab_put_bool(w, delete_subscriptions);
}

/* ---- NodeId text ---- */

/* Decimal digits [s, end) into *v, at most |max|; no sign, no blanks. */
static int parse_dec(const char *s, const char *end, uint32_t max, uint32_t *v)
{
    uint64_t acc = 0;

    if (s == end)
        return 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        acc = acc * 10 + (uint64_t)(*s - '0');
        if (acc > max)
            return 0;
    }
    *v = (uint32_t)acc;
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "09087e75-8e5e-499b-954f-f2a9603db28a" into the 16 wire bytes. */
static int parse_guid(const char *s, unsigned char g[16])
{
    unsigned char b[16];
    size_t i, k = 0;

    if (strlen(s) != 36)
        return 0;
    for (i = 0; i < 36;) {
        int hi, lo;

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
            i++;
            continue;
        }
        hi = hexval(s[i]);
        lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        b[k++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    /* text order is Data1 Data2 Data3 big-endian; the wire has them
     * little-endian, Data4 as it is */
    g[0] = b[3]; g[1] = b[2]; g[2] = b[1]; g[3] = b[0];
    g[4] = b[5]; g[5] = b[4];
    g[6] = b[7]; g[7] = b[6];
    memcpy(g + 8, b + 8, 8);
    return 1;
}

static int b64val(char c)
{
    const char *p;

    if (c == '\0')
        return -1;
    p = strchr(b64_alphabet, c);
    return p != NULL ? (int)(p - b64_alphabet) : -1;
}

/* Strict Base64: padded to a multiple of 4, no blanks, zero spare bits.
 * *out malloc'd (non-empty input only). */
static int parse_base64(const char *s, unsigned char **out, size_t *out_len)
{
    size_t n = strlen(s), i, k = 0, pad = 0;
    unsigned char *buf;

    if (n == 0 || n % 4 != 0)
        return 0;
    if (s[n - 1] == '=')
        pad = s[n - 2] == '=' ? 2 : 1;
    buf = malloc(n / 4 * 3);
    if (buf == NULL)
        return 0;
    for (i = 0; i < n; i += 4) {
        int v[4], j;
        uint32_t acc = 0;
        int last = i + 4 == n;

        for (j = 0; j < 4; j++) {
            if (last && j >= 4 - (int)pad) {
                v[j] = 0;
                continue;
            }
            v[j] = b64val(s[i + j]);
            if (v[j] < 0)
                goto bad;
            acc |= (uint32_t)v[j] << (18 - 6 * j);
        }
        if (last && ((pad == 1 && (acc & 0xff) != 0) || (pad == 2 && (acc & 0xffff) != 0)))
            goto bad;
        buf[k++] = (unsigned char)(acc >> 16);
        if (!last || pad < 2)
            buf[k++] = (unsigned char)(acc >> 8);
        if (!last || pad < 1)
            buf[k++] = (unsigned char)acc;
    }
    *out = buf;
    *out_len = k;
    return 1;
bad:
    free(buf);
    return 0;
}

int uamsg_put_nodeid_text(UA_WBUF *w, const char *text)
{
    uint32_t ns = 0, num = 0;
    const char *p, *semi;
    unsigned char guid[16];
    unsigned char *bytes = NULL;
    size_t bytes_len = 0;

    if (text == NULL)
        return 0;
    p = text;
    if (strncmp(p, "ns=", 3) == 0) {
        semi = strchr(p + 3, ';');
        if (semi == NULL || !parse_dec(p + 3, semi, 0xffff, &ns))
            return 0;
        p = semi + 1;
    }
    if (p[0] == '\0' || p[1] != '=')
        return 0;
    switch (p[0]) {
    case 'i':
        if (!parse_dec(p + 2, p + strlen(p), 0xffffffffu, &num))
            return 0;
        uab_put_nodeid_num(w, (uint16_t)ns, num);
        return 1;
    case 's':
        if (p[2] == '\0')
            return 0;
        uab_put_u8(w, 0x03);
        uab_put_u16(w, (uint16_t)ns);
        uab_put_string(w, p + 2);
        return 1;
    case 'g':
        if (!parse_guid(p + 2, guid))
            return 0;
        uab_put_u8(w, 0x04);
        uab_put_u16(w, (uint16_t)ns);
        uab_put_raw(w, guid, sizeof(guid));
        return 1;
    case 'b':
        if (!parse_base64(p + 2, &bytes, &bytes_len))
            return 0;
        uab_put_u8(w, 0x05);
        uab_put_u16(w, (uint16_t)ns);
        uab_put_bytes(w, bytes, bytes_len);
        free(bytes);
        return 1;
    default:
        return 0;
    }
}

int uamsg_put_read(UA_WBUF *w, const UA_REQHDR *h, const char *node_id)
{
    UA_WBUF id;

    /* Parsed first into a buffer of its own: nothing reaches |w| when the
     * text is not a NodeId. */
    uab_w_init(&id, 0);
    if (!uamsg_put_nodeid_text(&id, node_id)) {
        uab_w_free(&id);
        return 0;
    }
    if (id.err) {                          /* out of memory, not bad text */
        uab_w_free(&id);
        w->err = 1;
        return 1;
    }
    put_type(w, UA_ID_READ_REQ);
    uamsg_put_reqhdr(w, h);
    uab_put_f64(w, 0.0);                   /* maxAge */
    uab_put_u32(w, 2);                     /* timestampsToReturn: Both */
    put_count(w, 1);                       /* nodesToRead */
    uab_put_raw(w, id.data, id.len);       /*   nodeId */
    uab_put_u32(w, 13);                    /*   attributeId: Value */
    uab_put_string(w, NULL);               /*   indexRange */
    uab_put_u16(w, 0);                     /*   dataEncoding: QualifiedName 0, null */
    uab_put_string(w, NULL);
    uab_w_free(&id);
    return 1;
}

/* ==== response decoders ================================================= */

static void free_bytes(UA_BYTES *b)
{
    if (b->p != NULL) {
        OPENSSL_cleanse(b->p, b->len);
        free(b->p);
    }
    b->p = NULL;
    b->len = 0;
}

/* ByteString copied (an empty one gets a non-NULL pointer; p NULL only
 * for the null ByteString). */
static void get_bytes(UA_RBUF *r, UA_BYTES *b)
{
    UA_SPAN s = uab_get_span(r);

    b->p = NULL;
    b->len = 0;
    if (r->err || s.null)
        return;
    b->p = malloc(s.len ? s.len : 1);
    if (b->p == NULL) {
        r->err = 1;
        return;
    }
    if (s.len)
        memcpy(b->p, s.p, s.len);
    b->len = s.len;
}

/* Array count of a decoded array we keep: bounded by the bytes left and
 * by UAMSG_MAX_ITEMS. */
static size_t get_count(UA_RBUF *r, size_t min_elem)
{
    int32_t n = uab_get_array_len(r, min_elem);

    if (r->err)
        return 0;
    if ((size_t)n > UAMSG_MAX_ITEMS) {
        r->err = 1;
        return 0;
    }
    return (size_t)n;
}

/* Zeroed array of |n| elements (NULL for 0), or err. */
static void *alloc_array(UA_RBUF *r, size_t n, size_t size)
{
    void *p;

    if (r->err || n == 0)
        return NULL;
    p = calloc(n, size);
    if (p == NULL)
        r->err = 1;
    return p;
}

static void get_resphdr_body(UA_RBUF *r, UA_RESPHDR *h)
{
    int32_t n, i;

    h->timestamp = uab_get_i64(r);
    h->handle = uab_get_u32(r);
    h->result = uab_get_u32(r);
    read_diaginfo(r, 1);                   /* serviceDiagnostics */
    n = uab_get_array_len(r, 4);           /* stringTable */
    for (i = 0; i < n && !r->err; i++)
        (void)uab_get_span(r);
    read_extobj(r, NULL);                  /* additionalHeader */
}

int uamsg_get_resphdr(UA_RBUF *r, uint32_t expected, UA_RESPHDR *h)
{
    UA_NODEID type;
    int fault;

    memset(h, 0, sizeof(*h));
    uab_get_nodeid(r, &type);
    if (r->err)
        return 0;
    fault = uab_nodeid_is(&type, 0, UA_ID_SERVICEFAULT);
    if (!fault && !uab_nodeid_is(&type, 0, expected))
        return 0;
    get_resphdr_body(r, h);
    if (r->err) {
        memset(h, 0, sizeof(*h));
        return 0;
    }
    h->service_fault = fault;
    return 1;
}

/* ---- ApplicationDescription, UserTokenPolicy, EndpointDescription ---- */

static void get_appdesc(UA_RBUF *r, UA_APPDESC *a)
{
    size_t i;

    a->application_uri = uab_get_string(r);
    a->product_uri = uab_get_string(r);
    read_loctext(r, NULL, &a->application_name);
    a->application_type = uab_get_u32(r);
    a->gateway_server_uri = uab_get_string(r);
    a->discovery_profile_uri = uab_get_string(r);
    a->n_discovery_urls = get_count(r, 4);
    a->discovery_urls = alloc_array(r, a->n_discovery_urls, sizeof(char *));
    if (a->discovery_urls == NULL)
        a->n_discovery_urls = 0;
    for (i = 0; i < a->n_discovery_urls && !r->err; i++)
        a->discovery_urls[i] = uab_get_string(r);
}

void uamsg_free_appdesc(UA_APPDESC *a)
{
    size_t i;

    if (a == NULL)
        return;
    free(a->application_uri);
    free(a->product_uri);
    free(a->application_name);
    free(a->gateway_server_uri);
    free(a->discovery_profile_uri);
    if (a->discovery_urls != NULL) {
        for (i = 0; i < a->n_discovery_urls; i++)
            free(a->discovery_urls[i]);
        free(a->discovery_urls);
    }
    memset(a, 0, sizeof(*a));
}

static void get_tokenpolicy(UA_RBUF *r, UA_USERTOKENPOLICY *p)
{
    p->policy_id = uab_get_string(r);
    p->token_type = uab_get_u32(r);
    p->issued_token_type = uab_get_string(r);
    p->issuer_endpoint_url = uab_get_string(r);
    p->security_policy_uri = uab_get_string(r);
}

static void free_tokenpolicy(UA_USERTOKENPOLICY *p)
{
    free(p->policy_id);
    free(p->issued_token_type);
    free(p->issuer_endpoint_url);
    free(p->security_policy_uri);
    memset(p, 0, sizeof(*p));
}

/* Smallest EndpointDescription: seven empty strings/arrays (4 bytes each)
 * in the ApplicationDescription plus its LocalizedText mask, then eight
 * more 4-byte fields and the 1-byte security level. */
#define ENDPOINT_MIN (4 + 4 + 4 + 1 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 1)
#define TOKENPOLICY_MIN 20

static void get_endpoint(UA_RBUF *r, UA_ENDPOINT *e)
{
    size_t i;

    e->endpoint_url = uab_get_string(r);
    get_appdesc(r, &e->server);
    get_bytes(r, &e->server_certificate);
    e->security_mode = uab_get_u32(r);
    e->security_policy_uri = uab_get_string(r);
    e->n_tokens = get_count(r, TOKENPOLICY_MIN);
    e->tokens = alloc_array(r, e->n_tokens, sizeof(*e->tokens));
    if (e->tokens == NULL)
        e->n_tokens = 0;
    for (i = 0; i < e->n_tokens && !r->err; i++)
        get_tokenpolicy(r, &e->tokens[i]);
    e->transport_profile_uri = uab_get_string(r);
    e->security_level = uab_get_u8(r);
}

void uamsg_free_endpoint(UA_ENDPOINT *e)
{
    size_t i;

    if (e == NULL)
        return;
    free(e->endpoint_url);
    uamsg_free_appdesc(&e->server);
    free_bytes(&e->server_certificate);
    free(e->security_policy_uri);
    if (e->tokens != NULL) {
        for (i = 0; i < e->n_tokens; i++)
            free_tokenpolicy(&e->tokens[i]);
        free(e->tokens);
    }
    free(e->transport_profile_uri);
    memset(e, 0, sizeof(*e));
}

void uamsg_free_endpoints(UA_ENDPOINT *e, size_t n)
{
    size_t i;

    if (e == NULL)
        return;
    for (i = 0; i < n; i++)
        uamsg_free_endpoint(&e[i]);
    free(e);
}

static void get_endpoints(UA_RBUF *r, UA_ENDPOINT **out, size_t *n_out)
{
    size_t n = get_count(r, ENDPOINT_MIN), i;
    UA_ENDPOINT *e = alloc_array(r, n, sizeof(*e));

    *out = e;
    *n_out = e != NULL ? n : 0;
    for (i = 0; i < *n_out && !r->err; i++)
        get_endpoint(r, &e[i]);
}

/* ---- GetEndpoints ---- */

int uamsg_get_getendpoints(UA_RBUF *r, UA_GETENDPOINTS_RESP *resp)
{
    memset(resp, 0, sizeof(*resp));
    if (!uamsg_get_resphdr(r, UA_ID_GETENDPOINTS_RESP, &resp->hdr))
        return 0;
    if (resp->hdr.service_fault)
        return 1;
    get_endpoints(r, &resp->endpoints, &resp->n_endpoints);
    if (r->err) {
        uamsg_free_getendpoints(resp);
        return 0;
    }
    return 1;
}

void uamsg_free_getendpoints(UA_GETENDPOINTS_RESP *resp)
{
    if (resp == NULL)
        return;
    uamsg_free_endpoints(resp->endpoints, resp->n_endpoints);
    memset(resp, 0, sizeof(*resp));
}

/* ---- OpenSecureChannel ---- */

int uamsg_get_opensecurechannel(UA_RBUF *r, UA_OPN_RESP *resp)
{
    memset(resp, 0, sizeof(*resp));
    if (!uamsg_get_resphdr(r, UA_ID_OPENSECURECHANNEL_RESP, &resp->hdr))
        return 0;
    if (resp->hdr.service_fault)
        return 1;
    resp->server_protocol_version = uab_get_u32(r);
    resp->channel_id = uab_get_u32(r);     /* securityToken: ChannelSecurityToken */
    resp->token_id = uab_get_u32(r);
    resp->created_at = uab_get_i64(r);
    resp->revised_lifetime_ms = uab_get_u32(r);
    get_bytes(r, &resp->server_nonce);
    if (r->err) {
        uamsg_free_opensecurechannel(resp);
        return 0;
    }
    return 1;
}

void uamsg_free_opensecurechannel(UA_OPN_RESP *resp)
{
    if (resp == NULL)
        return;
    free_bytes(&resp->server_nonce);       /* wiped: keys derive from it */
    memset(resp, 0, sizeof(*resp));
}

/* ---- CreateSession ---- */

/* Copies a decoded NodeId's bytes to |dst| and points it there. */
static void rebase_nodeid(UA_NODEID *id, unsigned char *dst)
{
    memcpy(dst, id->raw, id->rawlen);
    if (id->str.p != NULL)
        id->str.p = dst + (id->str.p - id->raw);
    id->raw = dst;
}

int uamsg_get_createsession(UA_RBUF *r, UA_CREATESESSION_RESP *resp)
{
    size_t n, i;

    memset(resp, 0, sizeof(*resp));
    if (!uamsg_get_resphdr(r, UA_ID_CREATESESSION_RESP, &resp->hdr))
        return 0;
    if (resp->hdr.service_fault)
        return 1;
    uab_get_nodeid(r, &resp->session_id);
    uab_get_nodeid(r, &resp->auth_token);
    resp->revised_timeout_ms = uab_get_f64(r);
    get_bytes(r, &resp->server_nonce);
    get_bytes(r, &resp->server_certificate);
    get_endpoints(r, &resp->endpoints, &resp->n_endpoints);
    /* serverSoftwareCertificates: SignedSoftwareCertificate
     * {certificateData, signature}, read and dropped */
    n = (size_t)uab_get_array_len(r, 8);
    for (i = 0; i < n && !r->err; i++) {
        (void)uab_get_span(r);
        (void)uab_get_span(r);
    }
    resp->server_signature.algorithm = uab_get_string(r);
    get_bytes(r, &resp->server_signature.signature);
    resp->max_request_size = uab_get_u32(r);
    if (!r->err) {
        /* the NodeIds outlive the reader's buffer */
        resp->_buf = malloc(resp->session_id.rawlen + resp->auth_token.rawlen);
        if (resp->_buf == NULL) {
            r->err = 1;
        } else {
            rebase_nodeid(&resp->session_id, resp->_buf);
            rebase_nodeid(&resp->auth_token, resp->_buf + resp->session_id.rawlen);
        }
    }
    if (r->err) {
        uamsg_free_createsession(resp);
        return 0;
    }
    return 1;
}

void uamsg_free_createsession(UA_CREATESESSION_RESP *resp)
{
    if (resp == NULL)
        return;
    free_bytes(&resp->server_nonce);
    free_bytes(&resp->server_certificate);
    uamsg_free_endpoints(resp->endpoints, resp->n_endpoints);
    free(resp->server_signature.algorithm);
    free_bytes(&resp->server_signature.signature);
    if (resp->_buf != NULL) {
        /* the authentication token is a session secret */
        OPENSSL_cleanse(resp->_buf, resp->session_id.rawlen + resp->auth_token.rawlen);
        free(resp->_buf);
    }
    memset(resp, 0, sizeof(*resp));
}

/* ---- ActivateSession ---- */

int uamsg_get_activatesession(UA_RBUF *r, UA_ACTIVATESESSION_RESP *resp)
{
    size_t i, n;

    memset(resp, 0, sizeof(*resp));
    if (!uamsg_get_resphdr(r, UA_ID_ACTIVATESESSION_RESP, &resp->hdr))
        return 0;
    if (resp->hdr.service_fault)
        return 1;
    get_bytes(r, &resp->server_nonce);
    n = get_count(r, 4);
    resp->results = alloc_array(r, n, sizeof(uint32_t));
    resp->n_results = resp->results != NULL ? n : 0;
    for (i = 0; i < resp->n_results && !r->err; i++)
        resp->results[i] = uab_get_u32(r);
    n = (size_t)uab_get_array_len(r, 1);   /* diagnosticInfos */
    for (i = 0; i < n && !r->err; i++)
        read_diaginfo(r, 1);
    if (r->err) {
        uamsg_free_activatesession(resp);
        return 0;
    }
    return 1;
}

void uamsg_free_activatesession(UA_ACTIVATESESSION_RESP *resp)
{
    if (resp == NULL)
        return;
    free_bytes(&resp->server_nonce);
    free(resp->results);
    memset(resp, 0, sizeof(*resp));
}

/* ---- Read ---- */

int uamsg_get_read(UA_RBUF *r, UA_READ_RESP *resp)
{
    size_t i, n;

    memset(resp, 0, sizeof(*resp));
    if (!uamsg_get_resphdr(r, UA_ID_READ_RESP, &resp->hdr))
        return 0;
    if (resp->hdr.service_fault)
        return 1;
    n = get_count(r, 1);
    resp->results = alloc_array(r, n, sizeof(*resp->results));
    resp->n_results = resp->results != NULL ? n : 0;
    for (i = 0; i < resp->n_results && !r->err; i++)
        uamsg_get_datavalue(r, &resp->results[i]);
    n = (size_t)uab_get_array_len(r, 1);   /* diagnosticInfos */
    for (i = 0; i < n && !r->err; i++)
        read_diaginfo(r, 1);
    if (r->err) {
        uamsg_free_read(resp);
        return 0;
    }
    return 1;
}

void uamsg_free_read(UA_READ_RESP *resp)
{
    size_t i;

    if (resp == NULL)
        return;
    if (resp->results != NULL) {
        for (i = 0; i < resp->n_results; i++)
            uamsg_free_datavalue(&resp->results[i]);
        free(resp->results);
    }
    memset(resp, 0, sizeof(*resp));
}

/* ---- CloseSession ---- */

int uamsg_get_closesession(UA_RBUF *r, UA_RESPHDR *hdr)
{
    return uamsg_get_resphdr(r, UA_ID_CLOSESESSION_RESP, hdr);
}
