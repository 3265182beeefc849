# mk/extension.mk - the LibreOffice extension, included by the top-level Makefile.
#
#   build/reportlink.rdb   the extension's UNO types (idl/), for the office and python-uno
#   build/reportlink.so    the component (src/component/ + the bridge src/uno/ + the core
#                          + Writer's sidebar panel src/ui/)
#   build/reportlink.oxt   the package that unopkg installs
#   make lo-test           tests/lo/test_component.py in a headless office
#
# Uses from the Makefile: B, CC, CSTD, WARN, OPT, CFLAGS, LWS_LIBS, PY.

LO_PROGRAM   ?= /usr/lib/libreoffice/program
LO_SDK       ?= /usr/lib/libreoffice/sdk
UNOIDL_WRITE := $(LO_SDK)/bin/unoidl-write
UNOIDL_READ  := $(LO_SDK)/bin/unoidl-read
LO_TYPES     := $(LO_PROGRAM)/types.rdb
LO_OFFAPI    := $(LO_PROGRAM)/types/offapi.rdb

EXT_IDL   := $(shell find idl -name '*.idl' 2>/dev/null)
UNO_SRC   := $(wildcard src/uno/*.c)
UNO_HDR   := $(wildcard src/uno/*.h)
COMP_SRC  := $(wildcard src/component/*.c)
COMP_HDR  := $(wildcard src/component/*.h)
WRITER_SRC := $(wildcard src/writer/*.c) $(wildcard src/format/*.c)
WRITER_HDR := $(wildcard src/writer/*.h) $(wildcard src/format/*.h)
UI_SRC    := $(wildcard src/ui/*.c)
UI_HDR    := $(wildcard src/ui/*.h)
GEN       := $(B)/gen
EXT_OBJ   := $(patsubst src/%.c,$(B)/ext/%.o,$(UNO_SRC) $(COMP_SRC) $(WRITER_SRC) $(UI_SRC)) $(B)/ext/gen/rl_uno_api.o

# The SDK headers are included as system headers: they are not all
# warning-free C, and our warnings are about our code.
EXT_CFLAGS := $(CSTD) $(WARN) $(OPT) -fPIC -fvisibility=hidden -DLINUX -DUNX \
              -isystem $(LO_SDK)/include -I src/core -I src/uno -I src/component -I src/writer -I src/format -I src/ui -I $(GEN) \
              $(shell pkg-config --cflags libcjson 2>/dev/null)
EXT_LIBS   := -L$(LO_SDK)/lib -luno_cppu -luno_sal $(LWS_LIBS)

.PHONY: extension lo-test

extension: $(B)/reportlink.oxt

$(B)/reportlink.rdb: $(EXT_IDL)
	@mkdir -p $(B)
	$(UNOIDL_WRITE) $(LO_TYPES) $(LO_OFFAPI) idl $@

# The UNOIDL text of LibreOffice's types and ours, read by the generator.
$(GEN)/udkapi.idl: $(LO_TYPES)
	@mkdir -p $(GEN)
	$(UNOIDL_READ) $(LO_TYPES) > $@.tmp && mv $@.tmp $@
$(GEN)/offapi.idl: $(LO_TYPES) $(LO_OFFAPI)
	@mkdir -p $(GEN)
	$(UNOIDL_READ) $(LO_TYPES) $(LO_OFFAPI) > $@.tmp && mv $@.tmp $@
$(GEN)/reportlink.idl: $(B)/reportlink.rdb
	@mkdir -p $(GEN)
	$(UNOIDL_READ) $(LO_TYPES) $(LO_OFFAPI) $< > $@.tmp && mv $@.tmp $@

$(GEN)/rl_uno_api.h $(GEN)/rl_uno_api.c &: tools/uno-cgen.py src/uno/uno_api.list \
		$(GEN)/udkapi.idl $(GEN)/offapi.idl $(GEN)/reportlink.idl
	$(PY) tools/uno-cgen.py --list src/uno/uno_api.list --out-h $(GEN)/rl_uno_api.h \
	  --out-c $(GEN)/rl_uno_api.c $(GEN)/udkapi.idl $(GEN)/offapi.idl $(GEN)/reportlink.idl

$(B)/ext/%.o: src/%.c $(UNO_HDR) $(COMP_HDR) $(WRITER_HDR) $(UI_HDR) $(CORE_HDR) $(GEN)/rl_uno_api.h
	@mkdir -p $(dir $@)
	$(CC) $(EXT_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/ext/gen/rl_uno_api.o: $(GEN)/rl_uno_api.c $(GEN)/rl_uno_api.h $(UNO_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(EXT_CFLAGS) $(CFLAGS) -c $< -o $@

# -z defs: every symbol resolved at link time. The core is linked in whole;
# --exclude-libs keeps its symbols out of the dynamic table, so the library
# exports the two UNO entry points only.
$(B)/reportlink.so: $(EXT_OBJ) $(B)/libreportlink-core.a
	$(CC) -shared -Wl,-z,defs -Wl,--exclude-libs,ALL -o $@ $(EXT_OBJ) \
	  $(B)/libreportlink-core.a $(EXT_LIBS)

EXT_FILES := description.xml $(wildcard extension/description/*.txt) extension/META-INF/manifest.xml \
             extension/reportlink.components $(wildcard extension/registry/*) \
             $(wildcard extension/dialogs/*) $(wildcard extension/i18n/*) $(wildcard extension/icons/*)

$(B)/reportlink.oxt: $(B)/reportlink.so $(B)/reportlink.rdb $(EXT_FILES)
	rm -rf $(B)/oxt $@
	mkdir -p $(B)/oxt
	cp -r description.xml extension/description extension/META-INF extension/reportlink.components \
	  extension/registry extension/dialogs extension/i18n extension/icons \
	  $(B)/reportlink.rdb $(B)/reportlink.so $(B)/oxt/
	cd $(B)/oxt && $(PY) -m zipfile -c ../reportlink.oxt description.xml description META-INF \
	  reportlink.components registry dialogs i18n icons reportlink.rdb reportlink.so

lo-test: $(B)/reportlink.oxt $(B)/reportlink-devserver
	@$(PY) tests/lo/test_component.py
	@$(PY) tests/lo/test_ui.py
