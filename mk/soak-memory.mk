# mk/soak-memory.mk - `make soak-memory` (issue #6), included by the top-level Makefile.
#
#   make soak-memory   the extension's memory over 1,000 placed reports and 200
#                      reconnections in a headless office (bench/memory_soak.py);
#                      a table on stdout, every sample in build/memory_soak.json.
#                      About 10 minutes.
#
# SOAK_MEMORY_ARGS passes options (e.g. "--reports 200 --reconnects 40").
# `make soak` (mk/soak.mk) runs it with the other long tests.
# Uses from the Makefile: B, PY.

.PHONY: soak-memory

soak-memory: deps
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all
	@$(PY) bench/memory_soak.py $(SOAK_MEMORY_ARGS)
