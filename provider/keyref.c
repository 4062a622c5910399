/* uakey: key-reference ASN.1, by hand: the structure is two primitive
 * strings in a SEQUENCE, so a tiny strict DER reader/writer is clearer
 * than a template. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "keyref.h"

#define TAG_SEQUENCE 0x30
#define TAG_UTF8STRING 0x0c
#define TAG_VISIBLESTRING 0x1a

/* Writes a DER length; returns bytes written (out may be NULL). */
static size_t der_len_put(unsigned char *out, size_t len)
{
    unsigned char tmp[sizeof(size_t)];
    size_t n = 0, i;

    if (len < 0x80) {
        if (out != NULL)
            out[0] = (unsigned char)len;
        return 1;
    }
    while (len > 0) {
        tmp[n++] = (unsigned char)(len & 0xff);
        len >>= 8;
    }
    if (out != NULL) {
        out[0] = (unsigned char)(0x80 | n);
        for (i = 0; i < n; i++)
            out[1 + i] = tmp[n - 1 - i];
    }
    return 1 + n;
}

/* Reads tag + definite DER length; returns header size or 0. */
static size_t der_hdr_get(const unsigned char *p, size_t avail, unsigned char tag,
                          size_t *len)
{
    size_t n, i, l = 0;

    if (avail < 2 || p[0] != tag)
        return 0;
    if (p[1] < 0x80) {
        *len = p[1];
        return *len <= avail - 2 ? 2 : 0;
    }
    n = p[1] & 0x7f;
    if (n == 0 || n > 4 || avail < 2 + n || p[2] == 0)
        return 0; /* indefinite, too long, or not minimal */
    for (i = 0; i < n; i++)
        l = (l << 8) | p[2 + i];
    if (l < 0x80)
        return 0; /* not minimal */
    if (l > avail - 2 - n)
        return 0;
    *len = l;
    return 2 + n;
}

int ukprov_keyref_encode(const char *uri, unsigned char **der, size_t *derlen)
{
    const size_t vlen = strlen(UKPROV_KEYREF_VERSION);
    size_t ulen, inner, total;
    unsigned char *buf, *p;

    if (uri == NULL || der == NULL || derlen == NULL)
        return 0;
    ulen = strlen(uri);
    inner = 1 + der_len_put(NULL, vlen) + vlen + 1 + der_len_put(NULL, ulen) + ulen;
    total = 1 + der_len_put(NULL, inner) + inner;
    buf = malloc(total);
    if (buf == NULL)
        return 0;
    p = buf;
    *p++ = TAG_SEQUENCE;
    p += der_len_put(p, inner);
    *p++ = TAG_VISIBLESTRING;
    p += der_len_put(p, vlen);
    memcpy(p, UKPROV_KEYREF_VERSION, vlen);
    p += vlen;
    *p++ = TAG_UTF8STRING;
    p += der_len_put(p, ulen);
    memcpy(p, uri, ulen);
    *der = buf;
    *derlen = total;
    return 1;
}

char *ukprov_keyref_decode(const unsigned char *der, size_t len)
{
    size_t h, seqlen, vlen, ulen;
    const unsigned char *p;
    char *uri;

    if (der == NULL)
        return NULL;
    h = der_hdr_get(der, len, TAG_SEQUENCE, &seqlen);
    if (h == 0 || h + seqlen != len)
        return NULL;
    p = der + h;
    h = der_hdr_get(p, seqlen, TAG_VISIBLESTRING, &vlen);
    if (h == 0 || vlen != strlen(UKPROV_KEYREF_VERSION)
        || memcmp(p + h, UKPROV_KEYREF_VERSION, vlen) != 0)
        return NULL;
    p += h + vlen;
    seqlen -= h + vlen;
    h = der_hdr_get(p, seqlen, TAG_UTF8STRING, &ulen);
    if (h == 0 || h + ulen != seqlen || ulen < 7)
        return NULL;
    if (memchr(p + h, '\0', ulen) != NULL || strncmp((const char *)p + h, "pkcs11:", 7) != 0)
        return NULL;
    uri = malloc(ulen + 1);
    if (uri == NULL)
        return NULL;
    memcpy(uri, p + h, ulen);
    uri[ulen] = '\0';
    return uri;
}

char *ukprov_keyref_pem(const unsigned char *der, size_t derlen)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *data = NULL, *out = NULL;
    long n;

    if (mem == NULL)
        return NULL;
    if (PEM_write_bio(mem, UKPROV_KEYREF_PEM_LABEL, "", der, (long)derlen) > 0) {
        n = BIO_get_mem_data(mem, &data);
        if (n > 0 && (out = malloc((size_t)n + 1)) != NULL) {
            memcpy(out, data, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(mem);
    return out;
}
