/* Test helper: N signatures with one token key in one process, each
 * verified by the default provider in its own library context.  Prints one
 * line per operation: "op I: ok" or "op I: FAIL <error text>", so a fault
 * injected into one call (tests/p11shim) can be seen to fail cleanly and
 * the next call to succeed again.  Exit 0 when it ran, 2 on usage or
 * set-up errors. */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/store.h>

#include "../integration/tutil.h"
#include <openssl/x509.h>

static void print_error(int op)
{
    unsigned long e;
    const char *data = NULL;
    int flags = 0;
    char buf[256];

    e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
    ERR_error_string_n(e, buf, sizeof(buf));
    printf("op %d: FAIL %s %s\n", op, buf, (flags & ERR_TXT_STRING) && data ? data : "");
    ERR_clear_error();
}

int main(int argc, char **argv)
{
    static const unsigned char msg[] = "uk_signloop";
    OSSL_LIB_CTX *host = NULL;
    OSSL_PROVIDER *hostdef = NULL;
    EVP_PKEY *key = NULL, *pub = NULL;
    unsigned char *der = NULL, sig[1024];
    const unsigned char *p;
    int n, i, len;

    if (argc != 3 || (n = atoi(argv[2])) <= 0) {
        fprintf(stderr, "usage: %s KEY-URI COUNT\n", argv[0]);
        return 2;
    }
    key = t_load_key(argv[1], 0);      /* exits with the error when it fails */
    if (key == NULL) {
        printf("load: FAIL\n");
        ERR_print_errors_fp(stdout);
        return 2;
    }
    host = OSSL_LIB_CTX_new();
    hostdef = host != NULL ? OSSL_PROVIDER_load(host, "default") : NULL;
    len = i2d_PUBKEY(key, &der);
    p = der;
    if (hostdef == NULL || len <= 0
        || (pub = d2i_PUBKEY_ex(NULL, &p, len, host, NULL)) == NULL) {
        printf("setup: FAIL\n");
        return 2;
    }
    for (i = 1; i <= n; i++) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        size_t siglen = sizeof(sig);
        int ok = md != NULL
            && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1
            && EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)) == 1;

        EVP_MD_CTX_free(md);
        if (!ok) {
            print_error(i);
            continue;
        }
        md = EVP_MD_CTX_new();
        ok = md != NULL
            && EVP_DigestVerifyInit_ex(md, NULL, "SHA256", host, NULL, pub, NULL) == 1
            && EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) == 1;
        EVP_MD_CTX_free(md);
        if (ok)
            printf("op %d: ok\n", i);
        else
            printf("op %d: FAIL signature does not verify on the host\n", i);
        ERR_clear_error();
    }
    OPENSSL_free(der);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(key);
    OSSL_PROVIDER_unload(hostdef);
    OSSL_LIB_CTX_free(host);
    return 0;
}
