/* uakey provider: decoders for key-reference files.
 *
 * A key-reference file holds no key material, only the pkcs11 URI of a
 * token key (see keyref.h).  Two stages turn it into a token key:
 *
 *   PEM "PKCS#11 PROVIDER URI"  --(pem2der)-->  DER, structure "pk11uri"
 *   DER key reference           --(der2key)-->  UKPROV_KEY by reference
 *
 * How OpenSSL 3.0 reaches them:
 * - PEM_read_bio_PrivateKey: a decoder context for input "PEM" with every
 *   DER->key decoder whose name is a known key type, plus the "extra"
 *   decoders that produce their input ("DER" from "PEM": OpenSSL's pem2der
 *   and ours).  Ours hands on the DER tagged with data structure "pk11uri",
 *   so only decoders declaring structure=pk11uri take it next.
 * - d2i_PrivateKey_bio / d2i_AutoPrivateKey: OpenSSL probes the bytes for
 *   PKCS#8 and, when they are not PKCS#8, asks for input "DER" with input
 *   structure "type-specific".  A decoder whose structure property differs
 *   is not even collected, so each DER->key decoder is registered a second
 *   time with structure=type-specific.
 * - OSSL_STORE "file:" (openssl pkey -in ref.pem): the file loader runs the
 *   PEM->DER decoders and gives the DER to libcrypto's store code, which
 *   decodes it again as "DER" with no structure; both registrations match.
 *
 * A decoder that does not recognise its input returns 1 and leaves the error
 * queue as it found it, so OpenSSL goes on to the next decoder.  A failure
 * while loading a key that IS ours (bad URI, wrong PIN, no such object)
 * returns 0 with the error on the queue: OpenSSL then stops and the caller
 * sees why. */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "keyref.h"
#include "names.h"
#include "ukprov.h"

/* Key-reference files are a few hundred bytes; anything near this is not
 * one of ours. */
#define UKPROV_DECODE_MAX (64 * 1024)

/* ---- reading from the core BIO -------------------------------------------- */

/* Reads the whole input (at most UKPROV_DECODE_MAX bytes) into a malloc'd
 * buffer.  Returns 0 when the input is larger than the cap, cannot be read,
 * or memory runs out; never raises (the input may not be ours). */
static int read_all(UKPROV_CTX *ctx, OSSL_CORE_BIO *cin, unsigned char **out,
                    size_t *outlen)
{
    unsigned char *buf = NULL, *tmp;
    size_t len = 0, cap = 0, got;

    if (ctx->core_bio_read_ex == NULL)
        return 0;
    for (;;) {
        if (len == cap) {
            if (cap == UKPROV_DECODE_MAX + 1)
                break;
            cap = cap == 0 ? 4096 : cap * 2;
            if (cap > UKPROV_DECODE_MAX + 1)
                cap = UKPROV_DECODE_MAX + 1;
            if ((tmp = realloc(buf, cap)) == NULL)
                goto fail;
            buf = tmp;
        }
        got = 0;
        if (!ctx->core_bio_read_ex(cin, buf + len, cap - len, &got) || got == 0)
            break;
        len += got;
    }
    if (len > UKPROV_DECODE_MAX)
        goto fail;
    *out = buf;
    *outlen = len;
    return 1;
 fail:
    free(buf);
    return 0;
}

/* Reads one PEM block (and whatever text precedes it) without reading past
 * its END line, so a file holding several blocks can be read block by block
 * (OSSL_STORE and PEM_read_bio_PrivateKey go on from where the last decoder
 * stopped).  Byte by byte: key-reference blocks are tiny, and stopping at a
 * line end is the whole point.  Gives up early, leaving the rest unread,
 * on a byte that cannot be in PEM text before the block (binary DER) and
 * on a BEGIN line with another label.  Returns 1 with a malloc'd buffer
 * holding our block, 0 when the input is not ours. */
/* 1 if |p| (|n| bytes) holds only blanks and line ends. */
static int only_blanks(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return 0;
    return 1;
}

