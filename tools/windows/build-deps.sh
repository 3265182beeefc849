#!/usr/bin/env bash
# The libraries ReportLink's Windows x64 build links, cross-built from Debian's own
# source packages with mingw-w64: OpenSSL, libwebsockets and cJSON, static, for
# x86_64-w64-mingw32. Prints the prefix (include/, lib/, lib/pkgconfig/) on stdout;
# everything else goes to stderr.
#
#   tools/windows/build-deps.sh            build what is missing, print the prefix
#   tools/windows/build-deps.sh --update   read Debian's source lists again and rebuild
#                                          whatever Debian has a new version of
#
# The prefix is ${XDG_CACHE_HOME:-$HOME/.cache}/reportlink/mingw64/. Each dependency
# has a stamp in its stamps/ folder holding the key it was built with: the source
# package's version, the recipe's revision below and the versions of Debian's mingw-w64
# compiler and C runtime packages (and, for libwebsockets, OpenSSL's key). A run whose keys all match does nothing, without the
# network: a second run is instant. Downloaded sources are kept in work/sources/ and
# their chosen version is reused until --update. ReportLink's own fixes to a dependency,
# tools/windows/patches/<package>-*.patch, are applied after Debian's; their checksum
# is part of the key.
#
# Why OpenSSL and not mbedTLS (Debian's two candidates): Linux's ReportLink uses
# OpenSSL, so with it Windows keeps ONE certificate verification code path (the
# LWS_CALLBACK_OPENSSL_* hooks, X509_verify_cert_error_string, the same names for the
# same errors). libwebsockets 4.1.6 + mbedTLS on Windows reads and writes the socket
# with read()/write(), so every TLS handshake fails unless lws is patched, and
# mbedTLS 2.28 does not check IP-address names and reports a self-signed certificate
# as an unknown issuer. OpenSSL 3.0 has a mingw64 target in its own Configure and its
# socket BIO uses recv()/send() on Windows. Cost: a longer first build (libcrypto),
# done once. Only libcrypto and libssl are built (make build_libs, install_dev): no
# shared libraries, no tests, no dynamically loaded modules, no legacy provider
# (Debian's OpenSSL does not load it either); 3.0 has no "no-docs" nor "no-apps"
# option, but build_libs builds neither documentation nor the openssl program.
#
# Sources come from the Debian mirrors this machine's apt already uses (deb-src lines
# written for the same URIs and suites, Debian's patches applied by dpkg-source), read
# with a private apt configuration under the cache: /etc/apt is read, never changed.
# When the newest version cannot be fetched from the mirror, the next one is built
# and a warning says so.
#
# The builds run under nice -n 19 with at most 2 jobs (REPORTLINK_JOBS lowers it): the
# machines this runs on are shared. Build logs: work/logs/<package>.log.
#
# Last, a throwaway program (work/proof/) creates a libwebsockets context with a
# client vhost (OpenSSL's client context and the LOAD_EXTRA_CLIENT_VERIFY_CERTS hook
# ReportLink uses), parses JSON with cJSON, is linked statically with the flags of the
# prefix's pkg-config files and runs under wine (WINEPREFIX work/wine/).
# docs/windows-build.md has the versions, sizes and times measured.
set -euo pipefail
# shellcheck source=tools/private-apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/../private-apt.sh"

usage() { echo "usage: $0 [--update]" >&2; }
update=0
case "${1:-}" in
  "") ;;
  --update) update=1 ;;
  -h|--help) usage; exit 0 ;;
  *) usage; exit 2 ;;
esac

say() { echo "windows-deps: $*" >&2; }
die() { say "error: $*"; exit 1; }

