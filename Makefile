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
CJSON_CFLAGS := $(shell pkg-config --cflags libcjson 2>/dev/null)
LWS_LIBS := -lwebsockets -lcjson -lssl -lcrypto -lpthread
PY      := /usr/bin/python3

# The builds that make check, run, bench and soak start use the jobs given
# (make -j2 check) or, when none are, one per core. Tests still run one at a time.
NPROC      := $(shell nproc 2>/dev/null || echo 2)
BUILD_JOBS  = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(NPROC))

.PHONY: all deps deps-run deps-build check unit unit-asan integration run help clean
.DEFAULT_GOAL := all

# Objects, libraries and programs of every flavour: mk/build.mk.
include mk/build.mk

all: $(B)/reportlink-listen $(B)/reportlink-devserver $(B)/reportlink.oxt $(LIBS_normal)

help:
	@echo "make          build the extension (build/reportlink.oxt, Linux half) and the two tools"
	@echo "make package  build/reportlink.oxt for Linux x86-64 and Windows x64 (cross-builds the DLL)"
	@echo "make run      install what is missing, build, show ReportLink at work"
	@echo "make check    install what is missing, build, run every test"
	@echo "make soak     the long fault runs (server down for minutes, 200 reconnects), ~5 min"
	@echo "make tsan     the core under ThreadSanitizer; make valgrind: listen under memcheck"
	@echo "make fuzz-frames  1,000,000 fuzzed frames against the client under ASan+UBSan, ~10 min"
	@echo "make windows  reportlink.dll, reportlink-listen.exe and the unit tests for Windows x64"
	@echo "make check-windows-unit  the unit tests under wine (docs/windows-build.md)"
	@echo "make clean    remove build/"

deps:
	@tools/ensure-deps.sh check
deps-run:
	@tools/ensure-deps.sh run
deps-build:
	@tools/ensure-deps.sh build

unit: $(UNIT_BINS)
	@tests/run-runners.sh $^

unit-asan: $(ASAN_BINS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run-runners.sh $^

integration: all
	@tests/integration/setup.sh
	@tests/run-runners.sh "$(PY) tests/integration/test_devserver.py" \
	  "$(PY) tests/integration/test_listen.py" "$(PY) tests/integration/test_frames.py"

# Everything make check builds before its runners start (built in parallel).
CHECK_BUILD = all $(UNIT_BINS) $(ASAN_BINS) $(KEYRING_BINS) $(ASAN_LISTEN) $(REPLAY_BINS) $(TSAN_BINS) $(TSAN_LISTEN)

# Everything, one summary: unit tests, the core under ASan+UBSan, integration, the
# Windows half under wine, the extension in LibreOffice. The .oxt the office tests
# install is the two-platform one that make package ships (OXT_HALVES).
# (windows-deps after deps, never beside it: both may install packages.)
check: deps
	@$(MAKE) --no-print-directory windows-deps
	@$(MAKE) --no-print-directory $(BUILD_JOBS) OXT_HALVES="linux windows" $(CHECK_BUILD) $(WIN_ALL)
	@tests/integration/setup.sh
	@$(WIN_WINE_START)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run-runners.sh \
	  $(UNIT_BINS) $(ASAN_BINS) \
	  $(WIN_UNIT_RUNNERS) \
	  "$(PY) tests/windows/check_dll.py" \
	  "REPORTLINK_LISTEN_BIN=$(B)/windows/reportlink-listen.exe $(PY) tests/integration/test_listen.py" \
	  "$(B)/fuzz/replay_validate tests/fuzz/corpus/validate" \
	  "$(B)/fuzz/replay_html_clean tests/fuzz/corpus/html_clean" \
	  "$(B)/fuzz/replay_rtf_clean tests/fuzz/corpus/rtf_clean" \
	  "$(PY) tests/integration/test_devserver.py" \
	  "$(PY) tests/integration/test_listen.py" \
	  "REPORTLINK_LISTEN_BIN=$(ASAN_LISTEN) $(PY) tests/integration/test_listen.py '-full jitter'" \
	  "$(PY) tests/integration/test_frames.py" \
	  "REPORTLINK_LISTEN_BIN=$(ASAN_LISTEN) $(PY) tests/integration/test_frames.py" \
	  "$(FUZZ_FRAMES_RUNNER)" \
	  $(TSAN_RUNNERS) $(VALGRIND_RUNNERS) \
	  "$(PY) tests/lo/test_component.py" \
	  "$(PY) tests/lo/test_writer.py" \
	  "$(PY) tests/lo/test_docx.py" \
	  "$(PY) tests/lo/test_ui.py" \
	  "$(PY) tests/lo/test_screens.py" \
	  "$(PY) tests/lo/test_options.py" \
	  "$(PY) tests/lo/test_keystore.py" \
	  "$(PY) tests/lo/test_hardening.py" \
	  "$(PY) tests/lo/test_frames_office.py"

run: deps-run
	@$(MAKE) --no-print-directory $(BUILD_JOBS) all
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
include mk/windows.mk
include mk/package.mk
