/* uakey pkcs11/: internal structures shared by the backend's .c files.
 * Nothing outside pkcs11/ includes this header. */
#ifndef UKP11_INT_H
#define UKP11_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include "ukp11.h"
#include "uk_debug.h"

#define ukp11_dbg(...) uk_dbg(UK_DBG_PKCS11, __VA_ARGS__)

/* ---- the one gate for Cryptoki calls (call.c) ---------------------------- */

int ukp11_call_enter(int present, const char *fname);
CK_RV ukp11_call_leave(const char *fname, CK_RV rv);

/* UKP11_CALL(fl, Sign, sess, in, inlen, out, &outlen): checks that the
 * module has the function, traces the call, runs it and logs the rv name
 * when it is not CKR_OK.  Evaluates to the CK_RV. */
#define UKP11_CALL(fl, name, ...)                                        \
    (ukp11_call_enter((fl) != NULL && (fl)->C_##name != NULL, "C_" #name) \
         ? ukp11_call_leave("C_" #name, (fl)->C_##name(__VA_ARGS__))      \
         : CKR_FUNCTION_NOT_SUPPORTED)

/* ---- URIs (uri.c) -------------------------------------------------------- */

struct ukp11_uri_st {
    P11KitUri *uri;
    char *redacted;          /* formatted without pin-value */
    char *label;             /* object=, NUL terminated */
    unsigned char *id;       /* id= */
    size_t idlen;
    CK_OBJECT_CLASS cls;     /* type=, or (CK_OBJECT_CLASS)-1 */
};

/* ---- modules (module.c) -------------------------------------------------- */

struct ukp11_module {
    char *name;                 /* the path or module-name it was asked for */
    CK_FUNCTION_LIST *fl;       /* NULL while not loaded */
    atomic_int ready;           /* loaded and initialized in this process */
    CK_INFO info;               /* C_GetInfo, for module-info matching */
    int have_info;
    struct ukp11_module *next;
};

/* ---- tokens and sessions (slot.c, session.c) ----------------------------- */

typedef struct {
    CK_SESSION_HANDLE h;
    unsigned long gen;          /* token generation it was opened in */
} UKP11_SESS;

struct ukp11_token_st {
    UKP11_CTX *ctx;
    struct ukp11_module *mod;
    CK_SLOT_ID slot;
    CK_TOKEN_INFO raw;          /* as the token reported it */
    UKP11_TOKEN_INFO info;      /* trimmed copy for callers */

    pthread_mutex_t lock;       /* pool, generation, mechanism cache */
    pthread_cond_t cond;        /* signalled when a pool slot frees up */
    unsigned long gen;          /* bumped when handles go stale (fork) */
    CK_SESSION_HANDLE *idle;    /* idle pool sessions */
    unsigned int nidle;
    unsigned int nopen;         /* pool sessions open: idle + lent out */
    unsigned int max;           /* pool cap */
    int rw_refused;             /* token refused RW sessions once */

    pthread_mutex_t login_lock; /* serializes login attempts */
    int logged_in;
    CK_SESSION_HANDLE login_sess; /* kept open so login state persists */
    char *pin_source;           /* non-secret source (file:) to log in again
                                   after a fork; NULL if none */

    CK_MECHANISM_TYPE *mechs;   /* C_GetMechanismList cache */
    CK_ULONG nmechs;
    int mechs_loaded;
    int ecdh_der;               /* token wants the DER-wrapped peer point */

    struct ukp11_token_st *next;
};

struct ukp11_ctx_st {
    pthread_mutex_t lock;       /* module and token lists */
    ukp11_err_fn *err;
    void *errarg;
    char *module_path;
    char *token_pin;
    unsigned int max_sessions;
    void (*module_loaded)(void);
    struct ukp11_module *mods;
    UKP11_TOKEN *tokens;
    atomic_int pid;             /* process the state belongs to */
};

/* ---- objects (object.c) -------------------------------------------------- */

#define UKP11_NCACHED 8

struct ukp11_attr {
    CK_ATTRIBUTE_TYPE type;
    unsigned char *val;
    size_t len;
    int present;
};

struct ukp11_obj_st {
    atomic_int refs;
    UKP11_TOKEN *tok;
    CK_OBJECT_HANDLE handle;    /* valid in token generation |gen| */
    unsigned long gen;
    CK_OBJECT_CLASS cls;
    CK_KEY_TYPE ktype;
    struct ukp11_attr attrs[UKP11_NCACHED];
};

/* ---- internal functions -------------------------------------------------- */

/* module.c */
void ukp11_fork_check(UKP11_CTX *ctx);
CK_RV ukp11_module_get(UKP11_CTX *ctx, const char *name, struct ukp11_module **out);
CK_RV ukp11_module_ensure(UKP11_CTX *ctx, struct ukp11_module *mod);

/* uri.c */
void ukp11_wipe_str(const char *s);

/* pin.c */
const char *ukp11_env_module(void);

/* slot.c */
CK_RV ukp11_tokens_match(UKP11_CTX *ctx, const UKP11_URI *uri,
                         UKP11_TOKEN ***toks, size_t *n);
/* Log in if the token needs it.  |required|: no PIN is an error
 * (UK_R_PIN_REQUIRED); otherwise login is skipped quietly. */
CK_RV ukp11_token_login(UKP11_TOKEN *tok, const UKP11_URI *uri,
                        ukp11_pin_fn *cb, void *cbarg, int required);
void ukp11_token_free(UKP11_TOKEN *tok, int close_sessions);

/* session.c */
CK_RV ukp11_session_get(UKP11_TOKEN *tok, UKP11_SESS *s);
/* Return a session; |last| is the rv of the last call made on it: a
 * session that is gone (CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED) is
 * dropped, and UKP11_SESS_CLOSE closes it (e.g. an operation left active). */
#define UKP11_SESS_CLOSE ((CK_RV)-1)
void ukp11_session_put(UKP11_TOKEN *tok, UKP11_SESS *s, CK_RV last);
/* Forget every session.  close: C_CloseSession them (normal shutdown);
 * otherwise just drop the handles (forked child, finalized module). */
void ukp11_token_reset(UKP11_TOKEN *tok, int close);

/* object.c */
/* Read an object's attributes.  |pub|: the matching public key when known
 * (key generation), else CK_INVALID_HANDLE (found by CKA_ID if needed). */
CK_RV ukp11_obj_load(UKP11_TOKEN *tok, CK_SESSION_HANDLE sess,
                     CK_OBJECT_HANDLE h, CK_OBJECT_HANDLE pub, UKP11_OBJ **out);
/* The object's handle valid now (re-found after a fork). */
CK_RV ukp11_obj_handle(UKP11_OBJ *obj, CK_SESSION_HANDLE sess,
                       CK_OBJECT_HANDLE *h);
CK_RV ukp11_find_handles(UKP11_TOKEN *tok, CK_SESSION_HANDLE sess,
                         CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl,
                         CK_OBJECT_HANDLE **hs, size_t *n);
/* Field size in bytes from a cached EC point (0 if unknown). */
size_t ukp11_obj_field_size(const UKP11_OBJ *obj);

/* Trim a space-padded Cryptoki string into dst (cap bytes). */
void ukp11_trim(char *dst, size_t cap, const unsigned char *src, size_t len);

#endif
