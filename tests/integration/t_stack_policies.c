/* uakey integration test: every OPC UA SecurityPolicy, exercised with only
 * the OpenSSL calls an unmodified OpenSSL-based stack makes with its
 * application private key (the call pattern of docs/opcua-stack.md).
 *
 * The key file the "stack" is given is a uakey key reference (PEM and DER),
 * written byte by byte by tutil.h; the provider is active only through
 * OPENSSL_CONF (run-test.sh points it at the per-test openssl.cnf).  Per
 * policy:
 *   - load: d2i_PrivateKey_bio then PEM_read_bio_PrivateKey on the file bytes
 *     (the open62541 order), PEM_read_bio_PrivateKey on the PEM file,
 *     d2i_PrivateKey_bio and d2i_AutoPrivateKey on the DER file; all equal;
 *   - i2d_PrivateKey (must not fail), decoded again, equal;
 *   - X509_check_private_key and EVP_PKEY_eq against the certificate (made
 *     on the fly through the provider, and verified on the host, for keys
 *     setup-softhsm.sh made no certificate for);
 *   - RSA: EVP_DigestSignInit + EVP_PKEY_CTX_set_rsa_padding (+ PSS salt
 *     length / MGF1), Update, Final into a key-size buffer; ECDSA: one-shot
 *     EVP_DigestSign, DER converted to r||s; Ed25519: one-shot
 *     EVP_DigestSign with a NULL digest;
 *   - RSA: a multi-block ciphertext decrypted one key-size block at a time
 *     through one EVP_PKEY_CTX (padding only, or OAEP with
 *     EVP_PKEY_CTX_set_rsa_oaep_md + set_rsa_mgf1_md for SHA-256).
 * Every signature is verified, and every ciphertext made, by OpenSSL's
 * default provider in a library context holding nothing else, with the
 * certificate's public key (checked equal to the public key pkcs11-tool
 * exported at setup).
 *
 * Then a child process runs three policies again with an openssl.cnf that
 * reads the PIN from a file (pkcs11-module-token-pin = file:PATH).
 * UK_POLICIES=NAME,NAME... runs only those policies (for debugging).
 * A policy whose key the token could not make (its URI variable empty)
 * prints "SKIP policy NAME: reason".  Exit: 0 all run policies passed, 1 a
 * failure, 77 nothing to run (no token), 99 setup error. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tutil.h"

#define N_BLOCKS 3
#define DECRYPT_BUF 1024 /* a stack's fixed per-block output buffer */

enum kind { K_RSA, K_EC, K_ED };
enum sigpad { SIG_PKCS1, SIG_PSS, SIG_NONE };
enum encpad { ENC_NONE, ENC_PKCS1, ENC_OAEP_PADDING_ONLY, ENC_OAEP_SHA256 };

struct policy {
    const char *name;
    enum kind kind;
    const char *uri_env, *cert_env, *pub_env;
    const char *md;     /* signature digest; NULL for Ed25519 */
    enum sigpad sigpad;
    enum encpad encpad;
    const char *group;  /* EC: the curve the policy requires */
    int min_bits, max_bits;
    const char *what;   /* for the summary line */
};

