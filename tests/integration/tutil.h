/* uakey integration tests: small shared helpers (header-only). */
#ifndef UK_TUTIL_H
#define UK_TUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
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

#endif
