/* uakey bench: sign and decrypt rates of the security-policy adapter with a
 * token key, the same key in memory, and raw Cryptoki on the same token
 * object (the numbers issue 4's closing note asks for).  `make bench` runs
 * it on a throwaway SoftHSM2 token (bench/run-bench.sh).
 *
 *   uk_bench -m MODULE -f PIN-FILE [-T TOKEN] [-t SECONDS] [-w SECONDS]
 *            [-r ROUNDS] [-j THREADS]
 *
 * Set-up: an RSA-2048 and a P-256 key pair are generated in memory by
 * OpenSSL's default provider and imported into the token with
 * C_CreateObject (private key objects CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE, not CKA_EXTRACTABLE, plus public key objects; same label
 * and id; bench/uk_bench_token.c, shared with bench/uk_bench_connect.c).  The token keys are then loaded the way an application loads
 * them: uakey_load_key() with a pkcs11: URI and a PIN file, which brings
 * the uakey provider into the default library context by itself.  No key
 * or PIN byte is printed or written by this program (SoftHSM itself keeps
 * token objects, encrypted, in its token directory).
 *
 * Each path of each case runs for a fixed wall time after a warm-up, in
 * -j threads; the rate is all threads' operations over the time they ran.
 * The time is cut into -r rounds that take the paths in turn (token,
 * memory, raw, token, ...), so a burst of other work on the machine falls
 * on all paths alike instead of skewing one ratio.  A path
 * posts a rate only when its results check out, with OpenSSL's default
 * provider in a library context of its own (uakey checks nothing of its
 * own work): every decryption is compared with the plaintext; PKCS#1 v1.5
 * is deterministic, so every signature is compared with a reference that
 * the public key verifies (and token, memory and raw Cryptoki must produce
 * the same bytes); PSS and ECDSA signatures are randomised, so they are
 * kept and verified after each round: every one up to SAMPLE_CAP per
 * thread, beyond that a sample spread evenly over the round (ECDSA
 * verification costs more than signing), and always the last one.  Every
 * return code counts.
 *
 * Exit: 0 all paths measured (or refused by the token where that is
 * expected), 1 a path failed, 2 usage or set-up error. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <p11-kit/p11-kit.h>

#include "uakey/uakey.h"
#include "uk_bench_token.h"

#define BENCH_TOKEN      "uakey-bench"
#define BENCH_MAX_THREADS 64
#define SIGN_MSG_LEN     1024       /* about a certificate plus a nonce */
#define PLAIN_LEN        100        /* one OAEP block's worth of secret */
#define OUT_MAX          512
#define SAMPLE_CAP       4096       /* randomised signatures kept per thread and round */

enum key_kind { K_RSA, K_EC, NKEY };
enum path { P_TOKEN, P_MEMORY, P_RAW, NPATH };
enum bop { OP_SIGN, OP_DECRYPT };
enum raw_kind {
    RAW_SHA256_RSA_PKCS,    /* CKM_SHA256_RSA_PKCS */
    RAW_SHA256_RSA_PSS,     /* CKM_SHA256_RSA_PKCS_PSS, MGF1-SHA256, salt 32 */
    RAW_ECDSA,              /* SHA-256 on the host, CKM_ECDSA */
    RAW_OAEP_SHA1,          /* CKM_RSA_PKCS_OAEP, SHA-1, MGF1-SHA1 */
    RAW_OAEP_SHA256,        /* CKM_RSA_PKCS_OAEP, SHA-256, MGF1-SHA256 */
    RAW_X509                /* CKM_RSA_X_509: what uakey's OAEP fallback asks */
};

static const char *const key_label[NKEY] = { "bench-rsa", "bench-ec" };
static const unsigned char key_id[NKEY] = { 0x01, 0x02 };

/* One row of the table. */
struct bcase {
    const char *policy;         /* SecurityPolicy name */
    enum bop op;
    enum key_kind key;
    enum raw_kind raw;
    int deterministic;          /* signatures: the same bytes every time */
    int pss;                    /* RSA-PSS signatures */
    const char *oaep_md;        /* decrypt: OAEP digest (and MGF1) */
    int raw_may_refuse;         /* a token refusal is an answer, not a bug */
    /* filled in at run time */
    const UAKEY_POLICY *pol;
    const char *alg;            /* the policy's algorithm name */
    unsigned char ct[OUT_MAX];  /* decrypt: the ciphertext block */
    size_t ctlen;
    size_t outlen;              /* expected result length */
    unsigned char ref[OUT_MAX]; /* deterministic: the verified signature */
    int have_ref;
};

