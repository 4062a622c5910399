/* uakey pkcs11/: token matching and login.
 *
 * Tokens are cached in the context, one per module + slot.  Login happens
 * at most once per token and is never retried: a wrong PIN is reported and
 * the next attempt waits for the next request, so we cannot lock a token
 * by ourselves.  The login session stays open so the login state lasts. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ukp11_int.h"

#define UKP11_PIN_MAX 256

void ukp11_trim(char *dst, size_t cap, const unsigned char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    while (len > 0 && (dst[len - 1] == ' ' || dst[len - 1] == '\0'))
        len--;
    dst[len] = '\0';
}

const char *ukp11_token_label(const UKP11_TOKEN *tok)
{
    return tok != NULL ? tok->info.label : "";
}

static void fill_info(UKP11_TOKEN *tok)
{
    UKP11_TOKEN_INFO *ti = &tok->info;
    P11KitUri *u;
    char *text = NULL;

    ukp11_trim(ti->label, sizeof(ti->label), tok->raw.label, sizeof(tok->raw.label));
    ukp11_trim(ti->manufacturer, sizeof(ti->manufacturer), tok->raw.manufacturerID,
               sizeof(tok->raw.manufacturerID));
    ukp11_trim(ti->model, sizeof(ti->model), tok->raw.model, sizeof(tok->raw.model));
    ukp11_trim(ti->serial, sizeof(ti->serial), tok->raw.serialNumber,
               sizeof(tok->raw.serialNumber));
    snprintf(ti->module, sizeof(ti->module), "%s", tok->mod->name);
    ti->slot = tok->slot;
    ti->flags = tok->raw.flags;
    ti->uri[0] = '\0';
    u = p11_kit_uri_new();
    if (u == NULL)
        return;
    memcpy(p11_kit_uri_get_token_info(u), &tok->raw, sizeof(tok->raw));
    if (p11_kit_uri_format(u, P11_KIT_URI_FOR_TOKEN, &text) == P11_KIT_URI_OK
        && strlen(text) < sizeof(ti->uri))
        memcpy(ti->uri, text, strlen(text) + 1);
    free(text);
    p11_kit_uri_free(u);
}

/* Find or add the cached token for mod + slot; ctx->lock not held. */
static UKP11_TOKEN *token_for(UKP11_CTX *ctx, struct ukp11_module *mod,
                              CK_SLOT_ID slot, const CK_TOKEN_INFO *raw)
{
    UKP11_TOKEN *tok;

    pthread_mutex_lock(&ctx->lock);
    for (tok = ctx->tokens; tok != NULL; tok = tok->next) {
        if (tok->mod == mod && tok->slot == slot)
            break;
    }
    if (tok == NULL) {
        tok = calloc(1, sizeof(*tok));
        if (tok == NULL) {
            pthread_mutex_unlock(&ctx->lock);
            return NULL;
        }
        tok->ctx = ctx;
        tok->mod = mod;
        tok->slot = slot;
        tok->max = ctx->max_sessions;
        pthread_mutex_init(&tok->lock, NULL);
        pthread_mutex_init(&tok->login_lock, NULL);
        pthread_cond_init(&tok->cond, NULL);
        tok->next = ctx->tokens;
        ctx->tokens = tok;
    }
    pthread_mutex_lock(&tok->lock);
    tok->raw = *raw;
    fill_info(tok);
    pthread_mutex_unlock(&tok->lock);
    pthread_mutex_unlock(&ctx->lock);
    return tok;
}

void ukp11_token_free(UKP11_TOKEN *tok, int close_sessions)
{
    if (tok == NULL)
        return;
    ukp11_token_reset(tok, close_sessions);
    free(tok->idle);
    free(tok->mechs);
    free(tok->pin_source);
    pthread_mutex_destroy(&tok->lock);
    pthread_mutex_destroy(&tok->login_lock);
    pthread_cond_destroy(&tok->cond);
    free(tok);
}

/* The module the URI selects (or the default chain when uri is NULL). */
static const char *uri_module(UKP11_CTX *ctx, const UKP11_URI *uri)
{
    const char *path = NULL, *name = NULL;

    if (uri != NULL) {
        path = p11_kit_uri_get_module_path(uri->uri);
        name = p11_kit_uri_get_module_name(uri->uri);
    }
    return ukp11_select_module(path, name, ctx->module_path, ukp11_env_module(),
                               UK_DEFAULT_MODULE);
}

