/* uakey unit tests: pkcs11 URIs through p11-kit (no token). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ukp11.h"

static int last_reason;
static int n_errors;
static char last_msg[1024];

static void sink(void *arg, int reason, const char *msg)
{
    (void)arg;
    last_reason = reason;
    n_errors++;
    snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

static int setup(void **state)
{
    UKP11_CTX *ctx = ukp11_ctx_new(NULL, sink, NULL);

    if (ctx == NULL)
        return -1;
    last_reason = 0;
    n_errors = 0;
    last_msg[0] = '\0';
    *state = ctx;
    return 0;
}

static int teardown(void **state)
{
    ukp11_ctx_free(*state);
    return 0;
}

static void test_parse_ok(void **state)
{
    UKP11_URI *uri = NULL;
    const unsigned char *id;
    size_t idlen = 0;

    assert_int_equal(ukp11_uri_parse(*state, "pkcs11:token=t;object=app%20key;id=%01%02",
                                     &uri), CKR_OK);
    assert_non_null(uri);
    assert_string_equal(ukp11_uri_label(uri), "app key");
    id = ukp11_uri_id(uri, &idlen);
    assert_non_null(id);
    assert_int_equal(idlen, 2);
    assert_int_equal(id[0], 1);
    assert_int_equal(id[1], 2);
    assert_true(ukp11_uri_class(uri) == (CK_OBJECT_CLASS)-1);
    assert_int_equal(n_errors, 0);
    ukp11_uri_free(uri);
}

static void test_parse_absent_fields(void **state)
{
    UKP11_URI *uri = NULL;
    size_t idlen = 7;

    assert_int_equal(ukp11_uri_parse(*state, "pkcs11:", &uri), CKR_OK);
    assert_null(ukp11_uri_label(uri));
    assert_null(ukp11_uri_id(uri, &idlen));
    assert_int_equal(idlen, 0);
    ukp11_uri_free(uri);
}

static void test_class_from_type(void **state)
{
    static const struct {
        const char *text;
        CK_OBJECT_CLASS cls;
    } cases[] = {
        { "pkcs11:type=private", CKO_PRIVATE_KEY },
        { "pkcs11:type=public", CKO_PUBLIC_KEY },
        { "pkcs11:type=cert", CKO_CERTIFICATE },
        { "pkcs11:type=secret-key", CKO_SECRET_KEY },
        { "pkcs11:type=data", CKO_DATA },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        UKP11_URI *uri = NULL;

        assert_int_equal(ukp11_uri_parse(*state, cases[i].text, &uri), CKR_OK);
        assert_true(ukp11_uri_class(uri) == cases[i].cls);
        ukp11_uri_free(uri);
    }
}

static void test_malformed(void **state)
{
    UKP11_URI *uri = (UKP11_URI *)1;

    assert_int_equal(ukp11_uri_parse(*state, "pkcs11:token=%zz", &uri), CKR_ARGUMENTS_BAD);
    assert_null(uri);
    assert_int_equal(last_reason, UK_R_BAD_URI);
    assert_int_equal(n_errors, 1);

    assert_int_equal(ukp11_uri_parse(*state, "http://example.com/", &uri), CKR_ARGUMENTS_BAD);
    assert_int_equal(last_reason, UK_R_BAD_URI);
    assert_non_null(strstr(last_msg, "pkcs11"));
}

static void test_malformed_does_not_echo_pin(void **state)
{
    UKP11_URI *uri = NULL;

    assert_int_equal(ukp11_uri_parse(*state, "pkcs11:token=%zz?pin-value=98765432", &uri),
                     CKR_ARGUMENTS_BAD);
    assert_null(strstr(last_msg, "98765432"));
}

static void test_unknown_attribute(void **state)
{
    UKP11_URI *uri = NULL;

    assert_int_equal(ukp11_uri_parse(*state, "pkcs11:token=x;foo=bar", &uri),
                     CKR_ARGUMENTS_BAD);
    assert_null(uri);
    assert_int_equal(last_reason, UK_R_UNKNOWN_URI_ATTR);
    assert_non_null(strstr(last_msg, "'foo'"));
    assert_int_equal(n_errors, 1);
}

static void test_unknown_query_attribute(void **state)
{
    UKP11_URI *uri = NULL;

    assert_int_equal(ukp11_uri_parse(*state, "pkcs11:token=x?foo=1", &uri), CKR_ARGUMENTS_BAD);
    assert_int_equal(last_reason, UK_R_UNKNOWN_URI_ATTR);
    assert_non_null(strstr(last_msg, "foo"));
}

static void test_bad_type(void **state)
{
    UKP11_URI *uri = NULL;

    assert_int_equal(ukp11_uri_parse(*state, "pkcs11:token=x;type=xyz", &uri),
                     CKR_ARGUMENTS_BAD);
    assert_int_equal(last_reason, UK_R_BAD_URI);
    assert_non_null(strstr(last_msg, "type"));
}

static void test_redacted_removes_pin(void **state)
{
    UKP11_URI *uri = NULL;
    char *text;

    assert_int_equal(ukp11_uri_parse(*state,
                                     "pkcs11:token=t;object=k?pin-value=12345678&module-path=/x.so",
                                     &uri), CKR_OK);
    text = ukp11_uri_redacted(uri);
    assert_non_null(text);
    assert_null(strstr(text, "12345678"));
    assert_null(strstr(text, "pin-value"));
    assert_non_null(strstr(text, "token=t"));
    assert_non_null(strstr(text, "object=k"));
    assert_non_null(strstr(text, "module-path"));
    free(text);
    ukp11_uri_free(uri);
}

static void test_redacted_keeps_pin_source(void **state)
{
    UKP11_URI *uri = NULL;
    char *text;

    assert_int_equal(ukp11_uri_parse(*state, "pkcs11:token=t?pin-source=file:/run/pin", &uri),
                     CKR_OK);
    text = ukp11_uri_redacted(uri);
    assert_non_null(text);
    assert_non_null(strstr(text, "pin-source"));
    free(text);
    ukp11_uri_free(uri);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_absent_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_class_from_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_does_not_echo_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_attribute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_query_attribute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redacted_removes_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redacted_keeps_pin_source, setup, teardown),
    };

    return cmocka_run_group_tests_name("uri", tests, NULL, NULL);
}
