/* uakey unit test: the security-policy adapter (opcua-glue/policy.c and
 * policy_ops.c) through libuakey's public API.
 *
 * Software keys are generated here at run time.  Every result of the
 * adapter is checked against OpenSSL used directly, with the parameters
 * the test itself spells out per policy (padding, digest, PSS salt, OAEP
 * digest): signatures both ways, ciphertext both ways, block sizes.  The
 * key derivations are checked against P_hash and HKDF written here over
 * HMAC, against RFC 5869 test case 1 and a published TLS 1.2 PRF vector.
 * The bad-input tests check the error reason and that its text names the
 * numbers involved. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "uakey/uakey.h"
#include "uk_err.h"

/* ==== keys (made once per run) =========================================== */

enum {
    K_RSA1024, K_RSA2048, K_RSA4096, K_P256, K_P384, K_BP256, K_BP384,
    K_ED25519, K_ED448, K_COUNT, K_NONE = -1
};
static EVP_PKEY *priv[K_COUNT];
static EVP_PKEY *pub[K_COUNT];      /* public half only, as from a certificate */

/* The public half of |k| through its SubjectPublicKeyInfo. */
static EVP_PKEY *public_only(EVP_PKEY *k)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    int len = i2d_PUBKEY(k, &der);
    EVP_PKEY *pk;

    if (len <= 0)
        return NULL;
    p = der;
    pk = d2i_PUBKEY(NULL, &p, len);
    OPENSSL_free(der);
    return pk;
}

static int group_setup(void **state)
{
    int i;

    (void)state;
    priv[K_RSA1024] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    priv[K_RSA2048] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    priv[K_RSA4096] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
    priv[K_P256] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    priv[K_P384] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    priv[K_BP256] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "brainpoolP256r1");
    priv[K_BP384] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "brainpoolP384r1");
    priv[K_ED25519] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    priv[K_ED448] = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
    for (i = 0; i < K_COUNT; i++) {
        if (priv[i] == NULL || (pub[i] = public_only(priv[i])) == NULL)
            return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < K_COUNT; i++) {
        EVP_PKEY_free(priv[i]);
        EVP_PKEY_free(pub[i]);
    }
    return 0;
}

/* ==== what each policy must be (Part 7; written out here, independently
 * of policy.c) ============================================================ */

struct expect {
    const char *name;
    int ecc, min_bits, max_bits;
    size_t nonce;
    const char *sign_alg, *enc_alg, *kdf_alg, *sym_sign, *sym_enc;
    size_t sign_key, enc_key, iv;
    /* for OpenSSL used directly */
    int sig_pad;            /* RSA signature padding; 0 for ECDSA / EdDSA */
    const char *sig_md;     /* NULL: pure EdDSA */
    int enc_pad;            /* 0: no asymmetric encryption */
    const char *oaep_md;    /* OAEP digest and MGF1 digest */
    size_t overhead;        /* k - plaintext block */
    int keys[2];            /* keys that fit (K_NONE: unused) */
    size_t field;           /* ECDSA field bytes */
};

#define PSS RSA_PKCS1_PSS_PADDING
#define PKCS1 RSA_PKCS1_PADDING
#define OAEP RSA_PKCS1_OAEP_PADDING

static const struct expect policies[] = {
    { "Basic128Rsa15", 0, 1024, 2048, 16, "RSA-PKCS1-SHA1", "RSA-PKCS1", "P_SHA1", "HMAC-SHA1",
      "AES-128-CBC", 16, 16, 16, PKCS1, "SHA1", PKCS1, NULL, 11, { K_RSA1024, K_RSA2048 }, 0 },
    { "Basic256", 0, 1024, 2048, 32, "RSA-PKCS1-SHA1", "RSA-OAEP-SHA1", "P_SHA1", "HMAC-SHA1",
      "AES-256-CBC", 24, 32, 16, PKCS1, "SHA1", OAEP, "SHA1", 42, { K_RSA1024, K_RSA2048 }, 0 },
    { "Basic256Sha256", 0, 2048, 4096, 32, "RSA-PKCS1-SHA256", "RSA-OAEP-SHA1", "P_SHA256",
      "HMAC-SHA256", "AES-256-CBC", 32, 32, 16, PKCS1, "SHA256", OAEP, "SHA1", 42,
      { K_RSA2048, K_RSA4096 }, 0 },
    { "Aes128_Sha256_RsaOaep", 0, 2048, 4096, 32, "RSA-PKCS1-SHA256", "RSA-OAEP-SHA1", "P_SHA256",
      "HMAC-SHA256", "AES-128-CBC", 32, 16, 16, PKCS1, "SHA256", OAEP, "SHA1", 42,
      { K_RSA2048, K_RSA4096 }, 0 },
    { "Aes256_Sha256_RsaPss", 0, 2048, 4096, 32, "RSA-PSS-SHA256", "RSA-OAEP-SHA256", "P_SHA256",
      "HMAC-SHA256", "AES-256-CBC", 32, 32, 16, PSS, "SHA256", OAEP, "SHA256", 66,
      { K_RSA2048, K_RSA4096 }, 0 },
    { "ECC_nistP256", 1, 256, 256, 64, "ECDSA-SHA256", NULL, "HKDF-SHA256", "HMAC-SHA256",
      "AES-128-CBC", 32, 16, 16, 0, "SHA256", 0, NULL, 0, { K_P256, K_NONE }, 32 },
    { "ECC_nistP384", 1, 384, 384, 96, "ECDSA-SHA384", NULL, "HKDF-SHA384", "HMAC-SHA384",
      "AES-256-CBC", 48, 32, 16, 0, "SHA384", 0, NULL, 0, { K_P384, K_NONE }, 48 },
    { "ECC_brainpoolP256r1", 1, 256, 256, 64, "ECDSA-SHA256", NULL, "HKDF-SHA256", "HMAC-SHA256",
      "AES-128-CBC", 32, 16, 16, 0, "SHA256", 0, NULL, 0, { K_BP256, K_NONE }, 32 },
    { "ECC_brainpoolP384r1", 1, 384, 384, 96, "ECDSA-SHA384", NULL, "HKDF-SHA384", "HMAC-SHA384",
      "AES-256-CBC", 48, 32, 16, 0, "SHA384", 0, NULL, 0, { K_BP384, K_NONE }, 48 },
    { "ECC_curve25519", 1, 256, 256, 32, "Ed25519", NULL, "HKDF-SHA256", "ChaCha20-Poly1305",
      "ChaCha20-Poly1305", 32, 32, 12, 0, NULL, 0, NULL, 0, { K_ED25519, K_NONE }, 0 },
    { "ECC_curve448", 1, 456, 456, 56, "Ed448", NULL, "HKDF-SHA256", "ChaCha20-Poly1305",
      "ChaCha20-Poly1305", 32, 32, 12, 0, NULL, 0, NULL, 0, { K_ED448, K_NONE }, 0 },
};
#define NPOL (sizeof(policies) / sizeof(policies[0]))

