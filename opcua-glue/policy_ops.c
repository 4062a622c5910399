/* libuakey: the security-policy adapter's operations (OPC 10000-7
 * profiles): asymmetric sign / verify, multi-block asymmetric encrypt /
 * decrypt, and the symmetric key derivation.
 *
 * Every function reads the algorithm columns of the policy's row (policy.c)
 * and never its name, so a new policy is a new row.  Private-key
 * operations go through the EVP_PKEY they are given (EVP_PKEY_sign,
 * EVP_PKEY_decrypt, one-shot EVP_DigestSign for EdDSA), so a token key
 * held by the uakey provider works exactly like a key in memory. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "policy_int.h"
#include "ukua_int.h"

/* Data pointer for a zero-length message given as NULL. */
static const unsigned char no_data[1];

/* ---- checks shared by the operations ------------------------------------- */

/* |pol| has asymmetric cryptography and |key| fits it; raises otherwise. */
static int usable(const UAKEY_POLICY *pol, EVP_PKEY *key, const char *what)
{
    if (pol == NULL || key == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "%s: no policy or no key given", what);
        return 0;
    }
    if (pol->family == UKUA_KEY_NONE) {
        uakey_raise(UK_R_NOT_SUPPORTED, "SecurityPolicy %s uses no cryptography (%s)",
                    pol->name, what);
        return 0;
    }
    return uakey_policy_key_fits(pol, key);
}

/* Like usable(), and the policy encrypts asymmetrically. */
static int enc_usable(const UAKEY_POLICY *pol, EVP_PKEY *key, const char *what)
{
    if (pol != NULL && pol->family != UKUA_KEY_NONE && pol->enc_padding == 0) {
        uakey_raise(UK_R_NOT_SUPPORTED, "SecurityPolicy %s has no asymmetric encryption "
                    "(its session keys come from ECDH) (%s)", pol->name, what);
        return 0;
    }
    if (!usable(pol, key, what))
        return 0;
    if (EVP_PKEY_get_size(key) <= (int)pol->enc_overhead) {
        uakey_raise(UK_R_BAD_KEY, "%s: a %d-byte key is too small for %s blocks (%s)",
                    pol->name, EVP_PKEY_get_size(key), pol->enc_alg, what);
        return 0;
    }
    return 1;
}

/* Signature length for a key that fits: RSA modulus bytes, ECDSA r||s
 * (twice the field size), EdDSA the fixed signature size. */
static size_t sig_size(const UAKEY_POLICY *pol, EVP_PKEY *key)
{
    int n;

    if (pol->family == UKUA_KEY_EC) {
        n = EVP_PKEY_get_bits(key);
        return n > 0 ? 2 * (((size_t)n + 7) / 8) : 0;
    }
    n = EVP_PKEY_get_size(key);
    return n > 0 ? (size_t)n : 0;
}

/* ---- ECDSA: OpenSSL's DER <-> OPC UA's raw r||s -------------------------- */

/* DER ECDSA-Sig-Value to r||s, each |n| bytes, big-endian, zero-padded. */
static int der_to_raw(const unsigned char *der, size_t derlen, unsigned char *raw, size_t n)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    const BIGNUM *r = NULL, *s = NULL;
    int ok = 0;

    if (es != NULL && p == der + derlen) {
        ECDSA_SIG_get0(es, &r, &s);
        ok = BN_bn2binpad(r, raw, (int)n) == (int)n
             && BN_bn2binpad(s, raw + n, (int)n) == (int)n;
    }
    ECDSA_SIG_free(es);
    return ok;
}

/* r||s (each |n| bytes) to DER, OPENSSL_malloc'd; NULL on failure. */
static unsigned char *raw_to_der(const unsigned char *raw, size_t n, size_t *derlen)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)n, NULL), *s = BN_bin2bn(raw + n, (int)n, NULL);
    unsigned char *der = NULL;
    int len;

    if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return NULL;
    }
    len = i2d_ECDSA_SIG(es, &der);      /* es owns r and s now */
    ECDSA_SIG_free(es);
    if (len <= 0)
        return NULL;
    *derlen = (size_t)len;
    return der;
}

/* ---- signatures ---------------------------------------------------------- */

/* The policy's padding, digest and PSS parameters on an initialised sign or
 * verify context (the calls a stack makes: padding first, then digest,
 * then salt length and MGF1 digest for PSS). */