static int read_keyref_pem_block(UKPROV_CTX *ctx, OSSL_CORE_BIO *cin,
                                 unsigned char **out, size_t *outlen)
{
    static const char begin[] = "-----BEGIN " UKPROV_KEYREF_PEM_LABEL "-----";
    const size_t blen = sizeof(begin) - 1;
    unsigned char *buf, c;
    size_t len = 0, line = 0, got, n;
    int in_block = 0;

    if (ctx->core_bio_read_ex == NULL)
        return 0;
    if ((buf = malloc(UKPROV_DECODE_MAX)) == NULL)
        return 0;
    while (len < UKPROV_DECODE_MAX) {
        got = 0;
        if (!ctx->core_bio_read_ex(cin, buf + len, 1, &got) || got != 1)
            break;
        c = buf[len++];
        if (!in_block && c != '\n' && c != '\r' && c != '\t' && (c < 0x20 || c > 0x7e))
            goto not_ours;
        if (c != '\n')
            continue;
        /* a complete line runs from |line| to |len| */
        n = len - line;
        if (!in_block && n >= 11 && memcmp(buf + line, "-----BEGIN ", 11) == 0) {
            if (n < blen + 1 || memcmp(buf + line, begin, blen) != 0
                || !only_blanks(buf + line + blen, n - blen))
                goto not_ours;
            in_block = 1;
        } else if (in_block && n >= 9 && memcmp(buf + line, "-----END ", 9) == 0) {
            break;
        }
        line = len;
    }
    if (!in_block || len == UKPROV_DECODE_MAX)
        goto not_ours;
    *out = buf;
    *outlen = len;
    return 1;
 not_ours:
    free(buf);
    return 0;
}

/* ---- PEM -> DER ----------------------------------------------------------- */

typedef struct {
    UKPROV_CTX *prov;
} UKPROV_DEC_CTX;

UKPROV_FN(decoder, newctx, ukprov_pem2der_newctx);
UKPROV_FN(decoder, freectx, ukprov_pem2der_freectx);
UKPROV_FN(decoder, decode, ukprov_pem2der_decode);

static void *ukprov_pem2der_newctx(void *provctx)
{
    UKPROV_DEC_CTX *dctx = calloc(1, sizeof(*dctx));

    if (dctx == NULL) {
        UK_raise(provctx, UK_R_MALLOC, "cannot allocate a decoder context");
        return NULL;
    }
    dctx->prov = provctx;
    return dctx;
}

static void ukprov_pem2der_freectx(void *vctx)
{
    free(vctx);
}

/* Parses |text| as PEM.  Returns 1 with the DER when it is one of our
 * key-reference blocks, 0 otherwise; the error queue is left as found. */
static int parse_keyref_pem(const unsigned char *text, size_t len,
                            unsigned char **der, long *derlen)
{
    BIO *mem;
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long dlen = 0;
    int ours = 0;

    if (len > INT_MAX)
        return 0;
    ERR_set_mark();
    mem = BIO_new_mem_buf(text, (int)len);
    if (mem != NULL && PEM_read_bio(mem, &name, &header, &data, &dlen) > 0
        && strcmp(name, UKPROV_KEYREF_PEM_LABEL) == 0
        && header[0] == '\0' && dlen > 0) {
        /* An encrypted ("Proc-Type:") block would carry a header; ours never
         * does, so anything with one is left to other decoders. */
        *der = data;
        *derlen = dlen;
        data = NULL;
        ours = 1;
    }
    ERR_pop_to_mark();
    BIO_free(mem);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    return ours;
}

static int ukprov_pem2der_decode(void *vctx, OSSL_CORE_BIO *cin, int selection,
                                 OSSL_CALLBACK *data_cb, void *data_cbarg,
                                 OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    UKPROV_DEC_CTX *dctx = vctx;
    unsigned char *text = NULL, *der = NULL;
    size_t textlen = 0;
    long derlen = 0;
    int ret = 1;
    OSSL_PARAM params[3];

    if (!read_keyref_pem_block(dctx->prov, cin, &text, &textlen))
        return 1; /* not ours */
    if (!parse_keyref_pem(text, textlen, &der, &derlen))
        goto end;
    uk_dbg(UK_DBG_PROVIDER, "key-reference PEM block, %ld DER bytes", derlen);
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA, der,
                                                  (size_t)derlen);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_STRUCTURE,
                                                 (char *)UKPROV_KEYREF_STRUCTURE, 0);
    /* OpenSSL 3.0 has no OSSL_OBJECT_PARAM_INPUT_TYPE; the next decoder's
     * input type is this decoder's name, "DER". */
    params[2] = OSSL_PARAM_construct_end();
    ret = data_cb(params, data_cbarg);
 end:
    OPENSSL_free(der);
    free(text);
    return ret;
}