static const UAKEY_POLICY *find(const char *name)
{
    const UAKEY_POLICY *pol = uakey_policy_find(name);

    if (pol == NULL)
        fail_msg("policy %s not found", name);
    return pol;
}

static void fill(unsigned char *buf, size_t len, unsigned int seed)
{
    size_t i;

    for (i = 0; i < len; i++)
        buf[i] = (unsigned char)(seed * 131u + i * 7u + (i >> 8));
}

static void str_eq(const char *got, const char *want)
{
    if (want == NULL)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

/* The last error is uakey's |reason| and its text contains each of the
 * NULL-terminated strings; the queue is cleared. */
static void expect_error(int reason, ...)
{
    unsigned long e = ERR_peek_last_error();
    const char *data = NULL, *want;
    int flags = 0;
    va_list ap;

    ERR_peek_last_error_data(&data, &flags);
    if (e == 0)
        fail_msg("no error raised (wanted reason %d)", reason);
    if (ERR_GET_LIB(e) != uakey_err_lib() || ERR_GET_REASON(e) != reason)
        fail_msg("wanted uakey reason %d, got lib %d reason %d (%s)", reason,
                 ERR_GET_LIB(e), ERR_GET_REASON(e), data != NULL ? data : "");
    va_start(ap, reason);
    while ((want = va_arg(ap, const char *)) != NULL) {
        if (data == NULL || strstr(data, want) == NULL)
            fail_msg("error text \"%s\" lacks \"%s\"", data != NULL ? data : "", want);
    }
    va_end(ap);
    ERR_clear_error();
}

/* ==== the table ========================================================== */

static void test_table(void **state)
{
    size_t i, sk, ek, iv;

    (void)state;
    for (i = 0; i < NPOL; i++) {
        const struct expect *e = &policies[i];
        const UAKEY_POLICY *pol = find(e->name);
        char uri[128];

        snprintf(uri, sizeof(uri), "http://opcfoundation.org/UA/SecurityPolicy#%s", e->name);
        assert_ptr_equal(uakey_policy_find(uri), pol);
        assert_string_equal(uakey_policy_uri(pol), uri);
        assert_string_equal(uakey_policy_name(pol), e->name);
        assert_int_equal(uakey_policy_is_ecc(pol), e->ecc);
        assert_int_equal(uakey_policy_min_key_bits(pol), e->min_bits);
        assert_int_equal(uakey_policy_max_key_bits(pol), e->max_bits);
        assert_int_equal(uakey_policy_nonce_length(pol), e->nonce);
        str_eq(uakey_policy_asym_sign_alg(pol), e->sign_alg);
        str_eq(uakey_policy_asym_enc_alg(pol), e->enc_alg);
        str_eq(uakey_policy_kdf_alg(pol), e->kdf_alg);
        str_eq(uakey_policy_sym_sign_alg(pol), e->sym_sign);
        str_eq(uakey_policy_sym_enc_alg(pol), e->sym_enc);
        uakey_policy_derived_lengths(pol, &sk, &ek, &iv);
        assert_int_equal(sk, e->sign_key);
        assert_int_equal(ek, e->enc_key);
        assert_int_equal(iv, e->iv);
        /* the cipher names are OpenSSL's, with the key and IV lengths above */
        {
            EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, e->sym_enc, NULL);

            assert_non_null(c);
            assert_int_equal(EVP_CIPHER_get_key_length(c), (int)e->enc_key);
            assert_int_equal(EVP_CIPHER_get_iv_length(c), (int)e->iv);
            EVP_CIPHER_free(c);
        }
    }
    /* None: everything empty */
    {
        const UAKEY_POLICY *pol = find("None");

        assert_int_equal(uakey_policy_is_ecc(pol), 0);
        assert_int_equal(uakey_policy_nonce_length(pol), 0);
        assert_null(uakey_policy_asym_sign_alg(pol));
        assert_null(uakey_policy_asym_enc_alg(pol));
        assert_null(uakey_policy_kdf_alg(pol));
        uakey_policy_derived_lengths(pol, &sk, &ek, &iv);
        assert_int_equal(sk + ek + iv, 0);
    }
}

