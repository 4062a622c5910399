/* uakey integration tests: small shared helpers (header-only). */
#ifndef UK_TUTIL_H
#define UK_TUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/x509.h>

#define T_FAIL(...)                                                   \
    do {                                                              \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);          \
        fprintf(stderr, __VA_ARGS__);                                 \
        fprintf(stderr, "\n");                                        \
        ERR_print_errors_fp(stderr);                                  \
        exit(1);                                                      \
    } while (0)

#define T_CHECK(cond) \
    do { if (!(cond)) T_FAIL("%s", #cond); } while (0)

static inline const char *t_env(const char *name)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0') {
        fprintf(stderr, "SKIP: %s not set\n", name);
        exit(77);
    }
    return v;
}

/* First private key (or public key if want_pub) behind a URI or file. */
static inline EVP_PKEY *t_load_key(const char *uri, int want_pub)
{
    OSSL_STORE_CTX *st = OSSL_STORE_open(uri, NULL, NULL, NULL, NULL);
    EVP_PKEY *pk = NULL;

    if (st == NULL)
        T_FAIL("OSSL_STORE_open(%s)", uri);
    while (pk == NULL && !OSSL_STORE_eof(st)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(st);

        if (info == NULL)
            continue;
        if (!want_pub && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            pk = OSSL_STORE_INFO_get1_PKEY(info);
        else if (want_pub && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PUBKEY)
            pk = OSSL_STORE_INFO_get1_PUBKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(st);
    if (pk == NULL)
        T_FAIL("no key behind %s", uri);
    return pk;
}

/* An independent copy of the public key in a library context that holds
 * only OpenSSL's default provider: the cross-check implementation. */
static inline EVP_PKEY *t_host_pub(OSSL_LIB_CTX *hostctx, EVP_PKEY *key)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    int len = i2d_PUBKEY(key, &der);
    EVP_PKEY *pub;

    if (len <= 0)
        T_FAIL("i2d_PUBKEY");
    p = der;
    pub = d2i_PUBKEY_ex(NULL, &p, len, hostctx, NULL);
    OPENSSL_free(der);
    if (pub == NULL)
        T_FAIL("d2i_PUBKEY_ex in the host context");
    return pub;
}

static OSSL_PROVIDER *t_host_default;

/* A library context holding only OpenSSL's default provider; free it with
 * t_hostctx_free. */
static inline OSSL_LIB_CTX *t_hostctx(void)
{
    OSSL_LIB_CTX *h = OSSL_LIB_CTX_new();

    if (h == NULL || (t_host_default = OSSL_PROVIDER_load(h, "default")) == NULL)
        T_FAIL("host library context");
    return h;
}

static inline void t_hostctx_free(OSSL_LIB_CTX *h)
{
    OSSL_PROVIDER_unload(t_host_default);
    t_host_default = NULL;
    OSSL_LIB_CTX_free(h);
}

/* ---- key-reference files, written byte by byte ----------------------------
 * DER SEQUENCE { VisibleString T_REF_VERSION, UTF8String uri }, PEM label
 * T_REF_PEM_LABEL: independent of uakey's own encoder. */
#define T_REF_VERSION "PKCS#11 Provider URI v1.0"
#define T_REF_PEM_LABEL "PKCS#11 PROVIDER URI"

static inline size_t t_der_len(unsigned char *out, size_t len)
{
    if (len < 0x80) {
        out[0] = (unsigned char)len;
        return 1;
    }
    if (len < 0x100) {
        out[0] = 0x81;
        out[1] = (unsigned char)len;
        return 2;
    }
    out[0] = 0x82;
    out[1] = (unsigned char)(len >> 8);
    out[2] = (unsigned char)len;
    return 3;
}

/* Returns malloc'd DER of the reference to |uri|; *len set. */
static inline unsigned char *t_make_ref_der(const char *uri, size_t *len)
{
    size_t vlen = strlen(T_REF_VERSION), ulen = strlen(uri);
    unsigned char hv[4], hu[4], hs[4];
    size_t nv = t_der_len(hv, vlen), nu = t_der_len(hu, ulen);
    size_t inner = 1 + nv + vlen + 1 + nu + ulen;
    size_t ns = t_der_len(hs, inner);
    unsigned char *der = malloc(1 + ns + inner), *p = der;

    if (der == NULL)
        exit(99);
    *p++ = 0x30;
    memcpy(p, hs, ns), p += ns;
    *p++ = 0x1a;
    memcpy(p, hv, nv), p += nv;
    memcpy(p, T_REF_VERSION, vlen), p += vlen;
    *p++ = 0x0c;
    memcpy(p, hu, nu), p += nu;
    memcpy(p, uri, ulen), p += ulen;
    *len = (size_t)(p - der);
    return der;
}

static inline void t_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        printf("cannot write %s\n", path);
        exit(99);
    }
}

/* Writes DIR/name.der and DIR/name.pem, key references to |uri|; their
 * paths go to derpath and pempath (cap bytes each). */
static inline void t_make_ref_files(const char *dir, const char *name, const char *uri,
                                    char *derpath, char *pempath, size_t cap)
{
    size_t len;
    unsigned char *der = t_make_ref_der(uri, &len);
    BIO *b;

    snprintf(derpath, cap, "%s/%s.der", dir, name);
    snprintf(pempath, cap, "%s/%s.pem", dir, name);
    t_write_file(derpath, der, len);
    b = BIO_new_file(pempath, "w");
    if (b == NULL || PEM_write_bio(b, T_REF_PEM_LABEL, "", der, (long)len) <= 0) {
        printf("cannot write %s\n", pempath);
        exit(99);
    }
    BIO_free(b);
    free(der);
}

#endif
