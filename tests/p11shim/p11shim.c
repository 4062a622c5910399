/* uakey test shim: a PKCS#11 module that passes every call through to the
 * module named by UK_TEST_TARGET (SoftHSM in the tests) and can inject
 * faults and count calls.
 *
 *   UK_TEST_TARGET=/usr/lib/softhsm/libsofthsm2.so
 *   UK_TEST_FAULT="C_Sign:3:CKR_DEVICE_REMOVED,C_Login:1:CKR_PIN_INCORRECT"
 *       the 3rd C_Sign (counted from 1 in this process) returns
 *       CKR_DEVICE_REMOVED without reaching the target; ":0:" means every
 *       call from then on ("C_Sign:2+:..." is written "C_Sign:-2:...").
 *   UK_TEST_COUNT_FILE=path   on C_Finalize (and at exit) append one line
 *       "C_Login=N C_Sign=N ..." with the counts of intercepted calls.
 *
 * Only the functions the tests need are intercepted; all others go to the
 * target's own function list, copied as is. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

enum {
    F_INITIALIZE, F_FINALIZE, F_GET_SLOT_LIST, F_GET_TOKEN_INFO, F_OPEN_SESSION,
    F_CLOSE_SESSION, F_LOGIN, F_LOGOUT, F_FIND_OBJECTS_INIT, F_GET_ATTRIBUTE_VALUE,
    F_SIGN_INIT, F_SIGN, F_DECRYPT_INIT, F_DECRYPT, F_DERIVE_KEY,
    F_GENERATE_KEY_PAIR, F_COUNT
};

static const char *const shim_names[F_COUNT] = {
    "C_Initialize", "C_Finalize", "C_GetSlotList", "C_GetTokenInfo", "C_OpenSession",
    "C_CloseSession", "C_Login", "C_Logout", "C_FindObjectsInit", "C_GetAttributeValue",
    "C_SignInit", "C_Sign", "C_DecryptInit", "C_Decrypt", "C_DeriveKey",
    "C_GenerateKeyPair",
};

static const struct {
    const char *name;
    CK_RV rv;
} shim_rvs[] = {
    { "CKR_DEVICE_REMOVED", CKR_DEVICE_REMOVED },
    { "CKR_DEVICE_ERROR", CKR_DEVICE_ERROR },
    { "CKR_SESSION_CLOSED", CKR_SESSION_CLOSED },
    { "CKR_SESSION_HANDLE_INVALID", CKR_SESSION_HANDLE_INVALID },
    { "CKR_USER_NOT_LOGGED_IN", CKR_USER_NOT_LOGGED_IN },
    { "CKR_TOKEN_NOT_PRESENT", CKR_TOKEN_NOT_PRESENT },
    { "CKR_PIN_INCORRECT", CKR_PIN_INCORRECT },
    { "CKR_PIN_LOCKED", CKR_PIN_LOCKED },
    { "CKR_GENERAL_ERROR", CKR_GENERAL_ERROR },
    { "CKR_MECHANISM_INVALID", CKR_MECHANISM_INVALID },
    { "CKR_ARGUMENTS_BAD", CKR_ARGUMENTS_BAD },
    { "CKR_DEVICE_MEMORY", CKR_DEVICE_MEMORY },
};

static pthread_mutex_t shim_lock = PTHREAD_MUTEX_INITIALIZER;
static void *shim_dl;
static CK_FUNCTION_LIST_PTR shim_target;
static CK_FUNCTION_LIST shim_list;
static unsigned long shim_count[F_COUNT];
static long shim_fault_at[F_COUNT];     /* 0: none; n > 0: nth call; n < 0: from -n on */
static CK_RV shim_fault_rv[F_COUNT];
static int shim_reported;