/* ==== signatures ========================================================== */

/* r||s (each n bytes) to DER and back, written here for the test. */
static unsigned char *test_raw_to_der(const unsigned char *raw, size_t n, size_t *len)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    int l;

    assert_non_null(es);
    assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(raw, (int)n, NULL),
                                    BN_bin2bn(raw + n, (int)n, NULL)), 1);
    l = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    assert_true(l > 0);
    *len = (size_t)l;
    return der;
}

static void test_der_to_raw(const unsigned char *der, size_t len, unsigned char *raw, size_t n)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    const BIGNUM *r, *s;

    assert_non_null(es);
    ECDSA_SIG_get0(es, &r, &s);
    assert_int_equal(BN_bn2binpad(r, raw, (int)n), (int)n);
    assert_int_equal(BN_bn2binpad(s, raw + n, (int)n), (int)n);
    ECDSA_SIG_free(es);
}

/* An EVP_MD_CTX set up by hand for the policy's signature (|sign| 1: sign
 * with |key|, 0: verify). */
static EVP_MD_CTX *direct_ctx(const struct expect *e, EVP_PKEY *key, int sign)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;

    assert_non_null(m);
    if (sign)
        assert_int_equal(EVP_DigestSignInit_ex(m, &pc, e->sig_md, NULL, NULL, key, NULL), 1);
    else
        assert_int_equal(EVP_DigestVerifyInit_ex(m, &pc, e->sig_md, NULL, NULL, key, NULL), 1);
    if (e->sig_pad != 0)
        assert_true(EVP_PKEY_CTX_set_rsa_padding(pc, e->sig_pad) > 0);
    if (e->sig_pad == PSS) {
        assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, "SHA256", NULL) > 0);
    }
    return m;
}

/* OpenSSL's own verdict on an OPC UA signature (raw r||s for ECDSA). */
static int direct_verify(const struct expect *e, EVP_PKEY *key, const unsigned char *data,
                         size_t len, const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *m = direct_ctx(e, key, 0);
    unsigned char *der = NULL;
    int ok;

    if (e->field != 0) {
        if (siglen != 2 * e->field) {
            EVP_MD_CTX_free(m);
            return 0;
        }
        der = test_raw_to_der(sig, e->field, &siglen);
        sig = der;
    }
    ok = EVP_DigestVerify(m, sig, siglen, data, len) == 1;
    OPENSSL_free(der);
    EVP_MD_CTX_free(m);
    ERR_clear_error();
    return ok;
}

/* A signature made by OpenSSL directly, in OPC UA's form. */
static size_t direct_sign(const struct expect *e, EVP_PKEY *key, const unsigned char *data,
                          size_t len, unsigned char *sig)
{
    EVP_MD_CTX *m = direct_ctx(e, key, 1);
    unsigned char der[600];
    size_t n = sizeof(der);

    assert_int_equal(EVP_DigestSign(m, der, &n, data, len), 1);
    EVP_MD_CTX_free(m);
    if (e->field != 0) {
        test_der_to_raw(der, n, sig, e->field);
        return 2 * e->field;
    }
    memcpy(sig, der, n);
    return n;
}

static void test_sign_verify(void **state)
{
    size_t i, j, siglen, want, n;
    unsigned char data[300], sig[600], sig2[600];

    (void)state;
    for (i = 0; i < NPOL; i++) {
        const struct expect *e = &policies[i];
        const UAKEY_POLICY *pol = find(e->name);

        for (j = 0; j < 2 && e->keys[j] != K_NONE; j++) {
            EVP_PKEY *sk = priv[e->keys[j]], *vk = pub[e->keys[j]];

            want = e->field != 0 ? 2 * e->field : (size_t)EVP_PKEY_get_size(sk);
            assert_int_equal(uakey_policy_key_fits(pol, sk), 1);
            assert_int_equal(uakey_policy_key_fits(pol, vk), 1);
            assert_int_equal(uakey_policy_signature_size(pol, sk), want);
            assert_int_equal(uakey_policy_signature_size(pol, vk), want);

            fill(data, sizeof(data), (unsigned int)(i * 10 + j));
            siglen = sizeof(sig);
            assert_int_equal(uakey_policy_sign(pol, sk, data, sizeof(data), sig, &siglen), 1);
            assert_int_equal(siglen, want);     /* ECDSA: r||s, 2 x field */

            /* OpenSSL directly, with the policy's parameters spelled out */
            assert_int_equal(direct_verify(e, vk, data, sizeof(data), sig, siglen), 1);
            assert_int_equal(uakey_policy_verify(pol, vk, data, sizeof(data), sig, siglen), 1);
            assert_int_equal(uakey_policy_verify(pol, sk, data, sizeof(data), sig, siglen), 1);

            /* tampered data and tampered signature: 0, and no error raised */
            ERR_clear_error();
            data[17] ^= 0x01;
            assert_int_equal(uakey_policy_verify(pol, vk, data, sizeof(data), sig, siglen), 0);
            assert_int_equal(direct_verify(e, vk, data, sizeof(data), sig, siglen), 0);
            data[17] ^= 0x01;
            sig[siglen / 2] ^= 0x40;
            assert_int_equal(uakey_policy_verify(pol, vk, data, sizeof(data), sig, siglen), 0);
            assert_int_equal(direct_verify(e, vk, data, sizeof(data), sig, siglen), 0);
            sig[siglen / 2] ^= 0x40;
            assert_int_equal(uakey_policy_verify(pol, vk, data, sizeof(data), sig, siglen - 1), 0);
            assert_int_equal(ERR_peek_error(), 0);

            /* the other way: OpenSSL signs, the adapter verifies */
            n = direct_sign(e, sk, data, sizeof(data), sig2);
            assert_int_equal(n, want);
            assert_int_equal(uakey_policy_verify(pol, vk, data, sizeof(data), sig2, n), 1);
            /* PKCS#1 v1.5 and EdDSA are deterministic: the same bytes */
            if (e->sig_pad == PKCS1 || e->sig_md == NULL)
                assert_memory_equal(sig, sig2, n);

            /* empty message */
            siglen = sizeof(sig);
            assert_int_equal(uakey_policy_sign(pol, sk, NULL, 0, sig, &siglen), 1);
            assert_int_equal(direct_verify(e, vk, (const unsigned char *)"", 0, sig, siglen), 1);
            assert_int_equal(uakey_policy_verify(pol, vk, NULL, 0, sig, siglen), 1);

            /* signature buffer one byte short */
            siglen = want - 1;
            assert_int_equal(uakey_policy_sign(pol, sk, data, sizeof(data), sig, &siglen), 0);
            {
                char a[32], b[32];

                snprintf(a, sizeof(a), "%zu", want - 1);
                snprintf(b, sizeof(b), "%zu", want);
                expect_error(UK_R_BUFFER_TOO_SMALL, a, b, NULL);
            }
        }
    }
}

