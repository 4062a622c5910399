/* uakey provider/: RSA paddings done on the host around a raw RSA
 * operation in the token (CKM_RSA_X_509), for tokens that refuse the
 * parameters a caller asks for:
 *  - EME-OAEP decoding (RFC 8017 section 7.1.2, step 3), e.g. SoftHSM
 *    2.6.1 and OAEP with SHA-256;
 *  - EMSA-PSS encoding (RFC 8017 section 9.1.1), e.g. SoftHSM 2.6.1 and
 *    PSS with an MGF1 digest other than the message digest.
 *
 * Everything derived from the decrypted block is secret, so the OAEP
 * decoder never branches or indexes memory on it until its verdict: every
 * check is folded into a mask, every byte is visited whatever the outcome,
 * and the message is moved to the front of the buffer by a fixed sequence
 * of conditional shifts.  Only public values (k, the digest sizes, the
 * caller's buffer size) decide the control flow.
 *
 * This file depends on OpenSSL alone (the unit test links it by itself);
 * the provider context is not used. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ukprov.h"

/* Largest modulus handled: 16384 bits.  The work buffer lives on the stack
 * so the fallback path allocates nothing but the digest context. */
#define OAEP_MAX_K 2048

/* ---- constant-time helpers (all-ones or all-zero masks) ------------------- */

static size_t ct_msb(size_t a)
{
    return 0 - (a >> (sizeof(a) * 8 - 1));
}

static size_t ct_is_zero(size_t a)
{
    return ct_msb(~a & (a - 1));
}

static size_t ct_eq(size_t a, size_t b)
{
    return ct_is_zero(a ^ b);
}

/* a < b; both operands must be below SIZE_MAX / 2 (buffer sizes here), so
 * the difference wraps round to a set top bit exactly when a < b. */
static size_t ct_lt(size_t a, size_t b)
{
    return ct_msb(a - b);
}

static size_t ct_select(size_t mask, size_t a, size_t b)
{
    return (mask & a) | (~mask & b);
}

static unsigned char ct_select_8(size_t mask, unsigned char a, unsigned char b)
{
    return (unsigned char)ct_select(mask, a, b);
}

/* ---- MGF1 ------------------------------------------------------------------ */

/* out ^= MGF1(seed, outlen) (RFC 8017 B.2.1). */
static int mgf1_xor(EVP_MD_CTX *mctx, const EVP_MD *md, unsigned char *out,
                    size_t outlen, const unsigned char *seed, size_t seedlen)
{
    unsigned char h[EVP_MAX_MD_SIZE], cnt[4];
    unsigned int hlen = 0;
    size_t done = 0, i, n;
    unsigned long c = 0;

    while (done < outlen) {
        cnt[0] = (unsigned char)(c >> 24);
        cnt[1] = (unsigned char)(c >> 16);
        cnt[2] = (unsigned char)(c >> 8);
        cnt[3] = (unsigned char)c;
        if (!EVP_DigestInit_ex(mctx, md, NULL)
            || !EVP_DigestUpdate(mctx, seed, seedlen)
            || !EVP_DigestUpdate(mctx, cnt, sizeof(cnt))
            || !EVP_DigestFinal_ex(mctx, h, &hlen)
            || hlen == 0) {
            OPENSSL_cleanse(h, sizeof(h));
            return 0;
        }
        n = outlen - done < hlen ? outlen - done : hlen;
        for (i = 0; i < n; i++)
            out[done + i] ^= h[i];
        done += n;
        c++;
    }
    OPENSSL_cleanse(h, sizeof(h));
    return 1;
}

/* ---- decoding --------------------------------------------------------------- */