static struct bcase cases[] = {
    { .policy = "Basic256Sha256", .op = OP_SIGN, .key = K_RSA,
      .raw = RAW_SHA256_RSA_PKCS, .deterministic = 1 },
    { .policy = "Basic256Sha256", .op = OP_DECRYPT, .key = K_RSA,
      .raw = RAW_OAEP_SHA1, .oaep_md = "SHA1" },
    { .policy = "Aes256_Sha256_RsaPss", .op = OP_SIGN, .key = K_RSA,
      .raw = RAW_SHA256_RSA_PSS, .pss = 1 },
    /* SoftHSM 2.6.1 refuses OAEP with SHA-256; uakey falls back to raw RSA */
    { .policy = "Aes256_Sha256_RsaPss", .op = OP_DECRYPT, .key = K_RSA,
      .raw = RAW_OAEP_SHA256, .oaep_md = "SHA256", .raw_may_refuse = 1 },
    { .policy = "ECC_nistP256", .op = OP_SIGN, .key = K_EC, .raw = RAW_ECDSA },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct bench {
    /* options */
    double seconds, warmup;
    int threads, rounds;
    /* OpenSSL */
    OSSL_LIB_CTX *vctx;         /* default provider only: the checker */
    OSSL_PROVIDER *vdefault;
    EVP_MD *sha256;             /* from vctx */
    EVP_PKEY *mem[NKEY];        /* in memory (default provider) */
    EVP_PKEY *tok[NKEY];        /* in the token, loaded through libuakey */
    EVP_PKEY *pub[NKEY];        /* public halves in vctx */
    /* Cryptoki: module, token label and PIN file are options */
    struct ukb_token tk;
    CK_OBJECT_HANDLE priv[NKEY];
    /* data */
    unsigned char msg[SIGN_MSG_LEN];
    unsigned char plain[PLAIN_LEN];
};

/* Result of one path of one case. */
enum cell_state { CELL_OK, CELL_NA, CELL_FAILED };
struct cell {
    enum cell_state state;
    double rate;                /* ops / secs over the rounds so far */
    unsigned long ops;
    double secs;
    char note[400];
};

/* Randomised results kept for verification after the window: slot k holds
 * result k * stride; when the slots run out every other one goes and the
 * stride doubles, so the sample stays spread over the whole window. */
struct samples {
    unsigned char *buf;
    size_t len, n;
    unsigned long stride;
};

static const char *const path_name[NPATH] = {
    "token via uakey", "memory via uakey", "raw Cryptoki"
};
static const char *const path_short[NPATH] = { "token", "memory", "raw" };

struct job;

struct worker {
    struct job *job;
    pthread_t tid;
    CK_SESSION_HANDLE sess;
    int have_sess;
    unsigned long ops;
    double t0, t1;
    int failed;
    CK_RV rv;                   /* raw path: the token's answer */
    const char *rv_call;
    int refused;                /* the very first operation failed */
    char err[256];              /* the last operation's error */
    char why[320];              /* why this thread failed */
    unsigned char out[OUT_MAX];
    size_t outlen;
    unsigned char ref[OUT_MAX]; /* deterministic results: the checked one */
    int have_ref;
    struct samples smp;
};

struct job {
    struct bench *b;
    struct bcase *c;
    enum path path;
    enum raw_kind raw;
    double seconds, warmup;     /* this round's */
    pthread_barrier_t bar;
    struct worker w[BENCH_MAX_THREADS];
};

/* ---- the checker (default provider in its own library context) ------------ */

/* A signature as OPC UA carries it: RSA as is, ECDSA as raw r||s. */
static int verify_sig(struct bench *b, const struct bcase *c,
                      const unsigned char *sig, size_t siglen)
{
    unsigned char dgst[EVP_MAX_MD_SIZE], *der = NULL;
    unsigned int dlen = 0;
    EVP_PKEY_CTX *pc = NULL;
    ECDSA_SIG *es = NULL;
    int ok = 0, derlen;

    if (!EVP_Digest(b->msg, sizeof(b->msg), dgst, &dlen, b->sha256, NULL))
        return 0;
    pc = EVP_PKEY_CTX_new_from_pkey(b->vctx, b->pub[c->key], NULL);
    if (pc == NULL || EVP_PKEY_verify_init(pc) <= 0)
        goto end;
    if (c->key == K_RSA) {
        if (EVP_PKEY_CTX_set_rsa_padding(pc, c->pss ? RSA_PKCS1_PSS_PADDING
                                                    : RSA_PKCS1_PADDING) <= 0
            || EVP_PKEY_CTX_set_signature_md(pc, b->sha256) <= 0)
            goto end;
        /* OPC UA: salt length = digest length, MGF1 with the same digest */
        if (c->pss && (EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32) <= 0
                       || EVP_PKEY_CTX_set_rsa_mgf1_md(pc, b->sha256) <= 0))
            goto end;
    } else {
        BIGNUM *r, *s;

        if (siglen != 64 || EVP_PKEY_CTX_set_signature_md(pc, b->sha256) <= 0)
            goto end;
        r = BN_bin2bn(sig, 32, NULL);
        s = BN_bin2bn(sig + 32, 32, NULL);
        if ((es = ECDSA_SIG_new()) == NULL || r == NULL || s == NULL
            || !ECDSA_SIG_set0(es, r, s)) {
            BN_free(r);
            BN_free(s);
            goto end;
        }
        if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0)
            goto end;
        sig = der;
        siglen = (size_t)derlen;
    }
    ok = EVP_PKEY_verify(pc, sig, siglen, dgst, dlen) == 1;

