# mk/windows.mk - the Windows x64 half of the package (issue "one .oxt for Linux and
# Windows x64"). Nothing here is part of `make all` or `make check`.
#
#   make windows-deps   OpenSSL, libwebsockets and cJSON cross-built for
#                       x86_64-w64-mingw32 from Debian's source packages, static, into
#                       ~/.cache/reportlink/mingw64/ (tools/windows/build-deps.sh; prints
#                       the prefix). The first run takes about 10 minutes on 2 cores and
#                       installs mingw-w64 and wine if missing; later runs reuse the cache
#                       at once. docs/windows-build.md says what is built and why.

.PHONY: windows-deps
windows-deps:
	@tools/windows/build-deps.sh
