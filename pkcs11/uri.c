/* uakey pkcs11/: RFC 7512 URIs through p11-kit's parser.
 *
 * p11-kit 0.24.1 accepts a URI with an unknown path attribute ("foo=bar")
 * or a type= value it does not know ("type=xyz"): the parse succeeds, the
 * attribute is dropped, and only p11_kit_uri_any_unrecognized() tells.
 * Unknown query attributes ("?foo=1") are kept as vendor queries and do not
 * count as unrecognized.  We turn all of these into errors, because a
 * silently dropped attribute widens the match (type=xyz would match every
 * object). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ukp11_int.h"

void ukp11_wipe_str(const char *s)
{
    if (s != NULL)
        OPENSSL_cleanse((char *)s, strlen(s));
}

/* p11_kit_uri_set_pin_value() frees the old PIN with plain free(): wipe it
 * first. */
static void clear_pin(P11KitUri *u)
{
    ukp11_wipe_str(p11_kit_uri_get_pin_value(u));
    p11_kit_uri_set_pin_value(u, NULL);
}

/* Name the path attribute p11-kit did not recognise.  Each ';' separated
 * piece of the path is handed to p11-kit on its own; the one it flags is
 * the culprit.  Writes the attribute name (never its value) into name. */
static void find_unrecognized(const char *str, char *name, size_t cap)
{
    const char *p = str + strlen("pkcs11:");
    size_t end = strcspn(p, "?");

    snprintf(name, cap, "?");
    while (end > 0) {
        size_t seg = strcspn(p, ";?");
        char buf[512];
        P11KitUri *one;

        if (seg > end)
            seg = end;
        if (seg > 0 && seg + 8 < sizeof(buf)) {
            int bad;

            memcpy(buf, "pkcs11:", 7);
            memcpy(buf + 7, p, seg);
            buf[7 + seg] = '\0';
            one = p11_kit_uri_new();
            bad = one != NULL
                  && p11_kit_uri_parse(buf, P11_KIT_URI_FOR_ANY, one) == P11_KIT_URI_OK
                  && p11_kit_uri_any_unrecognized(one);
            p11_kit_uri_free(one);
            OPENSSL_cleanse(buf, sizeof(buf));
            if (bad) {
                size_t nlen = strcspn(p, "=;?");

                if (nlen > seg)
                    nlen = seg;
                if (nlen >= cap)
                    nlen = cap - 1;
                memcpy(name, p, nlen);
                name[nlen] = '\0';
                return;
            }
        }
        if (seg >= end)
            break;
        p += seg + 1;
        end -= seg + 1;
    }
}

/* Query attributes p11-kit kept as vendor queries: format a copy without
 * the ones we use and see whether a query part is left.  Writes the names
 * (without values) into names; returns 1 if there are any. */
static int vendor_queries(const char *str, char *names, size_t cap)
{
    P11KitUri *u = p11_kit_uri_new();
    char *text = NULL, *q;
    size_t used = 0;
    int found = 0;

    names[0] = '\0';
    if (u == NULL || p11_kit_uri_parse(str, P11_KIT_URI_FOR_ANY, u) != P11_KIT_URI_OK)
        goto done;
    clear_pin(u);
    p11_kit_uri_set_pin_source(u, NULL);
    p11_kit_uri_set_module_name(u, NULL);
    p11_kit_uri_set_module_path(u, NULL);
    if (p11_kit_uri_format(u, P11_KIT_URI_FOR_ANY, &text) != P11_KIT_URI_OK)
        goto done;
    q = strchr(text, '?');
    while (q != NULL && q[1] != '\0') {
        size_t nlen;

        q++;
        nlen = strcspn(q, "=&");
        if (used + nlen + 3 < cap) {
            if (used > 0)
                names[used++] = ',';
            memcpy(names + used, q, nlen);
            used += nlen;
            names[used] = '\0';
        }
        found = 1;
        q = strchr(q, '&');
    }

done:
    free(text);
    p11_kit_uri_free(u);
    return found;
}

/* The part of a URI string before the query, for error messages on text
 * that did not parse (a PIN can only sit in the query). */
static void uri_head(const char *str, char *buf, size_t cap)
{
    size_t n = strcspn(str, "?");

    if (n >= cap)
        n = cap - 1;
    memcpy(buf, str, n);
    buf[n] = '\0';
}