end:
    ERR_clear_error();
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_PKEY_CTX_free(pc);
    return ok;
}

/* Raw RSA: |em| ^ e mod n must give back the ciphertext block. */
static int verify_raw_rsa(struct bench *b, const struct bcase *c,
                          const unsigned char *em, size_t emlen)
{
    unsigned char back[OUT_MAX];
    size_t backlen = sizeof(back);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(b->vctx, b->pub[K_RSA], NULL);
    int ok = pc != NULL && EVP_PKEY_encrypt_init(pc) > 0
             && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_NO_PADDING) > 0
             && EVP_PKEY_encrypt(pc, back, &backlen, em, emlen) > 0
             && backlen == c->ctlen && memcmp(back, c->ct, backlen) == 0;

    ERR_clear_error();
    EVP_PKEY_CTX_free(pc);
    return ok;
}

/* The full check of one result (first result and samples). */
static int check_full(struct job *jb, const unsigned char *r, size_t rlen)
{
    struct bcase *c = jb->c;

    if (jb->raw == RAW_X509 && jb->path == P_RAW)
        return rlen == c->ctlen && verify_raw_rsa(jb->b, c, r, rlen);
    if (c->op == OP_DECRYPT)
        return rlen == PLAIN_LEN && memcmp(r, jb->b->plain, PLAIN_LEN) == 0;
    return rlen == c->outlen && verify_sig(jb->b, c, r, rlen);
}

/* ---- the operations ------------------------------------------------------- */

