/* uakey integration test: exactly what an OPC UA stack (open62541 and the
 * like) does with its private key, through the public OpenSSL API only.
 * The provider is loaded by OPENSSL_CONF (run-test.sh points it at the
 * per-test openssl.cnf).  Every signature is verified, and every ciphertext
 * made, with the certificate's public key in a separate OSSL_LIB_CTX that
 * holds only the default provider.
 *
 * Environment (from tests/softhsm/testvars): UK_RSA_URI, UK_EC_URI,
 * UK_RSA_CERT, UK_EC_CERT, UK_PIN, UK_TEST_DIR.
 *
 * Key-reference files are written byte by byte by tutil.h (DER SEQUENCE {
 * VisibleString, UTF8String }), independent of uakey's encoder. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tutil.h"

#define REF_VERSION T_REF_VERSION
#define N_THREADS 8
#define N_SIGS 50

static int failures;
static int checks;
static OSSL_LIB_CTX *vctx; /* default provider only: the independent side */
static OSSL_PROVIDER *vdefault;

static void check_(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void check_(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    checks++;
    va_start(ap, fmt);
    if (cond) {
        printf("  ok %d - ", checks);
        vprintf(fmt, ap);
        printf("\n");
    } else {
        failures++;
        printf("  FAIL %d - ", checks);
        vprintf(fmt, ap);
        printf("  (%s:%d)\n", file, line);
        printf("  OpenSSL error queue:\n");
        ERR_print_errors_fp(stdout);
    }
    va_end(ap);
    ERR_clear_error();
    fflush(stdout);
}
#define CHECK(cond, ...) check_((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

static const char *env(const char *name)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0') {
        printf("t_stack_calls: %s is not set (run through tests/run-test.sh)\n", name);
        exit(99);
    }
    return v;
}

/* ---- helpers ------------------------------------------------------------ */

static X509 *read_cert(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

    BIO_free(b);
    if (x == NULL) {
        printf("cannot read certificate %s\n", path);
        ERR_print_errors_fp(stdout);
        exit(99);
    }
    return x;
}

/* The certificate's public key, decoded in the verification context. */
static EVP_PKEY *cert_pub_in_vctx(X509 *x)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    EVP_PKEY *pk;

    if (len <= 0)
        return NULL;
    p = der;
    pk = d2i_PUBKEY_ex(NULL, &p, len, vctx, NULL);
    OPENSSL_free(der);
    return pk;
}

enum pad { PAD_PKCS1, PAD_PSS, PAD_NONE_EC };

static int set_sig_pad(EVP_PKEY_CTX *pctx, enum pad pad)
{
    if (pad == PAD_PKCS1)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
    if (pad == PAD_PSS)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0
            && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0;
    return 1;
}

/* EVP_DigestSign with SHA-256 (one shot); returns malloc'd signature. */
static unsigned char *sign(EVP_PKEY *key, enum pad pad, const unsigned char *msg,
                           size_t msglen, size_t *siglen)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig = NULL;
    size_t len = 0;

    if (mctx == NULL || EVP_DigestSignInit_ex(mctx, &pctx, "SHA256", NULL, NULL, key, NULL) <= 0
        || !set_sig_pad(pctx, pad)
        || EVP_DigestSign(mctx, NULL, &len, msg, msglen) <= 0
        || (sig = OPENSSL_malloc(len)) == NULL
        || EVP_DigestSign(mctx, sig, &len, msg, msglen) <= 0) {
        OPENSSL_free(sig);
        sig = NULL;
    }
    EVP_MD_CTX_free(mctx);
    *siglen = len;
    return sig;
}

/* Streaming variant: Init, several Updates, Final. */
static unsigned char *sign_stream(EVP_PKEY *key, enum pad pad, const unsigned char *msg,
                                  size_t msglen, size_t *siglen)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig = NULL;
    size_t len = 0, off;
    int okk = mctx != NULL
        && EVP_DigestSignInit_ex(mctx, &pctx, "SHA256", NULL, NULL, key, NULL) > 0
        && set_sig_pad(pctx, pad);

    for (off = 0; okk && off < msglen; off += 7)
        okk = EVP_DigestSignUpdate(mctx, msg + off, msglen - off < 7 ? msglen - off : 7) > 0;
    if (okk && EVP_DigestSignFinal(mctx, NULL, &len) > 0 && (sig = OPENSSL_malloc(len)) != NULL
        && EVP_DigestSignFinal(mctx, sig, &len) <= 0) {
        OPENSSL_free(sig);
        sig = NULL;
    }
    EVP_MD_CTX_free(mctx);
    *siglen = len;
    return sig;
}

