/* uakey unit tests: module selection order and PIN sources (no token). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ukp11.h"

static int last_reason;
static int n_errors;

static void sink(void *arg, int reason, const char *msg)
{
    (void)arg;
    (void)msg;
    last_reason = reason;
    n_errors++;
}

static int setup(void **state)
{
    UKP11_CTX *ctx = ukp11_ctx_new(NULL, sink, NULL);

    if (ctx == NULL)
        return -1;
    last_reason = 0;
    n_errors = 0;
    *state = ctx;
    return 0;
}

static int teardown(void **state)
{
    ukp11_ctx_free(*state);
    return 0;
}

static void test_select_order(void **state)
{
    (void)state;
    assert_string_equal(ukp11_select_module("/u.so", "name", "/cfg.so", "/env.so", "/proxy.so"),
                        "/u.so");
    assert_string_equal(ukp11_select_module(NULL, "name", "/cfg.so", "/env.so", "/proxy.so"),
                        "name");
    assert_string_equal(ukp11_select_module(NULL, NULL, "/cfg.so", "/env.so", "/proxy.so"),
                        "/cfg.so");
    assert_string_equal(ukp11_select_module(NULL, NULL, NULL, "/env.so", "/proxy.so"),
                        "/env.so");
    assert_string_equal(ukp11_select_module(NULL, NULL, NULL, NULL, "/proxy.so"),
                        "/proxy.so");
}

static void test_select_empty_strings_skipped(void **state)
{
    (void)state;
    assert_string_equal(ukp11_select_module("", "", "", "", "/proxy.so"), "/proxy.so");
    assert_string_equal(ukp11_select_module("", NULL, "/cfg.so", NULL, "/proxy.so"),
                        "/cfg.so");
}

/* Write |text| to a fresh temporary file; returns its path (static). */
static const char *temp_file(const char *text, size_t len)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/uk_test_pin.XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_pin_literal(void **state)
{
    char buf[64];
    size_t len = 0;

    assert_int_equal(ukp11_pin_source_read(*state, "12345678", buf, sizeof(buf), &len), 1);
    assert_int_equal(len, 8);
    assert_memory_equal(buf, "12345678", 8);
    assert_int_equal(n_errors, 0);
}

static void test_pin_literal_too_long(void **state)
{
    char buf[4];
    size_t len = 0;

    assert_int_equal(ukp11_pin_source_read(*state, "12345678", buf, sizeof(buf), &len), 0);
    assert_int_equal(last_reason, UK_R_PIN_SOURCE);
}

static void test_pin_file_forms(void **state)
{
    char buf[64], src[128];
    size_t len = 0;
    const char *path = temp_file("4321\nsecond line\n", 17);

    snprintf(src, sizeof(src), "file:%s", path);
    assert_int_equal(ukp11_pin_source_read(*state, src, buf, sizeof(buf), &len), 1);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "4321", 4);

    snprintf(src, sizeof(src), "file://%s", path);
    len = 0;
    assert_int_equal(ukp11_pin_source_read(*state, src, buf, sizeof(buf), &len), 1);
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "4321", 4);
    unlink(path);
    assert_int_equal(n_errors, 0);
}

static void test_pin_file_no_newline_and_crlf(void **state)
{
    char buf[64], src[128];
    size_t len = 0;
    const char *path = temp_file("abcd", 4);

    snprintf(src, sizeof(src), "file:%s", path);
    assert_int_equal(ukp11_pin_source_read(*state, src, buf, sizeof(buf), &len), 1);
    assert_int_equal(len, 4);
    unlink(path);

    path = temp_file("xy\r\n", 4);
    snprintf(src, sizeof(src), "file:%s", path);
    assert_int_equal(ukp11_pin_source_read(*state, src, buf, sizeof(buf), &len), 1);
    assert_int_equal(len, 2);
    assert_memory_equal(buf, "xy", 2);
    unlink(path);
}

static void test_pin_file_missing(void **state)
{
    char buf[64];
    size_t len = 0;

    assert_int_equal(ukp11_pin_source_read(*state, "file:/nonexistent/uakey/pin", buf,
                                           sizeof(buf), &len), 0);
    assert_int_equal(last_reason, UK_R_PIN_SOURCE);
    assert_int_equal(n_errors, 1);
}

static void test_pin_file_relative_refused(void **state)
{
    char buf[64];
    size_t len = 0;

    assert_int_equal(ukp11_pin_source_read(*state, "file:relative/pin", buf, sizeof(buf),
                                           &len), 0);
    assert_int_equal(last_reason, UK_R_PIN_SOURCE);
}

static void test_pin_file_empty(void **state)
{
    char buf[64], src[128];
    size_t len = 0;
    const char *path = temp_file("\n", 1);

    snprintf(src, sizeof(src), "file:%s", path);
    assert_int_equal(ukp11_pin_source_read(*state, src, buf, sizeof(buf), &len), 0);
    assert_int_equal(last_reason, UK_R_PIN_SOURCE);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_order),
        cmocka_unit_test(test_select_empty_strings_skipped),
        cmocka_unit_test_setup_teardown(test_pin_literal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_literal_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_file_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_file_no_newline_and_crlf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_file_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_file_relative_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pin_file_empty, setup, teardown),
    };

    return cmocka_run_group_tests_name("pin", tests, NULL, NULL);
}
