# tools/private-apt.sh - an apt of the project's own, beside the system's.
# Sourced by tools/libreoffice-25.2.sh and tools/windows/build-deps.sh: they
# fetch Debian packages (binary or source) into caches of their own without
# touching /etc/apt, the system's package lists or /var/lib/dpkg.
#
#   private_apt_dirs DIR       the folders apt needs under DIR
#   private_apt_conf DIR STATUS [LINE...]
#                              DIR/apt.conf: apt reads only DIR (sources in
#                              DIR/etc/sources.list, lists and cache under DIR),
#                              with STATUS as its dpkg status; each LINE is added
#                              as it is. The caller exports APT_CONFIG=DIR/apt.conf.
#   private_apt_sandbox DIR DOWNLOADS...
#                              as root, apt downloads as _apt when it can: the
#                              download folders become _apt's; where _apt cannot
#                              reach them (under /root, 0700) apt downloads as
#                              root, as it would anyway (the files are still
#                              checked against the signed indexes).

private_apt_dirs() {
  mkdir -p "$1"/etc/apt.conf.d "$1"/etc/preferences.d "$1"/etc/sources.list.d \
           "$1"/state/lists/partial "$1"/cache/archives/partial
}

private_apt_conf() {
  local apt=$1 status=$2
  shift 2
  {
    cat <<EOF2
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$apt/etc/apt.conf.d";
Dir::Etc::sourcelist "$apt/etc/sources.list";
Dir::Etc::sourceparts "$apt/etc/sources.list.d";
Dir::Etc::preferences "/dev/null";
Dir::Etc::preferencesparts "$apt/etc/preferences.d";
Dir::State "$apt/state";
Dir::State::status "$status";
Dir::Cache "$apt/cache";
Acquire::Languages "none";
EOF2
    [ $# -gt 0 ] && printf '%s\n' "$@"
  } >"$apt/apt.conf"
}

private_apt_sandbox() {
  local apt=$1
  shift
  [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1 || return 0
  chown _apt "$@" "$apt/state/lists/partial" "$apt/cache/archives/partial"
  runuser -u _apt -- test -w "$1" 2>/dev/null || echo 'APT::Sandbox::User "root";' >>"$apt/apt.conf"
}