/* Verification in vctx (default provider only). */
static int verify(EVP_PKEY *pub, enum pad pad, const unsigned char *msg, size_t msglen,
                  const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int r = mctx != NULL
        && EVP_DigestVerifyInit_ex(mctx, &pctx, "SHA256", vctx, NULL, pub, NULL) > 0
        && set_sig_pad(pctx, pad)
        && EVP_DigestVerify(mctx, sig, siglen, msg, msglen) == 1;

    EVP_MD_CTX_free(mctx);
    return r;
}

/* ---- the stack's calls ----------------------------------------------------- */

static EVP_PKEY *load_der(const char *path)
{
    BIO *b = BIO_new_file(path, "rb");
    EVP_PKEY *k = b ? d2i_PrivateKey_bio(b, NULL) : NULL;

    BIO_free(b);
    return k;
}

static EVP_PKEY *load_pem(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

    BIO_free(b);
    return k;
}

static void test_key_loading(EVP_PKEY *der_key, EVP_PKEY *pem_key, X509 *cert,
                             const char *what)
{
    unsigned char *buf = NULL;
    const unsigned char *p;
    int len;
    EVP_PKEY *again;
    const char *pin = env("UK_PIN");

    printf("\n== %s: loading as a stack does\n", what);
    CHECK(der_key != NULL, "%s: d2i_PrivateKey_bio on the DER reference", what);
    CHECK(pem_key != NULL, "%s: PEM_read_bio_PrivateKey on the PEM reference", what);
    if (der_key == NULL || pem_key == NULL)
        return;
    CHECK(EVP_PKEY_eq(der_key, pem_key) == 1, "%s: DER and PEM give the same key", what);

    len = i2d_PrivateKey(der_key, &buf);
    CHECK(len > 0, "%s: i2d_PrivateKey on the token key (%d bytes)", what, len);
    if (len > 0) {
        CHECK(buf[0] == 0x30, "%s: i2d output is a DER SEQUENCE", what);
        CHECK(memmem(buf, (size_t)len, REF_VERSION, strlen(REF_VERSION)) != NULL,
              "%s: i2d output is a key reference", what);
        CHECK(memmem(buf, (size_t)len, pin, strlen(pin)) == NULL, "%s: no PIN in the i2d output", what);
        p = buf;
        again = d2i_AutoPrivateKey(NULL, &p, len);
        CHECK(again != NULL, "%s: d2i_AutoPrivateKey on the i2d output", what);
        CHECK(again != NULL && EVP_PKEY_eq(der_key, again) == 1, "%s: i2d -> d2i gives the same key", what);
        EVP_PKEY_free(again);
        p = buf;
        again = d2i_PrivateKey(EVP_PKEY_get_base_id(der_key), NULL, &p, len);
        CHECK(again != NULL && EVP_PKEY_eq(der_key, again) == 1, "%s: d2i_PrivateKey(type) too", what);
        EVP_PKEY_free(again);
    }
    OPENSSL_free(buf);
    CHECK(X509_check_private_key(cert, der_key) == 1, "%s: X509_check_private_key", what);
}

static void test_sign(EVP_PKEY *key, EVP_PKEY *pub, enum pad pad, const char *what)
{
    static const unsigned char msg[] = "OPC UA OpenSecureChannel request body, 2 x 7 + bytes";
    unsigned char *sig, *sig2;
    size_t siglen = 0, siglen2 = 0;

    sig = sign(key, pad, msg, sizeof(msg) - 1, &siglen);
    CHECK(sig != NULL && siglen > 0, "%s: EVP_DigestSign (%zu bytes)", what, siglen);
    CHECK(sig != NULL && verify(pub, pad, msg, sizeof(msg) - 1, sig, siglen),
          "%s: verified with the certificate key (default provider only)", what);
    if (sig != NULL) {
        sig[siglen / 2] ^= 1;
        CHECK(!verify(pub, pad, msg, sizeof(msg) - 1, sig, siglen), "%s: a corrupted signature fails", what);
        ERR_clear_error();
    }
    sig2 = sign_stream(key, pad, msg, sizeof(msg) - 1, &siglen2);
    CHECK(sig2 != NULL && verify(pub, pad, msg, sizeof(msg) - 1, sig2, siglen2),
          "%s: streaming EVP_DigestSignUpdate/Final verified", what);
    OPENSSL_free(sig);
    OPENSSL_free(sig2);
}

enum oaep { OAEP_PADDING_ONLY, OAEP_SHA256, PKCS1_V15 };