static const struct policy policies[] = {
    { "Basic128Rsa15", K_RSA, "UK_RSA_URI", "UK_RSA_CERT", "UK_RSA_PUB", "SHA1",
      SIG_PKCS1, ENC_PKCS1, NULL, 1024, 2048,
      "sign PKCS#1 v1.5 SHA-1, decrypt PKCS#1 v1.5" },
    { "Basic256", K_RSA, "UK_RSA_URI", "UK_RSA_CERT", "UK_RSA_PUB", "SHA1",
      SIG_PKCS1, ENC_OAEP_PADDING_ONLY, NULL, 1024, 2048,
      "sign PKCS#1 v1.5 SHA-1, decrypt OAEP SHA-1 (padding only)" },
    { "Basic256Sha256", K_RSA, "UK_RSA_URI", "UK_RSA_CERT", "UK_RSA_PUB", "SHA256",
      SIG_PKCS1, ENC_OAEP_PADDING_ONLY, NULL, 2048, 4096,
      "sign PKCS#1 v1.5 SHA-256, decrypt OAEP SHA-1 (padding only)" },
    { "Aes128_Sha256_RsaOaep", K_RSA, "UK_RSA_URI", "UK_RSA_CERT", "UK_RSA_PUB", "SHA256",
      SIG_PKCS1, ENC_OAEP_PADDING_ONLY, NULL, 2048, 4096,
      "sign PKCS#1 v1.5 SHA-256, decrypt OAEP SHA-1 (padding only)" },
    { "Aes256_Sha256_RsaPss", K_RSA, "UK_RSA_URI", "UK_RSA_CERT", "UK_RSA_PUB", "SHA256",
      SIG_PSS, ENC_OAEP_SHA256, NULL, 2048, 4096,
      "sign PSS SHA-256 salt=digest MGF1-SHA-256, decrypt OAEP SHA-256/MGF1-SHA-256" },
    { "ECC_nistP256", K_EC, "UK_EC_URI", "UK_EC_CERT", "UK_EC_PUB", "SHA256",
      SIG_NONE, ENC_NONE, "prime256v1", 256, 256, "ECDSA SHA-256" },
    { "ECC_nistP384", K_EC, "UK_EC384_URI", NULL, "UK_EC384_PUB", "SHA384",
      SIG_NONE, ENC_NONE, "secp384r1", 384, 384, "ECDSA SHA-384" },
    { "ECC_brainpoolP256r1", K_EC, "UK_BP256_URI", NULL, "UK_BP256_PUB", "SHA256",
      SIG_NONE, ENC_NONE, "brainpoolP256r1", 256, 256, "ECDSA SHA-256" },
    { "ECC_brainpoolP384r1", K_EC, "UK_BP384_URI", NULL, "UK_BP384_PUB", "SHA384",
      SIG_NONE, ENC_NONE, "brainpoolP384r1", 384, 384, "ECDSA SHA-384" },
    { "ECC_curve25519", K_ED, "UK_ED_URI", NULL, "UK_ED_PUB", NULL,
      SIG_NONE, ENC_NONE, "ED25519", 253, 256, "Ed25519 one-shot, NULL digest" },
};

static OSSL_LIB_CTX *hostctx; /* "default" only: the independent side */
static const char *testdir;

/* ---- per-policy failure reporting --------------------------------------- */

static int pol_failed;

