# uakey: tests (included from the top Makefile.am; paths are from the top).
#
#   make check                   unit, C integration and openssl CLI tests
#   UK_REQUIRE_SOFTHSM=1 make check   no token = hard error (CI)
#   make check UK_CHECKER="valgrind --error-exitcode=80"   checker before
#                                compiled tests (scripts get it in the env)
#   make memcheck                compiled tests again under valgrind
#   make demo                    tests/demo.sh on a fresh token
#   make check TESTS=tests/cli/rsa_sign.sh   one test; its log is
#                                tests/cli/rsa_sign.log
#
# Every token test gets a private copy of the token made once by
# tests/setup-softhsm.sh (tests/softhsm/); see tests/run-test.sh.

TEST_EXTENSIONS = .sh
LOG_COMPILER = $(SHELL) $(srcdir)/tests/run-test.sh
SH_LOG_COMPILER = $(LOG_COMPILER)
AM_TESTS_ENVIRONMENT = export LC_ALL=C UK_CHECKER='$(UK_CHECKER)' \
	OPENSSL_MODULES='$(abs_top_builddir)/provider/.libs' \
	UK_TESTVARS='$(abs_top_builddir)/tests/softhsm/testvars' \
	UK_TMPROOT='$(abs_top_builddir)/tests/tmp' \
	UK_SRCDIR='$(abs_top_srcdir)' UK_BUILDDIR='$(abs_top_builddir)' \
	UK_SHIM='$(abs_top_builddir)/tests/p11shim/.libs/p11shim.so' \
	UK_ASAN_RUNTIME='$(UK_ASAN_RUNTIME)';

UK_TEST_SHELL_FILES = \
	tests/run-test.sh tests/setup-softhsm.sh tests/write-cnf.sh \
	tests/demo.sh tests/cli/helpers.sh
EXTRA_DIST += $(UK_TEST_SHELL_FILES) $(CLI_TESTS) tests/valgrind.supp .ci/deps

# ---- the token: made once, copied per test ----------------------------------
check_DATA = tests/softhsm/testvars
UK_SETUP_ENV = \
	SOFTHSM2_UTIL='$(SOFTHSM2_UTIL)' PKCS11_TOOL='$(PKCS11_TOOL)' \
	SOFTHSM2_MODULE='$(SOFTHSM2_MODULE)' OPENSSL='$(OPENSSL)' \
	LIBP11_ENGINE='$(LIBP11_ENGINE)' \
	UK_PROVIDER_MODULE='$(abs_top_builddir)/provider/.libs/uakey.so'
tests/softhsm/testvars: $(srcdir)/tests/setup-softhsm.sh $(srcdir)/tests/write-cnf.sh
	$(AM_V_GEN)$(UK_SETUP_ENV) $(SHELL) $(srcdir)/tests/setup-softhsm.sh $(@D)

# ---- unit tests (cmocka, no token) --------------------------------------------
UK_TEST_LINKFLAGS = $(AM_LDFLAGS) -no-install
if HAVE_CMOCKA
UNIT_TESTS = tests/unit/test_keyref tests/unit/test_pin tests/unit/test_uri \
	tests/unit/test_oaep tests/unit/test_digests tests/unit/test_appcert

UNIT_TESTS += tests/unit/test_validate tests/unit/test_pki_store

# pki_store.c and the helpers it needs are compiled straight into the test;
# uakey_keyref_write (keys.c) is a stand-in in the test file.
tests_unit_test_pki_store_SOURCES = tests/unit/test_pki_store.c \
	opcua-glue/pki_store.c opcua-glue/fileutil.c opcua-glue/err.c \
	opcua-glue/certinfo.c opcua-glue/ukua_int.h
tests_unit_test_pki_store_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/opcua-glue \
	-I$(top_srcdir)/opcua-glue/include
tests_unit_test_pki_store_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_pki_store_LDADD = libukcommon.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)
tests_unit_test_pki_store_LDFLAGS = $(UK_TEST_LINKFLAGS)

# Validation, policy table and StatusCode names through libuakey's public
# API, with a real PKI store in a temporary directory (UK_TMPROOT).
tests_unit_test_validate_SOURCES = tests/unit/test_validate.c
tests_unit_test_validate_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/opcua-glue/include \
	-DUK_TEST_REAL_PKI
tests_unit_test_validate_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_validate_LDADD = libuakey.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)
tests_unit_test_validate_LDFLAGS = $(UK_TEST_LINKFLAGS)

# The policy adapter through libuakey's public API with in-memory keys:
# every table row, block arithmetic, P_SHA/HKDF vectors, bad input.
UNIT_TESTS += tests/unit/test_policy
tests_unit_test_policy_SOURCES = tests/unit/test_policy.c
tests_unit_test_policy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/opcua-glue/include
tests_unit_test_policy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_policy_LDADD = libuakey.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)
tests_unit_test_policy_LDFLAGS = $(UK_TEST_LINKFLAGS)

