/* uakey pkcs11/: the context, module loading through p11-kit, and fork
 * detection.
 *
 * Modules are loaded lazily, keyed by the path (or p11-kit module name)
 * they were asked for, so several modules can be in use at once.  p11-kit
 * counts loads, so an application that loads the same module keeps working
 * when we finalize ours.
 *
 * Fork: each entry point compares getpid() with the pid the state belongs
 * to.  A child drops every cached session and login state without closing
 * anything (those handles belong to the parent), bumps each token's
 * generation so objects re-find their handles, and initializes the modules
 * again on first use. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <openssl/err.h>

#include "ukp11_int.h"

UKP11_CTX *ukp11_ctx_new(const UKP11_CONFIG *cfg, ukp11_err_fn *err, void *errarg)
{
    UKP11_CTX *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL)
        return NULL;
    if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
        free(ctx);
        return NULL;
    }
    ctx->err = err;
    ctx->errarg = errarg;
    ctx->max_sessions = UKP11_DEFAULT_MAX_SESSIONS;
    atomic_store(&ctx->pid, (int)getpid());
    if (cfg != NULL) {
        if (cfg->max_sessions > 0)
            ctx->max_sessions = cfg->max_sessions;
        ctx->module_loaded = cfg->module_loaded;
        if (cfg->module_path != NULL && *cfg->module_path != '\0'
            && (ctx->module_path = strdup(cfg->module_path)) == NULL)
            goto oom;
        if (cfg->token_pin != NULL
            && (ctx->token_pin = strdup(cfg->token_pin)) == NULL)
            goto oom;
    }
    return ctx;

oom:
    ukp11_ctx_free(ctx);
    return NULL;
}

void ukp11_raise(UKP11_CTX *ctx, int reason, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ukp11_dbg("error %d (%s): %s", reason, uk_reason_string(reason), msg);
    if (ctx != NULL && ctx->err != NULL)
        ctx->err(ctx->errarg, reason, msg);
}

/* Drop a module's function list: finalize (only in the process that
 * initialized it) and release the p11-kit reference. */
static void module_unload(struct ukp11_module *mod, int same_process)
{
    if (mod->fl == NULL)
        return;
    if (atomic_load(&mod->ready) && same_process) {
        CK_RV rv = p11_kit_module_finalize(mod->fl);

        if (rv != CKR_OK)
            ukp11_dbg("finalizing %s: %s (0x%lx)", mod->name, ukp11_rv_name(rv), rv);
    }
    p11_kit_module_release(mod->fl);
    mod->fl = NULL;
    mod->have_info = 0;
    atomic_store(&mod->ready, 0);
}

void ukp11_ctx_finalize_modules(UKP11_CTX *ctx)
{
    struct ukp11_module *mod;
    UKP11_TOKEN *tok;
    int same;

    if (ctx == NULL)
        return;
    pthread_mutex_lock(&ctx->lock);
    same = atomic_load(&ctx->pid) == (int)getpid();
    for (tok = ctx->tokens; tok != NULL; tok = tok->next)
        ukp11_token_reset(tok, same && atomic_load(&tok->mod->ready));
    for (mod = ctx->mods; mod != NULL; mod = mod->next)
        module_unload(mod, same);
    atomic_store(&ctx->pid, (int)getpid());
    pthread_mutex_unlock(&ctx->lock);
}

void ukp11_ctx_free(UKP11_CTX *ctx)
{
    struct ukp11_module *mod, *mnext;
    UKP11_TOKEN *tok, *tnext;

    if (ctx == NULL)
        return;
    ukp11_ctx_finalize_modules(ctx);
    for (tok = ctx->tokens; tok != NULL; tok = tnext) {
        tnext = tok->next;
        ukp11_token_free(tok, 0);
    }
    for (mod = ctx->mods; mod != NULL; mod = mnext) {
        mnext = mod->next;
        free(mod->name);
        free(mod);
    }
    if (ctx->token_pin != NULL) {
        OPENSSL_cleanse(ctx->token_pin, strlen(ctx->token_pin));
        free(ctx->token_pin);
    }
    free(ctx->module_path);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx);
}

