# mk/lo-25.2.mk - `make check-lo-25.2`: tests/lo against LibreOffice 25.2.
#
#   make check-lo-25.2   every tests/lo/test_*.py against LibreOffice 25.2 from
#                        bookworm-backports, unpacked (not installed) by
#                        tools/libreoffice-25.2.sh into the user's cache; the system's
#                        LibreOffice (7.4, what `make check` tests) is left as it is.
#                        Ends with "total: N passed, N failed".
#
# The first run fetches about 76 MB from deb.debian.org; later ones reuse the cache.
# Uses from the Makefile: PY, deps, all.

LO25_TESTS := $(sort $(wildcard tests/lo/test_*.py))

.PHONY: check-lo-25.2
check-lo-25.2: deps
	@$(MAKE) --no-print-directory all
	@tests/integration/setup.sh
	@program=$$(tools/libreoffice-25.2.sh) && \
	  tests/run-runners.sh $(foreach t,$(LO25_TESTS),"REPORTLINK_LO_PROGRAM=$$program $(PY) $(t)")
