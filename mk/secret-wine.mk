# mk/secret-wine.mk - the doctor's key in the Windows Credential Manager, proved
# under Wine: tests/unit/test_secret.c (the same runner as on Linux) with
# src/component/secret_wincred.c, cross-compiled with mingw-w64 and run in the
# Wine prefix of the Windows build (tools/windows/build-deps.sh makes it).
# Not part of make check; to be folded into the Windows build (mk/windows.mk).
#
#   make secret-wine    builds build/windows/test_secret.exe and runs it;
#                       last line "N passed, N failed"

MINGW_CC      ?= x86_64-w64-mingw32-gcc
WINE_PREFIX   ?= $(HOME)/.cache/reportlink/mingw64/work/wine
SECRET_WINE_EXE := $(B)/windows/test_secret.exe
SECRET_WINE_SRC := tests/unit/test_secret.c src/component/secret_wincred.c src/base/error.c

.PHONY: secret-wine
$(SECRET_WINE_EXE): $(SECRET_WINE_SRC) src/component/secret.h src/base/rl_error.h tests/unit/testlib.h
	@mkdir -p $(@D)
	$(MINGW_CC) -std=c11 $(WARN) -O2 -I tests/unit -I src/component -I src/base \
	  $(SECRET_WINE_SRC) -o $@ -ladvapi32

secret-wine: $(SECRET_WINE_EXE)
	WINEPREFIX=$(WINE_PREFIX) WINEDEBUG=-all wine $<