/* r and s shorter than the field (a leading zero byte, about one signature
 * in 128) still fill their half of r||s, zero-padded on the left. */
static void test_ecdsa_short_r_s(void **state)
{
    const UAKEY_POLICY *pol = find("ECC_nistP256");
    const struct expect *e = NULL;
    unsigned char data[8], sig[64];
    size_t i, siglen;
    int short_r = 0, short_s = 0;

    (void)state;
    for (i = 0; i < NPOL; i++) {
        if (strcmp(policies[i].name, "ECC_nistP256") == 0)
            e = &policies[i];
    }
    assert_non_null(e);
    /* a short r and a short s each come about once in 256 signatures */
    for (i = 0; i < 6000 && !(short_r && short_s); i++) {
        memcpy(data, &i, sizeof(i) < sizeof(data) ? sizeof(i) : sizeof(data));
        siglen = sizeof(sig);
        assert_int_equal(uakey_policy_sign(pol, priv[K_P256], data, sizeof(data), sig,
                                           &siglen), 1);
        assert_int_equal(siglen, 64);
        if (sig[0] == 0 || sig[32] == 0) {
            short_r |= sig[0] == 0;
            short_s |= sig[32] == 0;
            assert_int_equal(direct_verify(e, pub[K_P256], data, sizeof(data), sig, 64), 1);
            assert_int_equal(uakey_policy_verify(pol, pub[K_P256], data, sizeof(data), sig,
                                                 64), 1);
        }
    }
    assert_true(short_r && short_s);
}

/* ==== asymmetric encryption ================================================ */

/* A context set up by hand for the policy's encryption. */
static EVP_PKEY_CTX *direct_enc_ctx(const struct expect *e, EVP_PKEY *key, int enc)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

    assert_non_null(pc);
    assert_true((enc ? EVP_PKEY_encrypt_init(pc) : EVP_PKEY_decrypt_init(pc)) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(pc, e->enc_pad) > 0);
    if (e->enc_pad == OAEP) {
        assert_true(EVP_PKEY_CTX_set_rsa_oaep_md_name(pc, e->oaep_md, NULL) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, e->oaep_md, NULL) > 0);
    }
    return pc;
}

/* Encrypt |len| bytes block by block with OpenSSL directly into |out|. */
static size_t direct_encrypt(const struct expect *e, EVP_PKEY *key, const unsigned char *in,
                             size_t len, unsigned char *out)
{
    EVP_PKEY_CTX *pc = direct_enc_ctx(e, key, 1);
    size_t k = (size_t)EVP_PKEY_get_size(key), pb = k - e->overhead, off = 0, n, ol;

    while (off < len) {
        n = len - off < pb ? len - off : pb;
        ol = k;
        assert_true(EVP_PKEY_encrypt(pc, out + off / pb * k, &ol, in + off, n) > 0);
        assert_int_equal(ol, k);
        off += n;
    }
    EVP_PKEY_CTX_free(pc);
    return (len + pb - 1) / pb * k;
}

static size_t direct_decrypt(const struct expect *e, EVP_PKEY *key, const unsigned char *in,
                             size_t len, unsigned char *out)
{
    EVP_PKEY_CTX *pc = direct_enc_ctx(e, key, 0);
    size_t k = (size_t)EVP_PKEY_get_size(key), off, total = 0, ol;
    unsigned char block[512];

    for (off = 0; off < len; off += k) {
        ol = sizeof(block);
        assert_true(EVP_PKEY_decrypt(pc, block, &ol, in + off, k) > 0);
        memcpy(out + total, block, ol);
        total += ol;
    }
    EVP_PKEY_CTX_free(pc);
    return total;
}

