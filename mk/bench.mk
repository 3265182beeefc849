# mk/bench.mk - `make bench`, included by the top-level Makefile (issue #7).
#
#   build/validate-bench   rl_validate_message throughput (bench/validate_bench.c)
#   make bench             the whole benchmark: one table on stdout, build/bench.json
#
# BENCH_ARGS passes options to bench/bench.py (e.g. BENCH_ARGS="--reports 300
# --idle-seconds 120"). Uses from the Makefile and mk/build.mk: B, BUILD_JOBS,
# libs_of, link, PY.

.PHONY: bench

$(B)/validate-bench: $(B)/normal/obj/bench/validate_bench.o $(call libs_of,normal,core base)
	$(call link,normal)

bench:
	@tools/ensure-deps.sh bench
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all $(B)/validate-bench
	@$(PY) bench/bench.py $(BENCH_ARGS)