void ukp11_fork_check(UKP11_CTX *ctx)
{
    struct ukp11_module *mod;
    UKP11_TOKEN *tok;
    int me = (int)getpid();

    if (atomic_load(&ctx->pid) == me)
        return;
    pthread_mutex_lock(&ctx->lock);
    if (atomic_load(&ctx->pid) != me) {
        ukp11_dbg("fork detected (pid %d -> %d): dropping sessions and login state",
                  atomic_load(&ctx->pid), me);
        for (tok = ctx->tokens; tok != NULL; tok = tok->next)
            ukp11_token_reset(tok, 0);
        /* The function lists stay loaded; they only need C_Initialize. */
        for (mod = ctx->mods; mod != NULL; mod = mod->next)
            atomic_store(&mod->ready, 0);
        atomic_store(&ctx->pid, me);
    }
    pthread_mutex_unlock(&ctx->lock);
}

/* A name without a slash that p11-kit knows from its module registry
 * (e.g. "softhsm2" from /usr/share/p11-kit/modules/softhsm2.module).
 * Returns the module with one reference held, or NULL. */
static CK_FUNCTION_LIST *load_registered(const char *name)
{
    CK_FUNCTION_LIST **all, *found = NULL;
    size_t i;

    all = p11_kit_modules_load(NULL, 0);
    if (all == NULL)
        return NULL;
    found = p11_kit_module_for_name(all, name);
    for (i = 0; all[i] != NULL; i++) {
        if (all[i] != found)
            p11_kit_module_release(all[i]);
    }
    free(all);
    return found;
}

/* Load and initialize; ctx->lock held. */
static CK_RV module_start(UKP11_CTX *ctx, struct ukp11_module *mod)
{
    CK_RV rv;

    if (mod->fl == NULL) {
        if (strchr(mod->name, '/') == NULL)
            mod->fl = load_registered(mod->name);
        if (mod->fl == NULL)
            mod->fl = p11_kit_module_load(mod->name, 0);
        if (mod->fl == NULL) {
            const char *why = p11_kit_message();

            ukp11_raise(ctx, UK_R_MODULE_LOAD, "cannot load PKCS#11 module %s: %s",
                        mod->name, why != NULL ? why : "unknown reason");
            return CKR_GENERAL_ERROR;
        }
    }
    ukp11_dbg("initializing module %s", mod->name);
    /* Modules built on libcrypto (SoftHSM) may leave their own noise on
     * the calling thread's OpenSSL error queue while initializing (an
     * engine they could not load): it is not the caller's error, drop it. */
    ERR_set_mark();
    rv = p11_kit_module_initialize(mod->fl);
    ERR_pop_to_mark();
    if (rv != CKR_OK) {
        const char *why = p11_kit_message();

        ukp11_raise(ctx, UK_R_MODULE_INIT,
                    "C_Initialize(module %s): %s (0x%lx)%s%s", mod->name,
                    ukp11_rv_name(rv), rv, why != NULL ? ": " : "",
                    why != NULL ? why : "");
        return rv;
    }
    if (!mod->have_info) {
        memset(&mod->info, 0, sizeof(mod->info));
        if (UKP11_CALL(mod->fl, GetInfo, &mod->info) == CKR_OK)
            mod->have_info = 1;
    }
    atomic_store(&mod->ready, 1);
    if (ctx->module_loaded != NULL)
        ctx->module_loaded();
    return CKR_OK;
}

CK_RV ukp11_module_ensure(UKP11_CTX *ctx, struct ukp11_module *mod)
{
    CK_RV rv = CKR_OK;

    ukp11_fork_check(ctx);
    if (atomic_load(&mod->ready))
        return CKR_OK;
    pthread_mutex_lock(&ctx->lock);
    if (!atomic_load(&mod->ready))
        rv = module_start(ctx, mod);
    pthread_mutex_unlock(&ctx->lock);
    return rv;
}

CK_RV ukp11_module_get(UKP11_CTX *ctx, const char *name, struct ukp11_module **out)
{
    struct ukp11_module *mod;

    ukp11_fork_check(ctx);
    pthread_mutex_lock(&ctx->lock);
    for (mod = ctx->mods; mod != NULL; mod = mod->next) {
        if (strcmp(mod->name, name) == 0)
            break;
    }
    if (mod == NULL) {
        mod = calloc(1, sizeof(*mod));
        if (mod == NULL || (mod->name = strdup(name)) == NULL) {
            free(mod);
            pthread_mutex_unlock(&ctx->lock);
            ukp11_raise(ctx, UK_R_MALLOC, "out of memory loading module %s", name);
            return CKR_HOST_MEMORY;
        }
        mod->next = ctx->mods;
        ctx->mods = mod;
    }
    pthread_mutex_unlock(&ctx->lock);
    *out = mod;
    return ukp11_module_ensure(ctx, mod);
}
