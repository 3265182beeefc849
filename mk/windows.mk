# mk/windows.mk - the Windows x64 half of the package (issue "one .oxt for Linux and
# Windows x64"). Nothing here is part of `make all`; `make check` (Makefile) runs
# windows-deps, builds WIN_ALL and runs WIN_UNIT_RUNNERS after WIN_WINE_START.
#
#   make windows-deps   OpenSSL, libwebsockets and cJSON cross-built for
#                       x86_64-w64-mingw32 from Debian's source packages, static, into
#                       ~/.cache/reportlink/mingw64/ (tools/windows/build-deps.sh; prints
#                       the prefix). The first run takes about 10 minutes on 2 cores and
#                       installs mingw-w64 and wine if missing; later runs reuse the cache
#                       at once. docs/windows-build.md says what is built and why.
#   make windows        build/windows/reportlink.dll (the component),
#                       build/windows/reportlink-listen.exe (static) and the unit tests
#                       build/windows/unit/*.exe, from the cross-built dependencies (run
#                       make windows-deps once first; this target does not, so that it
#                       never rebuilds a cache another checkout is using)
#   make check-windows-unit
#                       the unit tests that run on Windows, under wine, through
#                       tests/run-runners.sh: ends with "total: N passed, N failed"
#
# The windows flavour follows mk/build.mk: every source compiled once into
# build/windows/obj/<its path>.o with the same include path per layer (INC_<layer>),
# one library per layer in build/windows/lib/. The LibreOffice SDK's headers are the
# Linux SDK's (they are the same C) read through tools/windows/sdk-overlay/, which
# lets mingw take their MSVC branch; the generated UNO header build/gen/rl_uno_api.h
# is shared with Linux. sal3.dll and cppu3.dll are linked through import libraries
# made from tools/windows/sal3.def and cppu3.def.

.PHONY: windows-deps windows windows-check-deps check-windows-unit

windows-deps:
	@tools/windows/build-deps.sh

WIN_TRIPLET   := x86_64-w64-mingw32
WIN_DLLTOOL   := $(WIN_TRIPLET)-dlltool
WIN_PREFIX    ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/reportlink/mingw64
WIN_WINEPREFIX ?= $(WIN_PREFIX)/work/wine
WIN_PKG        = PKG_CONFIG_LIBDIR=$(WIN_PREFIX)/lib/pkgconfig pkg-config --static
WB            := $(B)/windows

CC_windows    := $(WIN_TRIPLET)-gcc
AR_windows    := $(WIN_TRIPLET)-ar
# -D__USE_MINGW_ANSI_STDIO=1: C99 printf (%zu, %lld) instead of msvcrt's;
# -D_POSIX_THREAD_SAFE_FUNCTIONS: localtime_r and friends.
FLAGS_windows  = $(CSTD) $(WARN) $(OPT) -D__USE_MINGW_ANSI_STDIO=1 -D_POSIX_THREAD_SAFE_FUNCTIONS
LINK_windows   = $(FLAGS_windows)
# The SDK: _WIN32 comes with the compiler; WNT is what LibreOffice's own Windows
# build defines. The overlay goes before the SDK's folder.
SDK_CFLAGS_windows = -DWNT -isystem tools/windows/sdk-overlay -isystem $(LO_SDK)/include
SDK_FLAVOURS  += windows

# The cross-built libraries' flags, asked of pkg-config once per make run and only
# when a Windows target needs them (make all never does). Their headers are system
# headers, as on Linux.
WIN_DEP_CFLAGS = $(eval WIN_DEP_CFLAGS := $$(patsubst -I%,-isystem %,$$(shell $(WIN_PKG) --cflags libwebsockets libcjson)))$(WIN_DEP_CFLAGS)
WIN_DEP_LIBS   = $(eval WIN_DEP_LIBS := $$(shell $(WIN_PKG) --libs libwebsockets libcjson))$(WIN_DEP_LIBS)
DEP_CFLAGS_windows = $(WIN_DEP_CFLAGS)
# winpthreads, and what the platform layer uses beyond kernel32 and advapi32 (always
# linked).
WIN_SYS_LIBS  := -lpthread -lbcrypt

# Every layer, whole: the DLL needs all of them, the tests and the tool the lower ones.
$(foreach l,$(LAYERS),$(eval LAYER_SRC_windows_$l := $$(SRC_$l)))
$(eval $(call flavour_rules,windows))
$(foreach l,$(filter-out uno,$(LAYERS)),$(eval $(call layer_lib,windows,$l)))
$(eval $(call layer_lib,windows,uno,$(WB)/obj/gen/rl_uno_api.o))

$(WB)/obj/gen/rl_uno_api.o: $(GEN)/rl_uno_api.c $(GEN)/rl_uno_api.h
	@mkdir -p $(@D)
	$(CC_windows) $(call src_flags,windows,uno) $(DEPFLAGS) -c $< -o $@