static int raw_op(struct worker *w, unsigned char *out, size_t *outlen)
{
    struct job *jb = w->job;
    struct bench *b = jb->b;
    CK_FUNCTION_LIST *fl = b->tk.fl;
    CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
    CK_RSA_PKCS_OAEP_PARAMS oaep = { CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0 };
    CK_MECHANISM mech = { 0, NULL, 0 };
    CK_OBJECT_HANDLE h = b->priv[jb->c->key];
    unsigned char dgst[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    unsigned char *in = b->msg;
    CK_ULONG inlen = sizeof(b->msg), outl = *outlen;
    int sign = 1;
    CK_RV rv;

    switch (jb->raw) {
    case RAW_SHA256_RSA_PKCS:
        mech.mechanism = CKM_SHA256_RSA_PKCS;
        break;
    case RAW_SHA256_RSA_PSS:
        mech.mechanism = CKM_SHA256_RSA_PKCS_PSS;
        mech.pParameter = &pss;
        mech.ulParameterLen = sizeof(pss);
        break;
    case RAW_ECDSA:
        /* SoftHSM offers no CKM_ECDSA_SHA256: hash here, as uakey does */
        if (!EVP_Digest(b->msg, sizeof(b->msg), dgst, &dlen, b->sha256, NULL)) {
            snprintf(w->err, sizeof(w->err), "SHA-256 on the host failed");
            return 0;
        }
        mech.mechanism = CKM_ECDSA;
        in = dgst;
        inlen = dlen;
        break;
    case RAW_OAEP_SHA256:
        oaep.hashAlg = CKM_SHA256;
        oaep.mgf = CKG_MGF1_SHA256;
        /* fall through */
    case RAW_OAEP_SHA1:
        mech.mechanism = CKM_RSA_PKCS_OAEP;
        mech.pParameter = &oaep;
        mech.ulParameterLen = sizeof(oaep);
        sign = 0;
        break;
    case RAW_X509:
        mech.mechanism = CKM_RSA_X_509;
        sign = 0;
        break;
    }
    if (!sign) {
        in = jb->c->ct;
        inlen = jb->c->ctlen;
    }
    if (sign) {
        w->rv_call = "C_SignInit";
        rv = fl->C_SignInit(w->sess, &mech, h);
        if (rv == CKR_OK) {
            w->rv_call = "C_Sign";
            rv = fl->C_Sign(w->sess, in, inlen, out, &outl);
        }
    } else {
        w->rv_call = "C_DecryptInit";
        rv = fl->C_DecryptInit(w->sess, &mech, h);
        if (rv == CKR_OK) {
            w->rv_call = "C_Decrypt";
            rv = fl->C_Decrypt(w->sess, in, inlen, out, &outl);
        }
    }
    OPENSSL_cleanse(dgst, sizeof(dgst));
    w->rv = rv;
    if (rv != CKR_OK) {
        snprintf(w->err, sizeof(w->err), "%s: %s (0x%lx)", w->rv_call, ukb_rv_name(rv),
                 (unsigned long)rv);
        return 0;
    }
    *outlen = outl;
    return 1;
}

static int do_op(struct worker *w, unsigned char *out, size_t *outlen)
{
    struct job *jb = w->job;
    struct bench *b = jb->b;
    struct bcase *c = jb->c;
    EVP_PKEY *key;
    int ok;

    *outlen = OUT_MAX;
    if (jb->path == P_RAW)
        return raw_op(w, out, outlen);
    key = jb->path == P_TOKEN ? b->tok[c->key] : b->mem[c->key];
    if (c->op == OP_SIGN)
        ok = uakey_policy_sign(c->pol, key, b->msg, sizeof(b->msg), out, outlen);
    else
        ok = uakey_policy_decrypt(c->pol, key, c->ct, c->ctlen, out, outlen);
    if (!ok)
        uakey_error_string(w->err, sizeof(w->err));
    return ok;
}

/* ---- the sample store ------------------------------------------------------ */

static int samples_init(struct samples *s, size_t len)
{
    s->len = len;
    s->n = 0;
    s->stride = 1;
    s->buf = malloc(len * SAMPLE_CAP);
    return s->buf != NULL;
}

static void samples_add(struct samples *s, unsigned long i, const unsigned char *r)
{
    size_t k;

    if (i % s->stride != 0)
        return;
    if (s->n == SAMPLE_CAP) {
        for (k = 1; k < SAMPLE_CAP / 2; k++)
            memcpy(s->buf + k * s->len, s->buf + 2 * k * s->len, s->len);
        s->n = SAMPLE_CAP / 2;
        s->stride *= 2;
        if (i % s->stride != 0)
            return;
    }
    memcpy(s->buf + s->n * s->len, r, s->len);
    s->n++;
}

/* ---- one thread of one path ------------------------------------------------ */

static void fail(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct worker *w, const char *fmt, ...)
{
    va_list ap;

    if (w->failed)
        return;
    w->failed = 1;
    va_start(ap, fmt);
    vsnprintf(w->why, sizeof(w->why), fmt, ap);
    va_end(ap);
}

/* Warm-up: at least one operation, the first fully checked. */
static int warm_up(struct worker *w)
{
    struct job *jb = w->job;
    double end = ukb_now() + jb->warmup;
    unsigned long i = 0;
    size_t n;

    do {
        if (!do_op(w, w->out, &n)) {
            w->refused = i == 0;
            fail(w, "%s", w->err);
            return 0;
        }
        if (i == 0) {
            if (!check_full(jb, w->out, n)) {
                fail(w, "the first result does not check out");
                return 0;
            }
            memcpy(w->ref, w->out, n);
            w->outlen = n;
            w->have_ref = 1;
        }
        i++;
    } while (ukb_now() < end);
    return 1;
}

/* The window: every result is checked here (deterministic: against the
 * checked reference; decryption: against the plaintext) or sampled. */
static int measure(struct worker *w)
{
    struct job *jb = w->job;
    struct bcase *c = jb->c;
    /* randomised signatures are kept for later; OAEP results must be the
     * plaintext; the rest (PKCS#1 v1.5 signatures, raw RSA) must be the
     * bytes of the checked first result */
    int keep = c->op == OP_SIGN && !c->deterministic;
    int vs_plain = c->op == OP_DECRYPT && !(jb->path == P_RAW && jb->raw == RAW_X509);
    int vs_ref = !keep && !vs_plain;
    const unsigned char *plain = jb->b->plain;
    unsigned long i = 0;
    double t, end;
    size_t n;

    w->t0 = t = ukb_now();
    end = w->t0 + jb->seconds;
    do {
        if (!do_op(w, w->out, &n)) {
            fail(w, "operation %lu: %s", i + 1, w->err);
            return 0;
        }
        if (vs_plain) {
            if (n != PLAIN_LEN || memcmp(w->out, plain, PLAIN_LEN) != 0) {
                fail(w, "decryption %lu did not return the plaintext", i + 1);
                return 0;
            }
        } else if (vs_ref) {
            if (n != w->outlen || memcmp(w->out, w->ref, n) != 0) {
                fail(w, "result %lu differs from the checked one", i + 1);
                return 0;
            }
        } else {
            if (n != c->outlen) {
                fail(w, "signature %lu has %zu bytes, not %zu", i + 1, n, c->outlen);
                return 0;
            }
            samples_add(&w->smp, i, w->out);
        }
        i++;
    } while ((t = ukb_now()) < end);
    w->t1 = t;
    w->ops = i;
    w->outlen = n;
    return 1;
}

static int verify_samples(struct worker *w)
{
    struct job *jb = w->job;
    size_t k;

    if (!(jb->c->op == OP_SIGN && !jb->c->deterministic))
        return 1;
    for (k = 0; k < w->smp.n; k++) {
        if (!check_full(jb, w->smp.buf + k * w->smp.len, w->smp.len)) {
            fail(w, "signature %lu does not verify", k * w->smp.stride + 1);
            return 0;
        }
    }
    if (!check_full(jb, w->out, w->outlen)) {
        fail(w, "the last signature (%lu) does not verify", w->ops);
        return 0;
    }
    return 1;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct job *jb = w->job;
    struct bench *b = jb->b;
    int ok = 1;
    CK_RV rv;

    if (jb->path == P_RAW) {
        rv = b->tk.fl->C_OpenSession(b->tk.slot, CKF_SERIAL_SESSION, NULL, NULL, &w->sess);
        if (rv != CKR_OK) {
            fail(w, "C_OpenSession: %s (0x%lx)", ukb_rv_name(rv), (unsigned long)rv);
            ok = 0;
        } else {
            w->have_sess = 1;
        }
    }
    if (ok && !samples_init(&w->smp, jb->c->outlen > 0 ? jb->c->outlen : 1)) {
        fail(w, "out of memory");
        ok = 0;
    }
    pthread_barrier_wait(&jb->bar);
    if (ok)
        ok = warm_up(w);
    pthread_barrier_wait(&jb->bar);
    if (ok)
        ok = measure(w);
    if (ok)
        verify_samples(w);
    if (w->have_sess)
        b->tk.fl->C_CloseSession(w->sess);
    free(w->smp.buf);
    w->smp.buf = NULL;
    ERR_clear_error();
    return NULL;
}

/* One round of one path of one case in b->threads threads, added to
 * |cell| (nothing more happens once a path failed or was refused). */
static void run_path(struct bench *b, struct bcase *c, enum path path, enum raw_kind raw,
                     int round, struct cell *cell)
{
    struct job *jb;
    double first = 0, last = 0;
    unsigned long ops = 0;
    int i, started = 0;

    if (cell->state != CELL_OK)
        return;
    if ((jb = calloc(1, sizeof(*jb))) == NULL)
        ukb_die("uk_bench: out of memory");
    jb->b = b;
    jb->c = c;
    jb->path = path;
    jb->raw = raw;
    jb->seconds = b->seconds / b->rounds;
    /* later rounds: one operation, fully checked, before the clock starts */
    jb->warmup = round == 0 ? b->warmup : 0;
    if (pthread_barrier_init(&jb->bar, NULL, (unsigned)b->threads) != 0)
        ukb_die("uk_bench: pthread_barrier_init failed");
    for (i = 0; i < b->threads; i++) {
        jb->w[i].job = jb;
        if (pthread_create(&jb->w[i].tid, NULL, worker_main, &jb->w[i]) != 0)
            ukb_die("uk_bench: cannot start thread %d", i + 1);
        started++;
    }
    for (i = 0; i < started; i++)
        pthread_join(jb->w[i].tid, NULL);
    pthread_barrier_destroy(&jb->bar);

    for (i = 0; i < b->threads; i++) {
        struct worker *w = &jb->w[i];

        if (w->failed) {
            /* A token's refusal of a mechanism is its answer, not a bug */
            if (path == P_RAW && c->raw_may_refuse && raw == c->raw && w->refused
                && w->rv != CKR_OK) {
                cell->state = CELL_NA;
                snprintf(cell->note, sizeof(cell->note), "%s: %s", w->rv_call,
                         ukb_rv_name(w->rv));
            } else {
                cell->state = CELL_FAILED;
                snprintf(cell->note, sizeof(cell->note), "thread %d: %s", i + 1, w->why);
            }
            break;
        }
        ops += w->ops;
        if (i == 0 || w->t0 < first)
            first = w->t0;
        if (i == 0 || w->t1 > last)
            last = w->t1;
    }
    if (cell->state == CELL_OK) {
        cell->ops += ops;
        cell->secs += last > first ? last - first : 0;
        cell->rate = cell->secs > 0 ? (double)cell->ops / cell->secs : 0;
        /* deterministic signatures: every path must give the same bytes */
        if (c->deterministic && raw == c->raw) {
            for (i = 0; i < b->threads && cell->state == CELL_OK; i++) {
                if (!c->have_ref) {
                    memcpy(c->ref, jb->w[i].ref, jb->w[i].outlen);
                    c->have_ref = 1;
                } else if (memcmp(c->ref, jb->w[i].ref, c->outlen) != 0) {
                    cell->state = CELL_FAILED;
                    snprintf(cell->note, sizeof(cell->note),
                             "signature differs from the other paths' (not the same key?)");
                }
            }
        }
    }
    if (cell->state == CELL_OK)
        fprintf(stderr, " %s=%.0f", path == P_RAW && raw == RAW_X509 ? "raw-X_509" : path_short[path],
                last > first ? (double)ops / (last - first) : 0);
    else if (cell->state == CELL_NA)
        fprintf(stderr, " %s=n/a (%s)", path_short[path], cell->note);
    else
        fprintf(stderr, " %s=FAILED", path_short[path]);
    free(jb);
}

/* Every path of one case, round by round; a refused raw OAEP also gets
 * raw CKM_RSA_X_509 (what uakey's fallback asks of the token). */
static void run_case(struct bench *b, struct bcase *c, struct cell cell[NPATH],
                     struct cell *x509, int *have_x509)
{
    int round, p;

    memset(cell, 0, NPATH * sizeof(cell[0]));
    memset(x509, 0, sizeof(*x509));
    *have_x509 = 0;
    for (round = 0; round < b->rounds; round++) {
        fprintf(stderr, "uk_bench: %s %s %s, round %d/%d (ops/s):", c->policy,
                c->op == OP_SIGN ? "sign" : "decrypt", c->alg, round + 1, b->rounds);
        for (p = 0; p < NPATH; p++)
            run_path(b, c, (enum path)p, c->raw, round, &cell[p]);
        if (c->op == OP_DECRYPT && cell[P_RAW].state == CELL_NA) {
            run_path(b, c, P_RAW, RAW_X509, round, x509);
            *have_x509 = 1;
        }
        fputc('\n', stderr);
    }
    for (p = 0; p < NPATH; p++) {
        if (cell[p].state == CELL_FAILED)
            fprintf(stderr, "uk_bench: %s %s, %s FAILED: %s\n", c->policy, c->alg,
                    path_name[p], cell[p].note);
    }
}

/* ---- set-up: keys in memory, the same keys in the token -------------------- */

static EVP_PKEY *pub_copy(struct bench *b, EVP_PKEY *k)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    EVP_PKEY *pub = NULL;
    int len = i2d_PUBKEY(k, &der);

    p = der;
    if (len > 0)
        pub = d2i_PUBKEY_ex(NULL, &p, len, b->vctx, NULL);
    OPENSSL_free(der);
    if (pub == NULL)
        ukb_die_ossl("uk_bench: cannot copy a public key into the checker's context");
    return pub;
}