static void test_encrypt_decrypt(void **state)
{
    size_t i, j, s, k, pb, sizes[6], outlen, clen, plen;
    unsigned char *in, *ct, *pt;

    (void)state;
    in = malloc(5 * 512);
    ct = malloc(6 * 512);
    pt = malloc(6 * 512);
    assert_true(in != NULL && ct != NULL && pt != NULL);
    for (i = 0; i < NPOL; i++) {
        const struct expect *e = &policies[i];
        const UAKEY_POLICY *pol = find(e->name);

        if (e->enc_pad == 0)
            continue;
        for (j = 0; j < 2; j++) {
            EVP_PKEY *sk = priv[e->keys[j]], *vk = pub[e->keys[j]];

            k = (size_t)EVP_PKEY_get_bits(sk) / 8;
            pb = k - e->overhead;       /* k-11, k-42, k-66 written out above */
            assert_int_equal(uakey_policy_cipher_block_size(pol, vk), k);
            assert_int_equal(uakey_policy_plain_block_size(pol, vk), pb);
            assert_int_equal(uakey_policy_plain_block_size(pol, sk), pb);
            sizes[0] = 0;
            sizes[1] = 1;
            sizes[2] = pb - 1;
            sizes[3] = pb;
            sizes[4] = pb + 1;
            sizes[5] = 5 * pb;
            for (s = 0; s < 6; s++) {
                size_t len = sizes[s], blocks = (len + pb - 1) / pb;

                fill(in, len, (unsigned int)(i + s));
                assert_int_equal(uakey_policy_encrypted_size(pol, vk, len), blocks * k);

                /* adapter -> adapter */
                outlen = 6 * 512;
                assert_int_equal(uakey_policy_encrypt(pol, vk, in, len, ct, &outlen), 1);
                assert_int_equal(outlen, blocks * k);
                clen = outlen;
                plen = clen;            /* inlen is always enough */
                assert_int_equal(uakey_policy_decrypt(pol, sk, ct, clen, pt, &plen), 1);
                assert_int_equal(plen, len);
                if (len > 0)
                    assert_memory_equal(pt, in, len);

                /* adapter -> OpenSSL directly */
                assert_int_equal(direct_decrypt(e, sk, ct, clen, pt), len);
                if (len > 0)
                    assert_memory_equal(pt, in, len);

                /* OpenSSL directly -> adapter */
                clen = direct_encrypt(e, vk, in, len, ct);
                assert_int_equal(clen, blocks * k);
                plen = 6 * 512;
                memset(pt, 0, plen);
                assert_int_equal(uakey_policy_decrypt(pol, sk, ct, clen, pt, &plen), 1);
                assert_int_equal(plen, len);
                if (len > 0)
                    assert_memory_equal(pt, in, len);
            }
        }
    }
    free(in);
    free(ct);
    free(pt);
}

/* A ciphertext block that fails the policy's padding check for certain:
 * the raw RSA encryption of a block whose padding is wrong (PKCS#1 v1.5:
 * block type 01 instead of 02; OAEP: leading byte 00, then bytes that do
 * not hold lHash). */
static void bad_block(EVP_PKEY *key, unsigned char *out)
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    size_t k = (size_t)EVP_PKEY_get_size(key), ol = k;
    unsigned char m[512];

    assert_non_null(pc);
    memset(m, 0x5a, k);
    m[0] = 0x00;
    m[1] = 0x01;
    assert_true(EVP_PKEY_encrypt_init(pc) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_NO_PADDING) > 0);
    assert_true(EVP_PKEY_encrypt(pc, out, &ol, m, k) > 0);
    assert_int_equal(ol, k);
    EVP_PKEY_CTX_free(pc);
}

static int all_zero(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != 0)
            return 0;
    }
    return 1;
}

static void test_decrypt_bad_block(void **state)
{
    size_t i, k, pb, outlen, cap;
    unsigned char in[3 * 512], ct[3 * 512], out[3 * 512];
    int variant;

    (void)state;
    for (i = 0; i < NPOL; i++) {
        const struct expect *e = &policies[i];
        const UAKEY_POLICY *pol = find(e->name);
        EVP_PKEY *sk, *vk;

        if (e->enc_pad == 0)
            continue;
        sk = priv[e->keys[0]];
        vk = pub[e->keys[0]];
        k = (size_t)EVP_PKEY_get_size(sk);
        pb = k - e->overhead;
        for (variant = 0; variant < 3; variant++) {
            fill(in, 3 * pb, 7);
            outlen = sizeof(ct);
            assert_int_equal(uakey_policy_encrypt(pol, vk, in, 3 * pb, ct, &outlen), 1);
            assert_int_equal(outlen, 3 * k);
            switch (variant) {
            case 0:     /* block 2 has the wrong padding */
                bad_block(vk, ct + k);
                break;
            case 1:     /* block 2 is not below the modulus */
                memset(ct + k, 0xff, k);
                break;
            default:    /* block 3 is a block of another key */
                assert_int_equal(direct_encrypt(e, pub[e->keys[1]], in, 1, ct + 2 * k) > 0, 1);
                break;
            }
            memset(out, 0xa5, sizeof(out));
            cap = outlen = sizeof(out);
            assert_int_equal(uakey_policy_decrypt(pol, sk, ct, 3 * k, out, &outlen), 0);
            expect_error(UK_R_DECRYPT_FAILED, variant == 2 ? "block 3 of 3" : "block 2 of 3",
                         "does not decrypt", NULL);
            assert_int_equal(outlen, cap);              /* untouched */
            assert_true(all_zero(out, sizeof(out)));    /* no plaintext released */
        }
    }
}

