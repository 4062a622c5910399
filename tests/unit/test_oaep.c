/* Unit test: the host-side RSA paddings of provider/oaep.c, linked alone.
 *
 * ukprov_oaep_decode: OpenSSL's default provider encrypts with OAEP; the
 * ciphertext is decrypted without padding (what the token's CKM_RSA_X_509
 * returns) and our decoder must give back the message, or -1 for anything
 * corrupted.
 *
 * ukprov_pss_encode: our EMSA-PSS block, raised to the private exponent
 * without padding (what the token's CKM_RSA_X_509 does), must verify as a
 * PSS signature in the default provider with the same digest, MGF1 digest
 * and salt length. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "ukprov.h"

#define KEYBITS 2048
#define K (KEYBITS / 8)

typedef struct {
    EVP_PKEY *pkey;
    EVP_MD *sha1, *sha256;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    f->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)KEYBITS);
    f->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    f->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (f->pkey == NULL || f->sha1 == NULL || f->sha256 == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    EVP_PKEY_free(f->pkey);
    EVP_MD_free(f->sha1);
    EVP_MD_free(f->sha256);
    free(f);
    return 0;
}

/* OAEP-encrypt |msg| with the default provider. */
static void oaep_encrypt(fixture *f, const char *mdname,
                         const unsigned char *label, size_t llen,
                         const unsigned char *msg, size_t mlen,
                         unsigned char ct[K])
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, f->pkey, NULL);
    OSSL_PARAM params[5], *p = params;
    int pad = RSA_PKCS1_OAEP_PADDING;
    size_t ctlen = K;

    assert_non_null(pctx);
    *p++ = OSSL_PARAM_construct_int(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, &pad);
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                            (char *)mdname, 0);
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST,
                                            (char *)mdname, 0);
    if (label != NULL)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL,
                                                 (void *)label, llen);
    *p = OSSL_PARAM_construct_end();
    assert_int_equal(EVP_PKEY_encrypt_init_ex(pctx, params), 1);
    assert_int_equal(EVP_PKEY_encrypt(pctx, ct, &ctlen, msg, mlen), 1);
    assert_int_equal(ctlen, K);
    EVP_PKEY_CTX_free(pctx);
}

/* Raw RSA decryption, as CKM_RSA_X_509 does it in the token. */
static void raw_decrypt(fixture *f, const unsigned char ct[K], unsigned char em[K])
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, f->pkey, NULL);
    size_t emlen = K;

    assert_non_null(pctx);
    assert_int_equal(EVP_PKEY_decrypt_init(pctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_NO_PADDING), 1);
    assert_int_equal(EVP_PKEY_decrypt(pctx, em, &emlen, ct, K), 1);
    assert_int_equal(emlen, K);
    EVP_PKEY_CTX_free(pctx);
}

static void roundtrip(fixture *f, const char *mdname, const EVP_MD *md,
                      const unsigned char *label, size_t llen)
{
    size_t hlen = (size_t)EVP_MD_get_size(md);
    size_t maxlen = K - 2 * hlen - 2, mlen;
    unsigned char msg[K], ct[K], em[K], out[K];

    for (mlen = 0; mlen <= maxlen; mlen++) {
        int n;

        assert_int_equal(RAND_bytes(msg, (int)K), 1);
        oaep_encrypt(f, mdname, label, llen, msg, mlen, ct);
        raw_decrypt(f, ct, em);
        memset(out, 0xa5, sizeof(out));
        n = ukprov_oaep_decode(NULL, out, sizeof(out), em, K, label, llen, md, md);
        assert_int_equal(n, (int)mlen);
        assert_memory_equal(out, msg, mlen);
        /* A buffer of exactly mlen bytes is enough... */
        n = ukprov_oaep_decode(NULL, out, mlen, em, K, label, llen, md, NULL);
        assert_int_equal(n, (int)mlen);
        /* ...one byte fewer is not. */
        if (mlen > 0) {
            n = ukprov_oaep_decode(NULL, out, mlen - 1, em, K, label, llen, md, md);
            assert_int_equal(n, -1);
        }
    }
}

static void test_roundtrip_sha1(void **state)
{
    fixture *f = *state;

    roundtrip(f, "SHA1", f->sha1, NULL, 0);
}

static void test_roundtrip_sha256(void **state)
{
    fixture *f = *state;

    roundtrip(f, "SHA256", f->sha256, NULL, 0);
}

static void test_roundtrip_sha256_label(void **state)
{
    fixture *f = *state;
    static const unsigned char label[] = "OPC UA label";

    roundtrip(f, "SHA256", f->sha256, label, sizeof(label) - 1);
}