static int sig_ctx_setup(const UAKEY_POLICY *pol, EVP_PKEY_CTX *pctx)
{
    EVP_MD *md = EVP_MD_fetch(NULL, pol->sign_md, NULL);
    int ok = md != NULL;

    if (ok && pol->sign_padding != 0)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, pol->sign_padding) > 0;
    if (ok)
        ok = EVP_PKEY_CTX_set_signature_md(pctx, md) > 0;
    if (ok && pol->sign_padding == RSA_PKCS1_PSS_PADDING)
        ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0
             && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0;
    EVP_MD_free(md);
    return ok;
}

/* A context for |key| initialised for signing (|sign| 1) or verifying
 * with the policy's parameters; NULL on failure (not raised). */
static EVP_PKEY_CTX *sig_ctx(const UAKEY_POLICY *pol, EVP_PKEY *key, int sign)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

    if (pctx == NULL
        || (sign ? EVP_PKEY_sign_init(pctx) : EVP_PKEY_verify_init(pctx)) <= 0
        || !sig_ctx_setup(pol, pctx)) {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    return pctx;
}

size_t uakey_policy_signature_size(const UAKEY_POLICY *pol, EVP_PKEY *key)
{
    size_t n;

    if (!usable(pol, key, "signature size"))
        return 0;
    if ((n = sig_size(pol, key)) == 0)
        uakey_raise(UK_R_BAD_KEY, "%s: cannot tell the signature size of the key", pol->name);
    return n;
}

int uakey_policy_sign(const UAKEY_POLICY *pol, EVP_PKEY *key,
                      const unsigned char *data, size_t len,
                      unsigned char *sig, size_t *siglen)
{
    unsigned char dgst[EVP_MAX_MD_SIZE], *der = NULL;
    size_t need, dlen = 0, outl = 0;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *mctx = NULL;
    int ok = 0;

    if (!usable(pol, key, "sign"))
        return 0;
    if (sig == NULL || siglen == NULL || (data == NULL && len > 0)) {
        uakey_raise(UK_R_BAD_PARAM, "%s sign: no data, signature buffer or length", pol->name);
        return 0;
    }
    if (data == NULL)
        data = no_data;
    if ((need = sig_size(pol, key)) == 0) {
        uakey_raise(UK_R_BAD_KEY, "%s: cannot tell the signature size of the key", pol->name);
        return 0;
    }
    if (*siglen < need) {
        uakey_raise(UK_R_BUFFER_TOO_SMALL, "signature buffer is %zu bytes, a %s signature "
                    "with this key is %zu", *siglen, pol->sign_alg, need);
        return 0;
    }
    ukua_dbg("%s: %s signature over %zu bytes", pol->name, pol->sign_alg, len);

    if (pol->sign_md == NULL) {
        /* pure EdDSA: one-shot over the message, no digest */
        outl = *siglen;
        ok = (mctx = EVP_MD_CTX_new()) != NULL
             && EVP_DigestSignInit_ex(mctx, NULL, NULL, NULL, NULL, key, NULL) == 1
             && EVP_DigestSign(mctx, sig, &outl, data, len) == 1
             && outl == need;
        goto end;
    }

    if (!EVP_Q_digest(NULL, pol->sign_md, NULL, data, len, dgst, &dlen)) {
        uakey_raise(UK_R_INTERNAL, "%s: cannot compute %s", pol->name, pol->sign_md);
        return 0;
    }
    if ((pctx = sig_ctx(pol, key, 1)) == NULL) {
        uakey_raise(UK_R_SIGN_FAILED, "%s: cannot set up %s with this key", pol->name,
                    pol->sign_alg);
        goto end_raised;
    }
    if (pol->family == UKUA_KEY_EC) {
        /* OpenSSL gives DER; OPC UA puts r||s on the wire */
        int max = EVP_PKEY_get_size(key);

        outl = max > 0 ? (size_t)max : 0;
        ok = outl > 0 && (der = OPENSSL_malloc(outl)) != NULL
             && EVP_PKEY_sign(pctx, der, &outl, dgst, dlen) > 0
             && der_to_raw(der, outl, sig, need / 2);
    } else {
        outl = *siglen;
        ok = EVP_PKEY_sign(pctx, sig, &outl, dgst, dlen) > 0 && outl == need;
    }

end:
    if (!ok)
        uakey_raise(UK_R_SIGN_FAILED, "%s: the %s signature failed", pol->name, pol->sign_alg);
    else
        *siglen = need;
end_raised:
    OPENSSL_free(der);
    EVP_PKEY_CTX_free(pctx);
    EVP_MD_CTX_free(mctx);
    OPENSSL_cleanse(dgst, sizeof(dgst));
    return ok;
}

