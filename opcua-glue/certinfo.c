/* libuakey: facts read from a certificate (OPC UA thumbprint,
 * ApplicationUri, common name).  Public OpenSSL API only. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ukua_int.h"

int uakey_cert_thumbprint(const X509 *cert, char hex[41])
{
    static const char digits[] = "0123456789ABCDEF";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;
    EVP_MD *sha1;
    int ok;

    if (hex != NULL)
        hex[0] = '\0';
    if (cert == NULL || hex == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_cert_thumbprint: no certificate or buffer");
        return 0;
    }
    sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    if (sha1 == NULL) {
        uakey_raise(UK_R_INTERNAL, "SHA-1 is not available in the default library context");
        return 0;
    }
    ok = X509_digest(cert, sha1, md, &mdlen);
    EVP_MD_free(sha1);
    if (!ok || mdlen != 20) {
        uakey_raise(UK_R_BAD_CERT, "cannot compute the SHA-1 thumbprint of the certificate");
        return 0;
    }
    for (i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 0x0f];
    }
    hex[2 * mdlen] = '\0';
    return 1;
}

/* A malloc'd NUL-terminated copy of an ASN.1 string's bytes; NULL with an
 * error when the string holds a NUL byte (a name that would read
 * differently in C than in the certificate). */
static char *string_copy(const ASN1_STRING *s, const char *what)
{
    const unsigned char *data = ASN1_STRING_get0_data(s);
    int len = ASN1_STRING_length(s);
    char *out;

    if (data == NULL || len < 0) {
        uakey_raise(UK_R_BAD_CERT, "the certificate's %s is empty or unreadable", what);
        return NULL;
    }
    if (memchr(data, '\0', (size_t)len) != NULL) {
        uakey_raise(UK_R_BAD_CERT, "the certificate's %s contains a NUL byte", what);
        return NULL;
    }
    out = malloc((size_t)len + 1);
    if (out == NULL) {
        uakey_raise(UK_R_MALLOC, "copying the certificate's %s", what);
        return NULL;
    }
    memcpy(out, data, (size_t)len);
    out[len] = '\0';
    return out;
}

char *uakey_cert_app_uri(const X509 *cert)
{
    GENERAL_NAMES *gens;
    char *uri = NULL;
    int i, crit = 0;

    if (cert == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_cert_app_uri: no certificate");
        return NULL;
    }
    gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
    if (gens == NULL) {
        /* crit == -2: several subjectAltName extensions (malformed) */
        if (crit == -2)
            ukua_dbg("certificate has more than one subjectAltName");
        return NULL;
    }
    for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);

        if (gn->type == GEN_URI) {
            uri = string_copy(gn->d.uniformResourceIdentifier, "subjectAltName URI");
            break;
        }
    }
    GENERAL_NAMES_free(gens);
    return uri;
}

char *uakey_cert_common_name(const X509 *cert)
{
    const X509_NAME *subject;
    const X509_NAME_ENTRY *ne;
    const ASN1_STRING *value;
    unsigned char *utf8 = NULL;
    char *cn;
    int idx, len;

    if (cert == NULL) {
        uakey_raise(UK_R_BAD_PARAM, "uakey_cert_common_name: no certificate");
        return NULL;
    }
    subject = X509_get_subject_name(cert);
    idx = subject != NULL ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
    if (idx < 0)
        return NULL;
    ne = X509_NAME_get_entry(subject, idx);
    value = ne != NULL ? X509_NAME_ENTRY_get_data(ne) : NULL;
    if (value == NULL)
        return NULL;
    /* BMPString, UniversalString, ...: converted to UTF-8 */
    len = ASN1_STRING_to_UTF8(&utf8, value);
    if (len < 0) {
        uakey_raise(UK_R_BAD_CERT, "the certificate's subject CN cannot be converted to UTF-8");
        return NULL;
    }
    if (memchr(utf8, '\0', (size_t)len) != NULL) {
        OPENSSL_free(utf8);
        uakey_raise(UK_R_BAD_CERT, "the certificate's subject CN contains a NUL byte");
        return NULL;
    }
    cn = malloc((size_t)len + 1);
    if (cn == NULL) {
        OPENSSL_free(utf8);
        uakey_raise(UK_R_MALLOC, "copying the certificate's CN");
        return NULL;
    }
    memcpy(cn, utf8, (size_t)len);
    cn[len] = '\0';
    OPENSSL_free(utf8);
    return cn;
}