static void test_roundtrip_sha1_label(void **state)
{
    fixture *f = *state;
    static const unsigned char label[] = { 0x00, 0x01, 0x02, 0xff };

    roundtrip(f, "SHA1", f->sha1, label, sizeof(label));
}

static void test_wrong_label_and_hash(void **state)
{
    fixture *f = *state;
    static const unsigned char label[] = "right";
    static const unsigned char wrong[] = "wrong";
    unsigned char msg[32], ct[K], em[K], out[K];

    assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
    oaep_encrypt(f, "SHA256", label, 5, msg, sizeof(msg), ct);
    raw_decrypt(f, ct, em);
    assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, K, label, 5,
                                        f->sha256, f->sha256), (int)sizeof(msg));
    assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, K, wrong, 5,
                                        f->sha256, f->sha256), -1);
    /* Label absent vs present */
    assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, K, NULL, 0,
                                        f->sha256, f->sha256), -1);
    /* Wrong OAEP digest, wrong MGF1 digest */
    assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, K, label, 5,
                                        f->sha1, f->sha1), -1);
    assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, K, label, 5,
                                        f->sha256, f->sha1), -1);
    assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, K, label, 5,
                                        f->sha1, f->sha256), -1);
}

static void test_y_nonzero(void **state)
{
    fixture *f = *state;
    unsigned char msg[16], ct[K], em[K], out[K];
    int bit;

    assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
    oaep_encrypt(f, "SHA1", NULL, 0, msg, sizeof(msg), ct);
    raw_decrypt(f, ct, em);
    assert_int_equal(em[0], 0);
    for (bit = 0; bit < 8; bit++) {
        em[0] = (unsigned char)(1u << bit);
        assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, K, NULL, 0,
                                            f->sha1, f->sha1), -1);
    }
}

/* Every byte of the padded block flipped once.  The block is masked: the
 * seed mask comes from maskedDB and the DB mask from the seed, so a change
 * anywhere (even in the message bytes) scrambles the hash check. */
static void test_flip_em(void **state)
{
    fixture *f = *state;
    const EVP_MD *md = f->sha256;
    size_t i;
    unsigned char msg[8], ct[K], em[K], bad[K], out[K];

    assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
    oaep_encrypt(f, "SHA256", NULL, 0, msg, sizeof(msg), ct);
    raw_decrypt(f, ct, em);
    for (i = 0; i < K; i++) {
        int bit;

        for (bit = 0; bit < 8; bit += 7) {
            memcpy(bad, em, K);
            bad[i] ^= (unsigned char)(1u << bit);
            memset(out, 0x5a, sizeof(out));
            assert_int_equal(ukprov_oaep_decode(NULL, out, K, bad, K, NULL, 0,
                                                md, md), -1);
            /* nothing released on failure */
            for (size_t j = 0; j < sizeof(out); j++)
                assert_int_equal(out[j], 0x5a);
        }
    }
}

/* Every byte of the ciphertext flipped once (short message): the raw block
 * is then random and must never decode. */
static void test_flip_ciphertext(void **state)
{
    fixture *f = *state;
    size_t i;
    unsigned char msg[4], ct[K], bad[K], em[K], out[K];

    assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
    oaep_encrypt(f, "SHA1", NULL, 0, msg, sizeof(msg), ct);
    for (i = 0; i < K; i++) {
        memcpy(bad, ct, K);
        bad[i] ^= 0x01;
        /* ciphertext must stay below the modulus for raw RSA to take it */
        if (i == 0 && bad[0] > ct[0])
            continue;
        raw_decrypt(f, bad, em);
        assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, K, NULL, 0,
                                            f->sha1, f->sha1), -1);
    }
}

/* Blocks too short for the digest, and hand-made edge cases. */
static void test_bad_sizes(void **state)
{
    fixture *f = *state;
    unsigned char em[K] = { 0 }, out[K];

    /* k < 2hLen + 2 */
    assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, 65, NULL, 0,
                                        f->sha256, f->sha256), -1);
    assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, 41, NULL, 0,
                                        f->sha1, f->sha1), -1);
    /* all zero block: no separator */
    assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, K, NULL, 0,
                                        f->sha1, f->sha1), -1);
    /* no digest */
    assert_int_equal(ukprov_oaep_decode(NULL, out, K, em, K, NULL, 0,
                                        NULL, NULL), -1);
}

/* Raw RSA private operation on the host: the token's CKM_RSA_X_509. */
static int raw_sign(EVP_PKEY *pkey, const unsigned char *em, size_t k,
                    unsigned char *sig, size_t *siglen)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = c != NULL && EVP_PKEY_sign_init(c) == 1
        && EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING) == 1
        && EVP_PKEY_sign(c, sig, siglen, em, k) == 1;

    EVP_PKEY_CTX_free(c);
    return ok;
}

