# mk/fuzz.mk - fuzz targets for the message validator and the HTML and RTF cleaners.
#
#   make fuzz               runs each libFuzzer target (FUZZ_RUNS executions each,
#                           default 10 million) from its seed corpus in tests/fuzz/corpus
#   build/fuzz/replay_*     plain-C drivers that replay a corpus under ASan + UBSan:
#                           make check runs them, so every seed and every finding
#                           ever added to the corpus is re-tested on each run.
# Uses from mk/build.mk: B, libs_of, link (FUZZ_CC is set there).

FUZZ_RUNS  ?= 10000000
FUZZ_TARGETS := validate html_clean rtf_clean

REPLAY_BINS := $(addprefix $(B)/fuzz/replay_,$(FUZZ_TARGETS))

# The replay drivers are the asan flavour; the libFuzzer targets the libfuzzer flavour
# (clang, mk/build.mk). Each links the core, format and base layers; the linker takes
# what the target uses.
$(REPLAY_BINS): $(B)/fuzz/replay_%: $(B)/asan/obj/tests/fuzz/replay.o $(B)/asan/obj/tests/fuzz/fuzz_%.o \
		$(call libs_of,asan,format core base)
	$(call link,asan)

$(B)/fuzz/fuzz_%: $(B)/libfuzzer/obj/tests/fuzz/fuzz_%.o $(call libs_of,libfuzzer,format core base)
	$(call link,libfuzzer)

.PHONY: fuzz
fuzz: $(addprefix $(B)/fuzz/fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(B)/fuzz/corpus_$$t; \
	  echo "=== fuzz_$$t: $(FUZZ_RUNS) runs"; \
	  $(B)/fuzz/fuzz_$$t -runs=$(FUZZ_RUNS) -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix=$(B)/fuzz/crash_$$t- $(B)/fuzz/corpus_$$t tests/fuzz/corpus/$$t || exit 1; \
	done