$(call obj_of,windows,$(SRC_uno) $(SRC_writer) $(SRC_component) $(SRC_ui) $(SRC_entry)): | $(GEN)/rl_uno_api.h

# Everything is linked statically (libgcc, winpthread, the C runtime's start-up
# code, the cross-built libraries): the programs need no DLL but Windows' own, and
# the component none but those and LibreOffice's sal3.dll and cppu3.dll.
win_link = mkdir -p $(@D) && $(CC_windows) $(LINK_windows) -static $(filter %.o,$^) $(filter %.a,$^) \
           -o $@ $(WIN_DEP_LIBS) $(WIN_SYS_LIBS)

# --- the import libraries of LibreOffice's DLLs ---------------------------------
$(WB)/lib/lib%.dll.a: tools/windows/%.def
	@mkdir -p $(@D)
	$(WIN_DLLTOOL) -d $< -l $@

WIN_UNO_IMPLIBS := $(WB)/lib/libsal3.dll.a $(WB)/lib/libcppu3.dll.a

# --- the component ---------------------------------------------------------------
# The objects of the layers that belong in the component (as mk/extension.mk does
# for reportlink.so), the core and base from their libraries. Only the two entry
# points are exported: they are the only symbols declared dllexport
# (SAL_DLLPUBLIC_EXPORT), and --exclude-libs keeps anything the static
# libraries might declare so out of the export table.
WIN_EXT_OBJ := $(call obj_of,windows,$(SRC_uno) $(SRC_component) $(SRC_writer) $(SRC_format) \
               $(SRC_ui) $(SRC_entry)) $(WB)/obj/gen/rl_uno_api.o
$(WB)/reportlink.dll: $(WIN_EXT_OBJ) $(call libs_of,windows,core base) $(WIN_UNO_IMPLIBS)
	$(CC_windows) $(LINK_windows) -shared -static -Wl,--exclude-libs,ALL -o $@ $(WIN_EXT_OBJ) \
	  $(call libs_of,windows,core base) $(WIN_DEP_LIBS) $(WIN_UNO_IMPLIBS) $(WIN_SYS_LIBS)

# --- the tool ----------------------------------------------------------------------
$(WB)/reportlink-listen.exe: $(WB)/obj/tools/reportlink-listen.o $(call libs_of,windows,core base)
	$(win_link)

# --- the unit tests ------------------------------------------------------------------
# Every unit test, the same files as on Linux: the platform layer and the spool,
# the core (test_client with its service thread and libwebsockets' Windows event
# loop), the formats and the UNO-free modules of the upper layers.
WIN_UNIT_TESTS := $(UNIT_TESTS)
WIN_UNIT_BINS  := $(addprefix $(WB)/unit/,$(addsuffix .exe,$(WIN_UNIT_TESTS)))
$(WIN_UNIT_BINS): $(WB)/unit/%.exe: $(WB)/obj/tests/unit/%.o $(call libs_of,windows,$(UNIT_LAYERS))
	$(win_link)

WIN_ALL := $(WB)/reportlink.dll $(WB)/reportlink-listen.exe $(WIN_UNIT_BINS)

windows-check-deps:
	@test -f $(WIN_PREFIX)/lib/pkgconfig/libwebsockets.pc || \
	  { echo "make windows: no cross-built libraries in $(WIN_PREFIX); run make windows-deps first" >&2; exit 1; }
	@command -v $(CC_windows) >/dev/null || \
	  { echo "make windows: $(CC_windows) is missing; make windows-deps installs it" >&2; exit 1; }

windows: windows-check-deps
	@$(MAKE) --no-print-directory $(BUILD_JOBS) $(WIN_ALL)

# The unit tests under wine, in the prefix make windows-deps made: one runner per
# .exe, for tests/run-runners.sh (make check can take WIN_UNIT_RUNNERS as they are).
# WINEDEBUG=-all keeps wine's own chatter out of the output. The wineserver and
# wine's services (services.exe, winedevice.exe...) are started first, with nothing
# to inherit: started by a runner, they would keep its output pipe open, and
# run-runners.sh would wait for them (seconds per runner, or as long as another
# checkout's wine keeps them alive). The server stays 30 s after its last client.
WIN_WINE = WINEPREFIX=$(WIN_WINEPREFIX) WINEDEBUG=-all
WIN_UNIT_RUNNERS = $(foreach t,$(WIN_UNIT_BINS),"$(WIN_WINE) wine $t")
WIN_WINE_START = $(WIN_WINE) wineserver -p 30 </dev/null >/dev/null 2>&1; \
                 $(WIN_WINE) wine cmd /c exit </dev/null >/dev/null 2>&1 || true

check-windows-unit: windows
	@command -v wine >/dev/null || { echo "check-windows-unit: wine is missing; make windows-deps installs it" >&2; exit 1; }
	@$(WIN_WINE_START)
	@tests/run-runners.sh $(WIN_UNIT_RUNNERS)