int uakey_policy_verify(const UAKEY_POLICY *pol, EVP_PKEY *key,
                        const unsigned char *data, size_t len,
                        const unsigned char *sig, size_t siglen)
{
    unsigned char dgst[EVP_MAX_MD_SIZE], *der = NULL;
    size_t need, dlen = 0, derlen = 0;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *mctx = NULL;
    int ok = 0;

    if (!usable(pol, key, "verify"))
        return 0;
    if ((sig == NULL && siglen > 0) || (data == NULL && len > 0)) {
        uakey_raise(UK_R_BAD_PARAM, "%s verify: no data or no signature", pol->name);
        return 0;
    }
    if (data == NULL)
        data = no_data;
    if ((need = sig_size(pol, key)) == 0) {
        uakey_raise(UK_R_BAD_KEY, "%s: cannot tell the signature size of the key", pol->name);
        return 0;
    }
    if (siglen != need)
        return 0;                   /* a mismatch, not bad input */

    if (pol->sign_md == NULL) {
        ok = (mctx = EVP_MD_CTX_new()) != NULL
             && EVP_DigestVerifyInit_ex(mctx, NULL, NULL, NULL, NULL, key, NULL) == 1;
        if (!ok) {
            uakey_raise(UK_R_INTERNAL, "%s: cannot set up %s verification", pol->name,
                        pol->sign_alg);
            goto end;
        }
        ERR_set_mark();
        ok = EVP_DigestVerify(mctx, sig, siglen, data, len) == 1;
        ERR_pop_to_mark();
        goto end;
    }

    if (!EVP_Q_digest(NULL, pol->sign_md, NULL, data, len, dgst, &dlen)
        || (pctx = sig_ctx(pol, key, 0)) == NULL) {
        uakey_raise(UK_R_INTERNAL, "%s: cannot set up %s verification with this key",
                    pol->name, pol->sign_alg);
        goto end;
    }
    if (pol->family == UKUA_KEY_EC) {
        if ((der = raw_to_der(sig, need / 2, &derlen)) == NULL) {
            uakey_raise(UK_R_MALLOC, "%s: cannot encode the signature", pol->name);
            goto end;
        }
        sig = der;
        siglen = derlen;
    }
    ERR_set_mark();
    ok = EVP_PKEY_verify(pctx, sig, siglen, dgst, dlen) == 1;
    ERR_pop_to_mark();

end:
    OPENSSL_free(der);
    EVP_PKEY_CTX_free(pctx);
    EVP_MD_CTX_free(mctx);
    return ok;
}

/* ---- asymmetric encryption ------------------------------------------------ */

size_t uakey_policy_plain_block_size(const UAKEY_POLICY *pol, EVP_PKEY *key)
{
    if (!enc_usable(pol, key, "plaintext block size"))
        return 0;
    return (size_t)EVP_PKEY_get_size(key) - pol->enc_overhead;
}

size_t uakey_policy_cipher_block_size(const UAKEY_POLICY *pol, EVP_PKEY *key)
{
    if (!enc_usable(pol, key, "ciphertext block size"))
        return 0;
    return (size_t)EVP_PKEY_get_size(key);
}

/* Number of ciphertext bytes for |inlen| plaintext bytes in blocks of |pb|
 * plaintext / |k| ciphertext bytes; 0 with *ok 0 (raised) on overflow. */
static size_t cipher_len(size_t inlen, size_t pb, size_t k, int *ok)
{
    size_t nblocks = inlen / pb + (inlen % pb != 0);

    *ok = nblocks <= SIZE_MAX / k;
    if (!*ok) {
        uakey_raise(UK_R_INPUT_TOO_LARGE, "%zu plaintext bytes are too many to encrypt", inlen);
        return 0;
    }
    return nblocks * k;
}

size_t uakey_policy_encrypted_size(const UAKEY_POLICY *pol, EVP_PKEY *key, size_t inlen)
{
    size_t k;
    int ok;

    if (!enc_usable(pol, key, "encrypted size"))
        return 0;
    k = (size_t)EVP_PKEY_get_size(key);
    return cipher_len(inlen, k - pol->enc_overhead, k, &ok);
}

/* The policy's padding (and OAEP digest) on an initialised encrypt or
 * decrypt context.  OAEP-SHA1 sets only the padding (OpenSSL's default
 * digest is SHA-1), as stacks do; OAEP-SHA256 sets digest and MGF1. */