static const OSSL_DISPATCH ukprov_pem2der_decoder_functions[] = {
    { OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))ukprov_pem2der_newctx },
    { OSSL_FUNC_DECODER_FREECTX, (void (*)(void))ukprov_pem2der_freectx },
    { OSSL_FUNC_DECODER_DECODE, (void (*)(void))ukprov_pem2der_decode },
    { 0, NULL }
};

/* ---- DER key reference -> token key --------------------------------------- */

UKPROV_FN(decoder, freectx, ukprov_der2key_freectx);
UKPROV_FN(decoder, does_selection, ukprov_der2key_does_selection);
UKPROV_FN(decoder, decode, ukprov_der2key_decode);
UKPROV_FN(decoder, export_object, ukprov_der2key_export_object);

typedef struct {
    UKPROV_CTX *prov;
    UKPROV_KEYTYPE type;
} UKPROV_DER2KEY_CTX;

static void *der2key_newctx(void *provctx, UKPROV_KEYTYPE type)
{
    UKPROV_DER2KEY_CTX *dctx = calloc(1, sizeof(*dctx));

    if (dctx == NULL) {
        UK_raise(provctx, UK_R_MALLOC, "cannot allocate a decoder context");
        return NULL;
    }
    dctx->prov = provctx;
    dctx->type = type;
    return dctx;
}

static void ukprov_der2key_freectx(void *vctx)
{
    free(vctx);
}

/* A key reference names a private key, and its public half comes with it,
 * so any request for key material is served: private (PEM_read_bio_PrivateKey,
 * d2i_*PrivateKey*, OSSL_STORE: keypair or ALL), public only
 * (PEM_read_bio_PUBKEY asks EVP_PKEY_PUBLIC_KEY; the caller then holds a
 * token key, which is what the file refers to) and 0 (OSSL_DECODER with no
 * selection).  Parameters alone are not what a key reference is for. */
static int ukprov_der2key_does_selection(void *provctx, int selection)
{
    if (selection == 0)
        return 1;
    return (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0;
}

/* A URI from a key-reference file may carry a pin-value (hand-written
 * references): wipe every copy before freeing it. */
static void uri_free(char *uri)
{
    if (uri != NULL) {
        OPENSSL_cleanse(uri, strlen(uri));
        free(uri);
    }
}

/* ---- one-key cache between our decoders ---------------------------------- */

/* OpenSSL runs every DER->key decoder of a matching name on the same bytes
 * (four key types, twice each for the two structures), and only the one
 * named after the key's type may answer.  Without help each of them would
 * look the object up in the token again.  A decoder that loaded a key of
 * another type leaves it here; the next of ours on the same thread, for the
 * same provider and URI, within a second or two, takes it instead of
 * loading.  A key that none of ours takes (d2i_PrivateKey(EVP_PKEY_RSA) on
 * an EC reference) waits here until the next decode replaces it or
 * ukprov_decoder_cache_flush() frees it at provider teardown.  Not the hot
 * path: a plain mutex. */
#define UKPROV_DEC_CACHE_SECONDS 1

static struct {
    pthread_mutex_t lock;
    UKPROV_CTX *prov;
    pthread_t thread;
    time_t when;
    char *uri;
    UKPROV_KEY *key;
} dec_cache = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, NULL, NULL };

void ukprov_decoder_cache_flush(UKPROV_CTX *ctx);

/* Empties the slot; the caller holds the lock.  Returns the key to free
 * outside the lock, or NULL. */
static UKPROV_KEY *cache_clear_locked(void)
{
    UKPROV_KEY *old = dec_cache.key;

    uri_free(dec_cache.uri);
    dec_cache.uri = NULL;
    dec_cache.key = NULL;
    dec_cache.prov = NULL;
    return old;
}

/* Takes the cached key for |uri| if there is a fresh one; NULL otherwise. */
static UKPROV_KEY *cache_take(UKPROV_CTX *prov, const char *uri)
{
    UKPROV_KEY *key = NULL, *stale = NULL;

    pthread_mutex_lock(&dec_cache.lock);
    if (dec_cache.key != NULL && dec_cache.prov == prov) {
        if (pthread_equal(dec_cache.thread, pthread_self())
            && time(NULL) - dec_cache.when <= UKPROV_DEC_CACHE_SECONDS
            && strcmp(dec_cache.uri, uri) == 0) {
            key = dec_cache.key;
            dec_cache.key = NULL;
            cache_clear_locked();
        } else if (time(NULL) - dec_cache.when > UKPROV_DEC_CACHE_SECONDS) {
            stale = cache_clear_locked();
        }
    }
    pthread_mutex_unlock(&dec_cache.lock);
    ukprov_key_free(stale);
    return key;
}

