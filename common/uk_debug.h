/* uakey: debug log switched on by UAKEY_DEBUG, written to UAKEY_DEBUG_FILE
 * (or stderr).  Never pass a PIN, key bytes or plaintext to it: log sizes,
 * handles, mechanism and CK_RV names. */
#ifndef UK_DEBUG_H
#define UK_DEBUG_H

enum uk_dbg_cat {
    UK_DBG_PKCS11 = 1 << 0,
    UK_DBG_PROVIDER = 1 << 1,
    UK_DBG_OPCUA = 1 << 2,
    UK_DBG_ALL = 0x7
};

/* Bitmask of enabled categories; parsed once on first use. */
extern volatile int uk_debug_mask;
void uk_debug_init(void);

void uk_debug_print(int cat, const char *file, int line, const char *func,
                    const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Parse a category list ("all", "pkcs11,provider"); returns the mask or -1
 * for an unknown word.  Exposed for unit tests. */
int uk_debug_parse(const char *spec);

#define uk_dbg(cat, ...)                                                    \
    do {                                                                    \
        if (uk_debug_mask < 0)                                              \
            uk_debug_init();                                                \
        if (uk_debug_mask & (cat))                                          \
            uk_debug_print((cat), __FILE__, __LINE__, __func__, __VA_ARGS__); \
    } while (0)

#endif