# The client's service message encoders/decoders (uamsg.c, uabin.c compiled
# in): byte vectors, round trips, every truncation, random bit flips.
UNIT_TESTS += tests/unit/test_uamsg
tests_unit_test_uamsg_SOURCES = tests/unit/test_uamsg.c opcua-glue/client/uamsg.c \
	opcua-glue/client/uabin.c
tests_unit_test_uamsg_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/opcua-glue/client \
	-I$(top_srcdir)/opcua-glue/include
tests_unit_test_uamsg_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_uamsg_LDADD = $(CMOCKA_LIBS) $(CRYPTO_LIBS)
tests_unit_test_uamsg_LDFLAGS = $(UK_TEST_LINKFLAGS)

# appcert.c and certinfo.c are compiled straight into the test; the PKI store
# calls (uakey_pki_add_cert/_write_own/_name_valid) are recorders in the test
# itself, so pki_store.c and libuakey.la must not be linked.
tests_unit_test_appcert_SOURCES = tests/unit/test_appcert.c \
	opcua-glue/appcert.c opcua-glue/certinfo.c opcua-glue/err.c opcua-glue/ukua_int.h
tests_unit_test_appcert_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/opcua-glue/include
tests_unit_test_appcert_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_appcert_LDADD = libukcommon.la $(CMOCKA_LIBS) $(CRYPTO_LIBS)
tests_unit_test_appcert_LDFLAGS = $(UK_TEST_LINKFLAGS)

# digests.c is compiled straight into the test: its constants are checked
# against OpenSSL's own encoders.
tests_unit_test_digests_SOURCES = tests/unit/test_digests.c provider/digests.c
tests_unit_test_digests_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_digests_LDADD = $(CMOCKA_LIBS) $(CRYPTO_LIBS)
tests_unit_test_digests_LDFLAGS = $(UK_TEST_LINKFLAGS)

# oaep.c is compiled straight into the test: decoded against OpenSSL's own
# OAEP encryption.
tests_unit_test_oaep_SOURCES = tests/unit/test_oaep.c provider/oaep.c
tests_unit_test_oaep_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_oaep_LDADD = $(CMOCKA_LIBS) $(CRYPTO_LIBS)
tests_unit_test_oaep_LDFLAGS = $(UK_TEST_LINKFLAGS)

# keyref.c is compiled straight into the test (no provider needed).
tests_unit_test_keyref_SOURCES = tests/unit/test_keyref.c \
	provider/keyref.c provider/keyref.h
tests_unit_test_keyref_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_keyref_LDADD = $(CMOCKA_LIBS) $(CRYPTO_LIBS)
tests_unit_test_keyref_LDFLAGS = $(UK_TEST_LINKFLAGS)

# Written with pkcs11/: linked against the backend library.
tests_unit_test_pin_SOURCES = tests/unit/test_pin.c
tests_unit_test_pin_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_pin_LDADD = libukp11.la $(CMOCKA_LIBS) $(P11KIT_LIBS) $(CRYPTO_LIBS)
tests_unit_test_pin_LDFLAGS = $(UK_TEST_LINKFLAGS)

tests_unit_test_uri_SOURCES = tests/unit/test_uri.c
tests_unit_test_uri_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_uri_LDADD = libukp11.la $(CMOCKA_LIBS) $(P11KIT_LIBS) $(CRYPTO_LIBS)
tests_unit_test_uri_LDFLAGS = $(UK_TEST_LINKFLAGS)
else
UNIT_TESTS =
endif

# ---- C integration tests (tests/integration/t_*.c) ------------------------------
# Public OpenSSL API only, the provider loaded through OPENSSL_CONF (set per
# test by run-test.sh), URIs and files from the UK_* environment.
# >>> ADD NEW INTEGRATION TESTS HERE: append to INTEGRATION_TESTS and copy
# >>> the three tests_integration_t_stack_calls_* lines for the new name.
INTEGRATION_TESTS = tests/integration/t_stack_calls

tests_integration_t_stack_calls_SOURCES = tests/integration/t_stack_calls.c
tests_integration_t_stack_calls_LDADD = $(CRYPTO_LIBS)
tests_integration_t_stack_calls_LDFLAGS = $(UK_TEST_LINKFLAGS)

INTEGRATION_TESTS += tests/integration/t_fork
tests_integration_t_fork_SOURCES = tests/integration/t_fork.c tests/integration/tutil.h
tests_integration_t_fork_LDADD = $(CRYPTO_LIBS)
tests_integration_t_fork_LDFLAGS = $(UK_TEST_LINKFLAGS)