/* Policies, algorithm names, lengths and the ciphertext blocks. */
static void cases_setup(struct bench *b)
{
    size_t i;

    for (i = 0; i < NCASES; i++) {
        struct bcase *c = &cases[i];
        EVP_PKEY_CTX *pc;

        if ((c->pol = uakey_policy_find(c->policy)) == NULL)
            ukb_die_ossl("uk_bench: libuakey does not know %s", c->policy);
        if (!uakey_policy_key_fits(c->pol, b->mem[c->key]))
            ukb_die_ossl("uk_bench: the memory key does not fit %s", c->policy);
        if (c->op == OP_SIGN) {
            c->alg = uakey_policy_asym_sign_alg(c->pol);
            c->outlen = uakey_policy_signature_size(c->pol, b->mem[c->key]);
            continue;
        }
        c->alg = uakey_policy_asym_enc_alg(c->pol);
        if (uakey_policy_plain_block_size(c->pol, b->mem[c->key]) < PLAIN_LEN
            || uakey_policy_cipher_block_size(c->pol, b->mem[c->key]) != 256)
            ukb_die_ossl("uk_bench: unexpected %s block sizes", c->policy);
        c->outlen = 256;        /* raw RSA result; OAEP gives PLAIN_LEN */
        c->ctlen = sizeof(c->ct);
        pc = EVP_PKEY_CTX_new_from_pkey(b->vctx, b->pub[c->key], NULL);
        if (pc == NULL || EVP_PKEY_encrypt_init(pc) <= 0
            || EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) <= 0
            || EVP_PKEY_CTX_set_rsa_oaep_md_name(pc, c->oaep_md, NULL) <= 0
            || EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, c->oaep_md, NULL) <= 0
            || EVP_PKEY_encrypt(pc, c->ct, &c->ctlen, b->plain, PLAIN_LEN) <= 0
            || c->ctlen != 256)
            ukb_die_ossl("uk_bench: cannot make the %s ciphertext", c->alg);
        EVP_PKEY_CTX_free(pc);
    }
}