host=x86_64-w64-mingw32
# The posix thread model, named, so the result does not depend on the system's
# alternative (the code uses pthreads: winpthreads).
cc=$host-gcc-posix
jobs=${REPORTLINK_JOBS:-2}
[ "$jobs" -ge 1 ] 2>/dev/null && [ "$jobs" -le 2 ] || jobs=2
prefix=${XDG_CACHE_HOME:-$HOME/.cache}/reportlink/mingw64
work=$prefix/work
stamps=$prefix/stamps
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
deps=(openssl cjson libwebsockets)   # Debian source package names, in build order
# Bump a recipe's revision when the way that dependency is built changes.
# libwebsockets 4: tools/windows/patches/libwebsockets-*.patch applied (lws' Windows
# event loop serviced connections it had just closed: an abort, a dead service loop).
declare -A recipe=([openssl]=2 [cjson]=1 [libwebsockets]=4 [proof]=1)

# ---------------------------------------------------------------- packages
# As tools/ensure-deps.sh: apt-get when root, otherwise the command to run.
# wine64: the wine package alone may bring only the 32-bit wine.
pkgs=(gcc-mingw-w64-x86-64 wine wine64 cmake make perl pkg-config dpkg-dev debian-archive-keyring)
installed=" $(dpkg-query -W -f='${db:Status-Abbrev}${Package} ' "${pkgs[@]}" 2>/dev/null || true) "
missing=()
for p in "${pkgs[@]}"; do
  case "$installed" in *" ii $p "*) ;; *) missing+=("$p") ;; esac
