#!/usr/bin/env python3
"""Adds the Windows x64 half to an extension's staging folder (build/oxt/).

    tools/windows/oxt-add-windows.py STAGING REPORTLINK_DLL

The Linux package's files stay as they are in the sources: `make` builds a
Linux-only .oxt from them. `make package` runs this before zipping, so that
build/reportlink.oxt carries both native components:

- reportlink.dll, at the top level next to reportlink.so: the UI finds its
  i18n/ folder next to the library (src/base/words.c);
- reportlink-windows.components, made from reportlink.components with the
  library's name changed, so the two can never list different implementations;
- META-INF/manifest.xml: the new .components file declared for
  platform=windows_x86_64 (LibreOffice's deployment skips a manifest entry
  whose platform does not fit; Linux reads only the linux_x86_64 one);
- description.xml: <platform value="linux_x86_64,windows_x86_64"/>.

Every edit is checked to have happened exactly once; anything unexpected in
the sources stops the build rather than ship a half-declared package.
Standard library only.
"""
import os
import re
import shutil
import sys

LINUX_LIB = "reportlink.so"
WINDOWS_LIB = "reportlink.dll"
LINUX_COMPONENTS = "reportlink.components"
WINDOWS_COMPONENTS = "reportlink-windows.components"
PLATFORMS = "linux_x86_64,windows_x86_64"


def die(msg):
    sys.exit("oxt-add-windows: error: %s" % msg)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def replace_once(text, pattern, repl, what):
    new, n = re.subn(pattern, repl, text)
    if n != 1:
        die("%s: expected exactly one match of %r, found %d" % (what, pattern, n))
    return new


def main(argv):
    if len(argv) != 3:
        die("usage: %s STAGING REPORTLINK_DLL" % argv[0])
    staging, dll = argv[1], argv[2]
    with open(dll, "rb") as f:
        head = f.read(2)
    if head != b"MZ":
        die("%s is not a Windows DLL" % dll)
    shutil.copyfile(dll, os.path.join(staging, WINDOWS_LIB))

    comps = read(os.path.join(staging, LINUX_COMPONENTS))
    comps = replace_once(comps, r'uri="%s"' % re.escape(LINUX_LIB), 'uri="%s"' % WINDOWS_LIB,
                         LINUX_COMPONENTS)
    write(os.path.join(staging, WINDOWS_COMPONENTS), comps)

    manifest_path = os.path.join(staging, "META-INF", "manifest.xml")
    manifest = read(manifest_path)
    # The Linux entry, whole, as the template of the Windows one.
    entry = re.search(r'[ \t]*<manifest:file-entry\s[^>]*full-path="%s"[^>]*/>\n'
                      % re.escape(LINUX_COMPONENTS), manifest)
    if not entry or "platform=linux_x86_64" not in entry.group(0):
        die("META-INF/manifest.xml declares no %s for platform=linux_x86_64" % LINUX_COMPONENTS)
    win = entry.group(0).replace(LINUX_COMPONENTS, WINDOWS_COMPONENTS) \
                        .replace("platform=linux_x86_64", "platform=windows_x86_64")
    manifest = manifest[:entry.end()] + win + manifest[entry.end():]
    write(manifest_path, manifest)

    desc_path = os.path.join(staging, "description.xml")
    desc = replace_once(read(desc_path), r'<platform value="linux_x86_64"/>',
                        '<platform value="%s"/>' % PLATFORMS, "description.xml")
    write(desc_path, desc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
