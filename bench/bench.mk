# uakey: make bench (included from the top Makefile.am; paths are from the
# top).  A benchmark, not a test: it prints rates and ratios and fails only
# when a path gives wrong results, never because it is slow.
#
#   make bench                          the policy adapter's rates (2 s per path)
#   make bench BENCH_ARGS='-t 5 -j 2'   5 s per path, two threads per path
#
# bench/uk_bench is built only for this target (EXTRA_PROGRAMS: not by
# make all, not installed).  bench/run-bench.sh makes a throwaway SoftHSM2
# token under a mktemp directory, the way tests/setup-softhsm.sh does, runs
# the program on it and removes the directory.

EXTRA_PROGRAMS = bench/uk_bench
bench_uk_bench_SOURCES = bench/uk_bench.c
bench_uk_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/opcua-glue/include
bench_uk_bench_LDADD = libuakey.la $(P11KIT_LIBS) $(CRYPTO_LIBS)
bench_uk_bench_LDFLAGS = $(AM_LDFLAGS) -no-install
EXTRA_DIST += bench/run-bench.sh
CLEANFILES += bench/uk_bench$(EXEEXT)

BENCH_ARGS =
# "all" first, then the program in a second step: all-am runs in a sub-make,
# and building bench/uk_bench beside it under -j would race on libuakey.la.
bench: all
	$(AM_V_at)$(MAKE) $(AM_MAKEFLAGS) bench/uk_bench$(EXEEXT)
	$(AM_V_at)SOFTHSM2_UTIL='$(SOFTHSM2_UTIL)' SOFTHSM2_MODULE='$(SOFTHSM2_MODULE)' \
		OPENSSL_MODULES='$(abs_top_builddir)/provider/.libs' \
		$(SHELL) $(srcdir)/bench/run-bench.sh \
		'$(abs_top_builddir)/bench/uk_bench$(EXEEXT)' $(BENCH_ARGS)

.PHONY: bench
