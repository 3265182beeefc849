# mk/sanitize.mk - the core under ThreadSanitizer, and reportlink-listen under
# valgrind memcheck. Included by the top-level Makefile; `make check` runs both.
#
#   build/tsan/reportlink-listen   the client with -fsanitize=thread, driven by
#                                  tests/integration/test_listen.py
#   build/tsan/unit/test_*         every unit test with -fsanitize=thread; the threaded
#                                  ones: test_client (the core's command queue and status
#                                  from four threads) and test_mtqueue (the component's
#                                  queue to the main thread, four producers)
#   make tsan                      builds and runs both (the listen scenarios only
#                                  against ws-server, which scripts every fault; the
#                                  retry-schedule timing tests are left out here and
#                                  in the ASan run: they measure time, not memory)
#   make valgrind                  tests/integration/test_valgrind.py: a fault scenario
#                                  under memcheck, no error and no definite leak
#
# TSAN_ENV: halt_on_error makes the first report end the process, so a runner
# cannot print its summary over a race. libwebsockets and OpenSSL are not
# instrumented; tests/tsan.supp may only name their frames (see the file).
# Uses from the Makefile and mk/build.mk: B, TSAN_BINS, TSAN_LISTEN, PY.

TSAN_ENV   := TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp
# TSAN_BINS and TSAN_LISTEN, and how they are built (TSAN_CC, the tsan flavour): mk/build.mk.

# The runner commands, for `make check` and `make tsan`.
TSAN_RUNNERS := $(foreach t,$(TSAN_BINS),"$(TSAN_ENV) $(t)") \
  "$(TSAN_ENV) REPORTLINK_LISTEN_BIN=$(TSAN_LISTEN) $(PY) tests/integration/test_listen.py '[ws-server]' '-full jitter'"
VALGRIND_RUNNERS := "$(PY) tests/integration/test_valgrind.py ws-server"

.PHONY: tsan valgrind
tsan: all $(TSAN_BINS) $(TSAN_LISTEN)
	@tests/integration/setup.sh
	@tests/run-runners.sh $(TSAN_RUNNERS)

valgrind: all
	@tests/integration/setup.sh
	@tests/run-runners.sh $(VALGRIND_RUNNERS)