/* ==== key derivation ========================================================= */

/* P_hash (RFC 5246 5 / OPC 10000-6 6.7.5) over HMAC, written for the test. */
static void test_p_hash(const char *md, const unsigned char *secret, size_t slen,
                        const unsigned char *seed, size_t seedlen, unsigned char *out,
                        size_t outlen)
{
    const EVP_MD *m = EVP_get_digestbyname(md);
    unsigned char a[EVP_MAX_MD_SIZE], buf[EVP_MAX_MD_SIZE + 256], h[EVP_MAX_MD_SIZE];
    unsigned int alen, hlen;
    size_t n;

    assert_non_null(m);
    assert_true(seedlen <= 256);
    /* A(1) = HMAC(secret, seed) */
    assert_non_null(HMAC(m, secret, (int)slen, seed, seedlen, a, &alen));
    while (outlen > 0) {
        memcpy(buf, a, alen);
        memcpy(buf + alen, seed, seedlen);
        assert_non_null(HMAC(m, secret, (int)slen, buf, alen + seedlen, h, &hlen));
        n = outlen < hlen ? outlen : hlen;
        memcpy(out, h, n);
        out += n;
        outlen -= n;
        /* A(i+1) = HMAC(secret, A(i)) */
        assert_non_null(HMAC(m, secret, (int)slen, a, alen, a, &alen));
    }
}

/* HKDF (RFC 5869) over HMAC, written for the test. */
static void test_hkdf(const char *md, const unsigned char *ikm, size_t ikmlen,
                      const unsigned char *salt, size_t saltlen, const unsigned char *info,
                      size_t infolen, unsigned char *out, size_t outlen)
{
    const EVP_MD *m = EVP_get_digestbyname(md);
    unsigned char prk[EVP_MAX_MD_SIZE], zeros[EVP_MAX_MD_SIZE] = { 0 };
    unsigned char t[EVP_MAX_MD_SIZE + 256 + 1];
    unsigned int prklen, tlen = 0, hl;
    unsigned char ctr = 1;
    size_t n;

    assert_non_null(m);
    assert_true(infolen <= 256);
    hl = (unsigned int)EVP_MD_get_size(m);
    if (saltlen == 0) {
        salt = zeros;
        saltlen = hl;
    }
    assert_non_null(HMAC(m, salt, (int)saltlen, ikm, ikmlen, prk, &prklen));
    while (outlen > 0) {
        /* T(i) = HMAC(PRK, T(i-1) | info | i) */
        memcpy(t + tlen, info, infolen);
        t[tlen + infolen] = ctr++;
        assert_non_null(HMAC(m, prk, (int)prklen, t, tlen + infolen + 1, t, &tlen));
        n = outlen < tlen ? outlen : tlen;
        memcpy(out, t, n);
        out += n;
        outlen -= n;
    }
}

static void unhex(const char *hex, unsigned char *out, size_t len)
{
    size_t i;
    unsigned int b;

    assert_int_equal(strlen(hex), 2 * len);
    for (i = 0; i < len; i++) {
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
        out[i] = (unsigned char)b;
    }
}

static void test_derive(void **state)
{
    static const size_t lens[] = { 1, 16, 20, 32, 48, 64, 80, 100, 137 };
    unsigned char secret[64], seed[64], info[40], got[200], want[200];
    size_t i, l;

    (void)state;
    fill(secret, sizeof(secret), 3);
    fill(seed, sizeof(seed), 9);
    fill(info, sizeof(info), 12);
    for (i = 0; i < NPOL; i++) {
        const struct expect *e = &policies[i];
        const UAKEY_POLICY *pol = find(e->name);
        const char *mdname = strstr(e->kdf_alg, "SHA");    /* "SHA1", "SHA256", ... */

        for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
            memset(got, 0, sizeof(got));
            if (!e->ecc) {
                /* OPC UA: the client nonce is the secret, the server nonce the
                 * seed, and the other way round; 32-byte nonces */
                assert_int_equal(uakey_policy_derive(pol, secret, 32, seed, 32, NULL, 0,
                                                     got, lens[l]), 1);
                test_p_hash(mdname, secret, 32, seed, 32, want, lens[l]);
            } else {
                assert_int_equal(uakey_policy_derive(pol, secret, 48, seed, 64, info, 40,
                                                     got, lens[l]), 1);
                test_hkdf(mdname, secret, 48, seed, 64, info, 40, want, lens[l]);
            }
            assert_memory_equal(got, want, lens[l]);
        }
        /* the key block of a SecureChannel: signing key, encrypting key, IV */
        {
            size_t sk, ek, iv;

            uakey_policy_derived_lengths(pol, &sk, &ek, &iv);
            assert_int_equal(uakey_policy_derive(pol, seed, 32, secret, 32, NULL, 0, got,
                                                 sk + ek + iv), 1);
        }
    }

    /* TLS 1.2 PRF with SHA-256 (the widely used vector posted to the IETF
     * TLS list, 100 bytes): PRF(secret, label, seed) = P_SHA256(secret,
     * label || seed), so OPC UA's P_SHA256 gives it with that seed.  The
     * 100 bytes matched both implementations here when written in. */
    {
        unsigned char sec[16], lseed[26], prf[100];

        unhex("9bbe436ba940f017b17652849a71db35", sec, sizeof(sec));
        memcpy(lseed, "test label", 10);
        unhex("a0ba9f936cda311827a6f796ffd5198c", lseed + 10, 16);
        unhex("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
              "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
              "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
              "87347b66", prf, sizeof(prf));
        assert_int_equal(uakey_policy_derive(find("Basic256Sha256"), sec, sizeof(sec), lseed,
                                             sizeof(lseed), NULL, 0, got, 100), 1);
        assert_memory_equal(got, prf, 100);
        test_p_hash("SHA256", sec, sizeof(sec), lseed, sizeof(lseed), want, 100);
        assert_memory_equal(want, prf, 100);
    }

    /* RFC 5869 A.1, test case 1 (HKDF-SHA256) */
    {
        unsigned char ikm[22], salt[13], inf[10], okm[42];

        memset(ikm, 0x0b, sizeof(ikm));
        unhex("000102030405060708090a0b0c", salt, sizeof(salt));
        unhex("f0f1f2f3f4f5f6f7f8f9", inf, sizeof(inf));
        unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
              "34007208d5b887185865", okm, sizeof(okm));
        assert_int_equal(uakey_policy_derive(find("ECC_nistP256"), ikm, sizeof(ikm), salt,
                                             sizeof(salt), inf, sizeof(inf), got, 42), 1);
        assert_memory_equal(got, okm, 42);
        test_hkdf("SHA256", ikm, sizeof(ikm), salt, sizeof(salt), inf, sizeof(inf), want, 42);
        assert_memory_equal(want, okm, 42);
    }
}

