#!/usr/bin/env bash
# LibreOffice 25.2 from bookworm-backports, unpacked in a cache and never installed,
# so that tests/lo can run against it while the system keeps its LibreOffice 7.4.
# Prints the program directory (…/usr/lib/libreoffice/program) on stdout; everything
# else goes to stderr. A second run finds the unpacked tree and prints it at once.
#
#   tools/libreoffice-25.2.sh          fetch and unpack if needed, print the program dir
#   REPORTLINK_LO_PROGRAM=$(tools/libreoffice-25.2.sh) /usr/bin/python3 tests/lo/test_writer.py
#
# The cache is ${XDG_CACHE_HOME:-$HOME/.cache}/reportlink/libreoffice-25.2/. As root
# without XDG_CACHE_HOME it is /var/cache/reportlink/libreoffice-25.2/: the tests run the
# office as nobody (tests/lo/office.py), who cannot enter /root.
#
# apt runs with a configuration of its own (sources list, lists, archives, all under the
# cache; /etc/apt is not read) and a copy of the system's dpkg status, so that it fetches
# LibreOffice's packages and only the libraries bookworm lacks on this machine. The .debs
# are unpacked with dpkg -x; what their maintainer scripts would do is done here
# (main.xcd), and the few places where Debian's LibreOffice names /usr/lib/libreoffice
# or /etc/libreoffice are pointed inside the tree. The office needs LD_LIBRARY_PATH with
# the program directory, then <tree>/usr/lib/x86_64-linux-gnu (office.py sets it).
set -euo pipefail
# shellcheck source=tools/private-apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/private-apt.sh"

series=25.2
suite=bookworm-backports
mirror=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
wanted=(libreoffice-writer libreoffice-core libreoffice-l10n-fr)
optional=(libreoffice-script-provider-python)
# Installed packages that depend on the system's exact LibreOffice version come back in
# apt's plan as upgrades; the office does not need these.
unwanted='^[^=]*-(dev|dev-common|dbg|doc)='

umask 022   # the tree is read by nobody when the tests run as root
say() { echo "libreoffice-$series: $*" >&2; }
die() { say "error: $*"; exit 1; }

if [ -n "${XDG_CACHE_HOME:-}" ]; then
  cache=$XDG_CACHE_HOME
elif [ "$(id -u)" -eq 0 ]; then
  cache=/var/cache
else
  cache=$HOME/.cache
fi
dir=$cache/reportlink/libreoffice-$series
tree=$dir/root
program=$tree/usr/lib/libreoffice/program
stamp=$dir/complete

if [ -f "$stamp" ] && [ -x "$program/soffice" ]; then
  echo "$program"
  exit 0
fi

for tool in apt-get apt-cache dpkg dpkg-deb flock; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (this script needs Debian's apt and dpkg)"
done
[ -r "$keyring" ] || die "$keyring is missing (Debian package debian-archive-keyring)"

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9   # another run may be unpacking the same tree
if [ -f "$stamp" ] && [ -x "$program/soffice" ]; then
  echo "$program"
  exit 0
fi

# ---------------------------------------------------------------- private apt
apt=$dir/apt
rm -rf "$apt"
private_apt_dirs "$apt"
mkdir -p "$apt"/dpkg "$apt"/debs
cp /var/lib/dpkg/status "$apt/dpkg/status"   # a copy: apt locks beside it, not in /var/lib/dpkg
cat >"$apt/etc/sources.list" <<EOF
deb [signed-by=$keyring] $mirror bookworm main
deb [signed-by=$keyring] $mirror bookworm-updates main
deb [signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main
deb [signed-by=$keyring] $mirror $suite main
EOF
private_apt_conf "$apt" "$apt/dpkg/status" \
  "APT::Architectures { \"$(dpkg --print-architecture)\"; };" \
  'APT::Install-Recommends "false";' 'APT::Install-Suggests "false";'
export APT_CONFIG=$apt/apt.conf
private_apt_sandbox "$apt" "$apt/debs"

say "reading the package lists of bookworm and $suite from deb.debian.org"
apt-get -q update --error-on=any >&2 \
  || die "cannot read the package lists from $mirror (bookworm and $suite); is deb.debian.org reachable?"

for p in "${optional[@]}"; do
  if [[ $(apt-cache madison "$p" 2>/dev/null) == *"$suite"* ]]; then
    wanted+=("$p")
  else
    say "$p is not in $suite; going on without it"
  fi
done

plan=$(apt-get -q -s -t "$suite" install "${wanted[@]}" 2>&1) \
  || die "apt cannot resolve ${wanted[*]} from $suite:"$'\n'"$plan"
# "Inst NAME [OLD] (NEW RELEASE [ARCH])": NAME=NEW for each package to fetch.
mapfile -t fetch < <(awk '$1 == "Inst" { for (i = 3; i <= NF; i++) if ($i ~ /^\(/) {
                              print $2 "=" substr($i, 2); break } }' <<<"$plan" |
                     grep -Ev "$unwanted" || true)
[ ${#fetch[@]} -gt 0 ] || die "apt's plan for ${wanted[*]} fetches nothing:"$'\n'"$plan"
core=$(printf '%s\n' "${fetch[@]}" | sed -n 's/^libreoffice-core=//p')
case "$core" in
  *:"$series".*) ;;
  *) die "$suite offers libreoffice-core '${core:-none}', not $series" ;;
