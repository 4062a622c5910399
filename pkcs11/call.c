/* uakey pkcs11/: the one gate every Cryptoki call goes through (see the
 * UKP11_CALL macro in ukp11_int.h).  It refuses a function the module does
 * not offer, traces the call, and names the CK_RV when it is not CKR_OK. */
#include "config.h"

#include "ukp11_int.h"

int ukp11_call_enter(int present, const char *fname)
{
    if (!present) {
        ukp11_dbg("%s is not available in this module", fname);
        return 0;
    }
    ukp11_dbg("calling %s", fname);
    return 1;
}

CK_RV ukp11_call_leave(const char *fname, CK_RV rv)
{
    if (rv != CKR_OK)
        ukp11_dbg("%s returned %s (0x%lx)", fname, ukp11_rv_name(rv), rv);
    return rv;
}