done
if [ ${#missing[@]} -gt 0 ]; then
  say "the Windows build needs these Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  else
    say "run this, then try again:"
    say "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
fi
command -v "$cc" >/dev/null 2>&1 || die "$cc is missing (package gcc-mingw-w64-x86-64-posix)"
# The toolchain's part of every key: a new compiler or C runtime rebuilds everything.
cc_version=$(dpkg-query -W -f='${Package} ${Version} ' gcc-mingw-w64-x86-64-posix mingw-w64-x86-64-dev)
cc_version=${cc_version% }

mkdir -p "$work" "$stamps"
exec 9>"$prefix/.lock"
flock 9   # another run may be building into the same prefix

# ---------------------------------------------------------------- sources
sources=$work/sources
apt_ready=0
# A private apt: its own sources list (deb-src for the Debian repositories the
# system's apt names), lists, cache and an empty dpkg status.
setup_apt() {
  [ "$apt_ready" -eq 1 ] && return 0
  local apt=$work/apt signed=""
  private_apt_dirs "$apt"
  : >"$apt/status"
  [ -r "$keyring" ] && signed="[signed-by=$keyring] "
  # shellcheck disable=SC2016  # $(REPO_URI)... are apt's format fields
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
      'Identifier: Packages' 'Origin: Debian' | sort -u |
    sed "s|^|deb-src $signed|" >"$apt/etc/sources.list.new"
  [ -s "$apt/etc/sources.list.new" ] \
    || die "apt's configuration names no Debian repository (or its lists were never read: apt-get update)"
  if ! cmp -s "$apt/etc/sources.list.new" "$apt/etc/sources.list"; then
    mv "$apt/etc/sources.list.new" "$apt/etc/sources.list"
    update=1   # new repositories: their lists must be read
  else
    rm -f "$apt/etc/sources.list.new"
  fi
  private_apt_conf "$apt" "$apt/status" 'Acquire::GzipIndexes "true";'
  mkdir -p "$sources"
  private_apt_sandbox "$apt" "$sources"
  export APT_CONFIG=$apt/apt.conf
  if [ "$update" -eq 1 ] || ! compgen -G "$apt/state/lists/*Sources*" >/dev/null; then
    say "reading the source lists of: $(awk '{ printf "%s%s %s", sep, $(NF-2), $(NF-1); sep=", " }' "$apt/etc/sources.list")"
    apt-get -q update --error-on=any >&2 || die "cannot read the source lists (is the mirror reachable?)"
  fi
  apt_ready=1
}

dsc_of() { echo "$sources/${1}_${2#*:}.dsc"; }   # package, version (no epoch in file names)

# resolve PACKAGE: sets version to the one to build: the one fetched before (until
# --update), else the newest the mirror serves. Fetches its files into work/sources/.
# (Not run in $(...): setup_apt's state must outlive the call.)
resolve() {
  local pkg=$1 v vfile=$sources/$1.version
  if [ "$update" -eq 0 ] && [ -s "$vfile" ] && [ -f "$(dsc_of "$pkg" "$(cat "$vfile")")" ]; then
    version=$(cat "$vfile")
    return 0
  fi
  setup_apt
  local versions=() newest=""
  mapfile -t versions < <(apt-cache showsrc --only-source "$pkg" 2>/dev/null | sed -n 's/^Version: //p')
  [ ${#versions[@]} -gt 0 ] || die "no source package $pkg in $(tr '\n' ' ' <"$work/apt/etc/sources.list")"
  # Newest first, in Debian's order.
  local sorted=() i j t
  sorted=("${versions[@]}")
  for ((i = 0; i < ${#sorted[@]}; i++)); do
    for ((j = i + 1; j < ${#sorted[@]}; j++)); do
      if dpkg --compare-versions "${sorted[j]}" gt "${sorted[i]}"; then
        t=${sorted[i]}; sorted[i]=${sorted[j]}; sorted[j]=$t
      fi
    done
  done
  for v in "${sorted[@]}"; do
    [ -n "$newest" ] || newest=$v
    if [ -f "$(dsc_of "$pkg" "$v")" ] ||
       (cd "$sources" && apt-get -q source --download-only "$pkg=$v" >>"$work/logs/fetch.log" 2>&1); then
      [ "$v" = "$newest" ] ||
        say "WARNING: $pkg $newest cannot be fetched from the mirror (see work/logs/fetch.log); building $v"
      echo "$v" >"$vfile"
      version=$v
      return 0
    fi
  done
  die "no version of $pkg could be fetched (${sorted[*]}); see $work/logs/fetch.log"
}

# ---------------------------------------------------------------- building
logs=$work/logs
mkdir -p "$logs"
log=/dev/null
# run COMMAND...: niced, output to the current log; on failure its end is shown.
run() {
  if ! nice -n 19 "$@" >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "failed: $* (whole log: $log)"
  fi
}

# unpack PACKAGE VERSION: a fresh source tree with Debian's patches applied, in
# work/build/PACKAGE/src (set in src; dpkg-source copies the upstream tarball next to
# it, so everything goes with work/build/PACKAGE). apt checked the files against the
# signed Sources index, so dpkg-source need not check the .dsc's signature (--no-check).
unpack() {
  rm -rf "$work/build/$1"
  mkdir -p "$work/build/$1"
  src=$work/build/$1/src
  run dpkg-source --no-check -x "$(dsc_of "$1" "$2")" "$src"
}

# apply_patches PACKAGE SRC: ReportLink's own fixes, tools/windows/patches/PACKAGE-*.patch,
# on top of Debian's, in name order (each file says what it fixes and why). Their
# checksum is part of the package's stamp key: a changed patch rebuilds it.
patches=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/patches
apply_patches() {
  local p
  for p in "$patches/$1"-*.patch; do
    [ -e "$p" ] || continue
    say "applying $(basename "$p")"
    run patch -d "$2" -p1 --forward --batch -i "$p"
  done
}

toolchain=$prefix/toolchain.cmake
write_toolchain() {
  cat >"$toolchain.new" <<EOF
# CMake toolchain for x86_64-w64-mingw32, written by tools/windows/build-deps.sh.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $cc)
set(CMAKE_RC_COMPILER $host-windres)
set(CMAKE_AR $(command -v "$host-ar"))
set(CMAKE_RANLIB $(command -v "$host-ranlib"))
set(CMAKE_FIND_ROOT_PATH /usr/$host $prefix)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF
  if cmp -s "$toolchain.new" "$toolchain"; then rm -f "$toolchain.new"; else mv "$toolchain.new" "$toolchain"; fi
}

build_openssl() {   # source dir
  cd "$1"
  # build_libs + install_dev: libcrypto.a, libssl.a, headers and .pc files only.
  # The directories compiled into libcrypto must be Windows paths only administrators
  # can write: by default they derive from --prefix (this Linux cache), which on
  # Windows reads as C:\root\..., a folder any user may create, and OpenSSL reads its
  # openssl.cnf (which can load modules) and trusted certificates from there
  # (CVE-2019-1552). These are OpenSSL's own defaults for mingw without --prefix,
  # given to make (Configure would take --openssldir=C:/... as relative to --prefix).
  local windir="C:/Program Files/OpenSSL"
  run perl ./Configure mingw64 --cross-compile-prefix="$host-" CC=gcc-posix \
      --prefix="$prefix" --libdir=lib no-shared no-module no-legacy no-tests
  run make -j"$jobs" build_libs OPENSSLDIR="C:/Program Files/Common Files/SSL" \
      ENGINESDIR="$windir/lib/engines-3" MODULESDIR="$windir/lib/ossl-modules"
  grep -aqF 'OPENSSLDIR: "C:/Program Files/Common Files/SSL"' libcrypto.a \
    || die "libcrypto.a does not name C:/Program Files/Common Files/SSL as OPENSSLDIR"
  ! grep -aqF "$prefix" libcrypto.a || die "libcrypto.a names $prefix"
  run make install_dev
  rmdir "$prefix/bin" 2>/dev/null || true   # made for DLLs; there are none
}

build_cjson() {
  cd "$1"
  # cJSON's own flags add -Werror and -fstack-protector-strong (which needs libssp
  # under mingw): off. CJSON_HIDE_SYMBOLS: the header would otherwise declare every
  # function __declspec(dllimport) on Windows (and a DLL would export them all).
  run cmake -S . -B build -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=None \
      -DCMAKE_C_FLAGS="-O2 -DCJSON_HIDE_SYMBOLS" -DCMAKE_INSTALL_PREFIX="$prefix" \
      -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF -DENABLE_CUSTOM_COMPILER_FLAGS=OFF \
      -DENABLE_PUBLIC_SYMBOLS=OFF -DENABLE_HIDDEN_SYMBOLS=ON -DENABLE_CJSON_TEST=OFF \
      -DENABLE_CJSON_UTILS=OFF
  run cmake --build build -j"$jobs"
  run cmake --install build
  # Whoever includes cJSON.h must define it too, or gets the dllimport declarations.
  sed -i 's|^Cflags: .*|& -DCJSON_HIDE_SYMBOLS|' "$prefix/lib/pkgconfig/libcjson.pc"
}

build_libwebsockets() {
  cd "$1"
  # Client and server roles (the client, the development server), h1 + ws, h2 and
  # IPv6 as Debian's Linux build has them; no extensions (ReportLink offers none), no
  # zlib, no test apps or examples. The OpenSSL libraries are named with what libcrypto
  # needs on Windows, or CMake's checks for OpenSSL functions (X509_VERIFY_PARAM_set1_host
  # ...) fail to link and lws silently leaves those features out; checked below.
  # (LWS_OPENSSL_LIBRARIES is a PATH in lws' cache: CMake makes "ws2_32" a path under
  # the source tree, hence the import libraries' full paths. CMAKE_REQUIRED_INCLUDES:
  # lws looks for openssl/ecdh.h without OpenSSL's include directory, which on Linux
  # is /usr/include anyway.)
  # DISABLE_WERROR: lws 4.1.6 calls OpenSSL 3.0's deprecated functions (Debian's build
  # turns that error off too).
  local winlibs="" l
  for l in ws2_32 gdi32 crypt32; do winlibs="$winlibs;$("$cc" -print-file-name="lib$l.a")"; done
  run cmake -S . -B build -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=None \
      -DCMAKE_C_FLAGS="-O2" -DCMAKE_INSTALL_PREFIX="$prefix" -DDISABLE_WERROR=ON \
      -DLWS_WITH_SHARED=OFF -DLWS_WITH_STATIC=ON -DLWS_WITHOUT_TESTAPPS=ON \
      -DLWS_WITH_MINIMAL_EXAMPLES=OFF -DLWS_WITH_SSL=ON \
      -DLWS_OPENSSL_INCLUDE_DIRS="$prefix/include" -DCMAKE_REQUIRED_INCLUDES="$prefix/include" \
      -DLWS_OPENSSL_LIBRARIES="$prefix/lib/libssl.a;$prefix/lib/libcrypto.a$winlibs" \
      -DLWS_IPV6=ON -DLWS_UNIX_SOCK=OFF -DLWS_WITH_ZLIB=OFF -DLWS_WITH_BUNDLED_ZLIB=OFF \
      -DLWS_WITHOUT_EXTENSIONS=ON -DLWS_INSTALL_CMAKE_DIR=lib/cmake/libwebsockets
  local h=build/lws_config.h missing_have=() f
  for f in SSL_CTX_set1_param X509_VERIFY_PARAM_set1_host SSL_CTX_load_verify_file \
           SSL_CTX_set_ciphersuites SSL_set_alpn_protos SSL_get0_alpn_selected \
           SSL_SET_INFO_CALLBACK TLS_CLIENT_METHOD TLSV1_2_CLIENT_METHOD \
           SSL_CTX_get0_certificate SSL_EXTRA_CHAIN_CERTS EVP_MD_CTX_free OPENSSL_ECDH_H; do
    grep -q "^#define LWS_HAVE_$f\b" "$h" || missing_have+=("$f")
  done
  [ ${#missing_have[@]} -eq 0 ] \
    || die "libwebsockets' configuration did not find in OpenSSL: ${missing_have[*]} (see $log)"
  run cmake --build build -j"$jobs"
  run cmake --install build
  # lws writes .pc files on Unix only. This one has the Linux one's name, so that a
  # build takes `pkg-config --static libwebsockets` on both; the libraries are the
  # ones lws' CMake lists for Windows.
  local lws_version
  lws_version=$(sed -n 's/^#define LWS_LIBRARY_VERSION "\(.*\)"/\1/p' "$prefix/include/lws_config.h")
  cat >"$prefix/lib/pkgconfig/libwebsockets.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: libwebsockets
Description: libwebsockets, static, for $host (written by tools/windows/build-deps.sh)
Version: $lws_version
Requires.private: libssl libcrypto
Libs: -L\${libdir} -lwebsockets_static
Libs.private: -lws2_32 -luserenv -lpsapi -liphlpapi -lcrypt32
Cflags: -I\${includedir}
EOF
}

# ---------------------------------------------------------------- the dependencies
declare -A key
built=0
for dep in "${deps[@]}"; do
  resolve "$dep"
  v=$version
  k="$dep $v recipe=${recipe[$dep]} with $cc_version"
  # Our patches are part of the key: editing one rebuilds that dependency.
  if compgen -G "$patches/$dep-*.patch" >/dev/null; then
    k="$k patches=$(cat "$patches/$dep"-*.patch | sha256sum | cut -c1-16)"
  fi
  [ "$dep" = libwebsockets ] && k="$k with ${key[openssl]}"
  key[$dep]=$k
  if [ "$(cat "$stamps/$dep" 2>/dev/null)" = "$k" ]; then
    continue
  fi
  rm -f "$stamps/$dep" "$stamps/proof"
  write_toolchain
  log=$logs/$dep.log
  : >"$log"
  say "building $dep $v for $host (log: $log)"
  start=$SECONDS
  unpack "$dep" "$v"
  apply_patches "$dep" "$src"
  ( "build_$dep" "$src" )
  rm -rf "$work/build/$dep"   # the installed files are all that is needed from now on
  echo "$k" >"$stamps/$dep"
  say "$dep $v built in $((SECONDS - start)) s"
  built=1
done

# Only the chosen versions' files stay in work/sources/ (an attempt at a version the
# mirror does not fully serve may have left some behind).
keep=()
for dep in "${deps[@]}"; do
  dsc=$(dsc_of "$dep" "$(cat "$sources/$dep.version")")
  keep+=("$dep.version" "$(basename "$dsc")")
  mapfile -t -O ${#keep[@]} keep < <(awk '/^Files:/ { f = 1; next } /^[^ ]/ { f = 0 } f { print $3 }' "$dsc")
done
for f in "$sources"/*; do
  case " ${keep[*]} " in *" $(basename "$f") "*) ;; *) rm -f "$f" ;; esac
done

# ---------------------------------------------------------------- the proof
proof_key="recipe=${recipe[proof]} $(cat "${deps[@]/#/$stamps/}" | tr '\n' ' ')"
if [ "$(cat "$stamps/proof" 2>/dev/null)" != "$proof_key" ]; then
  proof=$work/proof
  log=$logs/proof.log
  : >"$log"
  rm -rf "$proof"
  mkdir -p "$proof"
  cat >"$proof/proof.c" <<'EOF'
/* Throwaway: do the cross-built libraries link and run? Written by build-deps.sh. */
#include <stdio.h>
#include <string.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <cJSON.h>

static int trust_hook_called;

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                    void *in, size_t len)
{
    /* ReportLink adds its CA file to the client's trust store here. */
    if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS)
        trust_hook_called = SSL_CTX_get_cert_store((SSL_CTX *)user) != NULL;
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    { "proof", callback, 0, 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

int main(void)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;   /* a client vhost */
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "lws_create_context failed\n");
        return 1;
    }
    cJSON *json = cJSON_Parse("{\"type\":\"json_report\",\"fields\":3}");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(json, "type");
    int ok = trust_hook_called && cJSON_IsString(type) && !strcmp(type->valuestring, "json_report");
    printf("libwebsockets %s, %s, cJSON %s\n", lws_get_library_version(),
           OpenSSL_version(OPENSSL_VERSION), cJSON_Version());
    printf("client vhost with TLS: %s; trust hook: %s; cJSON_Parse: %s\n",
           ctx ? "created" : "none", trust_hook_called ? "called" : "NOT called",
           cJSON_IsString(type) ? type->valuestring : "FAILED");
    cJSON_Delete(json);
    lws_context_destroy(ctx);
    printf("%s\n", ok ? "proof: ok" : "proof: FAILED");
    return ok ? 0 : 1;
}
EOF
  # The flags and libraries come from the prefix's own .pc files, as a later
  # Windows build of ReportLink would take them.
  pc=(env PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" PKG_CONFIG_PATH= pkg-config --static)
  flags=$("${pc[@]}" --cflags --libs libwebsockets libcjson libssl) \
    || die "pkg-config does not find the libraries in $prefix/lib/pkgconfig"
  read -r -a flags <<<"$flags"
  say "linking the proof: ${flags[*]}"
  run "$cc" -std=c11 -Wall -Wextra -Werror -O2 "$proof/proof.c" -o "$proof/proof.exe" -static "${flags[@]}"
  "$host-strip" -o "$proof/proof-stripped.exe" "$proof/proof.exe"
  if [ -d "$work/wine" ]; then say "running it under wine"; else say "running it under wine (first run: creating $work/wine)"; fi
  export WINEPREFIX=$work/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  set +e
  nice -n 19 timeout 600 wine "$proof/proof.exe" >"$proof/output.txt" 2>>"$log" </dev/null
  rc=$?
  set -e
  wineserver -w 2>/dev/null || true   # this prefix's wineserver, started above
  sed 's/\r$//; s/^/  /' "$proof/output.txt" >&2
  [ "$rc" -eq 0 ] || { tail -n 20 "$log" >&2; die "the proof exited with $rc under wine"; }
  grep -q '^proof: ok' "$proof/output.txt" || die "the proof did not say ok"
  say "proof.exe: $(du -k "$proof/proof-stripped.exe" | cut -f1) KiB stripped"
  echo "$proof_key" >"$stamps/proof"
fi

if [ "$built" -eq 1 ]; then
  say "built: $(for d in "${deps[@]}"; do printf '%s %s; ' "$d" "$(cat "$sources/$d.version")"; done)"
  say "prefix size: $(du -sh --exclude=work "$prefix" | cut -f1) (work/ $(du -sh "$work" | cut -f1))"
fi
echo "$prefix"