/* Leaves |key| (our reference) for the next decoder; frees it instead when
 * the slot is busy with another thread's fresh key. */
static void cache_put(UKPROV_CTX *prov, const char *uri, UKPROV_KEY *key)
{
    UKPROV_KEY *old = NULL;
    char *copy = strdup(uri);

    pthread_mutex_lock(&dec_cache.lock);
    if (copy != NULL
        && (dec_cache.key == NULL || dec_cache.prov != prov
            || pthread_equal(dec_cache.thread, pthread_self())
            || time(NULL) - dec_cache.when > UKPROV_DEC_CACHE_SECONDS)) {
        /* A key left by another provider instance is dropped, not freed:
         * that instance may be gone, with its token module (see
         * ukprov_decoder_cache_flush). */
        if (dec_cache.prov == prov)
            old = dec_cache.key;
        dec_cache.key = NULL;
        cache_clear_locked();
        dec_cache.prov = prov;
        dec_cache.thread = pthread_self();
        dec_cache.when = time(NULL);
        dec_cache.uri = copy;
        dec_cache.key = key;
        copy = NULL;
        key = NULL;
    }
    pthread_mutex_unlock(&dec_cache.lock);
    uri_free(copy);
    ukprov_key_free(old);
    ukprov_key_free(key);
}

/* A login that failed with a PIN the application's callback did not give
 * (it came from the URI, a PIN file or the configuration) fails the same
 * way when the next decoder tries it, and OpenSSL 3.0 runs several decoder
 * passes for one d2i_AutoPrivateKey / d2i_PrivateKey_bio call (observed:
 * three).  Without this memo each pass would call C_Login again with the
 * same wrong PIN, bringing the token closer to locking.  Same rules as the
 * key slot: same thread, provider instance and URI, within the time
 * window; the error is raised again with the original text.  Other
 * failures (object missing, token absent) are not remembered, so a key
 * created a moment later loads at once; neither is a login whose PIN came
 * from the application's callback: the next prompt may give the right
 * one. */
#define UKPROV_DEC_ERRTEXT 256

static struct {
    UKPROV_CTX *prov;
    pthread_t thread;
    time_t when;
    char *uri;
    char text[UKPROV_DEC_ERRTEXT];
} dec_failed = { NULL, 0, 0, NULL, "" };

/* Copies the remembered error text into |text| if logging in for |uri|
 * failed just now; returns 1 then. */
static int failed_recently(UKPROV_CTX *prov, const char *uri, char *text)
{
    int hit = 0;

    pthread_mutex_lock(&dec_cache.lock);
    if (dec_failed.uri != NULL && dec_failed.prov == prov
        && pthread_equal(dec_failed.thread, pthread_self())
        && time(NULL) - dec_failed.when <= UKPROV_DEC_CACHE_SECONDS
        && strcmp(dec_failed.uri, uri) == 0) {
        memcpy(text, dec_failed.text, UKPROV_DEC_ERRTEXT);
        hit = 1;
    }
    pthread_mutex_unlock(&dec_cache.lock);
    return hit;
}

/* Remembers the failure on top of the error queue if it is a C_Login
 * failure (the text never holds a PIN: see pkcs11/slot.c). */
static void remember_login_failure(UKPROV_CTX *prov, const char *uri)
{
    const char *data = NULL;
    int flags = 0;
    unsigned long e = ERR_peek_last_error_data(&data, &flags);
    char *copy, *old;

    if (ERR_GET_REASON(e) != UK_R_LOGIN_FAILED || data == NULL
        || (flags & ERR_TXT_STRING) == 0 || strstr(data, "C_Login") == NULL)
        return;
    if ((copy = strdup(uri)) == NULL)
        return;
    pthread_mutex_lock(&dec_cache.lock);
    old = dec_failed.uri;
    dec_failed.prov = prov;
    dec_failed.thread = pthread_self();
    dec_failed.when = time(NULL);
    dec_failed.uri = copy;
    snprintf(dec_failed.text, sizeof(dec_failed.text), "%s", data);
    pthread_mutex_unlock(&dec_cache.lock);
    uri_free(old);
}

/* Wraps the application's passphrase callback to learn whether it was
 * asked (and answered) during a load. */
typedef struct {
    OSSL_PASSPHRASE_CALLBACK *cb;
    void *cbarg;
    int answered;
} UKPROV_PW_SPY;