static void fail_(const char *pol, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_(const char *pol, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    pol_failed = 1;
    printf("  FAIL %s: ", pol);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("  (%s:%d)\n", file, line);
    ERR_print_errors_fp(stdout);
}

/* Checks |cond|; on failure reports and jumps to "out". */
#define REQUIRE(cond, ...)                                              \
    do {                                                                \
        if (!(cond)) {                                                  \
            fail_(p->name, __FILE__, __LINE__, __VA_ARGS__);            \
            goto out;                                                   \
        }                                                               \
        ERR_clear_error();                                              \
    } while (0)

/* ---- file helpers ------------------------------------------------------- */

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0
        && (buf = malloc((size_t)n)) != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static EVP_PKEY *read_pub_host(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    EVP_PKEY *k = b ? PEM_read_bio_PUBKEY_ex(b, NULL, NULL, NULL, hostctx, NULL) : NULL;

    BIO_free(b);
    return k;
}

static X509 *read_cert(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

    BIO_free(b);
    return x;
}

/* A certificate decoded again in the host context. */
static X509 *cert_in_host(X509 *x)
{
    unsigned char *der = NULL;
    const unsigned char *q;
    int len = i2d_X509(x, &der);
    X509 *hx = X509_new_ex(hostctx, NULL);

    if (len <= 0 || hx == NULL) {
        OPENSSL_free(der);
        X509_free(hx);
        return NULL;
    }
    q = der;
    if (d2i_X509(&hx, &q, len) == NULL) {
        X509_free(hx); /* NULL already: d2i frees *a on failure */
        hx = NULL;
    }
    OPENSSL_free(der);
    return hx;
}

/* ---- the stack's calls ---------------------------------------------------- */

/* open62541's loader: the key file's bytes, DER first, then PEM. */
static EVP_PKEY *stack_load_bytes(const unsigned char *data, size_t len)
{
    BIO *b = BIO_new_mem_buf(data, (int)len);
    EVP_PKEY *k = b ? d2i_PrivateKey_bio(b, NULL) : NULL;

    BIO_free(b);
    if (k != NULL)
        return k;
    ERR_clear_error();
    b = BIO_new_mem_buf(data, (int)len);
    k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

static EVP_PKEY *load_pem_file(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

    BIO_free(b);
    return k;
}

static EVP_PKEY *load_der_file(const char *path)
{
    BIO *b = BIO_new_file(path, "rb");
    EVP_PKEY *k = b ? d2i_PrivateKey_bio(b, NULL) : NULL;

    BIO_free(b);
    return k;
}

static EVP_PKEY *load_der_auto(const unsigned char *data, size_t len)
{
    const unsigned char *q = data;

    return d2i_AutoPrivateKey(NULL, &q, (long)len);
}

static int from_uakey(const EVP_PKEY *k)
{
    const OSSL_PROVIDER *prov = EVP_PKEY_get0_provider(k);

    return prov != NULL && strcmp(OSSL_PROVIDER_get0_name(prov), "uakey") == 0;
}

static const EVP_MD *md_of(const char *name)
{
    if (name == NULL)
        return NULL;
    if (strcmp(name, "SHA1") == 0)
        return EVP_sha1();
    if (strcmp(name, "SHA256") == 0)
        return EVP_sha256();
    return EVP_sha384();
}

static int set_sig_params(EVP_PKEY_CTX *pctx, enum sigpad pad)
{
    if (pad == SIG_PKCS1)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    if (pad == SIG_PSS)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1
            && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
    return 1;
}

/* The stack signs |msg|; returns an OPENSSL_malloc'd signature (DER for
 * ECDSA), or NULL. */
static unsigned char *stack_sign(const struct policy *p, EVP_PKEY *key,
                                 const unsigned char *msg, size_t msglen, size_t *siglen)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig = NULL;
    size_t len = 0;
    int r = 0;

    if (mctx == NULL)
        return NULL;
    switch (p->kind) {
    case K_RSA: /* Init, padding, Update, Final into a key-size buffer */
        len = (size_t)EVP_PKEY_get_size(key);
        r = len > 0 && (sig = OPENSSL_malloc(len)) != NULL
            && EVP_DigestSignInit(mctx, &pctx, md_of(p->md), NULL, key) == 1
            && set_sig_params(pctx, p->sigpad)
            && EVP_DigestSignUpdate(mctx, msg, msglen) == 1
            && EVP_DigestSignFinal(mctx, sig, &len) == 1;
        break;
    case K_EC: /* one shot, size asked first */
        r = EVP_DigestSignInit(mctx, NULL, md_of(p->md), NULL, key) == 1
            && EVP_DigestSign(mctx, NULL, &len, msg, msglen) == 1
            && (sig = OPENSSL_malloc(len)) != NULL
            && EVP_DigestSign(mctx, sig, &len, msg, msglen) == 1;
        break;
    case K_ED: /* one shot, NULL digest */
        r = EVP_DigestSignInit(mctx, NULL, NULL, NULL, key) == 1
            && EVP_DigestSign(mctx, NULL, &len, msg, msglen) == 1
            && (sig = OPENSSL_malloc(len)) != NULL
            && EVP_DigestSign(mctx, sig, &len, msg, msglen) == 1;
        break;
    }
    EVP_MD_CTX_free(mctx);
    if (!r) {
        OPENSSL_free(sig);
        return NULL;
    }
    *siglen = len;
    return sig;
}

/* ECDSA DER -> r||s, each padded to the field size (as stacks put it on the
 * wire); 1 when the DER parses and the result has 2 * coord bytes. */
static int ecdsa_to_raw(const unsigned char *der, size_t derlen, int coord)
{
    const unsigned char *q = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
    unsigned char raw[2 * 66];
    int ok = s != NULL && coord <= 66
        && BN_bn2binpad(ECDSA_SIG_get0_r(s), raw, coord) == coord
        && BN_bn2binpad(ECDSA_SIG_get0_s(s), raw + coord, coord) == coord;

    ECDSA_SIG_free(s);
    return ok;
}

/* Independent verification: default provider only, public key in hostctx. */
static int host_verify(const struct policy *p, EVP_PKEY *pub, const unsigned char *msg,
                       size_t msglen, const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int r = mctx != NULL
        && EVP_DigestVerifyInit_ex(mctx, &pctx, p->md, hostctx, NULL, pub, NULL) == 1
        && (p->kind != K_RSA || set_sig_params(pctx, p->sigpad))
        && EVP_DigestVerify(mctx, sig, siglen, msg, msglen) == 1;

    EVP_MD_CTX_free(mctx);
    return r;
}

static int set_enc_params(EVP_PKEY_CTX *c, enum encpad pad)
{
    switch (pad) {
    case ENC_PKCS1:
        return EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1;
    case ENC_OAEP_PADDING_ONLY:
        return EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1;
    case ENC_OAEP_SHA256:
        return EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1
            && EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha256()) == 1
            && EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) == 1;
    case ENC_NONE:
        break;
    }
    return 0;
}

