/* libuakey: register the uakey provider (and OpenSSL's default provider)
 * in a library context, so applications need no openssl.cnf edit. */
#include "config.h"

#include <openssl/provider.h>

#include "ukua_int.h"

/* The default provider first: uakey offers no digests, ciphers or random
 * numbers, and ordinary software keys keep going to OpenSSL's own code. */
int uakey_provider_load(OSSL_LIB_CTX *libctx)
{
    if (!OSSL_PROVIDER_available(libctx, "default")
        && OSSL_PROVIDER_load(libctx, "default") == NULL) {
        uakey_raise(UK_R_MODULE_LOAD, "cannot load OpenSSL's default provider");
        return 0;
    }
    if (OSSL_PROVIDER_available(libctx, "uakey"))
        return 1;
    if (OSSL_PROVIDER_load(libctx, "uakey") == NULL) {
        uakey_raise(UK_R_MODULE_LOAD, "cannot load the uakey provider (uakey.so in "
                    "OPENSSL_MODULES or %s)", UK_MODULESDIR);
        return 0;
    }
    ukua_dbg("uakey provider loaded into library context %p", (void *)libctx);
    return 1;
}