CK_RV ukp11_uri_parse(UKP11_CTX *ctx, const char *str, UKP11_URI **out)
{
    UKP11_URI *uri;
    P11KitUri *scratch = NULL;
    CK_ATTRIBUTE *a;
    char head[256], names[128];
    int r;

    *out = NULL;
    if (str == NULL) {
        ukp11_raise(ctx, UK_R_BAD_URI, "no pkcs11 URI given");
        return CKR_ARGUMENTS_BAD;
    }
    uri_head(str, head, sizeof(head));
    uri = calloc(1, sizeof(*uri));
    if (uri == NULL || (uri->uri = p11_kit_uri_new()) == NULL) {
        free(uri);
        ukp11_raise(ctx, UK_R_MALLOC, "out of memory parsing a pkcs11 URI");
        return CKR_HOST_MEMORY;
    }
    r = p11_kit_uri_parse(str, P11_KIT_URI_FOR_ANY, uri->uri);
    if (r != P11_KIT_URI_OK) {
        ukp11_raise(ctx, UK_R_BAD_URI, "malformed pkcs11 URI '%s': %s", head,
                    p11_kit_uri_message(r));
        goto fail;
    }
    if (p11_kit_uri_any_unrecognized(uri->uri)) {
        find_unrecognized(str, names, sizeof(names));
        if (strcmp(names, "type") == 0)
            ukp11_raise(ctx, UK_R_BAD_URI,
                        "pkcs11 URI '%s': unsupported type= value (use private, "
                        "public, cert, secret-key or data)", head);
        else
            ukp11_raise(ctx, UK_R_UNKNOWN_URI_ATTR,
                        "pkcs11 URI '%s': unsupported attribute '%s'", head, names);
        goto fail;
    }
    if (vendor_queries(str, names, sizeof(names))) {
        ukp11_raise(ctx, UK_R_UNKNOWN_URI_ATTR,
                    "pkcs11 URI '%s': unsupported query attribute '%s'", head, names);
        goto fail;
    }

    /* Redacted text: a second parse, PIN removed, formatted by p11-kit. */
    scratch = p11_kit_uri_new();
    if (scratch == NULL || p11_kit_uri_parse(str, P11_KIT_URI_FOR_ANY, scratch) != P11_KIT_URI_OK)
        goto oom;
    clear_pin(scratch);
    if (p11_kit_uri_format(scratch, P11_KIT_URI_FOR_ANY, &uri->redacted) != P11_KIT_URI_OK)
        goto oom;
    p11_kit_uri_free(scratch);
    scratch = NULL;

    uri->cls = (CK_OBJECT_CLASS)-1;
    a = p11_kit_uri_get_attribute(uri->uri, CKA_CLASS);
    if (a != NULL && a->pValue != NULL && a->ulValueLen == sizeof(CK_OBJECT_CLASS))
        memcpy(&uri->cls, a->pValue, sizeof(CK_OBJECT_CLASS));
    a = p11_kit_uri_get_attribute(uri->uri, CKA_LABEL);
    if (a != NULL && a->pValue != NULL) {
        uri->label = calloc(1, a->ulValueLen + 1);
        if (uri->label == NULL)
            goto oom;
        memcpy(uri->label, a->pValue, a->ulValueLen);
    }
    a = p11_kit_uri_get_attribute(uri->uri, CKA_ID);
    if (a != NULL && a->pValue != NULL) {
        uri->id = malloc(a->ulValueLen > 0 ? a->ulValueLen : 1);
        if (uri->id == NULL)
            goto oom;
        memcpy(uri->id, a->pValue, a->ulValueLen);
        uri->idlen = a->ulValueLen;
    }
    ukp11_dbg("parsed %s", uri->redacted);
    *out = uri;
    return CKR_OK;

oom:
    ukp11_raise(ctx, UK_R_MALLOC, "out of memory parsing a pkcs11 URI");
    p11_kit_uri_free(scratch);
    ukp11_uri_free(uri);
    return CKR_HOST_MEMORY;
fail:
    ukp11_uri_free(uri);
    return CKR_ARGUMENTS_BAD;
}

void ukp11_uri_free(UKP11_URI *uri)
{
    if (uri == NULL)
        return;
    if (uri->uri != NULL) {
        clear_pin(uri->uri);
        p11_kit_uri_free(uri->uri);
    }
    free(uri->redacted);
    free(uri->label);
    free(uri->id);
    free(uri);
}

CK_OBJECT_CLASS ukp11_uri_class(const UKP11_URI *uri)
{
    return uri != NULL ? uri->cls : (CK_OBJECT_CLASS)-1;
}

const char *ukp11_uri_label(const UKP11_URI *uri)
{
    return uri != NULL ? uri->label : NULL;
}

const unsigned char *ukp11_uri_id(const UKP11_URI *uri, size_t *len)
{
    if (uri == NULL || uri->id == NULL) {
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    if (len != NULL)
        *len = uri->idlen;
    return uri->id;
}

char *ukp11_uri_redacted(const UKP11_URI *uri)
{
    if (uri == NULL || uri->redacted == NULL)
        return NULL;
    return strdup(uri->redacted);
}