# Every SecurityPolicy the way an unmodified OpenSSL-based stack calls it.
INTEGRATION_TESTS += tests/integration/t_stack_policies
tests_integration_t_stack_policies_SOURCES = tests/integration/t_stack_policies.c tests/integration/tutil.h
tests_integration_t_stack_policies_LDADD = $(CRYPTO_LIBS)
tests_integration_t_stack_policies_LDFLAGS = $(UK_TEST_LINKFLAGS)

# Helper programs the CLI scripts call (not tests themselves).
check_PROGRAMS += tests/tools/uk_derive tests/tools/uk_signloop
tests_tools_uk_derive_SOURCES = tests/tools/uk_derive.c
tests_tools_uk_derive_LDADD = $(CRYPTO_LIBS)
tests_tools_uk_derive_LDFLAGS = $(UK_TEST_LINKFLAGS)
tests_tools_uk_signloop_SOURCES = tests/tools/uk_signloop.c
tests_tools_uk_signloop_LDADD = $(CRYPTO_LIBS)
tests_tools_uk_signloop_LDFLAGS = $(UK_TEST_LINKFLAGS)
# libuakey's security-policy adapter from the shell (tests/tool/interop_node_policy.sh).
check_PROGRAMS += tests/tools/uk_policy
tests_tools_uk_policy_SOURCES = tests/tools/uk_policy.c
tests_tools_uk_policy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/opcua-glue/include
tests_tools_uk_policy_LDADD = libuakey.la $(CRYPTO_LIBS)
tests_tools_uk_policy_LDFLAGS = $(UK_TEST_LINKFLAGS)

# libuakey's key functions on a real token, without openssl.cnf.
INTEGRATION_TESTS += tests/integration/t_libuakey_keys
tests_integration_t_libuakey_keys_SOURCES = tests/integration/t_libuakey_keys.c \
	tests/integration/tutil.h
tests_integration_t_libuakey_keys_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/opcua-glue/include
tests_integration_t_libuakey_keys_LDADD = libuakey.la $(CRYPTO_LIBS)
tests_integration_t_libuakey_keys_LDFLAGS = $(UK_TEST_LINKFLAGS)

# The fault-injection shim: a PKCS#11 module passing calls through to
# SoftHSM (UK_TEST_TARGET), injecting UK_TEST_FAULT, counting calls.
check_LTLIBRARIES += tests/p11shim/p11shim.la
tests_p11shim_p11shim_la_SOURCES = tests/p11shim/p11shim.c
tests_p11shim_p11shim_la_CPPFLAGS = $(P11KIT_CFLAGS)
tests_p11shim_p11shim_la_LDFLAGS = -module -avoid-version -shared -no-undefined \
	-rpath '$(abs_builddir)/tests/p11shim'
tests_p11shim_p11shim_la_LIBADD = -ldl -lpthread
# <<< end of integration tests

# ---- openssl CLI tests (one behaviour per script) ------------------------------
CLI_TESTS = \
	tests/cli/env_setup.sh \
	tests/cli/pkey_pubout.sh \
	tests/cli/pkey_text.sh \
	tests/cli/x509_cert.sh \
	tests/cli/rsa_sign_pkcs1.sh \
	tests/cli/rsa_sign_pss.sh \
	tests/cli/rsa_dgst_pss.sh \
	tests/cli/ecdsa_sign.sh \
	tests/cli/ed25519_sign.sh \
	tests/cli/rsa_decrypt.sh \
	tests/cli/oaep_fallback_off.sh \
	tests/cli/ecdh_derive.sh \
	tests/cli/req_x509.sh \
	tests/cli/genpkey_token.sh \
	tests/cli/keyref_files.sh \
	tests/cli/tls_server.sh \
	tests/cli/load_order.sh \
	tests/cli/debug_log.sh \
	tests/cli/err_uri.sh \
	tests/cli/err_objects.sh \
	tests/cli/err_module_token.sh \
	tests/cli/err_wrong_pin.sh \
	tests/cli/err_key_use.sh \
	tests/cli/err_keyref_garbage.sh \
	tests/cli/fault_shim.sh