static int pss_verify(EVP_PKEY *pkey, const char *md, const char *mgf1, int saltlen,
                      const unsigned char *dgst, size_t dlen,
                      const unsigned char *sig, size_t siglen)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = c != NULL && EVP_PKEY_verify_init(c) == 1
        && EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING) == 1
        && EVP_PKEY_CTX_set_signature_md(c, EVP_get_digestbyname(md)) == 1
        && EVP_PKEY_CTX_set_rsa_mgf1_md_name(c, mgf1, NULL) == 1
        && EVP_PKEY_CTX_set_rsa_pss_saltlen(c, saltlen) == 1
        && EVP_PKEY_verify(c, sig, siglen, dgst, dlen) == 1;

    EVP_PKEY_CTX_free(c);
    ERR_clear_error();
    return ok;
}

static void pss_case(EVP_PKEY *pkey, const char *mdname, const char *mgf1name,
                     size_t slen)
{
    EVP_MD *md = EVP_MD_fetch(NULL, mdname, NULL);
    EVP_MD *mgf1 = EVP_MD_fetch(NULL, mgf1name, NULL);
    int bits = EVP_PKEY_get_bits(pkey);
    size_t k = (size_t)(bits + 7) / 8, siglen = k;
    unsigned char dgst[EVP_MAX_MD_SIZE], em[1024], sig[1024];
    unsigned int dlen = 0;

    assert_non_null(md);
    assert_non_null(mgf1);
    assert_int_equal(EVP_Digest("pss test", 8, dgst, &dlen, md, NULL), 1);
    assert_int_equal(ukprov_pss_encode(NULL, em, k, bits, dgst, md, mgf1, slen), 1);
    assert_true(raw_sign(pkey, em, k, sig, &siglen));
    assert_int_equal(siglen, k);
    assert_true(pss_verify(pkey, mdname, mgf1name, (int)slen, dgst, dlen, sig, siglen));
    /* a different salt length must not verify: the check is not blind */
    assert_false(pss_verify(pkey, mdname, mgf1name, (int)slen + 1, dgst, dlen, sig, siglen));
    /* nor a different MGF1 digest */
    assert_false(pss_verify(pkey, mdname, strcmp(mgf1name, "SHA1") == 0 ? "SHA256" : "SHA1",
                            (int)slen, dgst, dlen, sig, siglen));
    EVP_MD_free(md);
    EVP_MD_free(mgf1);
}

static void test_pss_encode(void **state)
{
    fixture *f = *state;
    size_t emlen = K, maxsalt = emlen - 32 - 2;

    pss_case(f->pkey, "SHA256", "SHA256", 32);
    pss_case(f->pkey, "SHA256", "SHA1", 32);     /* what SoftHSM refuses */
    pss_case(f->pkey, "SHA256", "SHA1", 0);
    pss_case(f->pkey, "SHA384", "SHA512", 20);
    pss_case(f->pkey, "SHA256", "SHA256", maxsalt);
}

/* A modulus whose bit length is 1 mod 8: emLen = k - 1, the encoded block
 * starts with a zero byte. */
static void test_pss_encode_odd_modulus(void **state)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1025);

    (void)state;
    assert_non_null(pkey);
    pss_case(pkey, "SHA256", "SHA1", 32);
    pss_case(pkey, "SHA1", "SHA1", 20);
    EVP_PKEY_free(pkey);
}

static void test_pss_encode_bad_sizes(void **state)
{
    fixture *f = *state;
    EVP_MD *md = f->sha256;
    unsigned char em[K], dgst[32] = { 0 };

    /* salt too large for the key */
    assert_int_equal(ukprov_pss_encode(NULL, em, K, KEYBITS, dgst, md, md, K - 32 - 1), 0);
    /* block shorter than the modulus needs */
    assert_int_equal(ukprov_pss_encode(NULL, em, K - 2, KEYBITS, dgst, md, md, 32), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_sha1),
        cmocka_unit_test(test_roundtrip_sha256),
        cmocka_unit_test(test_roundtrip_sha256_label),
        cmocka_unit_test(test_roundtrip_sha1_label),
        cmocka_unit_test(test_wrong_label_and_hash),
        cmocka_unit_test(test_y_nonzero),
        cmocka_unit_test(test_flip_em),
        cmocka_unit_test(test_flip_ciphertext),
        cmocka_unit_test(test_bad_sizes),
        cmocka_unit_test(test_pss_encode),
        cmocka_unit_test(test_pss_encode_odd_modulus),
        cmocka_unit_test(test_pss_encode_bad_sizes),
    };

    return cmocka_run_group_tests_name("oaep", tests, setup, teardown);
}