/* ==== bad input ============================================================ */

static void test_bad_policy_and_keys(void **state)
{
    const UAKEY_POLICY *none = find("None"), *b256 = find("Basic256"),
                       *b256s = find("Basic256Sha256"), *p256 = find("ECC_nistP256"),
                       *c25519 = find("ECC_curve25519");
    unsigned char data[32] = { 1 }, sig[600];
    size_t siglen = sizeof(sig);

    (void)state;
    ERR_clear_error();
    assert_null(uakey_policy_find("Basic512"));
    expect_error(UK_R_POLICY_UNKNOWN, "Basic512", NULL);
    assert_null(uakey_policy_find("http://opcfoundation.org/UA/SecurityPolicy#Nope"));
    expect_error(UK_R_POLICY_UNKNOWN, "Nope", NULL);
    assert_null(uakey_policy_find(NULL));
    expect_error(UK_R_POLICY_UNKNOWN, NULL);

    /* too short, too long: both numbers named */
    assert_int_equal(uakey_policy_key_fits(b256s, priv[K_RSA1024]), 0);
    expect_error(UK_R_BAD_KEY, "Basic256Sha256", "2048", "4096", "1024", "too short", NULL);
    assert_int_equal(uakey_policy_sign(b256s, priv[K_RSA1024], data, sizeof(data), sig,
                                       &siglen), 0);
    expect_error(UK_R_BAD_KEY, "1024", "2048", NULL);
    assert_int_equal(uakey_policy_key_fits(b256, priv[K_RSA4096]), 0);
    expect_error(UK_R_BAD_KEY, "Basic256", "2048", "4096", "too long", NULL);
    assert_int_equal(uakey_policy_plain_block_size(b256, pub[K_RSA4096]), 0);
    expect_error(UK_R_BAD_KEY, "4096", NULL);

    /* wrong type */
    assert_int_equal(uakey_policy_key_fits(b256s, priv[K_P256]), 0);
    expect_error(UK_R_WRONG_KEY_TYPE, "RSA", "EC", NULL);
    assert_int_equal(uakey_policy_verify(b256s, pub[K_P256], data, sizeof(data), sig, 256), 0);
    expect_error(UK_R_WRONG_KEY_TYPE, "RSA", NULL);
    assert_int_equal(uakey_policy_key_fits(p256, priv[K_RSA2048]), 0);
    expect_error(UK_R_WRONG_KEY_TYPE, "EC", "RSA", NULL);
    assert_int_equal(uakey_policy_key_fits(p256, priv[K_P384]), 0);
    expect_error(UK_R_WRONG_KEY_TYPE, "prime256v1", "secp384r1", NULL);
    assert_int_equal(uakey_policy_key_fits(p256, priv[K_BP256]), 0);
    expect_error(UK_R_WRONG_KEY_TYPE, "brainpoolP256r1", NULL);
    assert_int_equal(uakey_policy_key_fits(c25519, priv[K_ED448]), 0);
    expect_error(UK_R_WRONG_KEY_TYPE, "Ed25519", "ED448", NULL);
    assert_int_equal(uakey_policy_signature_size(c25519, priv[K_P256]), 0);
    expect_error(UK_R_WRONG_KEY_TYPE, NULL);

    /* None: no keys fit (no error), no operation works */
    assert_int_equal(uakey_policy_key_fits(none, priv[K_RSA2048]), 0);
    assert_int_equal(ERR_peek_error(), 0);
    assert_int_equal(uakey_policy_sign(none, priv[K_RSA2048], data, sizeof(data), sig,
                                       &siglen), 0);
    expect_error(UK_R_NOT_SUPPORTED, "None", NULL);
    assert_int_equal(uakey_policy_derive(none, data, 32, data, 32, NULL, 0, sig, 32), 0);
    expect_error(UK_R_NOT_SUPPORTED, "None", NULL);

    /* NULL arguments */
    assert_int_equal(uakey_policy_sign(NULL, priv[K_RSA2048], data, 1, sig, &siglen), 0);
    expect_error(UK_R_BAD_PARAM, NULL);
    assert_int_equal(uakey_policy_sign(b256s, NULL, data, 1, sig, &siglen), 0);
    expect_error(UK_R_BAD_PARAM, NULL);
    assert_int_equal(uakey_policy_sign(b256s, priv[K_RSA2048], data, 1, sig, NULL), 0);
    expect_error(UK_R_BAD_PARAM, NULL);
    assert_int_equal(uakey_policy_derive(b256s, NULL, 0, data, 32, NULL, 0, sig, 32), 0);
    expect_error(UK_R_BAD_PARAM, NULL);
    assert_int_equal(uakey_policy_derive(b256s, data, 32, NULL, 0, NULL, 0, sig, 32), 0);
    expect_error(UK_R_BAD_PARAM, "P_SHA256", NULL);
}