# ---- the uakey command line (tests/tool/*.sh) ---------------------------------
TOOL_TESTS = \
	tests/tool/cli_usage.sh tests/tool/token_list.sh tests/tool/key_generate.sh \
	tests/tool/keyref.sh tests/tool/pki_init.sh tests/tool/cert_create_rsa.sh \
	tests/tool/cert_create_ec.sh tests/tool/cert_csr_install.sh tests/tool/cert_show.sh \
	tests/tool/verify_trust.sh tests/tool/trust_issuer_crl.sh tests/tool/crl_off.sh tests/tool/rejected_full.sh \
	tests/tool/err_missing_app_uri.sh tests/tool/err_unknown_key.sh tests/tool/err_pki_dir.sh \
	tests/tool/err_corrupt_trusted.sh tests/tool/err_bad_name.sh tests/tool/cert_renew.sh \
	tests/tool/interop_node_cert.sh tests/tool/interop_node_policy.sh \
	tests/tool/ua_server_selftest.sh tests/tool/connect_node.sh \
	tests/tool/interop_node_uamsg.sh tests/tool/connect_bad.sh
EXTRA_DIST += $(TOOL_TESTS) tests/tool/helpers.sh tests/interop/package.json \
	tests/interop/package-lock.json tests/interop/check_cert.js \
	tests/interop/policy_check.js tests/lsan.supp tests/tool/ua_server_lib.sh \
	tests/interop/ua_server.mjs tests/interop/ua_client_check.mjs \
	tests/interop/uamsg_vectors.mjs tests/interop/bad_server.mjs

check_PROGRAMS += $(UNIT_TESTS) $(INTEGRATION_TESTS)
TESTS += $(UNIT_TESTS) $(INTEGRATION_TESTS) $(CLI_TESTS) $(TOOL_TESTS)

# ---- memcheck: compiled tests again under valgrind --------------------------
MEMCHECK_CHECKER = valgrind --error-exitcode=80 --quiet --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \
	--suppressions=$(abs_top_srcdir)/tests/valgrind.supp
memcheck: all
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS) $(INTEGRATION_TESTS)' \
		UK_CHECKER='$(MEMCHECK_CHECKER)'

# ---- fuzz: the client's chunk and message decoders under libFuzzer ----------
# make fuzz [FUZZ_SECONDS=60]: built with clang (-fsanitize=fuzzer,address),
# the decoders compiled into the target, the rest from libuakey.  Seeds:
# tests/fuzz/corpus (real node-opcua responses captured by
# tests/tool/connect_node.sh through UAKEY_CAPTURE_DIR) plus any fresh
# captures in tests/tmp/fuzz-capture.
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_SRCS = $(srcdir)/tests/fuzz/fuzz_client.c $(srcdir)/opcua-glue/client/uachan.c \
	$(srcdir)/opcua-glue/client/uamsg.c $(srcdir)/opcua-glue/client/uabin.c
fuzz: libuakey.la
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: $(FUZZ_CC) not found (apt-get install clang)"; exit 1; }
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-include config.h -I. -I$(srcdir) -I$(srcdir)/common -I$(srcdir)/opcua-glue \
		-I$(srcdir)/opcua-glue/include -I$(srcdir)/opcua-glue/client \
		-DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED -Wall -Wextra -Werror \
		-o tests/fuzz/fuzz_client $(FUZZ_SRCS) .libs/libuakey.so .libs/libukcommon.a \
		-Wl,-rpath,$(abs_top_builddir)/.libs $(CRYPTO_LIBS)
	rm -rf tests/tmp/fuzz-corpus && mkdir -p tests/tmp/fuzz-corpus
	cp $(srcdir)/tests/fuzz/corpus/* tests/tmp/fuzz-corpus/
	-cp tests/tmp/fuzz-capture/* tests/tmp/fuzz-corpus/ 2>/dev/null
	@echo "fuzzing for $(FUZZ_SECONDS) s (log: tests/tmp/fuzz.log)"
	@if ASAN_OPTIONS=detect_leaks=1 timeout -k 10 $$(( $(FUZZ_SECONDS) + 120 )) \
		tests/fuzz/fuzz_client -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-rss_limit_mb=2048 -max_len=70000 -print_final_stats=1 \
		-artifact_prefix=tests/tmp/ tests/tmp/fuzz-corpus >tests/tmp/fuzz.log 2>&1; then \
		grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' tests/tmp/fuzz.log; \
	else \
		tail -n 80 tests/tmp/fuzz.log; echo "make fuzz: the fuzz target failed"; exit 1; \
	fi
EXTRA_DIST += tests/fuzz/fuzz_client.c tests/fuzz/corpus

# ---- demo: the README's first command ends here -------------------------------
demo: all
	$(UK_SETUP_ENV) OPENSSL_MODULES='$(abs_top_builddir)/provider/.libs' \
		$(SHELL) $(srcdir)/tests/demo.sh

.PHONY: demo memcheck fuzz uk-clean-tests

# Token copies, scratch dirs, demo leftovers.
clean-local: uk-clean-tests
uk-clean-tests:
	-rm -rf tests/softhsm tests/tmp tests/demo-tmp tests/fuzz/fuzz_client