static int set_dec_pad(EVP_PKEY_CTX *c, enum oaep mode)
{
    switch (mode) {
    case OAEP_PADDING_ONLY: /* what stacks do for Basic256: nothing but the padding */
        return EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) > 0;
    case OAEP_SHA256:
        return EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) > 0
            && EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) > 0
            && EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) > 0;
    case PKCS1_V15:
        return EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0;
    }
    return 0;
}

static void test_decrypt_blocks(EVP_PKEY *key, EVP_PKEY *pub, enum oaep mode, const char *what)
{
    const size_t blocks = 3, klen = 256;
    size_t chunk = mode == OAEP_PADDING_ONLY ? 256 - 2 * 20 - 2
                 : mode == OAEP_SHA256 ? 256 - 2 * 32 - 2 : 256 - 11;
    size_t total = blocks * chunk - 17; /* last block short */
    unsigned char *pt = malloc(total), *ct = malloc(blocks * klen), *out = malloc(blocks * klen);
    size_t i, off, ctlen = 0, outlen = 0;
    int okk = 1;

    printf("\n== %s: multi-block decrypt, one 256-byte block at a time\n", what);
    if (pt == NULL || ct == NULL || out == NULL)
        exit(99);
    for (i = 0; i < total; i++)
        pt[i] = (unsigned char)(i * 7 + 3);
    /* Host encrypts chunk by chunk in the verification context. */
    for (off = 0; okk && off < total; off += chunk) {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(vctx, pub, NULL);
        size_t n = total - off < chunk ? total - off : chunk, l = klen;

        okk = c != NULL && EVP_PKEY_encrypt_init(c) > 0 && set_dec_pad(c, mode)
            && EVP_PKEY_encrypt(c, ct + ctlen, &l, pt + off, n) > 0 && l == klen;
        ctlen += l;
        EVP_PKEY_CTX_free(c);
    }
    CHECK(okk && ctlen == blocks * klen, "%s: host made %zu ciphertext bytes", what, ctlen);
    if (!okk)
        goto end;
    /* The stack decrypts each block with a fresh context, only padding set
     * (plus the hash for SHA-256), as open62541 does. */
    for (off = 0; off < ctlen; off += klen) {
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        size_t l = 0;
        int r = c != NULL && EVP_PKEY_decrypt_init(c) > 0 && set_dec_pad(c, mode)
            && EVP_PKEY_decrypt(c, NULL, &l, ct + off, klen) > 0 && l <= klen
            && EVP_PKEY_decrypt(c, out + outlen, &l, ct + off, klen) > 0;

        CHECK(r, "%s: block %zu decrypted by the token (%zu bytes)", what, off / klen, r ? l : 0);
        EVP_PKEY_CTX_free(c);
        if (!r)
            goto end;
        outlen += l;
    }
    CHECK(outlen == total && memcmp(out, pt, total) == 0, "%s: plaintext equals the original (%zu bytes)",
          what, outlen);
end:
    free(pt);
    free(ct);
    free(out);
}

/* ---- threads ---------------------------------------------------------------- */

struct thread_arg {
    EVP_PKEY *key, *pub;
    int id, bad;
};

static void *thread_main(void *v)
{
    struct thread_arg *a = v;
    unsigned char msg[64];
    int i;

    for (i = 0; i < N_SIGS; i++) {
        size_t siglen = 0;
        unsigned char *sig;
        enum pad pad = (i % 2) ? PAD_PSS : PAD_PKCS1;

        snprintf((char *)msg, sizeof(msg), "thread %d signature %d", a->id, i);
        sig = sign(a->key, pad, msg, strlen((char *)msg), &siglen);
        if (sig == NULL || !verify(a->pub, pad, msg, strlen((char *)msg), sig, siglen)) {
            if (a->bad++ == 0) {
                printf("  thread %d: signature %d failed\n", a->id, i);
                ERR_print_errors_fp(stdout);
            }
        }
        OPENSSL_free(sig);
    }
    ERR_clear_error();
    return NULL;
}

static void test_threads(EVP_PKEY *key, EVP_PKEY *pub)
{
    pthread_t th[N_THREADS];
    struct thread_arg args[N_THREADS];
    int i, started = 0, bad = 0;

    printf("\n== %d threads x %d signatures, one shared token key\n", N_THREADS, N_SIGS);
    for (i = 0; i < N_THREADS; i++) {
        args[i].key = key;
        args[i].pub = pub;
        args[i].id = i;
        args[i].bad = 0;
        if (pthread_create(&th[i], NULL, thread_main, &args[i]) != 0)
            break;
        started++;
    }
    for (i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        bad += args[i].bad;
    }
    CHECK(started == N_THREADS, "%d threads started", started);
    CHECK(bad == 0, "all %d signatures verified (%d bad)", started * N_SIGS, bad);
}