static void test_bad_encryption_input(void **state)
{
    const UAKEY_POLICY *b256s = find("Basic256Sha256"), *b128 = find("Basic128Rsa15"),
                       *pss = find("Aes256_Sha256_RsaPss"), *p256 = find("ECC_nistP256");
    EVP_PKEY *sk = priv[K_RSA2048], *vk = pub[K_RSA2048];
    unsigned char in[1024], ct[2048], out[2048];
    size_t outlen, pb = 256 - 42;

    (void)state;
    ERR_clear_error();
    fill(in, sizeof(in), 5);

    /* ciphertext not a multiple of the block */
    outlen = sizeof(out);
    assert_int_equal(uakey_policy_decrypt(b256s, sk, in, 255, out, &outlen), 0);
    expect_error(UK_R_BAD_PARAM, "ciphertext is 255 bytes, not a multiple of the 256-byte block",
                 NULL);
    outlen = sizeof(out);
    assert_int_equal(uakey_policy_decrypt(b128, sk, in, 257, out, &outlen), 0);
    expect_error(UK_R_BAD_PARAM, "257", "256", NULL);

    /* output buffers too small: both numbers named */
    outlen = 2 * 256 - 1;
    assert_int_equal(uakey_policy_encrypt(b256s, vk, in, pb + 1, ct, &outlen), 0);
    expect_error(UK_R_BUFFER_TOO_SMALL, "511", "512", NULL);
    outlen = sizeof(ct);
    assert_int_equal(uakey_policy_encrypt(b256s, vk, in, 2 * pb, ct, &outlen), 1);
    assert_int_equal(outlen, 512);
    outlen = 2 * pb - 1;
    memset(out, 0xa5, sizeof(out));
    assert_int_equal(uakey_policy_decrypt(b256s, sk, ct, 512, out, &outlen), 0);
    expect_error(UK_R_BUFFER_TOO_SMALL, "427", "428", NULL);
    outlen = 2 * pb;                    /* exactly the most it can hold */
    assert_int_equal(uakey_policy_decrypt(b256s, sk, ct, 512, out, &outlen), 1);
    assert_int_equal(outlen, 2 * pb);
    assert_memory_equal(out, in, 2 * pb);

    /* an ECC policy has no asymmetric encryption */
    outlen = sizeof(ct);
    assert_int_equal(uakey_policy_encrypt(p256, pub[K_P256], in, 10, ct, &outlen), 0);
    expect_error(UK_R_NOT_SUPPORTED, "ECC_nistP256", "no asymmetric encryption", NULL);
    outlen = sizeof(out);
    assert_int_equal(uakey_policy_decrypt(p256, priv[K_P256], ct, 64, out, &outlen), 0);
    expect_error(UK_R_NOT_SUPPORTED, "ECC_nistP256", NULL);
    assert_int_equal(uakey_policy_plain_block_size(p256, pub[K_P256]), 0);
    expect_error(UK_R_NOT_SUPPORTED, NULL);
    assert_int_equal(uakey_policy_cipher_block_size(p256, pub[K_P256]), 0);
    expect_error(UK_R_NOT_SUPPORTED, NULL);

    /* wrong key type for encryption */
    outlen = sizeof(ct);
    assert_int_equal(uakey_policy_encrypt(pss, pub[K_P256], in, 10, ct, &outlen), 0);
    expect_error(UK_R_WRONG_KEY_TYPE, NULL);

    /* NULL buffers */
    outlen = sizeof(ct);
    assert_int_equal(uakey_policy_encrypt(pss, vk, NULL, 10, ct, &outlen), 0);
    expect_error(UK_R_BAD_PARAM, NULL);
    assert_int_equal(uakey_policy_decrypt(pss, sk, ct, 256, out, NULL), 0);
    expect_error(UK_R_BAD_PARAM, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_ecdsa_short_r_s),
        cmocka_unit_test(test_encrypt_decrypt),
        cmocka_unit_test(test_decrypt_bad_block),
        cmocka_unit_test(test_derive),
        cmocka_unit_test(test_bad_policy_and_keys),
        cmocka_unit_test(test_bad_encryption_input),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