int ukprov_oaep_decode(UKPROV_CTX *ctx, unsigned char *to, size_t tlen,
                       const unsigned char *em, size_t k,
                       const unsigned char *label, size_t llen,
                       const EVP_MD *md, const EVP_MD *mgf1md)
{
    unsigned char buf[OAEP_MAX_K];      /* seed || DB, unmasked in place */
    unsigned char lhash[EVP_MAX_MD_SIZE];
    unsigned char *seed, *db, *msg;
    EVP_MD_CTX *mctx = NULL;
    size_t hlen, dblen, msgmax, i, s;
    size_t good, found, one_index, mlen, off, cap;
    int mdsize, ret = -1;

    (void)ctx;
    if (md == NULL || em == NULL || (to == NULL && tlen > 0))
        return -1;
    if (mgf1md == NULL)
        mgf1md = md;
    mdsize = EVP_MD_get_size(md);
    if (mdsize <= 0 || EVP_MD_get_size(mgf1md) <= 0)
        return -1;
    hlen = (size_t)mdsize;
    /* Public checks: k >= 2hLen + 2 (RFC 8017 7.1.2 step 1c). */
    if (k > OAEP_MAX_K || k < 2 * hlen + 2)
        return -1;

    dblen = k - hlen - 1;
    seed = buf;
    db = buf + hlen;
    memcpy(buf, em + 1, k - 1);

    mctx = EVP_MD_CTX_new();
    if (mctx == NULL)
        goto end;
    /* lHash = Hash(L) */
    if (!EVP_DigestInit_ex(mctx, md, NULL)
        || !EVP_DigestUpdate(mctx, label != NULL ? label : (const unsigned char *)"",
                             label != NULL ? llen : 0)
        || !EVP_DigestFinal_ex(mctx, lhash, NULL))
        goto end;
    /* seed = maskedSeed ^ MGF(maskedDB, hLen); DB = maskedDB ^ MGF(seed, dbLen) */
    if (!mgf1_xor(mctx, mgf1md, seed, hlen, db, dblen)
        || !mgf1_xor(mctx, mgf1md, db, dblen, seed, hlen))
        goto end;

    /* Y == 0 */
    good = ct_is_zero(em[0]);
    /* lHash' == lHash, every byte compared */
    {
        size_t diff = 0;

        for (i = 0; i < hlen; i++)
            diff |= (size_t)(db[i] ^ lhash[i]);
        good &= ct_is_zero(diff);
    }
    /* DB = lHash' || PS (zeros) || 0x01 || M: find the first 0x01; every
     * byte before it must be zero.  The whole of DB is scanned. */
    found = 0;
    one_index = 0;
    for (i = hlen; i < dblen; i++) {
        size_t is_zero = ct_is_zero(db[i]);
        size_t is_one = ct_eq(db[i], 1);

        good &= found | is_zero | is_one;
        one_index = ct_select(~found & is_one, i, one_index);
        found |= is_one;
    }
    good &= found;

    /* The message may start at db + hlen + 1 at the earliest. */
    msg = db + hlen + 1;
    msgmax = dblen - hlen - 1;
    off = ct_select(good, one_index - hlen, msgmax);   /* 0 .. msgmax */
    mlen = msgmax - off;
    cap = tlen < msgmax ? tlen : msgmax;        /* public */
    good &= ~ct_lt(cap, mlen);

    /* Move the message to msg[0] with log2(msgmax) conditional shifts:
     * step s moves by s bytes when bit s of off is set.  Bytes beyond the
     * end stay as they are; they are never part of the message. */
    for (s = 1; s < msgmax; s <<= 1) {
        size_t move = ~ct_is_zero(off & s);

        for (i = 0; i + s < msgmax; i++)
            msg[i] = ct_select_8(move, msg[i + s], msg[i]);
    }
    /* Only success or failure and the message length are left, and the
     * caller learns both from the return value anyway: from here on they
     * may steer a branch (which padding check failed may not, and did not).
     * The message is already at msg[0], so the copy does not depend on
     * where the separator was.  On failure |to| is left untouched. */
    if (good != 0) {
        memcpy(to, msg, mlen);
        ret = (int)mlen;
    }

 end:
    EVP_MD_CTX_free(mctx);
    OPENSSL_cleanse(buf, sizeof(buf));
    OPENSSL_cleanse(lhash, sizeof(lhash));
    return ret;
}

/* ---- EMSA-PSS encoding ------------------------------------------------------ */

int ukprov_pss_encode(OSSL_LIB_CTX *libctx, unsigned char *em, size_t k, int modbits,
                      const unsigned char *mhash, const EVP_MD *md,
                      const EVP_MD *mgf1md, size_t slen)
{
    static const unsigned char zeros[8] = { 0 };
    size_t embits = (size_t)modbits - 1, emlen = (embits + 7) / 8;
    size_t hlen = (size_t)EVP_MD_get_size(md), dblen, off;
    unsigned char *db, *h, salt[512];
    EVP_MD_CTX *mctx = NULL;
    unsigned int outl = 0;
    int ok = 0;

    if (modbits < 16 || k < emlen || hlen == 0 || slen > sizeof(salt)
        || emlen < hlen + slen + 2)
        return 0;
    off = k - emlen;            /* one leading zero byte when emBits % 8 == 0 */
    memset(em, 0, k);
    dblen = emlen - hlen - 1;
    db = em + off;
    h = db + dblen;
    if (slen > 0 && RAND_bytes_ex(libctx, salt, slen, 0) != 1)
        return 0;
    mctx = EVP_MD_CTX_new();
    if (mctx == NULL)
        goto end;
    /* H = Hash(0x00 * 8 || mHash || salt) */
    if (!EVP_DigestInit_ex(mctx, md, NULL)
        || !EVP_DigestUpdate(mctx, zeros, sizeof(zeros))
        || !EVP_DigestUpdate(mctx, mhash, hlen)
        || (slen > 0 && !EVP_DigestUpdate(mctx, salt, slen))
        || !EVP_DigestFinal_ex(mctx, h, &outl) || outl != hlen)
        goto end;
    /* DB = PS || 0x01 || salt, then masked with MGF1(H) */
    db[dblen - slen - 1] = 0x01;
    memcpy(db + dblen - slen, salt, slen);
    if (!mgf1_xor(mctx, mgf1md, db, dblen, h, hlen))
        goto end;
    db[0] &= (unsigned char)(0xff >> (8 * emlen - embits));
    em[k - 1] = 0xbc;
    ok = 1;
 end:
    OPENSSL_cleanse(salt, sizeof(salt));
    EVP_MD_CTX_free(mctx);
    if (!ok)
        memset(em, 0, k);
    return ok;
}