static size_t plain_block(enum encpad pad, size_t keysize)
{
    return pad == ENC_PKCS1 ? keysize - 11
         : pad == ENC_OAEP_PADDING_ONLY ? keysize - 42 : keysize - 66;
}

/* The host encrypts |pt| block by block for |pub|; returns the ciphertext
 * length (N * keysize) or 0. */
static size_t host_encrypt(EVP_PKEY *pub, enum encpad pad, const unsigned char *pt, size_t ptlen,
                           unsigned char *ct, size_t keysize)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(hostctx, pub, NULL);
    size_t chunk = plain_block(pad, keysize), off, ctlen = 0;
    int r = c != NULL && EVP_PKEY_encrypt_init(c) == 1 && set_enc_params(c, pad);

    for (off = 0; r && off < ptlen; off += chunk) {
        size_t n = ptlen - off < chunk ? ptlen - off : chunk, l = keysize;

        r = EVP_PKEY_encrypt(c, ct + ctlen, &l, pt + off, n) == 1 && l == keysize;
        ctlen += l;
    }
    EVP_PKEY_CTX_free(c);
    return r ? ctlen : 0;
}

/* The stack decrypts: one context, padding (and hashes) set once, then each
 * key-size block into a fixed buffer, no size query, appended to out. */
static size_t stack_decrypt(EVP_PKEY *key, enum encpad pad, const unsigned char *ct,
                            size_t ctlen, unsigned char *out, int *bad_block)
{
    size_t keysize = (size_t)EVP_PKEY_get_size(key), in = 0, outlen = 0;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);
    unsigned char buf[DECRYPT_BUF];

    *bad_block = -1;
    if (c == NULL || keysize == 0 || EVP_PKEY_decrypt_init(c) != 1 || !set_enc_params(c, pad)) {
        EVP_PKEY_CTX_free(c);
        return 0;
    }
    for (; in < ctlen; in += keysize) {
        size_t n = sizeof(buf);

        if (EVP_PKEY_decrypt(c, buf, &n, ct + in, keysize) != 1 || n > keysize) {
            *bad_block = (int)(in / keysize);
            EVP_PKEY_CTX_free(c);
            return 0;
        }
        memcpy(out + outlen, buf, n);
        outlen += n;
    }
    EVP_PKEY_CTX_free(c);
    return outlen;
}

/* ---- a certificate for keys setup-softhsm.sh made none for ----------------- */

/* Self-signed by the token key through the provider (X509_sign), then
 * verified on the host with the exported public key. */
