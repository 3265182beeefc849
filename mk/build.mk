# mk/build.mk - how every C source becomes an object, a library and a program.
# Included by the top-level Makefile before the other mk/ files.
#
# Every source is compiled once per flavour into build/<flavour>/obj/<its path>.o,
# with its header dependencies recorded next to it (-MMD -MP: build/.../x.d):
#
#   normal     $(CC) -O2 -g -fPIC -fvisibility=hidden: the extension's reportlink.so,
#              the tools, build/unit/ and build/validate-bench
#   asan       $(CC) AddressSanitizer + UBSan: build/unit-asan/, build/asan/reportlink-listen,
#              build/fuzz/replay_*
#   tsan       $(TSAN_CC) ThreadSanitizer: build/tsan/unit/, build/tsan/reportlink-listen
#   libfuzzer  $(FUZZ_CC) libFuzzer (make fuzz only): build/fuzz/fuzz_*
#   windows    x86_64-w64-mingw32-gcc (make windows only: mk/windows.mk adds it
#              with the rules below): build/windows/
#
# Each layer of src/ is a static library per flavour, build/<flavour>/lib/
# libreportlink-<layer>.a; programs link the libraries they need, and the linker
# takes from an archive only the objects a program uses. The sanitizer flavours
# build, of the layers that talk to LibreOffice, only their modules without UNO
# (the ones the unit tests exercise): nothing else of them runs outside an office.
#
# Layers, bottom up (see CONVENTIONS.md, habit 11):
#   base                  the C library only: errors, the bounded buffer, the log,
#                         the words (src/base/README.md)
#   core, format          base
#   uno                   base
#   writer                format, core, uno
#   component             writer and everything below
#   ui                    component and everything below
#   entry                 everything: the one place that wires the layers together
#                         (reportlink.so's entry points, and the keyring helper's main)
# INC_<layer> is the include path of a layer: itself and the layers below, so
# an upward #include does not compile (src/README.md draws the layers).
#
# Uses from the Makefile: B, CC, CSTD, WARN, OPT, CFLAGS, CJSON_CFLAGS, LWS_LIBS;
# from mk/extension.mk (recursively expanded, so a later override of LO_SDK holds):
# GEN, SDK_CFLAGS.

FLAVOURS := normal asan tsan libfuzzer
LAYERS   := base core format uno writer component ui entry

TSAN_CC ?= gcc
FUZZ_CC ?= clang

SAN_ASAN := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_TSAN := -O1 -g -fsanitize=thread -fno-omit-frame-pointer

CC_normal       = $(CC)
CC_asan         = $(CC)
CC_tsan         = $(TSAN_CC)
CC_libfuzzer    = $(FUZZ_CC)
FLAGS_normal    = $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden
FLAGS_asan      = $(CSTD) $(WARN) $(SAN_ASAN)
FLAGS_tsan      = $(CSTD) $(WARN) $(SAN_TSAN)
FLAGS_libfuzzer = $(CSTD) $(WARN) -Wno-unknown-warning-option $(SAN_ASAN) -fsanitize=fuzzer-no-link
# Linking: the flags that bring in the sanitizers' (and libFuzzer's) run-time libraries.
LINK_normal     = $(FLAGS_normal)
LINK_asan       = $(FLAGS_asan)
LINK_tsan       = $(FLAGS_tsan)
LINK_libfuzzer  = $(CSTD) $(SAN_ASAN) -fsanitize=fuzzer
# The user's CFLAGS go to the normal flavour only, as they always did.
USER_normal     = $(CFLAGS)

DEPFLAGS := -MMD -MP

# --- Include paths, per layer (and per folder of programs) ------------------
INC_base      = -I src/base
INC_core      = -I src/core $(INC_base)
INC_format    = -I src/format $(INC_base)
INC_uno       = -I src/uno -I $(GEN) $(INC_base)
INC_writer    = -I src/writer $(INC_format) $(INC_core) $(INC_uno)
INC_component = -I src/component $(INC_writer)
INC_ui        = -I src/ui $(INC_component)
INC_entry     = -I src/entry $(INC_ui)
# Programs: the tools, the tests, the benchmark.
INC_tools     = $(INC_core)
INC_devserver = -I tools/devserver $(INC_base)
INC_unit      = -I tests/unit $(INC_core) -I src/component $(INC_format) -I src/writer -I src/ui
INC_fuzz      = $(INC_core) $(INC_format)
INC_bench     = $(INC_core)
# Layers whose headers reach the LibreOffice SDK (-DLINUX -DUNX -isystem ...). format
# needs none, but has always been compiled with them into reportlink.so, and its
# objects are shared by the .so and the unit tests.
SDK_LAYERS   := uno writer component ui entry format
# Flavours that build the component, and the SDK flags of each (windows: mk/windows.mk).
SDK_FLAVOURS := normal
SDK_CFLAGS_normal = $(SDK_CFLAGS)

