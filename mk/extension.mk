# mk/extension.mk - the LibreOffice extension, included by the top-level Makefile.
#
#   build/reportlink.rdb   the extension's UNO types (idl/), for the office and python-uno
#   build/reportlink.so    the component (src/component/ + the bridge src/uno/ + the core
#                          + Writer's sidebar panel src/ui/), from the normal flavour's
#                          objects (mk/build.mk)
#   build/reportlink-keyring  the keyring helper (mk/build.mk), shipped next to
#                          reportlink.so: the office runs it for each keyring call
#                          (src/component/secret.h)
#   build/reportlink.oxt   the package that unopkg installs: the Linux half only, or
#                          with OXT_HALVES="linux windows" (make package) both
#   make lo-test           tests/lo/test_component.py in a headless office
#
# Uses from the Makefile: B, CC, LWS_LIBS, PY; from mk/build.mk: obj_of, lib_of,
# src_flags, SRC_*, CC_normal, DEPFLAGS.

LO_PROGRAM   ?= /usr/lib/libreoffice/program
LO_SDK       ?= /usr/lib/libreoffice/sdk
UNOIDL_WRITE  = $(LO_SDK)/bin/unoidl-write
UNOIDL_READ   = $(LO_SDK)/bin/unoidl-read
LO_TYPES      = $(LO_PROGRAM)/types.rdb
LO_OFFAPI     = $(LO_PROGRAM)/types/offapi.rdb

EXT_IDL   := $(shell find idl -name '*.idl' 2>/dev/null)
GEN       := $(B)/gen

# The SDK headers are included as system headers: they are not all
# warning-free C, and our warnings are about our code. Recursively expanded,
# so that an LO_SDK set further down (an mk/ file for another LibreOffice) holds.
SDK_CFLAGS = -DLINUX -DUNX -isystem $(LO_SDK)/include
EXT_LIBS   = -L$(LO_SDK)/lib -luno_cppu -luno_sal $(LWS_LIBS)

# The library's objects, in the order they have always been linked: the bridge,
# the component, Writer and its formats, the UI, the generated wrappers (the
# objects themselves come from mk/build.mk, normal flavour).
EXT_OBJ := $(call obj_of,normal,$(SRC_uno) $(SRC_component) $(SRC_writer) $(SRC_format) $(SRC_ui) $(SRC_entry)) \
           $(B)/normal/obj/gen/rl_uno_api.o

.PHONY: extension lo-test

extension: $(B)/reportlink.oxt

$(B)/reportlink.rdb: $(EXT_IDL)
	@mkdir -p $(B)
	$(UNOIDL_WRITE) $(LO_TYPES) $(LO_OFFAPI) idl $@

# The UNOIDL text of LibreOffice's types and ours, read by the generator. (Second
# expansion: the office's files are named when the rule is used, after every mk/
# file has had its say on LO_PROGRAM.)
.SECONDEXPANSION:
$(GEN)/udkapi.idl: $$(LO_TYPES)
	@mkdir -p $(GEN)
	$(UNOIDL_READ) $(LO_TYPES) > $@.tmp && mv $@.tmp $@
$(GEN)/offapi.idl: $$(LO_TYPES) $$(LO_OFFAPI)
	@mkdir -p $(GEN)
	$(UNOIDL_READ) $(LO_TYPES) $(LO_OFFAPI) > $@.tmp && mv $@.tmp $@
$(GEN)/reportlink.idl: $(B)/reportlink.rdb
	@mkdir -p $(GEN)
	$(UNOIDL_READ) $(LO_TYPES) $(LO_OFFAPI) $< > $@.tmp && mv $@.tmp $@

$(GEN)/rl_uno_api.h $(GEN)/rl_uno_api.c &: tools/uno-cgen.py src/uno/uno_api.list \
		$(GEN)/udkapi.idl $(GEN)/offapi.idl $(GEN)/reportlink.idl
	$(PY) tools/uno-cgen.py --list src/uno/uno_api.list --out-h $(GEN)/rl_uno_api.h \
	  --out-c $(GEN)/rl_uno_api.c $(GEN)/udkapi.idl $(GEN)/offapi.idl $(GEN)/reportlink.idl

