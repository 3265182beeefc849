# mk/bench.mk - `make bench`, included by the top-level Makefile (issue #7).
#
#   build/validate-bench   rl_validate_message throughput (bench/validate_bench.c)
#   make bench             the whole benchmark: one table on stdout, build/bench.json;
#                          against the system's LibreOffice, or the one whose program
#                          directory REPORTLINK_LO_PROGRAM names (tests/lo/office.py)
#   make bench-lo-25.2     the same against LibreOffice 25.2, unpacked (not installed)
#                          by tools/libreoffice-25.2.sh (mk/lo-25.2.mk); its results go to
#                          build/bench-lo-25.2.json, so both runs can be kept side by side
#
# BENCH_ARGS passes options to bench/bench.py (e.g. BENCH_ARGS="--reports 300
# --idle-seconds 120"). Uses from the Makefile and mk/build.mk: B, BUILD_JOBS,
# libs_of, link, PY.

.PHONY: bench bench-lo-25.2

$(B)/validate-bench: $(B)/normal/obj/bench/validate_bench.o $(call libs_of,normal,core base)
	$(call link,normal)

bench:
	@tools/ensure-deps.sh bench
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all $(B)/validate-bench
	@$(PY) bench/bench.py $(BENCH_ARGS)

bench-lo-25.2:
	@tools/ensure-deps.sh bench
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all $(B)/validate-bench
	@program=$$(tools/libreoffice-25.2.sh) && \
	  REPORTLINK_LO_PROGRAM=$$program $(PY) bench/bench.py --json $(B)/bench-lo-25.2.json $(BENCH_ARGS)
