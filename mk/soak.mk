# mk/soak.mk - `make soak`: the long runs that do not belong in `make check`.
#
#   make soak    tests/integration/soak.py against the Node test server, about 5 minutes:
#                the server down SOAK_DOWN_S (180 s) then back, with the real 1 s / 60 s
#                retry schedule; then SOAK_CYCLES (200) reconnect cycles (drop, 1001, 1011,
#                restart), a report after each, the client's memory compared;
#                then `make soak-memory` (mk/soak-memory.mk): the extension's memory in
#                LibreOffice over 1,000 reports and 200 reconnections, about 5 minutes more.
#
# SOAK_ENV passes the knobs, e.g. make soak SOAK_ENV="SOAK_DOWN_S=600 SOAK_CYCLES=1000".
# Uses from the Makefile: PY.

SOAK_ENV ?=

.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all
	@tests/integration/setup.sh
	@tests/run-runners.sh "$(SOAK_ENV) $(PY) tests/integration/soak.py"
	@$(MAKE) --no-print-directory soak-memory