static void shim_parse_faults(void)
{
    const char *spec = getenv("UK_TEST_FAULT");
    char *copy, *tok, *save = NULL;

    if (spec == NULL || *spec == '\0')
        return;
    copy = strdup(spec);
    if (copy == NULL)
        return;
    for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char *c1 = strchr(tok, ':'), *c2;
        size_t i, j;

        if (c1 == NULL || (c2 = strchr(c1 + 1, ':')) == NULL) {
            fprintf(stderr, "p11shim: bad UK_TEST_FAULT entry '%s'\n", tok);
            continue;
        }
        *c1 = *c2 = '\0';
        for (i = 0; i < F_COUNT; i++) {
            if (strcmp(tok, shim_names[i]) != 0)
                continue;
            shim_fault_at[i] = strtol(c1 + 1, NULL, 10);
            for (j = 0; j < sizeof(shim_rvs) / sizeof(shim_rvs[0]); j++)
                if (strcmp(c2 + 1, shim_rvs[j].name) == 0)
                    shim_fault_rv[i] = shim_rvs[j].rv;
            if (shim_fault_rv[i] == 0)
                fprintf(stderr, "p11shim: unknown rv '%s'\n", c2 + 1);
        }
    }
    free(copy);
}

static void shim_report(void)
{
    const char *path = getenv("UK_TEST_COUNT_FILE");
    FILE *f;
    int i;

    if (path == NULL || *path == '\0' || shim_reported)
        return;
    f = fopen(path, "a");
    if (f == NULL)
        return;
    for (i = 0; i < F_COUNT; i++)
        fprintf(f, "%s%s=%lu", i ? " " : "", shim_names[i], shim_count[i]);
    fprintf(f, "\n");
    fclose(f);
    shim_reported = 1;
}

/* Counts the call; returns a fault rv to inject, or CKR_OK to pass on. */
static CK_RV shim_enter(int f)
{
    unsigned long n;
    CK_RV rv = CKR_OK;

    pthread_mutex_lock(&shim_lock);
    n = ++shim_count[f];
    if (shim_fault_rv[f] != 0) {
        long at = shim_fault_at[f];

        if ((at > 0 && (unsigned long)at == n) || (at < 0 && n >= (unsigned long)-at) || at == 0)
            rv = shim_fault_rv[f];
    }
    pthread_mutex_unlock(&shim_lock);
    return rv;
}

#define SHIM_PASS(f, call)            \
    do {                              \
        CK_RV frv = shim_enter(f);    \
        if (frv != CKR_OK)            \
            return frv;               \
        return shim_target->call;     \
    } while (0)

static CK_RV shim_C_Initialize(CK_VOID_PTR args)
{
    SHIM_PASS(F_INITIALIZE, C_Initialize(args));
}

static CK_RV shim_C_Finalize(CK_VOID_PTR r)
{
    CK_RV frv = shim_enter(F_FINALIZE);

    shim_report();
    if (frv != CKR_OK)
        return frv;
    return shim_target->C_Finalize(r);
}

static CK_RV shim_C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR n)
{
    SHIM_PASS(F_GET_SLOT_LIST, C_GetSlotList(present, list, n));
}

static CK_RV shim_C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
    SHIM_PASS(F_GET_TOKEN_INFO, C_GetTokenInfo(slot, info));
}

static CK_RV shim_C_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app,
                                CK_NOTIFY notify, CK_SESSION_HANDLE_PTR s)
{
    SHIM_PASS(F_OPEN_SESSION, C_OpenSession(slot, flags, app, notify, s));
}

static CK_RV shim_C_CloseSession(CK_SESSION_HANDLE s)
{
    SHIM_PASS(F_CLOSE_SESSION, C_CloseSession(s));
}

static CK_RV shim_C_Login(CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    SHIM_PASS(F_LOGIN, C_Login(s, u, pin, len));
}

static CK_RV shim_C_Logout(CK_SESSION_HANDLE s)
{
    SHIM_PASS(F_LOGOUT, C_Logout(s));
}

static CK_RV shim_C_FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    SHIM_PASS(F_FIND_OBJECTS_INIT, C_FindObjectsInit(s, t, n));
}

static CK_RV shim_C_GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                                      CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    SHIM_PASS(F_GET_ATTRIBUTE_VALUE, C_GetAttributeValue(s, o, t, n));
}

static CK_RV shim_C_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    SHIM_PASS(F_SIGN_INIT, C_SignInit(s, m, k));
}