/* ---- the report ----------------------------------------------------------- */

static void fmt_rate(char *buf, size_t cap, const struct cell *cl)
{
    if (cl->state == CELL_OK)
        snprintf(buf, cap, "%.0f", cl->rate);
    else if (cl->state == CELL_NA)
        snprintf(buf, cap, "n/a (token refuses)");
    else
        snprintf(buf, cap, "FAILED");
}

static void fmt_ratio(char *buf, size_t cap, const struct cell *a, const struct cell *c)
{
    if (a->state == CELL_OK && c->state == CELL_OK && c->rate > 0)
        snprintf(buf, cap, "%.2f", a->rate / c->rate);
    else
        snprintf(buf, cap, "n/a");
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s -m MODULE -f PIN-FILE [-T TOKEN] [-t SECONDS] [-w SECONDS] [-r ROUNDS]\n"
            "       [-j THREADS]\n"
            "  -m MODULE    PKCS#11 module (SoftHSM2: libsofthsm2.so)\n"
            "  -f PIN-FILE  file whose first line is the user PIN\n"
            "  -T TOKEN     token label (default %s; it must not hold bench keys yet)\n"
            "  -t SECONDS   measured wall time per path (default 2)\n"
            "  -w SECONDS   warm-up per path (default: a quarter of -t, at most 0.5)\n"
            "  -r ROUNDS    cut -t into this many turns per path, paths taken in turn\n"
            "               (default 4)\n"
            "  -j THREADS   threads per path (default 1, at most %d)\n",
            prog, BENCH_TOKEN, BENCH_MAX_THREADS);
    exit(2);
}

