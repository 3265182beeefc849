# mk/bench.mk - `make bench`, included by the top-level Makefile (issue #7).
#
#   build/validate-bench   rl_validate_message throughput (bench/validate_bench.c)
#   make bench             the whole benchmark: one table on stdout, build/bench.json
#
# BENCH_ARGS passes options to bench/bench.py (e.g. BENCH_ARGS="--reports 300
# --idle-seconds 120"). Uses from the Makefile: B, CC, CFLAGS_BASE, CFLAGS, LWS_LIBS, PY.

.PHONY: bench

$(B)/validate-bench: bench/validate_bench.c $(B)/libreportlink-core.a
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $< -o $@ $(B)/libreportlink-core.a $(LWS_LIBS)

bench:
	@tools/ensure-deps.sh bench
	@$(MAKE) --no-print-directory all $(B)/validate-bench
	@$(PY) bench/bench.py $(BENCH_ARGS)
