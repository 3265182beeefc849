"""Static checks of the Windows component, build/windows/reportlink.dll
(make windows), against the Linux one, build/reportlink.so (make):

- it exports exactly the two UNO component entry points, the same as the .so;
- it imports only LibreOffice's sal3.dll and cppu3.dll and Windows' own DLLs
  (ALLOWED_SYSTEM_DLLS, each with the reason it is there): nothing of mingw's
  (libwinpthread, libgcc) nor a DLL an office does not ship;
- tools/windows/sal3.def and cppu3.def list exactly what the DLL imports from
  each, and together exactly what the .so takes from libuno_sal/libuno_cppu;
- the binary UNO ABI: a probe prints sizeof and every member's offsetof of
  the SDK's basic types (sal_Int64, sal_Unicode, uno_Any, typelib_*...) and of
  every struct generated into build/gen/rl_uno_api.h; compiled for Linux with
  the Linux flags and for Windows through tools/windows/sdk-overlay (run under
  wine), the two outputs must be equal line for line, and sal_Int64 8 bytes.

Usage: /usr/bin/python3 tests/windows/check_dll.py [WORD...] [-WORD...]
Ends with "N passed, N failed". Needs x86_64-w64-mingw32-objdump/-gcc, wine
(the prefix tools/windows/build-deps.sh made), the LibreOffice SDK (LO_SDK,
default /usr/lib/libreoffice/sdk).
"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
import harness  # noqa: E402
from harness import Failure, check  # noqa: E402

ROOT = harness.ROOT
B = os.path.join(ROOT, "build")
DLL = os.environ.get("REPORTLINK_DLL") or os.path.join(B, "windows", "reportlink.dll")
SO = os.path.join(B, "reportlink.so")
GEN_H = os.path.join(B, "gen", "rl_uno_api.h")
DEFS = {"sal3.dll": os.path.join(ROOT, "tools", "windows", "sal3.def"),
        "cppu3.dll": os.path.join(ROOT, "tools", "windows", "cppu3.def")}
OVERLAY = os.path.join(ROOT, "tools", "windows", "sdk-overlay")
LO_SDK = os.environ.get("LO_SDK") or "/usr/lib/libreoffice/sdk"
WINE_EXEC = os.path.join(HERE, "wine_exec.py")
OBJDUMP = "x86_64-w64-mingw32-objdump"
WIN_CC = "x86_64-w64-mingw32-gcc-posix"

ENTRY_POINTS = {"component_getFactory", "component_getImplementationEnvironment"}
# Windows' own DLLs the component may import (lower case), and why each is there.
ALLOWED_SYSTEM_DLLS = {
    "kernel32.dll": "files, threads, time, the platform layer",
    "advapi32.dll": "owner-only DACLs (the platform layer); OpenSSL's event log and registry",
    "ws2_32.dll": "sockets (libwebsockets)",
    "crypt32.dll": "the Windows certificate store (src/core/trust_win.c)",
    "bcrypt.dll": "random numbers (BCryptGenRandom: the platform layer, OpenSSL)",
    "user32.dll": "OpenSSL: whether the process has a visible desktop (fatal-error reporting)",
    "gdi32.dll": "OpenSSL on mingw (named by its link line)",
    "iphlpapi.dll": "libwebsockets: network interfaces",
    "userenv.dll": "libwebsockets' Windows link line",
    "psapi.dll": "libwebsockets' Windows link line",
    "msvcrt.dll": "mingw-w64's C runtime, part of every Windows",
}
LIBREOFFICE_DLLS = set(DEFS)

_cache = {}


def run(argv, what, timeout=120, **kw):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    except FileNotFoundError:
        raise Failure("%s: %s is not installed" % (what, argv[0])) from None
    check(r.returncode == 0, "%s failed (%d): %s" % (what, r.returncode, (r.stderr or r.stdout)[-600:]))
    return r.stdout


def need(path, how):
    check(os.path.exists(path), "%s is missing: %s" % (os.path.relpath(path, ROOT), how))


def pe():
    """(exports, {dll name lower: set of imported names}) of the DLL, from objdump -p."""
    if "pe" in _cache:
        return _cache["pe"]
    need(DLL, "make windows")
    out = run([OBJDUMP, "-p", DLL], "objdump -p")
    imports, current, exports = {}, None, set()
    section = None
    for line in out.splitlines():
        if line.startswith("The Import Tables"):
            section = "imports"
        elif line.startswith("The Export Tables"):
            section = "exports"
        elif line.startswith("The Function Table") or line.startswith("PE File Base Relocations"):
            section = None
        if section == "imports":
            m = re.match(r"\s*DLL Name: (\S+)", line)
            if m:
                current = m.group(1).lower()
                imports.setdefault(current, set())
                continue
            m = re.match(r"\s*[0-9a-f]+\s+(\d+)\s+(\S+)\s*$", line)
            if current and m:
                imports[current].add(m.group(2))
        elif section == "exports":
            m = re.match(r"\s*\[\s*\d+\]\s+([A-Za-z_]\w*)\s*$", line)
            if m:
                exports.add(m.group(1))
    check(imports, "objdump -p shows no import table in %s: the parser is wrong" % DLL)
    _cache["pe"] = (exports, imports)
    return exports, imports


def so_symbols(kind):
    need(SO, "make")
    out = run(["nm", "-D", "--%s-only" % kind, SO], "nm -D " + SO)
    return {l.split()[-1].split("@")[0] for l in out.splitlines() if l.strip()}


def def_file(path):
    """(LIBRARY name, exported names) of a .def file."""
    need(path, "it comes with the Windows build (mk/windows.mk)")
    lib, names, in_exports = None, set(), False
    with open(path) as f:
        for line in f:
            line = line.split(";", 1)[0].strip()
            if not line:
                continue
            if line.upper().startswith("LIBRARY"):
                lib = line.split()[1].lower()
            elif line.upper() == "EXPORTS":
                in_exports = True
            elif in_exports:
                names.add(line.split()[0])
    return lib, names


# ------------------------------------------------------------------ exports, imports

def exports_entry_points_only():
    exports, _ = pe()
    check(exports == ENTRY_POINTS, "the DLL exports %s, expected exactly %s"
          % (sorted(exports), sorted(ENTRY_POINTS)))
    linux = {s for s in so_symbols("defined") if not s.startswith("_")}
    check(linux == exports, "reportlink.so exports %s, the DLL %s" % (sorted(linux), sorted(exports)))


def imports_allowed_only():
    _, imports = pe()
    unknown = sorted(d for d in imports if d not in ALLOWED_SYSTEM_DLLS and d not in LIBREOFFICE_DLLS
                     and not d.startswith("api-ms-win-crt-"))
    check(not unknown, "the DLL imports %s: neither LibreOffice's sal3/cppu3 nor a Windows system DLL"
          % unknown)
    missing = sorted(LIBREOFFICE_DLLS - set(imports))
    check(not missing, "the DLL does not import %s: it is not linked against LibreOffice as expected"
          % missing)
    harness.note("imports: %s" % ", ".join("%s (%d)" % (d, len(imports[d])) for d in sorted(imports)))


def defs_exact():
    _, imports = pe()
    everything = set()
    for dll, path in sorted(DEFS.items()):
        lib, names = def_file(path)
        check(lib == dll, "%s says LIBRARY %s, expected %s" % (os.path.relpath(path, ROOT), lib, dll))
        used = imports.get(dll, set())
        unused = sorted(names - used)
        check(not unused, "%s lists %s, which the DLL does not import" % (os.path.relpath(path, ROOT), unused))
        check(not used - names, "the DLL imports %s from %s, not in its .def"
              % (sorted(used - names), dll))
        everything |= names
    linux = {s for s in so_symbols("undefined") if re.match(r"(rtl|osl|uno|typelib|cppu)_", s)}
    check(linux == everything, "the .def files and reportlink.so's LibreOffice imports differ: "
          "only in the .so %s, only in the .def files %s" % (sorted(linux - everything), sorted(everything - linux)))
    harness.note("%d functions from sal3.dll and cppu3.dll, the same as reportlink.so's" % len(everything))


# ------------------------------------------------------------------ layouts

# The SDK's types the bridge relies on (src/uno/), with the members it reads.
SDK_LAYOUTS = [
    ("sal_Int8", []), ("sal_Int16", []), ("sal_Int32", []), ("sal_Int64", []), ("sal_uInt64", []),
    ("sal_Unicode", []), ("sal_Bool", []), ("sal_Size", []), ("sal_IntPtr", []), ("double", []),
    ("typelib_TypeClass", []),
    ("uno_Any", ["pType", "pData", "pReserved"]),
    ("uno_Sequence", ["nRefCount", "nElements", "elements"]),
    ("rtl_uString", ["refCount", "length", "buffer"]),
    ("uno_Interface", ["acquire", "release", "pDispatcher"]),
    ("typelib_TypeDescriptionReference", ["nRefCount", "nStaticRefCount", "eTypeClass", "pTypeName",
                                          "pType", "pUniqueIdentifier", "pReserved"]),
    ("typelib_TypeDescription", ["nRefCount", "nStaticRefCount", "eTypeClass", "pTypeName", "pSelf",
                                 "pUniqueIdentifier", "pReserved", "bComplete", "nSize", "nAlignment",
                                 "pWeakRef", "bOnDemand"]),
    ("typelib_CompoundTypeDescription", ["aBase", "pBaseTypeDescription", "nMembers", "pMemberOffsets",
                                         "ppTypeRefs", "ppMemberNames"]),
    ("typelib_InterfaceTypeDescription", ["aBase", "pBaseTypeDescription", "aUik", "nMembers", "ppMembers",
                                          "nAllMembers", "ppAllMembers", "nMapFunctionIndexToMemberIndex",
                                          "pMapFunctionIndexToMemberIndex", "nBaseTypes", "ppBaseTypes"]),
]


def generated_layouts():
    """[(type, [members])] of every struct in build/gen/rl_uno_api.h."""
    need(GEN_H, "make (tools/uno-cgen.py writes it)")
    with open(GEN_H) as f:
        text = f.read()
    out = []
    for m in re.finditer(r"typedef struct (\w+) \{[^\n]*\n(.*?)\n\} \1;", text, re.S):
        members = re.findall(r"^\s+[^;/]*?\**\s*(\w+);", m.group(2), re.M)
        out.append((m.group(1), members))
    check(len(out) >= 10, "only %d structs found in %s: the parser is wrong" % (len(out), GEN_H))
    check(any(t == "rl_uno_PropertyValue" for t, _ in out), "no rl_uno_PropertyValue in %s" % GEN_H)
    return out


def probe_source():
    lines = ["/* written by tests/windows/check_dll.py */",
             "#include <stdio.h>", "#include <stddef.h>",
             "/* The bridge's header includes the SDK's as the component does, then rl_uno_api.h. */",
             "#include \"uno_bridge.h\"",
             "int main(void)", "{"]
    for t, members in SDK_LAYOUTS + generated_layouts():
        lines.append('    printf("%%s size %%u align %%u\\n", "%s", (unsigned)sizeof(%s), (unsigned)_Alignof(%s));'
                     % (t, t, t))
        for mb in members:
            lines.append('    printf("%%s.%%s offset %%u\\n", "%s", "%s", (unsigned)offsetof(%s, %s));'
                         % (t, mb, t, mb))
    lines += ["    return 0;", "}"]
    return "\n".join(lines) + "\n"


def probe_outputs():
    if "probe" in _cache:
        return _cache["probe"]
    d = tempfile.mkdtemp(prefix="check-dll-")
    src = os.path.join(d, "probe.c")
    with open(src, "w") as f:
        f.write(probe_source())
    gen = os.path.dirname(GEN_H)
    common = ["-std=c11", "-Wall", "-Werror", "-I", os.path.join(ROOT, "src", "uno"),
              "-I", os.path.join(ROOT, "src", "base"), "-I", gen, src]
    need(os.path.join(LO_SDK, "include", "sal", "types.h"), "the LibreOffice SDK (LO_SDK)")
    need(OVERLAY, "it comes with the Windows build (mk/windows.mk)")
    run(["cc", "-DLINUX", "-DUNX", "-isystem", os.path.join(LO_SDK, "include")] + common
        + ["-o", os.path.join(d, "probe")], "compiling the Linux probe")
    linux = run([os.path.join(d, "probe")], "the Linux probe")
    run([WIN_CC, "-DWNT", "-isystem", OVERLAY, "-isystem", os.path.join(LO_SDK, "include")] + common
        + ["-o", os.path.join(d, "probe.exe")], "compiling the Windows probe")
    windows = run([sys.executable, WINE_EXEC, os.path.join(d, "probe.exe")], "the Windows probe under wine")
    _cache["probe"] = (linux.replace("\r\n", "\n").splitlines(), windows.replace("\r\n", "\n").splitlines())
    return _cache["probe"]


def sal_int64_is_8():
    linux, windows = probe_outputs()
    for name, lines in (("Linux", linux), ("Windows", windows)):
        line = next((l for l in lines if l.startswith("sal_Int64 size ")), None)
        check(line and line.split()[2] == "8", "%s: %s" % (name, line))
    w = next(l for l in windows if l.startswith("sal_Unicode size "))
    check(w.split()[2] == "2", "Windows: %s" % w)


def layouts_equal():
    linux, windows = probe_outputs()
    check(len(linux) > 100, "the probe printed only %d lines" % len(linux))
    diffs = [(a, b) for a, b in zip(linux, windows) if a != b]
    check(len(linux) == len(windows), "the probes printed %d (Linux) and %d (Windows) lines"
          % (len(linux), len(windows)))
    check(not diffs, "%d layouts differ, first: Linux %r, Windows %r" % (len(diffs), diffs[0][0], diffs[0][1])
          if diffs else "")
    n_types = len([l for l in linux if " size " in l])
    harness.note("%d types, %d members: the same sizes, alignments and offsets on Linux and Windows"
                 % (n_types, len(linux) - n_types))


if __name__ == "__main__":
    harness.test("the DLL exports exactly the two component entry points, as reportlink.so does",
                 exports_entry_points_only)
    harness.test("the DLL imports only sal3.dll, cppu3.dll and Windows system DLLs", imports_allowed_only)
    harness.test("sal3.def and cppu3.def list exactly what the DLL imports, and what reportlink.so imports",
                 defs_exact)
    harness.test("sal_Int64 is 8 bytes and sal_Unicode 2 on Windows and Linux", sal_int64_is_8)
    harness.test("the SDK's types and every generated UNO struct have the same layout on Windows as on Linux",
                 layouts_equal)
    sys.exit(harness.run_all())