# The folder a source belongs to: src/core/url.c -> core, tests/unit/x.c -> unit,
# tools/devserver/x.c -> devserver, tools/reportlink-listen.c -> tools.
folder_of = $(notdir $(patsubst %/,%,$(dir $1)))
# Everything a source of that folder is compiled with, in flavour $1.
# DEP_CFLAGS_<flavour>, where set, replaces cJSON's flags (windows: the cross-built
# libraries' headers).
src_flags = $(FLAGS_$1) $(if $(and $(filter $(SDK_FLAVOURS),$1),$(filter $2,$(SDK_LAYERS))),$(SDK_CFLAGS_$1)) \
            $(INC_$2) $(or $(DEP_CFLAGS_$1),$(CJSON_CFLAGS)) $(USER_$1)

# --- Sources ----------------------------------------------------------------
SRC_base      := $(wildcard src/base/*.c)
SRC_core      := $(wildcard src/core/*.c)
SRC_format    := $(wildcard src/format/*.c)
SRC_uno       := $(wildcard src/uno/*.c)
SRC_writer    := $(wildcard src/writer/*.c)
# The keyring helper, build/reportlink-keyring: its main and the libsecret module,
# which never go into reportlink.so (src/component/secret.h says why).
KEYRING_SRC   := src/entry/reportlink-keyring.c src/component/secret_libsecret.c
SRC_component := $(filter-out $(KEYRING_SRC),$(wildcard src/component/*.c))
SRC_ui        := $(wildcard src/ui/*.c)
SRC_entry     := $(filter-out $(KEYRING_SRC),$(wildcard src/entry/*.c))
# The modules of the upper layers that need no UNO: unit-tested, also under the sanitizers.
NOUNO_writer    := src/writer/memory.c src/writer/plan.c
NOUNO_component := src/component/inbox.c src/component/spool.c src/component/mtqueue.c \
                   src/component/secret_spawn.c src/component/secret_proto.c src/component/secret_wincred.c
NOUNO_ui        := src/ui/diffmark.c

# LAYER_SRC_<flavour>_<layer>: what goes into that library.
$(foreach l,$(LAYERS),$(eval LAYER_SRC_normal_$l := $$(SRC_$l)))
$(foreach f,asan tsan libfuzzer,$(foreach l,base core format,$(eval LAYER_SRC_$f_$l := $$(SRC_$l))))
$(foreach f,asan tsan,$(foreach l,writer component ui,$(eval LAYER_SRC_$f_$l := $$(NOUNO_$l))))

# obj_of(flavour, sources): their objects.
obj_of = $(patsubst %.c,$(B)/$1/obj/%.o,$2)
# lib_of(flavour, layer): a layer's library.
lib_of = $(B)/$1/lib/libreportlink-$2.a
# libs_of(flavour, layers): the libraries of those layers that exist in that flavour,
# in the order given (upper layers first, for the linker).
libs_of = $(foreach l,$2,$(if $(LAYER_SRC_$1_$l),$(call lib_of,$1,$l)))

# --- Compiling: one pattern rule per flavour ---------------------------------
define flavour_rules
$(B)/$1/obj/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC_$1) $$(call src_flags,$1,$$(call folder_of,$$<)) $$(DEPFLAGS) -c $$< -o $$@
endef
$(foreach f,$(FLAVOURS),$(eval $(call flavour_rules,$f)))

# --- Libraries ---------------------------------------------------------------
# AR_<flavour>, where set, is that flavour's archiver (windows: mingw's).
define layer_lib
$(call lib_of,$1,$2): $(call obj_of,$1,$(LAYER_SRC_$1_$2)) $3
	@mkdir -p $$(@D)
	rm -f $$@ && $$(or $$(AR_$1),ar) rcs $$@ $$^
endef
$(foreach f,$(FLAVOURS),$(foreach l,$(filter-out uno,$(LAYERS)),\
  $(if $(LAYER_SRC_$f_$l),$(eval $(call layer_lib,$f,$l)))))
# The UNO bridge with its generated wrappers (normal flavour only).
$(eval $(call layer_lib,normal,uno,$(B)/normal/obj/gen/rl_uno_api.o))

# Every library of a flavour (for `all`: they are cheap once the objects exist).
LIBS_normal := $(call libs_of,normal,$(LAYERS))

# Unit tests link every layer that has UNO-free modules, upper layers first.
UNIT_LAYERS := ui writer component format core base

# --- Programs ------------------------------------------------------------------
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(addprefix $(B)/unit/,$(UNIT_TESTS))
ASAN_BINS  := $(addprefix $(B)/unit-asan/,$(UNIT_TESTS))
TSAN_BINS  := $(addprefix $(B)/tsan/unit/,$(UNIT_TESTS))
ASAN_LISTEN := $(B)/asan/reportlink-listen
TSAN_LISTEN := $(B)/tsan/reportlink-listen

# link(flavour): the command that links $@ from its objects ($(filter %.o,$^)) and
# libraries ($(filter %.a,$^)).
link = mkdir -p $(@D) && $(CC_$1) $(LINK_$1) $(filter %.o,$^) $(filter %.a,$^) -o $@ $(LWS_LIBS)

# unit_rule(flavour, binary folder)
define unit_rule
$(addprefix $2/,$(UNIT_TESTS)): $2/%: $(B)/$1/obj/tests/unit/%.o $(call libs_of,$1,$(UNIT_LAYERS))
	$$(call link,$1)
endef
$(eval $(call unit_rule,normal,$(B)/unit))
$(eval $(call unit_rule,asan,$(B)/unit-asan))
$(eval $(call unit_rule,tsan,$(B)/tsan/unit))

# reportlink-listen, in three flavours.
$(B)/reportlink-listen: $(B)/normal/obj/tools/reportlink-listen.o $(call libs_of,normal,core base)
	$(call link,normal)
$(ASAN_LISTEN): $(B)/asan/obj/tools/reportlink-listen.o $(call libs_of,asan,core base)
	$(call link,asan)
$(TSAN_LISTEN): $(B)/tsan/obj/tools/reportlink-listen.o $(call libs_of,tsan,core base)
	$(call link,tsan)

# The keyring helper (Linux), in three flavours: the one the .oxt ships, and one
# next to each flavour's unit tests, where test_secret finds it as reportlink.so
# finds its own (rl_os_library_dir: the folder of the code that asks). Only the
# C library and libpthread: libsecret is opened at run time, and nothing else of
# the extension's dependencies belongs in a process that lives for one request.
KEYRING_BINS := $(B)/reportlink-keyring $(B)/unit-asan/reportlink-keyring $(B)/tsan/unit/reportlink-keyring
keyring_link = mkdir -p $(@D) && $(CC_$1) $(LINK_$1) $(filter %.o,$^) $(filter %.a,$^) -o $@ -lpthread
$(B)/reportlink-keyring: $(call obj_of,normal,$(KEYRING_SRC)) $(call libs_of,normal,component base)
	$(call keyring_link,normal)
$(B)/unit-asan/reportlink-keyring: $(call obj_of,asan,$(KEYRING_SRC)) $(call libs_of,asan,component base)
	$(call keyring_link,asan)
$(B)/tsan/unit/reportlink-keyring: $(call obj_of,tsan,$(KEYRING_SRC)) $(call libs_of,tsan,component base)
	$(call keyring_link,tsan)
$(B)/unit/reportlink-keyring: $(B)/reportlink-keyring
	@mkdir -p $(@D)
	cp $< $@
$(B)/unit/test_secret: | $(B)/unit/reportlink-keyring
$(B)/unit-asan/test_secret: | $(B)/unit-asan/reportlink-keyring
$(B)/tsan/unit/test_secret: | $(B)/tsan/unit/reportlink-keyring

# The devserver shares the bounded buffer with the extension, nothing else.
DEVSERVER_OBJ := $(call obj_of,normal,$(wildcard tools/devserver/*.c))
$(B)/reportlink-devserver: $(DEVSERVER_OBJ) $(call lib_of,normal,base)
	$(call link,normal) -lz

# Nothing built is an intermediate file to delete, and a failed command leaves no
# half-written target behind.
.SECONDARY:
.DELETE_ON_ERROR:

# Header dependencies, as the compiler found them (none before the first build).
-include $(shell find $(B) -name '*.d' 2>/dev/null)
