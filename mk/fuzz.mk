# mk/fuzz.mk - fuzz targets for the message validator and the HTML and RTF cleaners.
#
#   make fuzz               runs each libFuzzer target (FUZZ_RUNS executions each,
#                           default 10 million) from its seed corpus in tests/fuzz/corpus
#   build/fuzz/replay_*     plain-C drivers that replay a corpus under ASan + UBSan:
#                           make check runs them, so every seed and every finding
#                           ever added to the corpus is re-tested on each run.
# Uses from the Makefile: B, CSTD, WARN, CORE_SRC, CORE_HDR, LWS_LIBS.

FUZZ_CC    ?= clang
FUZZ_RUNS  ?= 10000000
FUZZ_TARGETS := validate html_clean rtf_clean
FUZZ_SRC_validate   := $(CORE_SRC)
FUZZ_SRC_html_clean := $(wildcard src/format/*.c)
FUZZ_SRC_rtf_clean  := $(wildcard src/format/*.c)
FUZZ_INC   := -I src/core -I src/format $(shell pkg-config --cflags libcjson 2>/dev/null)
FUZZ_SAN   := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

REPLAY_BINS := $(addprefix $(B)/fuzz/replay_,$(FUZZ_TARGETS))

$(B)/fuzz/replay_%: tests/fuzz/replay.c tests/fuzz/fuzz_%.c $(CORE_SRC) $(CORE_HDR) $(wildcard src/format/*)
	@mkdir -p $(B)/fuzz
	$(CC) $(CSTD) $(WARN) $(FUZZ_SAN) $(FUZZ_INC) tests/fuzz/replay.c tests/fuzz/fuzz_$*.c \
	  $(FUZZ_SRC_$*) -o $@ $(LWS_LIBS)

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_SRC) $(CORE_HDR) $(wildcard src/format/*)
	@mkdir -p $(B)/fuzz
	$(FUZZ_CC) $(CSTD) $(WARN) -Wno-unknown-warning-option $(FUZZ_SAN) -fsanitize=fuzzer \
	  $(FUZZ_INC) tests/fuzz/fuzz_$*.c $(FUZZ_SRC_$*) -o $@ $(LWS_LIBS)

.PHONY: fuzz
fuzz: $(addprefix $(B)/fuzz/fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(B)/fuzz/corpus_$$t; \
	  echo "=== fuzz_$$t: $(FUZZ_RUNS) runs"; \
	  $(B)/fuzz/fuzz_$$t -runs=$(FUZZ_RUNS) -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix=$(B)/fuzz/crash_$$t- $(B)/fuzz/corpus_$$t tests/fuzz/corpus/$$t || exit 1; \
	done