static X509 *make_cert(const struct policy *p, EVP_PKEY *key, EVP_PKEY *pubfile)
{
    X509 *x = X509_new(), *hx = NULL;
    X509_NAME *n = X509_NAME_new();
    int ok = x != NULL && n != NULL
        && X509_set_version(x, X509_VERSION_3)
        && ASN1_INTEGER_set(X509_get_serialNumber(x), 1)
        && X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"uakey tests",
                                      -1, -1, 0)
        && X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)p->name,
                                      -1, -1, 0)
        && X509_set_subject_name(x, n) && X509_set_issuer_name(x, n)
        && X509_gmtime_adj(X509_getm_notBefore(x), -60) != NULL
        && X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24) != NULL
        && X509_set_pubkey(x, key)
        && X509_sign(x, key, md_of(p->md)) > 0;

    X509_NAME_free(n);
    if (!ok) {
        printf("  %s: cannot make a certificate with the token key\n", p->name);
        ERR_print_errors_fp(stdout);
        X509_free(x);
        return NULL;
    }
    hx = cert_in_host(x);
    ok = hx != NULL && X509_verify(hx, pubfile) == 1
        && EVP_PKEY_eq(X509_get0_pubkey(hx), pubfile) == 1;
    X509_free(hx);
    if (!ok) {
        printf("  %s: the certificate made with the token key does not verify on the host\n",
               p->name);
        ERR_print_errors_fp(stdout);
        X509_free(x);
        return NULL;
    }
    ERR_clear_error();
    printf("  %s: certificate signed by the token key, verified on the host\n", p->name);
    return x;
}

/* ---- one policy ------------------------------------------------------------ */

enum result { RES_OK, RES_FAIL, RES_SKIP };

static enum result run_policy(const struct policy *p)
{
    static const unsigned char msg1[] = "OpenSecureChannel request: header, sequence header, body";
    static const unsigned char msg2[] = "CreateSession: server certificate || server nonce (32 bytes)";
    const char *uri = getenv(p->uri_env);
    const char *certpath = p->cert_env ? getenv(p->cert_env) : NULL;
    const char *pubpath = getenv(p->pub_env);
    char derpath[4096], pempath[4096], name[256];
    unsigned char *derbytes = NULL, *pembytes = NULL, *reenc = NULL, *sig = NULL;
    unsigned char *pt = NULL, *ct = NULL, *out = NULL;
    size_t derlen = 0, pemlen = 0, siglen = 0;
    EVP_PKEY *k_stack_der = NULL, *k_stack_pem = NULL, *k_pem = NULL, *k_der = NULL;
    EVP_PKEY *k_auto = NULL, *k_again = NULL, *pubfile = NULL, *hostpub = NULL;
    EVP_PKEY *keys[2];
    X509 *cert = NULL, *hcert = NULL;
    const unsigned char *q;
    int len, i, bits, made_cert = 0;
    size_t ndecrypt = 0;

    pol_failed = 0;
    if (uri == NULL || *uri == '\0') {
        const char *note = p->kind == K_ED ? getenv("UK_ED_NOTE") : NULL;

        printf("SKIP policy %s: %s\n", p->name,
               note && *note ? note : "setup-softhsm.sh made no key for it (URI variable empty)");
        return RES_SKIP;
    }
    printf("# %s (%s)\n", p->name, uri);

    /* Key-reference files, as uakey keyref would write them. */
    snprintf(name, sizeof(name), "%s-ref", p->name);
    t_make_ref_files(testdir, name, uri, derpath, pempath, sizeof(derpath));
    derbytes = read_all(derpath, &derlen);
    pembytes = read_all(pempath, &pemlen);
    REQUIRE(derbytes != NULL && pembytes != NULL, "cannot read back the key-reference files");