static int enc_ctx_setup(const UAKEY_POLICY *pol, EVP_PKEY_CTX *pctx)
{
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, pol->enc_padding) <= 0)
        return 0;
    if (pol->oaep_md != NULL
        && (EVP_PKEY_CTX_set_rsa_oaep_md_name(pctx, pol->oaep_md, NULL) <= 0
            || EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, pol->oaep_md, NULL) <= 0))
        return 0;
    return 1;
}

int uakey_policy_encrypt(const UAKEY_POLICY *pol, EVP_PKEY *key,
                         const unsigned char *in, size_t inlen,
                         unsigned char *out, size_t *outlen)
{
    EVP_PKEY_CTX *pctx = NULL;
    size_t k, pb, need, nblocks, i, n, ol;
    int ok;

    if (!enc_usable(pol, key, "encrypt"))
        return 0;
    if (outlen == NULL || (in == NULL && inlen > 0)) {
        uakey_raise(UK_R_BAD_PARAM, "%s encrypt: no input or no output length", pol->name);
        return 0;
    }
    k = (size_t)EVP_PKEY_get_size(key);
    pb = k - pol->enc_overhead;
    need = cipher_len(inlen, pb, k, &ok);
    if (!ok)
        return 0;
    nblocks = need / k;
    if (*outlen < need) {
        uakey_raise(UK_R_BUFFER_TOO_SMALL, "output buffer is %zu bytes, %zu plaintext bytes "
                    "need %zu (%zu blocks of %zu)", *outlen, inlen, need, nblocks, k);
        return 0;
    }
    if (out == NULL && need > 0) {
        uakey_raise(UK_R_BAD_PARAM, "%s encrypt: no output buffer", pol->name);
        return 0;
    }
    ukua_dbg("%s: %s encryption of %zu bytes in %zu blocks", pol->name, pol->enc_alg,
             inlen, nblocks);
    if (nblocks > 0) {
        pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        if (pctx == NULL || EVP_PKEY_encrypt_init(pctx) <= 0 || !enc_ctx_setup(pol, pctx)) {
            uakey_raise(UK_R_INTERNAL, "%s: cannot set up %s encryption with this key",
                        pol->name, pol->enc_alg);
            EVP_PKEY_CTX_free(pctx);
            return 0;
        }
    }
    for (i = 0; i < nblocks; i++) {
        n = inlen - i * pb < pb ? inlen - i * pb : pb;
        ol = k;
        if (EVP_PKEY_encrypt(pctx, out + i * k, &ol, in + i * pb, n) <= 0 || ol != k) {
            uakey_raise(UK_R_INTERNAL, "%s: %s encryption of block %zu of %zu failed",
                        pol->name, pol->enc_alg, i + 1, nblocks);
            memset(out, 0, need);
            EVP_PKEY_CTX_free(pctx);
            return 0;
        }
    }
    EVP_PKEY_CTX_free(pctx);
    *outlen = need;
    return 1;
}