CK_RV ukp11_tokens_match(UKP11_CTX *ctx, const UKP11_URI *uri,
                         UKP11_TOKEN ***toks, size_t *n)
{
    struct ukp11_module *mod;
    CK_SLOT_ID *slots = NULL, want_slot = (CK_SLOT_ID)-1;
    CK_ULONG nslots = 0, i;
    UKP11_TOKEN **out = NULL;
    size_t nout = 0;
    CK_RV rv;

    *toks = NULL;
    *n = 0;
    rv = ukp11_module_get(ctx, uri_module(ctx, uri), &mod);
    if (rv != CKR_OK)
        return rv;
    if (uri != NULL) {
        if (mod->have_info && !p11_kit_uri_match_module_info(uri->uri, &mod->info))
            return CKR_OK;
        want_slot = p11_kit_uri_get_slot_id(uri->uri);
    }
    /* Two passes: the slot count may change between them. */
    for (;;) {
        rv = UKP11_CALL(mod->fl, GetSlotList, CK_TRUE, NULL, &nslots);
        if (rv != CKR_OK)
            break;
        free(slots);
        slots = calloc(nslots > 0 ? nslots : 1, sizeof(*slots));
        if (slots == NULL) {
            rv = CKR_HOST_MEMORY;
            break;
        }
        rv = UKP11_CALL(mod->fl, GetSlotList, CK_TRUE, slots, &nslots);
        if (rv != CKR_BUFFER_TOO_SMALL)
            break;
    }
    if (rv != CKR_OK) {
        ukp11_raise(ctx, UK_R_PKCS11_CALL, "C_GetSlotList(module %s): %s (0x%lx)",
                    mod->name, ukp11_rv_name(rv), rv);
        free(slots);
        return rv;
    }
    out = calloc(nslots > 0 ? nslots : 1, sizeof(*out));
    if (out == NULL) {
        free(slots);
        ukp11_raise(ctx, UK_R_MALLOC, "out of memory listing tokens");
        return CKR_HOST_MEMORY;
    }
    for (i = 0; i < nslots; i++) {
        CK_TOKEN_INFO raw;
        CK_SLOT_INFO sinfo;
        UKP11_TOKEN *tok;

        if (want_slot != (CK_SLOT_ID)-1 && slots[i] != want_slot)
            continue;
        rv = UKP11_CALL(mod->fl, GetTokenInfo, slots[i], &raw);
        if (rv != CKR_OK) {
            /* A token that went away between the calls is simply absent. */
            ukp11_dbg("skipping slot %lu: C_GetTokenInfo %s", slots[i], ukp11_rv_name(rv));
            continue;
        }
        if (uri != NULL) {
            if (!p11_kit_uri_match_token_info(uri->uri, &raw))
                continue;
            if (UKP11_CALL(mod->fl, GetSlotInfo, slots[i], &sinfo) == CKR_OK
                && !p11_kit_uri_match_slot_info(uri->uri, &sinfo))
                continue;
        }
        tok = token_for(ctx, mod, slots[i], &raw);
        if (tok == NULL) {
            free(slots);
            free(out);
            ukp11_raise(ctx, UK_R_MALLOC, "out of memory listing tokens");
            return CKR_HOST_MEMORY;
        }
        out[nout++] = tok;
    }
    free(slots);
    ukp11_dbg("%zu token(s) match in module %s", nout, mod->name);
    *toks = out;
    *n = nout;
    return CKR_OK;
}

CK_RV ukp11_list_tokens(UKP11_CTX *ctx, const UKP11_URI *filter,
                        UKP11_TOKEN_INFO **infos, size_t *n)
{
    UKP11_TOKEN **toks;
    size_t ntoks, i;
    CK_RV rv;

    *infos = NULL;
    *n = 0;
    rv = ukp11_tokens_match(ctx, filter, &toks, &ntoks);
    if (rv != CKR_OK)
        return rv;
    *infos = calloc(ntoks > 0 ? ntoks : 1, sizeof(**infos));
    if (*infos == NULL) {
        free(toks);
        ukp11_raise(ctx, UK_R_MALLOC, "out of memory listing tokens");
        return CKR_HOST_MEMORY;
    }
    for (i = 0; i < ntoks; i++) {
        pthread_mutex_lock(&toks[i]->lock);
        (*infos)[i] = toks[i]->info;
        pthread_mutex_unlock(&toks[i]->lock);
    }
    *n = ntoks;
    free(toks);
    return CKR_OK;
}

/* Get a PIN in the documented order: URI pin-value, URI pin-source, config
 * PIN, callback.  Returns 1 with the PIN in buf, 0 when there is none, -1
 * when a source failed (already reported).  *src_keep is set to a
 * non-secret source worth remembering for a re-login after fork. */