    /* Loading, as stacks do. */
    k_stack_der = stack_load_bytes(derbytes, derlen);
    REQUIRE(k_stack_der != NULL, "stack loader (d2i_PrivateKey_bio) on the DER reference bytes");
    k_stack_pem = stack_load_bytes(pembytes, pemlen);
    REQUIRE(k_stack_pem != NULL,
            "stack loader (d2i_PrivateKey_bio, then PEM_read_bio_PrivateKey) on the PEM bytes");
    k_pem = load_pem_file(pempath);
    REQUIRE(k_pem != NULL, "PEM_read_bio_PrivateKey on %s", pempath);
    k_der = load_der_file(derpath);
    REQUIRE(k_der != NULL, "d2i_PrivateKey_bio on %s", derpath);
    k_auto = load_der_auto(derbytes, derlen);
    REQUIRE(k_auto != NULL, "d2i_AutoPrivateKey on the DER reference");
    REQUIRE(EVP_PKEY_eq(k_pem, k_der) == 1 && EVP_PKEY_eq(k_der, k_auto) == 1
            && EVP_PKEY_eq(k_stack_der, k_stack_pem) == 1 && EVP_PKEY_eq(k_stack_der, k_pem) == 1,
            "all loaders give the same key");
    REQUIRE(from_uakey(k_stack_der) && from_uakey(k_stack_pem) && from_uakey(k_pem)
            && from_uakey(k_der) && from_uakey(k_auto), "every loaded key is a uakey (token) key");

    /* The key fits the policy. */
    bits = EVP_PKEY_get_bits(k_pem);
    if (p->kind == K_RSA) {
        REQUIRE(EVP_PKEY_is_a(k_pem, "RSA"), "an RSA key");
    } else {
        char group[64] = "";
        size_t glen = 0;

        if (p->kind == K_ED)
            snprintf(group, sizeof(group), "%s", EVP_PKEY_is_a(k_pem, "ED25519") ? "ED25519" : "?");
        else
            EVP_PKEY_get_group_name(k_pem, group, sizeof(group), &glen);
        REQUIRE(strcmp(group, p->group) == 0, "key curve %s, policy wants %s", group, p->group);
    }
    REQUIRE(bits >= p->min_bits && bits <= p->max_bits, "key size %d bits, policy allows %d-%d",
            bits, p->min_bits, p->max_bits);

    /* Re-encoding (stacks copy the key this way) and decoding again. */
    len = i2d_PrivateKey(k_pem, &reenc);
    REQUIRE(len > 0, "i2d_PrivateKey on the token key");
    REQUIRE(memmem(reenc, (size_t)len, T_REF_VERSION, strlen(T_REF_VERSION)) != NULL,
            "i2d_PrivateKey output is a key reference (no key material)");
    q = reenc;
    k_again = d2i_AutoPrivateKey(NULL, &q, len);
    REQUIRE(k_again != NULL && EVP_PKEY_eq(k_again, k_pem) == 1 && from_uakey(k_again),
            "i2d_PrivateKey -> d2i_AutoPrivateKey gives the same token key");

    /* Certificate and the independent public key. */
    pubfile = pubpath && *pubpath ? read_pub_host(pubpath) : NULL;
    REQUIRE(pubfile != NULL, "public key exported at setup (%s=%s)", p->pub_env,
            pubpath ? pubpath : "(unset)");
    if (certpath != NULL && *certpath != '\0') {
        cert = read_cert(certpath);
        REQUIRE(cert != NULL, "read certificate %s", certpath);
    } else {
        cert = make_cert(p, k_pem, pubfile);
        REQUIRE(cert != NULL, "certificate made on the fly");
        made_cert = 1;
    }
    hcert = cert_in_host(cert);
    REQUIRE(hcert != NULL, "certificate decoded in the host context");
    hostpub = X509_get0_pubkey(hcert);
    REQUIRE(hostpub != NULL && EVP_PKEY_eq(hostpub, pubfile) == 1,
            "certificate key equals the public key exported by pkcs11-tool");
    keys[0] = k_stack_der;
    keys[1] = k_stack_pem;
    for (i = 0; i < 2; i++) {
        REQUIRE(X509_check_private_key(cert, keys[i]) == 1, "X509_check_private_key (%s key)",
                i ? "PEM" : "DER");
        REQUIRE(EVP_PKEY_eq(X509_get0_pubkey(cert), keys[i]) == 1,
                "EVP_PKEY_eq(certificate key, %s key)", i ? "PEM" : "DER");
    }