# The generated header must exist before anything that includes uno_bridge.h is
# compiled the first time; after that the recorded dependencies say who needs it.
$(call obj_of,normal,$(SRC_uno) $(SRC_writer) $(SRC_component) $(SRC_ui) $(SRC_entry)): | $(GEN)/rl_uno_api.h

$(B)/normal/obj/gen/rl_uno_api.o: $(GEN)/rl_uno_api.c $(GEN)/rl_uno_api.h
	@mkdir -p $(@D)
	$(CC_normal) $(call src_flags,normal,uno) $(DEPFLAGS) -c $< -o $@

# -z defs: every symbol resolved at link time. The core and the base layer come
# from their libraries; --exclude-libs keeps their symbols out of the dynamic
# table, so the library exports the two UNO entry points only. The other layers
# are linked as objects, not from their libraries: every one of them belongs in
# the component.
EXT_LIBS_OWN := $(call libs_of,normal,core base)
$(B)/reportlink.so: $(EXT_OBJ) $(EXT_LIBS_OWN)
	$(CC) -shared -Wl,-z,defs -Wl,--exclude-libs,ALL -o $@ $(EXT_OBJ) \
	  $(EXT_LIBS_OWN) $(EXT_LIBS)

EXT_FILES := description.xml $(wildcard extension/description/*.txt) extension/META-INF/manifest.xml \
             extension/reportlink.components $(wildcard extension/registry/*) \
             $(wildcard extension/dialogs/*) $(wildcard extension/i18n/*) $(wildcard extension/icons/*)

# Which native halves build/reportlink.oxt carries: `make` the Linux one only,
# `make package` (mk/package.mk) both. The choice is kept in $(B)/oxt-halves,
# rewritten only when it changes, so that switching rebuilds the package and
# each command always leaves what it names.
OXT_HALVES ?= linux
OXT_WINDOWS = $(filter windows,$(OXT_HALVES))
OXT_DLL    ?= $(B)/windows/reportlink.dll
.PHONY: oxt-halves-check
oxt-halves-check:
	@mkdir -p $(B)
	@echo '$(OXT_HALVES)' | cmp -s - $(B)/oxt-halves || echo '$(OXT_HALVES)' > $(B)/oxt-halves
$(B)/oxt-halves: oxt-halves-check ;

# reportlink-keyring is not declared in META-INF/manifest.xml: it is run through
# the program interpreter, which needs no executable bit (src/component/secret_spawn.c).
$(B)/reportlink.oxt: $(B)/reportlink.so $(B)/reportlink-keyring $(B)/reportlink.rdb $(EXT_FILES) $(B)/oxt-halves \
		$(if $(OXT_WINDOWS),$(OXT_DLL) tools/windows/oxt-add-windows.py)
	rm -rf $(B)/oxt $@
	mkdir -p $(B)/oxt
	cp -r description.xml extension/description extension/META-INF extension/reportlink.components \
	  extension/registry extension/dialogs extension/i18n extension/icons \
	  $(B)/reportlink.rdb $(B)/reportlink.so $(B)/reportlink-keyring $(B)/oxt/
	$(if $(OXT_WINDOWS),$(PY) tools/windows/oxt-add-windows.py $(B)/oxt $(OXT_DLL))
	cd $(B)/oxt && $(PY) -m zipfile -c ../reportlink.oxt description.xml description META-INF \
	  reportlink.components registry dialogs i18n icons reportlink.rdb reportlink.so reportlink-keyring \
	  $(if $(OXT_WINDOWS),reportlink-windows.components reportlink.dll)

lo-test: $(B)/reportlink.oxt $(B)/reportlink-devserver
	@$(PY) tests/lo/test_component.py
	@$(PY) tests/lo/test_ui.py