static int pw_spy(char *pass, size_t pass_size, size_t *pass_len,
                  const OSSL_PARAM params[], void *arg)
{
    UKPROV_PW_SPY *spy = arg;

    if (spy->cb == NULL || !spy->cb(pass, pass_size, pass_len, params, spy->cbarg))
        return 0;
    spy->answered = 1;
    return 1;
}

/* For provider teardown: frees a key still cached for |ctx|.  Call before
 * the token backend is closed. */
void ukprov_decoder_cache_flush(UKPROV_CTX *ctx)
{
    UKPROV_KEY *old = NULL;

    char *olduri = NULL;

    pthread_mutex_lock(&dec_cache.lock);
    if (dec_cache.prov == ctx)
        old = cache_clear_locked();
    if (dec_failed.prov == ctx) {
        olduri = dec_failed.uri;
        dec_failed.uri = NULL;
        dec_failed.prov = NULL;
    }
    pthread_mutex_unlock(&dec_cache.lock);
    uri_free(olduri);
    ukprov_key_free(old);
}

static int ukprov_der2key_decode(void *vctx, OSSL_CORE_BIO *cin, int selection,
                                 OSSL_CALLBACK *data_cb, void *data_cbarg,
                                 OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    UKPROV_DER2KEY_CTX *dctx = vctx;
    unsigned char *der = NULL;
    size_t derlen = 0;
    char *uri = NULL;
    UKPROV_KEY *key = NULL;
    int ret = 1, objtype = OSSL_OBJECT_PKEY;
    OSSL_PARAM params[4];

    if (selection != 0 && !ukprov_der2key_does_selection(dctx->prov, selection))
        return 1;
    if (!read_all(dctx->prov, cin, &der, &derlen))
        return 1;
    /* keyref_decode raises nothing: NULL simply means "not a reference" */
    if ((uri = ukprov_keyref_decode(der, derlen)) == NULL)
        goto end;
    uk_dbg(UK_DBG_PROVIDER, "key reference for a %s decoder",
           ukprov_keytype_name(dctx->type));
    /* Errors from here on concern a reference that is ours: they stay on the
     * queue and 0 stops OpenSSL from trying further decoders (so a wrong PIN
     * is tried exactly once). */
    if ((key = cache_take(dctx->prov, uri)) == NULL) {
        UKPROV_PW_SPY spy = { pw_cb, pw_cbarg, 0 };
        char text[UKPROV_DEC_ERRTEXT];

        if (failed_recently(dctx->prov, uri, text)) {
            UK_raise(dctx->prov, UK_R_LOGIN_FAILED, "%s (moments ago with the same "
                     "PIN; not tried again, so as not to lock the token)", text);
            ret = 0;
            goto end;
        }
        key = ukprov_load_private_key(dctx->prov, uri, pw_cb != NULL ? pw_spy : NULL,
                                      &spy);
        if (key == NULL) {
            if (!spy.answered)
                remember_login_failure(dctx->prov, uri);
            ret = 0;
            goto end;
        }
    }
    if (key->type != dctx->type) {
        /* the decoder registered for the key's own type takes it */
        uk_dbg(UK_DBG_PROVIDER, "reference is a %s key, not %s: passing",
               ukprov_keytype_name(key->type), ukprov_keytype_name(dctx->type));
        cache_put(dctx->prov, uri, key);
        key = NULL;
        goto end;
    }
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &objtype);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE,
                                                 (char *)ukprov_keytype_name(key->type), 0);
    /* the keymgmt's load() takes its own reference to |key| */
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE,
                                                  &key, sizeof(key));
    params[3] = OSSL_PARAM_construct_end();
    ret = data_cb(params, data_cbarg);
 end:
    ukprov_key_free(key);
    uri_free(uri);
    free(der);
    return ret;
}

/* Called by OpenSSL only when the keymgmt chosen for our reference belongs
 * to another provider.  The private key cannot leave the token, so only the
 * public half is handed over. */