    /* Signatures: both messages, with the DER- and the PEM-loaded key. */
    for (i = 0; i < 4; i++) {
        const unsigned char *m = (i & 1) ? msg2 : msg1;
        size_t mlen = (i & 1) ? sizeof(msg2) - 1 : sizeof(msg1) - 1;

        sig = stack_sign(p, keys[i >> 1], m, mlen, &siglen);
        REQUIRE(sig != NULL, "EVP_DigestSign%s with the token key",
                p->kind == K_RSA ? "Init/Update/Final" : "");
        if (p->kind == K_RSA)
            REQUIRE(siglen == (size_t)EVP_PKEY_get_size(keys[i >> 1]), "signature size %zu",
                    siglen);
        if (p->kind == K_EC)
            REQUIRE(ecdsa_to_raw(sig, siglen, (bits + 7) / 8), "ECDSA DER -> r||s");
        REQUIRE(host_verify(p, hostpub, m, mlen, sig, siglen),
                "signature verified by the default provider with the certificate key");
        sig[siglen / 2] ^= 0x01;
        REQUIRE(!host_verify(p, hostpub, m, mlen, sig, siglen), "a corrupted signature fails");
        ERR_clear_error();
        OPENSSL_free(sig);
        sig = NULL;
    }

    /* Multi-block decryption. */
    if (p->encpad != ENC_NONE) {
        size_t keysize = (size_t)EVP_PKEY_get_size(k_pem);
        size_t total = N_BLOCKS * plain_block(p->encpad, keysize) - 17; /* last block short */
        size_t ctlen, outlen;
        int bad_block;

        REQUIRE(keysize > 0 && keysize <= DECRYPT_BUF, "key size %zu bytes", keysize);
        pt = malloc(total);
        ct = malloc(N_BLOCKS * keysize);
        out = malloc(N_BLOCKS * keysize);
        REQUIRE(pt != NULL && ct != NULL && out != NULL, "memory");
        for (i = 0; (size_t)i < total; i++)
            pt[i] = (unsigned char)(i * 13 + 5);
        ctlen = host_encrypt(hostpub, p->encpad, pt, total, ct, keysize);
        REQUIRE(ctlen == N_BLOCKS * keysize, "host encryption of %zu bytes", total);
        for (i = 0; i < 2; i++) {
            outlen = stack_decrypt(keys[i], p->encpad, ct, ctlen, out, &bad_block);
            REQUIRE(outlen == total && memcmp(out, pt, total) == 0,
                    "%d-block ciphertext decrypted by the token (%s key; failed at block %d, %zu bytes)",
                    N_BLOCKS, i ? "PEM" : "DER", bad_block, outlen);
            ndecrypt++;
        }
        /* A tampered block must not decrypt to the original. */
        ct[keysize + 5] ^= 0x40;
        outlen = stack_decrypt(keys[0], p->encpad, ct, ctlen, out, &bad_block);
        REQUIRE(outlen != total || memcmp(out, pt, total) != 0, "a tampered block is not accepted");
        ERR_clear_error();
    }

out:
    if (!pol_failed) {
        printf("ok - %s: %s; PEM+DER key reference, i2d/d2i, X509_check_private_key, "
               "%s certificate%s\n",
               p->name, p->what, made_cert ? "on-the-fly" : "setup",
               ndecrypt ? ", 3-block decrypt" : "");
    } else {
        printf("not ok - %s: %s\n", p->name, p->what);
    }
    OPENSSL_free(sig);
    OPENSSL_free(reenc);
    free(derbytes);
    free(pembytes);
    free(pt);
    free(ct);
    free(out);
    EVP_PKEY_free(k_stack_der);
    EVP_PKEY_free(k_stack_pem);
    EVP_PKEY_free(k_pem);
    EVP_PKEY_free(k_der);
    EVP_PKEY_free(k_auto);
    EVP_PKEY_free(k_again);
    EVP_PKEY_free(pubfile);
    X509_free(cert);
    X509_free(hcert);
    ERR_clear_error();
    return pol_failed ? RES_FAIL : RES_OK;
}

/* The same calls once more in a child process whose openssl.cnf reads the
 * PIN from a file (pkcs11-module-token-pin = file:PATH), as a deployment
 * would configure it.  Returns 1 when the child passed. */
