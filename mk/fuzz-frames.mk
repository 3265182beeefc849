# mk/fuzz-frames.mk - the structure-aware fuzz of the client's receive path.
#
#   make fuzz-frames      tests/servers/frame-fuzz.mjs against build/asan/reportlink-listen:
#                         FUZZ_FRAMES_SEEDS runs of FUZZ_FRAMES_CHUNK frames each (default
#                         10 x 100,000 = 1,000,000 frames, about 20 minutes on two cores)
#   FUZZ_FRAMES_RUNNER    the short run make check adds to its runners (20,000 frames,
#                         seed 1, well under a minute)
#
# A finding names its seed and connection plan; replay it with
#   node tests/servers/frame-fuzz.mjs --seed S --first-conn K --frames 200 --log-frames
# e.g. make fuzz-frames FUZZ_FRAMES_SEEDS="7" FUZZ_FRAMES_CHUNK=500000
# Uses from the Makefile: B, PY.

FUZZ_FRAMES_CHUNK ?= 100000
FUZZ_FRAMES_SEEDS ?= 101 102 103 104 105 106 107 108 109 110
FUZZ_FRAMES_RUNNER := REPORTLINK_LISTEN_BIN=$(B)/asan/reportlink-listen $(PY) tests/integration/fuzz_frames.py --frames 20000 --seed 1

.PHONY: fuzz-frames
fuzz-frames: $(B)/asan/reportlink-listen
	@for s in $(FUZZ_FRAMES_SEEDS); do \
	  echo "=== fuzz_frames.py: seed $$s, $(FUZZ_FRAMES_CHUNK) frames"; \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    REPORTLINK_LISTEN_BIN=$(B)/asan/reportlink-listen \
	    $(PY) tests/integration/fuzz_frames.py --frames $(FUZZ_FRAMES_CHUNK) --seed $$s || exit 1; \
	done
