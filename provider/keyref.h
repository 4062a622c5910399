/* uakey: key-reference files.
 * PEM label "PKCS#11 PROVIDER URI"; body DER
 *   SEQUENCE { VisibleString "PKCS#11 Provider URI v1.0", UTF8String uri }
 * (the format pkcs11-provider writes, so files are interchangeable). */
#ifndef UKPROV_KEYREF_H
#define UKPROV_KEYREF_H

#include <stddef.h>

#define UKPROV_KEYREF_PEM_LABEL "PKCS#11 PROVIDER URI"
#define UKPROV_KEYREF_VERSION "PKCS#11 Provider URI v1.0"
#define UKPROV_KEYREF_STRUCTURE "pk11uri"

/* DER-encode a reference to |uri| (no PIN must be in it: the caller strips
 * it).  Returns 1 and a malloc'd buffer, 0 on failure. */
int ukprov_keyref_encode(const char *uri, unsigned char **der, size_t *derlen);

/* Decode a DER key reference.  Returns a malloc'd NUL-terminated URI, or
 * NULL when the bytes are not exactly one well-formed reference (trailing
 * bytes, wrong tags, wrong version string, embedded NUL, non-pkcs11 URI). */
char *ukprov_keyref_decode(const unsigned char *der, size_t len);

/* Wrap DER in PEM with the key-reference label.  malloc'd text. */
char *ukprov_keyref_pem(const unsigned char *der, size_t derlen);

#endif