int uakey_policy_decrypt(const UAKEY_POLICY *pol, EVP_PKEY *key,
                         const unsigned char *in, size_t inlen,
                         unsigned char *out, size_t *outlen)
{
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *buf = NULL;
    size_t k, pb, nblocks, bufsize, total = 0, i, ol, first_bad = 0;
    int r, bad = 0;

    if (!enc_usable(pol, key, "decrypt"))
        return 0;
    if (outlen == NULL || (in == NULL && inlen > 0)) {
        uakey_raise(UK_R_BAD_PARAM, "%s decrypt: no input or no output length", pol->name);
        return 0;
    }
    k = (size_t)EVP_PKEY_get_size(key);
    pb = k - pol->enc_overhead;
    if (inlen % k != 0) {
        uakey_raise(UK_R_BAD_PARAM, "ciphertext is %zu bytes, not a multiple of the %zu-byte "
                    "block", inlen, k);
        return 0;
    }
    nblocks = inlen / k;
    if (*outlen < nblocks * pb) {
        uakey_raise(UK_R_BUFFER_TOO_SMALL, "output buffer is %zu bytes, %zu ciphertext blocks "
                    "may hold up to %zu plaintext bytes", *outlen, nblocks, nblocks * pb);
        return 0;
    }
    if (nblocks == 0) {
        *outlen = 0;
        return 1;
    }
    if (out == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "%s decrypt: no output buffer", pol->name);
        return 0;
    }
    ukua_dbg("%s: %s decryption of %zu blocks", pol->name, pol->enc_alg, nblocks);

    /* Plaintext goes to a private buffer first and reaches |out| only when
     * every block decrypted.  Each block gets k bytes of room (OpenSSL and
     * tokens want the whole modulus size), hence the padding at the end. */
    bufsize = (nblocks - 1) * pb + k;
    if ((buf = OPENSSL_malloc(bufsize)) == NULL) {
        uakey_raise(UK_R_MALLOC, "%s decrypt: %zu bytes", pol->name, bufsize);
        return 0;
    }
    pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (pctx == NULL || EVP_PKEY_decrypt_init(pctx) <= 0 || !enc_ctx_setup(pol, pctx)) {
        uakey_raise(UK_R_INTERNAL, "%s: cannot set up %s decryption with this key",
                    pol->name, pol->enc_alg);
        EVP_PKEY_CTX_free(pctx);
        OPENSSL_free(buf);
        return 0;
    }

    /* Every block goes through the same steps whether an earlier one failed
     * or not (no early exit): a failure shows only at the end, as one
     * generic error, with OpenSSL's own (padding-specific) errors dropped. */
    ERR_set_mark();
    for (i = 0; i < nblocks; i++) {
        ol = bufsize - total;
        r = EVP_PKEY_decrypt(pctx, buf + total, &ol, in + i * k, k) > 0 && ol <= pb;
        total += r ? ol : 0;
        if (!r && !bad)
            first_bad = i + 1;
        bad |= !r;
    }
    ERR_pop_to_mark();
    EVP_PKEY_CTX_free(pctx);

    if (bad) {
        OPENSSL_clear_free(buf, bufsize);
        memset(out, 0, *outlen);
        uakey_raise(UK_R_DECRYPT_FAILED, "%s: block %zu of %zu does not decrypt",
                    pol->name, first_bad, nblocks);
        return 0;
    }
    memcpy(out, buf, total);
    OPENSSL_clear_free(buf, bufsize);
    *outlen = total;
    return 1;
}

/* ---- key derivation ------------------------------------------------------- */

int uakey_policy_derive(const UAKEY_POLICY *pol,
                        const unsigned char *secret, size_t secretlen,
                        const unsigned char *seed, size_t seedlen,
                        const unsigned char *info, size_t infolen,
                        unsigned char *out, size_t outlen)
{
    OSSL_PARAM params[5], *p = params;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    int ok;

    if (pol == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "derive: no policy given");
        return 0;
    }
    if (pol->kdf == UKUA_KDF_NONE) {
        uakey_raise(UK_R_NOT_SUPPORTED, "SecurityPolicy %s derives no keys", pol->name);
        return 0;
    }
    if (out == NULL || outlen == 0 || secret == NULL || secretlen == 0
        || (seed == NULL && seedlen > 0) || (info == NULL && infolen > 0)) {
        uakey_raise(UK_R_BAD_PARAM, "%s derive: a secret and an output buffer are needed",
                    pol->name);
        return 0;
    }

    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)pol->kdf_md, 0);
    if (pol->kdf == UKUA_KDF_P_HASH) {
        /* OpenSSL's TLS1-PRF with a single digest (not MD5-SHA1) is exactly
         * P_hash(secret, seed); OPC UA uses no label (part of the seed in
         * TLS) and no info. */
        if (seedlen == 0 || infolen > 0) {
            uakey_raise(UK_R_BAD_PARAM, "%s takes a seed and no info (seed %zu bytes, info "
                        "%zu bytes)", pol->kdf_alg, seedlen, infolen);
            return 0;
        }
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret,
                                                 secretlen);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed, seedlen);
        kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    } else {
        /* RFC 5869: ikm = secret, salt = seed (none: zeros), info */
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret,
                                                 secretlen);
        if (seedlen > 0)
            *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)seed,
                                                     seedlen);
        if (infolen > 0)
            *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
                                                     infolen);
        kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    }
    *p = OSSL_PARAM_construct_end();

    ok = kdf != NULL && (kctx = EVP_KDF_CTX_new(kdf)) != NULL
         && EVP_KDF_derive(kctx, out, outlen, params) == 1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    if (!ok) {
        OPENSSL_cleanse(out, outlen);
        uakey_raise(UK_R_DERIVE_FAILED, "%s: %s of %zu bytes failed", pol->name,
                    pol->kdf_alg, outlen);
    }
    return ok;
}