static double num_arg(const char *prog, const char *s, double lo, double hi)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        usage(prog);
    return v;
}

int main(int argc, char **argv)
{
    static struct bench bench;
    struct bench *b = &bench;
    struct cell cells[NCASES][NPATH], x509;
    char r[NPATH][32], q1[16], q2[16];
    double load0[1] = { -1 }, load1[1] = { -1 };
    int opt, failed = 0;
    size_t x509_case = NCASES;          /* the case whose raw path was refused */
    size_t i;

    b->tk.label = BENCH_TOKEN;
    b->seconds = 2;
    b->warmup = -1;
    b->threads = 1;
    b->rounds = 4;
    while ((opt = getopt(argc, argv, "m:f:T:t:w:r:j:h")) != -1) {
        switch (opt) {
        case 'm': b->tk.module = optarg; break;
        case 'f': b->tk.pin_file = optarg; break;
        case 'T': b->tk.label = optarg; break;
        case 't': b->seconds = num_arg(argv[0], optarg, 0.01, 3600); break;
        case 'w': b->warmup = num_arg(argv[0], optarg, 0, 3600); break;
        case 'r': b->rounds = (int)num_arg(argv[0], optarg, 1, 1000); break;
        case 'j': b->threads = (int)num_arg(argv[0], optarg, 1, BENCH_MAX_THREADS); break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc || b->tk.module == NULL || b->tk.pin_file == NULL)
        usage(argv[0]);
    if (b->warmup < 0)
        b->warmup = b->seconds / 4 < 0.5 ? b->seconds / 4 : 0.5;

    /* the checker: OpenSSL's default provider in a context of its own */
    if ((b->vctx = OSSL_LIB_CTX_new()) == NULL
        || (b->vdefault = OSSL_PROVIDER_load(b->vctx, "default")) == NULL
        || (b->sha256 = EVP_MD_fetch(b->vctx, "SHA256", NULL)) == NULL)
        ukb_die_ossl("uk_bench: cannot set up OpenSSL's default provider");
    for (i = 0; i < sizeof(b->msg); i++)
        b->msg[i] = (unsigned char)(i * 31 + 7);
    for (i = 0; i < sizeof(b->plain); i++)
        b->plain[i] = (unsigned char)(i * 17 + 3);

    /* the memory keys, made before uakey is anywhere near */
    if ((b->mem[K_RSA] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) == NULL
        || (b->mem[K_EC] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
        ukb_die_ossl("uk_bench: cannot generate the memory keys");
    b->pub[K_RSA] = pub_copy(b, b->mem[K_RSA]);
    b->pub[K_EC] = pub_copy(b, b->mem[K_EC]);

    ukb_token_open(&b->tk);
    for (i = 0; i < NKEY; i++)
        b->priv[i] = ukb_token_import(&b->tk, b->mem[i], key_label[i], key_id[i]);
    for (i = 0; i < NKEY; i++)
        b->tok[i] = ukb_token_load_key(&b->tk, key_label[i], b->mem[i]);
    cases_setup(b);

    fprintf(stderr, "uk_bench: memory keys served by '%s' (sign) / '%s' (decrypt), "
            "token keys by '%s' / '%s'\n",
            ukb_serving_provider(b->mem[K_RSA], 0), ukb_serving_provider(b->mem[K_RSA], 1),
            ukb_serving_provider(b->tok[K_RSA], 0), ukb_serving_provider(b->tok[K_RSA], 1));
    if (strcmp(ukb_serving_provider(b->mem[K_RSA], 0), "default") != 0
        || strcmp(ukb_serving_provider(b->mem[K_EC], 0), "default") != 0)
        ukb_die_ossl("uk_bench: the memory keys do not run in OpenSSL's default provider");

    /* other work on the machine skews every rate: say how busy it was */
    if (getloadavg(load0, 1) != 1)
        load0[0] = -1;
    for (i = 0; i < NCASES; i++) {
        struct cell x;
        int have_x = 0;

        run_case(b, &cases[i], cells[i], &x, &have_x);
        if (have_x) {
            x509 = x;
            x509_case = i;
        }
    }

    if (getloadavg(load1, 1) != 1)
        load1[0] = -1;
    printf("\nuk_bench: security-policy adapter, token key vs the same key in memory vs raw "
           "Cryptoki\n");
    printf("  %s; module %s (%s); token '%s'\n", OpenSSL_version(OPENSSL_VERSION), b->tk.module,
           b->tk.module_desc, b->tk.label);
    printf("  RSA-2048 and P-256 keys; sign: %d-byte message; decrypt: one 256-byte block "
           "holding %d bytes\n", SIGN_MSG_LEN, PLAIN_LEN);
    printf("  %.1f s per path in %d round%s, after %.2f s warm-up; %d thread%s; %ld CPUs "
           "online;\n  1-min load average %.2f before, %.2f after\n\n",
           b->seconds, b->rounds, b->rounds == 1 ? "" : "s", b->warmup, b->threads,
           b->threads == 1 ? "" : "s", sysconf(_SC_NPROCESSORS_ONLN), load0[0], load1[0]);
    printf("%-46s %10s %10s %20s %8s %8s\n", "", "token", "memory", "raw", "token/", "uakey/");
    printf("%-46s %10s %10s %20s %8s %8s\n", "case (ops/s)", "via uakey", "via uakey",
           "Cryptoki", "memory", "raw");
    for (i = 0; i < NCASES; i++) {
        char name[64];
        int p;

        snprintf(name, sizeof(name), "%s %s %s", cases[i].policy,
                 cases[i].op == OP_SIGN ? "sign" : "decrypt", cases[i].alg);
        for (p = 0; p < NPATH; p++) {
            fmt_rate(r[p], sizeof(r[p]), &cells[i][p]);
            if (cells[i][p].state == CELL_FAILED)
                failed = 1;
        }
        fmt_ratio(q1, sizeof(q1), &cells[i][P_TOKEN], &cells[i][P_MEMORY]);
        fmt_ratio(q2, sizeof(q2), &cells[i][P_TOKEN], &cells[i][P_RAW]);
        printf("%-46s %10s %10s %20s %8s %8s\n", name, r[P_TOKEN], r[P_MEMORY], r[P_RAW], q1, q2);
    }
    printf("\n  raw Cryptoki: CKM_SHA256_RSA_PKCS; CKM_RSA_PKCS_OAEP SHA-1/MGF1-SHA1; "
           "CKM_SHA256_RSA_PKCS_PSS\n"
           "  MGF1-SHA256 salt 32; CKM_RSA_PKCS_OAEP SHA-256/MGF1-SHA256; CKM_ECDSA after "
           "SHA-256 on the host.\n"
           "  token/memory: the token key over the same key in memory, both through "
           "libuakey's adapter.\n"
           "  uakey/raw: the token key through libuakey over raw Cryptoki on the same "
           "object (1.00: no overhead).\n");
    for (i = 0; i < NCASES; i++) {
        if (cells[i][P_RAW].state == CELL_NA)
            printf("  %s %s: the token refuses it (%s); uakey decrypts with CKM_RSA_X_509 "
                   "and OAEP-decodes on the host.\n", cases[i].policy, cases[i].alg,
                   cells[i][P_RAW].note);
    }
    if (x509_case < NCASES) {
        fmt_ratio(q2, sizeof(q2), &cells[x509_case][P_TOKEN], &x509);
        if (x509.state == CELL_OK)
            printf("  raw CKM_RSA_X_509 on the same object: %.0f ops/s (uakey/raw X_509: %s).\n",
                   x509.rate, q2);
        else
            printf("  raw CKM_RSA_X_509 on the same object: %s\n", x509.note);
        if (x509.state == CELL_FAILED)
            failed = 1;
    }
    for (i = 0; i < NCASES; i++) {
        int p;

        for (p = 0; p < NPATH; p++) {
            if (cells[i][p].state == CELL_FAILED)
                printf("  FAILED: %s %s, %s: %s\n", cases[i].policy, cases[i].alg,
                       path_name[p], cells[i][p].note);
        }
    }
    fflush(stdout);

    ukb_token_close(&b->tk);
    for (i = 0; i < NKEY; i++) {
        EVP_PKEY_free(b->tok[i]);
        EVP_PKEY_free(b->mem[i]);
        EVP_PKEY_free(b->pub[i]);
    }
    EVP_MD_free(b->sha256);
    OSSL_PROVIDER_unload(b->vdefault);
    OSSL_LIB_CTX_free(b->vctx);
    return failed ? 1 : 0;
}