int main(void)
{
    const char *dir = env("UK_TEST_DIR");
    char rsa_der[4096], rsa_pem[4096], ec_der[4096], ec_pem[4096];
    EVP_PKEY *rsa_d, *rsa_p, *ec_d, *ec_p, *rsa_pub, *ec_pub;
    X509 *rsa_cert, *ec_cert;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1) {
        printf("OPENSSL_init_crypto(LOAD_CONFIG) failed (OPENSSL_CONF=%s)\n",
               getenv("OPENSSL_CONF") ? getenv("OPENSSL_CONF") : "(unset)");
        ERR_print_errors_fp(stdout);
        return 99;
    }
    CHECK(OSSL_PROVIDER_available(NULL, "uakey"), "uakey is loaded from OPENSSL_CONF");
    if (failures) {
        printf("uakey is not active: check OPENSSL_CONF=%s and OPENSSL_MODULES=%s\n",
               getenv("OPENSSL_CONF") ? getenv("OPENSSL_CONF") : "(unset)",
               getenv("OPENSSL_MODULES") ? getenv("OPENSSL_MODULES") : "(unset)");
        return 1;
    }
    vctx = OSSL_LIB_CTX_new();
    vdefault = vctx ? OSSL_PROVIDER_load(vctx, "default") : NULL;
    if (vdefault == NULL) {
        printf("cannot make the verification library context\n");
        return 99;
    }
    CHECK(!OSSL_PROVIDER_available(vctx, "uakey"), "the verification context does not have uakey");

    t_make_ref_files(dir, "rsa-ref", env("UK_RSA_URI"), rsa_der, rsa_pem, sizeof(rsa_der));
    t_make_ref_files(dir, "ec-ref", env("UK_EC_URI"), ec_der, ec_pem, sizeof(ec_der));
    rsa_cert = read_cert(env("UK_RSA_CERT"));
    ec_cert = read_cert(env("UK_EC_CERT"));
    rsa_pub = cert_pub_in_vctx(rsa_cert);
    ec_pub = cert_pub_in_vctx(ec_cert);
    if (rsa_pub == NULL || ec_pub == NULL) {
        printf("cannot decode the certificates' keys in the verification context\n");
        return 99;
    }

    rsa_d = load_der(rsa_der);
    rsa_p = load_pem(rsa_pem);
    test_key_loading(rsa_d, rsa_p, rsa_cert, "RSA");
    ec_d = load_der(ec_der);
    ec_p = load_pem(ec_pem);
    test_key_loading(ec_d, ec_p, ec_cert, "EC P-256");

    if (rsa_d != NULL) {
        printf("\n== RSA signatures\n");
        test_sign(rsa_d, rsa_pub, PAD_PKCS1, "RSA PKCS#1 v1.5 SHA-256");
        test_sign(rsa_d, rsa_pub, PAD_PSS, "RSA-PSS SHA-256 salt=digest MGF1-SHA-256");
        test_decrypt_blocks(rsa_d, rsa_pub, OAEP_PADDING_ONLY, "OAEP, padding only (SHA-1)");
        test_decrypt_blocks(rsa_d, rsa_pub, OAEP_SHA256, "OAEP SHA-256");
        test_decrypt_blocks(rsa_d, rsa_pub, PKCS1_V15, "PKCS#1 v1.5");
        test_threads(rsa_d, rsa_pub);
    }
    if (ec_d != NULL) {
        printf("\n== ECDSA\n");
        test_sign(ec_d, ec_pub, PAD_NONE_EC, "ECDSA P-256 SHA-256");
        CHECK(X509_check_private_key(rsa_cert, ec_d) != 1, "EC key does not match the RSA certificate");
    }

    EVP_PKEY_free(rsa_d);
    EVP_PKEY_free(rsa_p);
    EVP_PKEY_free(ec_d);
    EVP_PKEY_free(ec_p);
    EVP_PKEY_free(rsa_pub);
    EVP_PKEY_free(ec_pub);
    X509_free(rsa_cert);
    X509_free(ec_cert);
    OSSL_PROVIDER_unload(vdefault);
    OSSL_LIB_CTX_free(vctx);

    printf("\n%s: %d checks, %d failed\n", failures ? "FAIL" : "PASS", checks, failures);
    return failures ? 1 : 0;
}
