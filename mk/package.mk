# mk/package.mk - `make package`: the one build/reportlink.oxt for Linux x86-64 and
# Windows x64, included by the top-level Makefile.
#
#   make          build/reportlink.oxt with the Linux half only (reportlink.so): quick
#                 on a fresh machine, no cross-compiler; what `make run` installs
#   make package  build/reportlink.oxt with both halves: reportlink.so (and its
#                 keyring helper, reportlink-keyring) declared for
#                 linux_x86_64, reportlink.dll (mk/windows.mk) for windows_x86_64,
#                 description.xml naming both platforms
#                 (tools/windows/oxt-add-windows.py); then says what it holds. Runs
#                 make windows-deps first (mk/windows.mk)
#
# The two write the same file: the last one run decides what it holds
# (mk/extension.mk, OXT_HALVES). Uses: B, BUILD_JOBS, PY, OXT_DLL.

.PHONY: package
# windows-deps first: on a fresh machine it cross-builds the dependencies (about 10
# minutes, once); with a current cache it returns at once.
package: windows-deps
	@$(MAKE) --no-print-directory $(BUILD_JOBS) OXT_HALVES="linux windows" $(B)/reportlink.oxt
	@$(PY) -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
	  n = set(z.namelist()); need = {"reportlink.so", "reportlink-keyring", "reportlink.dll", "reportlink.components", "reportlink-windows.components"}; \
	  sys.exit("missing from %s: %s" % (sys.argv[1], sorted(need - n))) if need - n else \
	  print("%s: Linux x86-64 and Windows x64, %d files, %d KiB" % (sys.argv[1], len(n), sum(i.compress_size for i in z.infolist()) // 1024))' $(B)/reportlink.oxt