static int get_pin(UKP11_TOKEN *tok, const UKP11_URI *uri, ukp11_pin_fn *cb,
                   void *cbarg, char *buf, size_t cap, size_t *len,
                   const char **src_keep)
{
    UKP11_CTX *ctx = tok->ctx;
    const char *v;

    *src_keep = NULL;
    if (uri != NULL) {
        v = p11_kit_uri_get_pin_value(uri->uri);
        if (v != NULL) {
            /* A literal PIN, even if it looks like "file:..." */
            if (strlen(v) > cap) {
                ukp11_raise(ctx, UK_R_PIN_SOURCE, "pin-value is too long (limit %zu bytes)",
                            cap);
                return -1;
            }
            *len = strlen(v);
            memcpy(buf, v, *len);
            return 1;
        }
        v = p11_kit_uri_get_pin_source(uri->uri);
        if (v != NULL) {
            if (strncmp(v, "file:", 5) != 0) {
                ukp11_raise(ctx, UK_R_PIN_SOURCE,
                            "pin-source %s: only file: sources are supported", v);
                return -1;
            }
            *src_keep = v;
            return ukp11_pin_source_read(ctx, v, buf, cap, len) ? 1 : -1;
        }
    }
    if (ctx->token_pin != NULL)
        return ukp11_pin_source_read(ctx, ctx->token_pin, buf, cap, len) ? 1 : -1;
    if (tok->pin_source != NULL)
        return ukp11_pin_source_read(ctx, tok->pin_source, buf, cap, len) ? 1 : -1;
    if (cb != NULL && cb(buf, cap, len, tok->info.label, cbarg) && *len <= cap)
        return 1;
    return 0;
}

CK_RV ukp11_token_login(UKP11_TOKEN *tok, const UKP11_URI *uri,
                        ukp11_pin_fn *cb, void *cbarg, int required)
{
    UKP11_CTX *ctx = tok->ctx;
    CK_FUNCTION_LIST *fl;
    char pin[UKP11_PIN_MAX];
    size_t pinlen = 0;
    const char *keep = NULL;
    CK_RV rv = CKR_OK;
    int got;

    if (!(tok->raw.flags & CKF_LOGIN_REQUIRED))
        return CKR_OK;
    rv = ukp11_module_ensure(ctx, tok->mod);
    if (rv != CKR_OK)
        return rv;
    fl = tok->mod->fl;
    pthread_mutex_lock(&tok->login_lock);
    if (tok->logged_in)
        goto out;

    got = get_pin(tok, uri, cb, cbarg, pin, sizeof(pin), &pinlen, &keep);
    if (got < 0) {
        rv = CKR_GENERAL_ERROR;
        goto out;
    }
    if (got == 0) {
        if (required) {
            ukp11_raise(ctx, UK_R_PIN_REQUIRED,
                        "token '%s' requires login and no PIN is available "
                        "(give one in the URI, a PIN file, the configuration or a callback)",
                        tok->info.label);
            rv = CKR_USER_NOT_LOGGED_IN;
        } else {
            ukp11_dbg("token '%s': no PIN, not logging in", tok->info.label);
        }
        goto out;
    }
    if (tok->login_sess == CK_INVALID_HANDLE) {
        rv = UKP11_CALL(fl, OpenSession, tok->slot, CKF_SERIAL_SESSION, NULL, NULL,
                        &tok->login_sess);
        if (rv != CKR_OK) {
            tok->login_sess = CK_INVALID_HANDLE;
            ukp11_raise(ctx, UK_R_SESSION, "C_OpenSession(token '%s'): %s (0x%lx)",
                        tok->info.label, ukp11_rv_name(rv), rv);
            goto out;
        }
    }
    ukp11_dbg("logging in to token '%s' slot %lu pin=<set,len=%zu>", tok->info.label,
              tok->slot, pinlen);
    rv = UKP11_CALL(fl, Login, tok->login_sess, CKU_USER, (CK_UTF8CHAR *)pin,
                    (CK_ULONG)pinlen);
    if (rv == CKR_USER_ALREADY_LOGGED_IN)
        rv = CKR_OK;
    if (rv != CKR_OK) {
        ukp11_raise(ctx, UK_R_LOGIN_FAILED, "C_Login(token '%s'): %s (0x%lx)",
                    tok->info.label, ukp11_rv_name(rv), rv);
        goto out;
    }
    tok->logged_in = 1;
    if (keep != NULL && tok->pin_source == NULL)
        tok->pin_source = strdup(keep);

out:
    pthread_mutex_unlock(&tok->login_lock);
    OPENSSL_cleanse(pin, sizeof(pin));
    return rv;
}