static CK_RV shim_C_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR sig,
                         CK_ULONG_PTR sl)
{
    SHIM_PASS(F_SIGN, C_Sign(s, d, dl, sig, sl));
}

static CK_RV shim_C_DecryptInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    SHIM_PASS(F_DECRYPT_INIT, C_DecryptInit(s, m, k));
}

static CK_RV shim_C_Decrypt(CK_SESSION_HANDLE s, CK_BYTE_PTR c, CK_ULONG cl, CK_BYTE_PTR p,
                            CK_ULONG_PTR pl)
{
    SHIM_PASS(F_DECRYPT, C_Decrypt(s, c, cl, p, pl));
}

static CK_RV shim_C_DeriveKey(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE b,
                              CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{
    SHIM_PASS(F_DERIVE_KEY, C_DeriveKey(s, m, b, t, n, k));
}

static CK_RV shim_C_GenerateKeyPair(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
                                    CK_ATTRIBUTE_PTR pt, CK_ULONG pn, CK_ATTRIBUTE_PTR vt,
                                    CK_ULONG vn, CK_OBJECT_HANDLE_PTR pub,
                                    CK_OBJECT_HANDLE_PTR priv)
{
    SHIM_PASS(F_GENERATE_KEY_PAIR, C_GenerateKeyPair(s, m, pt, pn, vt, vn, pub, priv));
}

static void shim_atexit(void)
{
    shim_report();
}

static CK_RV shim_load(void)
{
    const char *target = getenv("UK_TEST_TARGET");
    CK_C_GetFunctionList gfl;

    if (shim_target != NULL)
        return CKR_OK;
    if (target == NULL || *target == '\0') {
        fprintf(stderr, "p11shim: UK_TEST_TARGET is not set\n");
        return CKR_GENERAL_ERROR;
    }
    shim_dl = dlopen(target, RTLD_NOW | RTLD_LOCAL);
    if (shim_dl == NULL) {
        fprintf(stderr, "p11shim: %s\n", dlerror());
        return CKR_GENERAL_ERROR;
    }
    gfl = (CK_C_GetFunctionList)dlsym(shim_dl, "C_GetFunctionList");
    if (gfl == NULL || gfl(&shim_target) != CKR_OK || shim_target == NULL) {
        fprintf(stderr, "p11shim: %s has no usable C_GetFunctionList\n", target);
        return CKR_GENERAL_ERROR;
    }
    shim_parse_faults();
    shim_list = *shim_target;
    shim_list.C_Initialize = shim_C_Initialize;
    shim_list.C_Finalize = shim_C_Finalize;
    shim_list.C_GetSlotList = shim_C_GetSlotList;
    shim_list.C_GetTokenInfo = shim_C_GetTokenInfo;
    shim_list.C_OpenSession = shim_C_OpenSession;
    shim_list.C_CloseSession = shim_C_CloseSession;
    shim_list.C_Login = shim_C_Login;
    shim_list.C_Logout = shim_C_Logout;
    shim_list.C_FindObjectsInit = shim_C_FindObjectsInit;
    shim_list.C_GetAttributeValue = shim_C_GetAttributeValue;
    shim_list.C_SignInit = shim_C_SignInit;
    shim_list.C_Sign = shim_C_Sign;
    shim_list.C_DecryptInit = shim_C_DecryptInit;
    shim_list.C_Decrypt = shim_C_Decrypt;
    shim_list.C_DeriveKey = shim_C_DeriveKey;
    shim_list.C_GenerateKeyPair = shim_C_GenerateKeyPair;
    atexit(shim_atexit);
    return CKR_OK;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

SHIM_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    CK_RV rv;

    if (list == NULL)
        return CKR_ARGUMENTS_BAD;
    pthread_mutex_lock(&shim_lock);
    rv = shim_load();
    pthread_mutex_unlock(&shim_lock);
    if (rv != CKR_OK)
        return rv;
    shim_list.C_GetFunctionList = C_GetFunctionList;
    *list = &shim_list;
    return CKR_OK;
}