static int ukprov_der2key_export_object(void *vctx, const void *ref, size_t ref_sz,
                                        OSSL_CALLBACK *export_cb, void *export_cbarg)
{
    UKPROV_DER2KEY_CTX *dctx = vctx;
    UKPROV_KEY *key;
    OSSL_PARAM *params = NULL;
    int ret;

    if (ref == NULL || ref_sz != sizeof(key)) {
        UK_raise(dctx->prov, UK_R_INTERNAL, "bad key reference size %zu", ref_sz);
        return 0;
    }
    memcpy(&key, ref, sizeof(key));
    if (key == NULL || key->pub == NULL) {
        UK_raise(dctx->prov, UK_R_BAD_KEY, "key has no public part to export");
        return 0;
    }
    if (EVP_PKEY_todata(key->pub, EVP_PKEY_PUBLIC_KEY, &params) != 1) {
        UK_raise(dctx->prov, UK_R_INTERNAL, "cannot read the public key parameters");
        return 0;
    }
    ret = export_cb(params, export_cbarg);
    OSSL_PARAM_free(params);
    return ret;
}

#define UKPROV_DER2KEY(alg, TYPE)                                                  \
    static OSSL_FUNC_decoder_newctx_fn ukprov_der2key_##alg##_newctx;              \
    static void *ukprov_der2key_##alg##_newctx(void *provctx)                      \
    {                                                                              \
        return der2key_newctx(provctx, TYPE);                                      \
    }                                                                              \
    static const OSSL_DISPATCH ukprov_der2key_##alg##_functions[] = {              \
        { OSSL_FUNC_DECODER_NEWCTX, (void (*)(void))ukprov_der2key_##alg##_newctx }, \
        { OSSL_FUNC_DECODER_FREECTX, (void (*)(void))ukprov_der2key_freectx },     \
        { OSSL_FUNC_DECODER_DOES_SELECTION,                                        \
          (void (*)(void))ukprov_der2key_does_selection },                         \
        { OSSL_FUNC_DECODER_DECODE, (void (*)(void))ukprov_der2key_decode },       \
        { OSSL_FUNC_DECODER_EXPORT_OBJECT,                                         \
          (void (*)(void))ukprov_der2key_export_object },                          \
        { 0, NULL }                                                                \
    };

UKPROV_DER2KEY(rsa, UKPROV_KT_RSA)
UKPROV_DER2KEY(rsapss, UKPROV_KT_RSA_PSS)
UKPROV_DER2KEY(ec, UKPROV_KT_EC)
UKPROV_DER2KEY(ed25519, UKPROV_KT_ED25519)

#define UKPROV_DEC_PROPS_PK11URI UKPROV_PROPS ",input=der,structure=" UKPROV_KEYREF_STRUCTURE
#define UKPROV_DEC_PROPS_TYPESPECIFIC UKPROV_PROPS ",input=der,structure=type-specific"

const OSSL_ALGORITHM ukprov_decoders[] = {
    { "DER", UKPROV_PROPS ",input=pem", ukprov_pem2der_decoder_functions,
      "uakey key-reference PEM to DER" },
    /* after our PEM->DER, which tags its output "pk11uri" */
    { UKPROV_NAMES_RSA, UKPROV_DEC_PROPS_PK11URI, ukprov_der2key_rsa_functions,
      "uakey key reference to RSA token key" },
    { UKPROV_NAMES_RSA_PSS, UKPROV_DEC_PROPS_PK11URI, ukprov_der2key_rsapss_functions,
      "uakey key reference to RSA-PSS token key" },
    { UKPROV_NAMES_EC, UKPROV_DEC_PROPS_PK11URI, ukprov_der2key_ec_functions,
      "uakey key reference to EC token key" },
    { UKPROV_NAMES_ED25519, UKPROV_DEC_PROPS_PK11URI, ukprov_der2key_ed25519_functions,
      "uakey key reference to Ed25519 token key" },
    /* d2i_PrivateKey*, d2i_AutoPrivateKey: DER that is not PKCS#8 is asked
     * for as "type-specific" */
    { UKPROV_NAMES_RSA, UKPROV_DEC_PROPS_TYPESPECIFIC, ukprov_der2key_rsa_functions,
      "uakey DER key reference to RSA token key" },
    { UKPROV_NAMES_RSA_PSS, UKPROV_DEC_PROPS_TYPESPECIFIC, ukprov_der2key_rsapss_functions,
      "uakey DER key reference to RSA-PSS token key" },
    { UKPROV_NAMES_EC, UKPROV_DEC_PROPS_TYPESPECIFIC, ukprov_der2key_ec_functions,
      "uakey DER key reference to EC token key" },
    { UKPROV_NAMES_ED25519, UKPROV_DEC_PROPS_TYPESPECIFIC, ukprov_der2key_ed25519_functions,
      "uakey DER key reference to Ed25519 token key" },
    { NULL, NULL, NULL, NULL }
};
