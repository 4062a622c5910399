# uakey: make bench (included from the top Makefile.am; paths are from the
# top).  A benchmark, not a test: it prints rates, times and ratios and
# fails only when a path gives wrong results, never because it is slow.
#
#   make bench                          both parts (about a minute)
#   make bench BENCH_ARGS='-t 5 -j 2'   adapter: 5 s per path, two threads
#   make bench BENCH_CONNECT_ARGS='-n 30'   connect: 30 connects per key
#   make bench BENCH_ONLY=connect       one part only (adapter or connect)
#
# Part 1, bench/uk_bench: the policy adapter's sign and decrypt rates with
# a token key vs the same key in memory vs raw Cryptoki.  Part 2,
# bench/uk_bench_connect: the time of one full OPC UA connect
# (uakey_connect) with the token key vs the same key in memory, against the
# node-opcua test server (tests/interop; skipped with a note when node or
# its node_modules are missing).  Both are built only for this target
# (EXTRA_PROGRAMS: not by make all, not installed).  bench/run-bench.sh
# makes a throwaway SoftHSM2 token under a mktemp directory, the way
# tests/setup-softhsm.sh does, starts and stops the server, runs the
# programs and removes the directory.

EXTRA_PROGRAMS = bench/uk_bench bench/uk_bench_connect
BENCH_SHARED = bench/uk_bench_token.c bench/uk_bench_token.h
bench_uk_bench_SOURCES = bench/uk_bench.c $(BENCH_SHARED)
bench_uk_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/opcua-glue/include
bench_uk_bench_LDADD = libuakey.la $(P11KIT_LIBS) $(CRYPTO_LIBS)
bench_uk_bench_LDFLAGS = $(AM_LDFLAGS) -no-install
# uk_bench_connect counts private-key operations by defining the adapter's
# uakey_policy_sign/_decrypt itself (passing each call on to libuakey's)
bench_uk_bench_connect_SOURCES = bench/uk_bench_connect.c $(BENCH_SHARED)
bench_uk_bench_connect_CPPFLAGS = $(bench_uk_bench_CPPFLAGS)
bench_uk_bench_connect_LDADD = $(bench_uk_bench_LDADD)
bench_uk_bench_connect_LDFLAGS = $(AM_LDFLAGS) -no-install
EXTRA_DIST += bench/run-bench.sh
CLEANFILES += bench/uk_bench$(EXEEXT) bench/uk_bench_connect$(EXEEXT)

BENCH_ARGS =
BENCH_CONNECT_ARGS =
BENCH_ONLY =
# "all" first, then the programs in a second step: all-am runs in a
# sub-make, and building them beside it under -j would race on libuakey.la.
bench: all
	$(AM_V_at)$(MAKE) $(AM_MAKEFLAGS) bench/uk_bench$(EXEEXT) bench/uk_bench_connect$(EXEEXT)
	$(AM_V_at)SOFTHSM2_UTIL='$(SOFTHSM2_UTIL)' SOFTHSM2_MODULE='$(SOFTHSM2_MODULE)' \
		OPENSSL_MODULES='$(abs_top_builddir)/provider/.libs' \
		UK_BENCH_CONNECT='$(abs_top_builddir)/bench/uk_bench_connect$(EXEEXT)' \
		UK_BENCH_CONNECT_ARGS='$(BENCH_CONNECT_ARGS)' UK_BENCH_ONLY='$(BENCH_ONLY)' \
		UK_INTEROP_DIR='$(abs_top_srcdir)/tests/interop' \
		$(SHELL) $(srcdir)/bench/run-bench.sh \
		'$(abs_top_builddir)/bench/uk_bench$(EXEEXT)' $(BENCH_ARGS)

.PHONY: bench
