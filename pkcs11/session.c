/* uakey pkcs11/: the bounded per-token session pool.
 *
 * get: take an idle session, or open one while below the cap, or wait for
 * a session to come back.  put: return it, or drop it when the token says
 * it is gone.  Only the token's own mutex is taken here. */
#include "config.h"

#include <stdlib.h>

#include "ukp11_int.h"

static CK_RV open_session(UKP11_TOKEN *tok, CK_SESSION_HANDLE *h)
{
    CK_FUNCTION_LIST *fl = tok->mod->fl;
    CK_RV rv = CKR_SESSION_READ_ONLY;

    if (!tok->rw_refused) {
        rv = UKP11_CALL(fl, OpenSession, tok->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                        NULL, NULL, h);
        if (rv == CKR_OK)
            return rv;
        if (rv != CKR_TOKEN_WRITE_PROTECTED && rv != CKR_SESSION_READ_ONLY
            && rv != CKR_SESSION_READ_WRITE_SO_EXISTS && rv != CKR_SESSION_COUNT)
            return rv;
        ukp11_dbg("token '%s' refused a RW session (%s), using RO", tok->info.label,
                  ukp11_rv_name(rv));
        if (rv != CKR_SESSION_COUNT)
            tok->rw_refused = 1;
    }
    return UKP11_CALL(fl, OpenSession, tok->slot, CKF_SERIAL_SESSION, NULL, NULL, h);
}

CK_RV ukp11_session_get(UKP11_TOKEN *tok, UKP11_SESS *s)
{
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    unsigned long gen;
    CK_RV rv;

    rv = ukp11_module_ensure(tok->ctx, tok->mod);
    if (rv != CKR_OK)
        return rv;
    pthread_mutex_lock(&tok->lock);
    for (;;) {
        if (tok->nidle > 0) {
            s->h = tok->idle[--tok->nidle];
            s->gen = tok->gen;
            pthread_mutex_unlock(&tok->lock);
            return CKR_OK;
        }
        if (tok->nopen < tok->max)
            break;
        pthread_cond_wait(&tok->cond, &tok->lock);
    }
    tok->nopen++;
    gen = tok->gen;
    pthread_mutex_unlock(&tok->lock);

    rv = open_session(tok, &h);
    if (rv != CKR_OK) {
        pthread_mutex_lock(&tok->lock);
        if (tok->gen == gen)
            tok->nopen--;
        pthread_cond_signal(&tok->cond);
        pthread_mutex_unlock(&tok->lock);
        ukp11_raise(tok->ctx, UK_R_SESSION, "C_OpenSession(token '%s', slot %lu): %s (0x%lx)",
                    tok->info.label, tok->slot, ukp11_rv_name(rv), rv);
        return rv;
    }
    ukp11_dbg("opened session %lu on token '%s'", h, tok->info.label);
    s->h = h;
    s->gen = gen;
    return CKR_OK;
}

void ukp11_session_put(UKP11_TOKEN *tok, UKP11_SESS *s, CK_RV last)
{
    int gone = last == CKR_SESSION_HANDLE_INVALID || last == CKR_SESSION_CLOSED
               || last == CKR_DEVICE_REMOVED || last == CKR_TOKEN_NOT_PRESENT;

    if (s->h == CK_INVALID_HANDLE)
        return;
    pthread_mutex_lock(&tok->lock);
    if (s->gen != tok->gen) {
        /* Opened before a fork or a finalize: not ours to return. */
        pthread_mutex_unlock(&tok->lock);
        s->h = CK_INVALID_HANDLE;
        return;
    }
    if (gone || last == UKP11_SESS_CLOSE || tok->idle == NULL) {
        if (tok->idle == NULL && !gone && last != UKP11_SESS_CLOSE) {
            tok->idle = calloc(tok->max, sizeof(*tok->idle));
            if (tok->idle != NULL)
                goto keep;
        }
        tok->nopen--;
        pthread_cond_signal(&tok->cond);
        pthread_mutex_unlock(&tok->lock);
        if (!gone)
            (void)UKP11_CALL(tok->mod->fl, CloseSession, s->h);
        ukp11_dbg("dropped session %lu (%s)", s->h,
                  gone ? ukp11_rv_name(last) : "closed");
        s->h = CK_INVALID_HANDLE;
        return;
    }
keep:
    tok->idle[tok->nidle++] = s->h;
    pthread_cond_signal(&tok->cond);
    pthread_mutex_unlock(&tok->lock);
    s->h = CK_INVALID_HANDLE;
}

void ukp11_token_reset(UKP11_TOKEN *tok, int close)
{
    CK_FUNCTION_LIST *fl = tok->mod->fl;
    unsigned int i;

    pthread_mutex_lock(&tok->lock);
    if (close && fl != NULL) {
        for (i = 0; i < tok->nidle; i++)
            (void)UKP11_CALL(fl, CloseSession, tok->idle[i]);
        if (tok->login_sess != CK_INVALID_HANDLE)
            (void)UKP11_CALL(fl, CloseSession, tok->login_sess);
    }
    tok->nidle = 0;
    tok->nopen = 0;
    tok->gen++;
    tok->login_sess = CK_INVALID_HANDLE;
    tok->logged_in = 0;
    pthread_cond_broadcast(&tok->cond);
    pthread_mutex_unlock(&tok->lock);
}