esac
for f in "${fetch[@]}"; do
  case "${f%%=*}" in
    libc6|libstdc++6|libgcc-s1)
      die "LibreOffice $series needs a newer ${f%%=*} than this system's; upgrade the system first" ;;
  esac
done

say "fetching ${#fetch[@]} packages (LibreOffice $core and what bookworm lacks here)"
(cd "$apt/debs" && apt-get -q download "${fetch[@]}" >&2) \
  || die "could not fetch: ${fetch[*]}"
n=$(find "$apt/debs" -name '*.deb' | wc -l)
[ "$n" -eq ${#fetch[@]} ] || die "fetched $n of ${#fetch[@]} packages (${fetch[*]})"

# ---------------------------------------------------------------- unpack
new=$dir/root.new
rm -rf "$new"
mkdir -p "$new"
for deb in "$apt"/debs/*.deb; do
  dpkg -x "$deb" "$new" || die "cannot unpack $(basename "$deb")"
done
newprog=$new/usr/lib/libreoffice/program
[ -x "$newprog/soffice.bin" ] || die "no soffice.bin in the unpacked packages"

# libreoffice-common's postinst: main.xcd goes to /etc/libreoffice/registry (ucf).
mkdir -p "$new/etc/libreoffice/registry"
cp "$new/usr/lib/libreoffice/share/.registry/main.xcd" "$new/etc/libreoffice/registry/main.xcd" \
  || die "no share/.registry/main.xcd in libreoffice-common"
# Directories the packages' symlinks point at, made by their maintainer scripts.
mkdir -p "$new/var/lib/libreoffice/share/prereg/bundled" "$new/var/spool/libreoffice/uno_packages/cache"
# Absolute symlinks (share/registry/main.xcd -> /etc/libreoffice/…) would reach the
# system's 7.4: make them relative, inside the tree.
while IFS= read -r -d '' link; do
  target=$(readlink "$link")
  ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$new$target")" "$link"
done < <(find "$new" -type l -lname '/*' -print0)

# Debian's bootstrap files name the installation's place; make it the tree's.
patch_line() {   # file, line expected, line wanted
  grep -qxF "$2" "$1" || die "$(basename "$1") has no line '$2': the packaging changed"
  local tmp
  tmp=$(mktemp)
  awk -v old="$2" -v new="$3" '$0 == old { print new; next } { print }' "$1" >"$tmp"
  cat "$tmp" >"$1" && rm -f "$tmp"
}
# shellcheck disable=SC2016  # ${ORIGIN} and $sd_prog are LibreOffice's and unopkg's, not ours
{
  patch_line "$newprog/fundamentalrc" 'BRAND_BASE_DIR=file:///usr/lib/libreoffice' 'BRAND_BASE_DIR=${ORIGIN}/..'
  patch_line "$newprog/sofficerc" 'FHS_CONFIG_FILE=file:///etc/libreoffice/sofficerc' \
             'FHS_CONFIG_FILE=${ORIGIN}/../../../../etc/libreoffice/sofficerc'
  patch_line "$newprog/unopkg" 'export PYTHONPATH="/usr/lib/libreoffice/program"' 'export PYTHONPATH="$sd_prog"'
}
if grep -lsE 'file:///(usr/lib|etc)/libreoffice' "$newprog"/*rc >&2; then
  die "a bootstrap file above still names the system's LibreOffice"
fi

# ---------------------------------------------------------------- check
# Headless --version, then a real conversion, as the tests will run it (as nobody
# when root), with a throwaway profile.
check=$(mktemp -d)
trap 'rm -rf "$check"' EXIT
chmod 755 "$check"
as=()
if [ "$(id -u)" -eq 0 ]; then
  chown 65534:65534 "$check"
  as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  "${as[@]}" test -x "$newprog/soffice" \
    || die "nobody cannot reach $newprog (the tests run the office as nobody); set XDG_CACHE_HOME to a directory others can enter"
fi
# The unpacked libraries: the program directory first (its libraries find their
# siblings through $ORIGIN), then those of the packages bookworm lacks here.
libpath=$newprog
for d in "$new"/usr/lib/*-linux-gnu* "$new"/lib/*-linux-gnu*; do
  [ -d "$d" ] && libpath=$libpath:$d
done
run_office() {
  env -i PATH=/usr/bin:/bin HOME="$check" TMPDIR="$check" LANG=C.UTF-8 SAL_USE_VCLPLUGIN=svp \
      LD_LIBRARY_PATH="$libpath" timeout 120 "${as[@]}" "$newprog/soffice" --headless --norestore \
      "-env:UserInstallation=file://$check/profile" "$@"
}
version=$(run_office --version 2>&1) || die "soffice --version failed: $version"
case "$version" in
  "LibreOffice $series."*) ;;
  *) die "soffice --version says '$version', not LibreOffice $series" ;;
esac
printf 'Bonjour %s\n' "$series" >"$check/hello.txt"
out=$(run_office --convert-to odt --outdir "$check" "$check/hello.txt" 2>&1) \
  || die "soffice --convert-to odt failed: $out"
[ -s "$check/hello.odt" ] || die "soffice --convert-to odt wrote nothing: $out"

rm -rf "$tree"
mv "$new" "$tree"
rm -rf "$apt"    # the tree is all that is needed from now on
awk '{ print $1, $2; exit }' <<<"$version" >"$dir/version"   # "LibreOffice 25.2.3.2"
touch "$stamp"
say "$(cat "$dir/version") unpacked in $tree ($(du -sh "$tree" | cut -f1))"
echo "$program"
