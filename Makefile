# ReportLink - hand-written Makefile. `make help` lists the targets.
#   make run    installs what is missing, builds, shows the extension at work
#   make check  installs what is missing, builds, runs every test

CC      ?= cc
B       := build
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wno-format-truncation
# (-Wno-format-truncation: details and reasons are cut to bounded buffers on purpose.)
OPT     ?= -O2 -g
CFLAGS_BASE := $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden -I src/core \
           $(shell pkg-config --cflags libcjson 2>/dev/null)
LWS_LIBS := -lwebsockets -lcjson -lssl -lcrypto -lpthread
PY      := /usr/bin/python3

CORE_SRC := $(wildcard src/core/*.c)
CORE_OBJ := $(patsubst src/core/%.c,$(B)/core/%.o,$(CORE_SRC))
CORE_HDR := $(wildcard src/core/*.h)

DEVSERVER_SRC := $(wildcard tools/devserver/*.c)

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

.PHONY: all deps deps-run deps-build check unit unit-asan integration run help clean

all: $(B)/libreportlink-core.a $(B)/reportlink-listen $(B)/reportlink-devserver $(B)/reportlink.oxt

help:
	@echo "make          build the extension (build/reportlink.oxt) and the two tools"
	@echo "make run      install what is missing, build, show ReportLink at work"
	@echo "make check    install what is missing, build, run every test"
	@echo "make soak     the long fault runs (server down for minutes, 200 reconnects), ~5 min"
	@echo "make tsan     the core under ThreadSanitizer; make valgrind: listen under memcheck"
	@echo "make fuzz-frames  1,000,000 fuzzed frames against the client under ASan+UBSan, ~10 min"
	@echo "make clean    remove build/"

deps:
	@tools/ensure-deps.sh check
deps-run:
	@tools/ensure-deps.sh run
deps-build:
	@tools/ensure-deps.sh build

$(B)/core/%.o: src/core/%.c $(CORE_HDR) | $(B)/core
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -c $< -o $@

$(B)/libreportlink-core.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/reportlink-listen: tools/reportlink-listen.c $(B)/libreportlink-core.a
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $< -o $@ $(B)/libreportlink-core.a $(LWS_LIBS)

$(B)/reportlink-devserver: $(DEVSERVER_SRC) $(wildcard tools/devserver/*.h)
	$(CC) $(CFLAGS_BASE) $(CFLAGS) -I tools/devserver $(DEVSERVER_SRC) -o $@ $(LWS_LIBS) -lz

# The client with AddressSanitizer + UBSan, driven by the integration tests: the
# threaded, socket-facing half of the core is exercised there, not in unit tests.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
$(B)/asan/reportlink-listen: tools/reportlink-listen.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(B)/asan
	$(CC) $(CSTD) $(WARN) $(ASAN_FLAGS) -I src/core $(shell pkg-config --cflags libcjson) \
	  $< $(CORE_SRC) -o $@ $(LWS_LIBS)

$(B)/core $(B)/unit $(B)/unit-asan:
	mkdir -p $@

# Unit tests: one binary per module, linked with the core's sources and the
# UNO-free modules of the extension (src/component/inbox.c, spool.c and mtqueue.c, src/format/).
UNIT_SRC := $(CORE_SRC) src/component/inbox.c src/component/spool.c src/component/mtqueue.c $(wildcard src/format/*.c) \
            src/writer/memory.c src/ui/diffmark.c
UNIT_INC := -I tests/unit -I src/component -I src/format -I src/writer -I src/ui
UNIT_HDR := $(CORE_HDR) src/component/inbox.h src/component/spool.h src/component/mtqueue.h $(wildcard src/format/*.h) \
            src/writer/memory.h src/ui/diffmark.h
$(B)/unit/%: tests/unit/%.c tests/unit/testlib.h $(UNIT_SRC) $(UNIT_HDR) | $(B)/unit
	$(CC) $(CFLAGS_BASE) $(CFLAGS) $(UNIT_INC) $< $(UNIT_SRC) -o $@ $(LWS_LIBS)

$(B)/unit-asan/%: tests/unit/%.c tests/unit/testlib.h $(UNIT_SRC) $(UNIT_HDR) | $(B)/unit-asan
	$(CC) $(CFLAGS_BASE) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=all $(UNIT_INC) $< $(UNIT_SRC) -o $@ $(LWS_LIBS)

UNIT_BINS := $(addprefix $(B)/unit/,$(UNIT_TESTS))
ASAN_BINS := $(addprefix $(B)/unit-asan/,$(UNIT_TESTS))

unit: $(UNIT_BINS)
	@tests/run-runners.sh $^

unit-asan: $(ASAN_BINS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run-runners.sh $^

integration: all
	@tests/integration/setup.sh
	@tests/run-runners.sh "$(PY) tests/integration/test_devserver.py" \
	  "$(PY) tests/integration/test_listen.py" "$(PY) tests/integration/test_frames.py"

# Everything, one summary: unit tests, the core under ASan+UBSan, integration.
check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(ASAN_BINS) $(B)/asan/reportlink-listen $(REPLAY_BINS) \
	  $(TSAN_BINS) $(TSAN_LISTEN)
	@tests/integration/setup.sh
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run-runners.sh \
	  $(UNIT_BINS) $(ASAN_BINS) \
	  "$(B)/fuzz/replay_validate tests/fuzz/corpus/validate" \
	  "$(B)/fuzz/replay_html_clean tests/fuzz/corpus/html_clean" \
	  "$(B)/fuzz/replay_rtf_clean tests/fuzz/corpus/rtf_clean" \
	  "$(PY) tests/integration/test_devserver.py" \
	  "$(PY) tests/integration/test_listen.py" \
	  "REPORTLINK_LISTEN_BIN=$(B)/asan/reportlink-listen $(PY) tests/integration/test_listen.py '-full jitter'" \
	  "$(PY) tests/integration/test_frames.py" \
	  "REPORTLINK_LISTEN_BIN=$(B)/asan/reportlink-listen $(PY) tests/integration/test_frames.py" \
	  "$(FUZZ_FRAMES_RUNNER)" \
	  $(TSAN_RUNNERS) $(VALGRIND_RUNNERS) \
	  "$(PY) tests/lo/test_component.py" \
	  "$(PY) tests/lo/test_writer.py" \
	  "$(PY) tests/lo/test_docx.py" \
	  "$(PY) tests/lo/test_ui.py" \
	  "$(PY) tests/lo/test_options.py" \
	  "$(PY) tests/lo/test_hardening.py" \
	  "$(PY) tests/lo/test_frames_office.py"

run: deps-run
	@$(MAKE) --no-print-directory all
	@$(PY) tools/run-demo.py

clean:
	rm -rf $(B)
include mk/extension.mk
include mk/fuzz.mk
include mk/fuzz-frames.mk
include mk/bench.mk
include mk/soak-memory.mk
include mk/sanitize.mk
include mk/soak.mk
include mk/lo-25.2.mk