static int run_with_pin_file(const char *self)
{
    char cnf[4096], pinpath[4096], line[4096];
    const char *orig = getenv("OPENSSL_CONF"), *pin = t_env("UK_PIN");
    FILE *in, *out;
    pid_t pid;
    int status, replaced = 0;

    snprintf(pinpath, sizeof(pinpath), "%s/pin", testdir);
    snprintf(cnf, sizeof(cnf), "%s/openssl-pin-file.cnf", testdir);
    t_write_file(pinpath, pin, strlen(pin));
    if (orig == NULL || (in = fopen(orig, "r")) == NULL || (out = fopen(cnf, "w")) == NULL) {
        printf("cannot copy OPENSSL_CONF to %s\n", cnf);
        exit(99);
    }
    while (fgets(line, sizeof(line), in) != NULL) {
        if (strncmp(line, "pkcs11-module-token-pin", 23) == 0) {
            fprintf(out, "pkcs11-module-token-pin = file:%s\n", pinpath);
            replaced = 1;
        } else {
            fputs(line, out);
        }
    }
    fclose(in);
    if (fclose(out) != 0 || !replaced) {
        printf("no pkcs11-module-token-pin line in %s\n", orig);
        exit(99);
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        setenv("OPENSSL_CONF", cnf, 1);
        setenv("UK_POLICIES", "Basic256Sha256,Aes256_Sha256_RsaPss,ECC_nistP256", 1);
        setenv("UK_STACK_POLICIES_CHILD", "1", 1);
        execlp(self, self, (char *)NULL);
        _exit(99);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* 1 when |name| is one of the comma-separated names in |list|. */
static int name_in_list(const char *name, const char *list)
{
    size_t n = strlen(name);
    const char *q = list;

    while ((q = strstr(q, name)) != NULL) {
        if ((q == list || q[-1] == ',') && (q[n] == '\0' || q[n] == ','))
            return 1;
        q += n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *only = getenv("UK_POLICIES"); /* optional: comma-separated policy names */
    size_t i;
    int n_ok = 0, n_fail = 0, n_skip = 0;

    (void)argc;
    setvbuf(stdout, NULL, _IOLBF, 0);
    testdir = t_env("UK_TEST_DIR");
    if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1) {
        printf("OPENSSL_init_crypto(LOAD_CONFIG) failed (OPENSSL_CONF=%s)\n",
               getenv("OPENSSL_CONF") ? getenv("OPENSSL_CONF") : "(unset)");
        ERR_print_errors_fp(stdout);
        return 99;
    }
    if (!OSSL_PROVIDER_available(NULL, "uakey")) {
        printf("not ok - uakey is not active through OPENSSL_CONF=%s\n",
               getenv("OPENSSL_CONF") ? getenv("OPENSSL_CONF") : "(unset)");
        return 1;
    }
    hostctx = t_hostctx();
    if (OSSL_PROVIDER_available(hostctx, "uakey")) {
        printf("the host context must not hold uakey\n");
        return 99;
    }

    for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
        if (only != NULL && *only != '\0' && !name_in_list(policies[i].name, only))
            continue;
        switch (run_policy(&policies[i])) {
        case RES_OK: n_ok++; break;
        case RES_FAIL: n_fail++; break;
        case RES_SKIP: n_skip++; break;
        }
    }
    t_hostctx_free(hostctx);

    if (n_ok > 0 && getenv("UK_STACK_POLICIES_CHILD") == NULL) {
        printf("# again in a child: PIN from a file named in openssl.cnf\n");
        if (run_with_pin_file(argv[0])) {
            printf("ok - pkcs11-module-token-pin = file:PATH in openssl.cnf "
                   "(Basic256Sha256, Aes256_Sha256_RsaPss, ECC_nistP256)\n");
        } else {
            printf("not ok - pkcs11-module-token-pin = file:PATH in openssl.cnf\n");
            n_fail++;
        }
    }

    printf("%s: %d policies passed, %d failed, %d skipped\n",
           n_fail ? "FAIL" : n_ok ? "PASS" : "SKIP", n_ok, n_fail, n_skip);
    if (n_fail)
        return 1;
    return n_ok ? 0 : 77;
}
