#!/usr/bin/python3
"""uno-cgen.py - typed C wrappers for the UNO members ReportLink uses.

Reads the UNOIDL text that the SDK's `unoidl-read` prints for LibreOffice's
type libraries and ReportLink's own, and a list of what the product uses
(src/uno/uno_api.list). Writes one C header and one C file:

  * a C struct for every listed struct and exception, with a table of its
    member offsets so that the bridge checks the layout against the type
    library when it starts;
  * an index for every type and member the product names, so that the bridge
    resolves all of them once, at start-up, and refuses to start when one is
    missing;
  * for every listed `call`, a C function whose parameters have the C types of
    the UNO parameters, so that a wrong argument is a compile error:
        int rl_uno_<Interface>_<member>(uno_Interface *obj, rl_uno_err *err,
                                        <ret> *ret, <params...>);
  * for every listed `implement`ed interface, the member and attribute names
    as macros (RL_UNO_MN_<Interface>_<member>), so that a misspelt class table
    entry is a compile error too, and a typed skeleton per member
    (RL_UNO_SKELETON_*) and attribute (RL_UNO_GETTER_* for a read-only one,
    RL_UNO_ATTRIBUTE_* with a setter otherwise), so that the implementation
    receives the member's C types instead of unpacking void *args[].

Standard library only. Usage:
  uno-cgen.py --list LIST --out-h FILE.h --out-c FILE.c IDLTEXT...
"""

import argparse
import os
import re
import sys

BASIC = {
    "void": ("void", "VOID"),
    "boolean": ("sal_Bool", "BOOLEAN"),
    "byte": ("sal_Int8", "BYTE"),
    "short": ("sal_Int16", "SHORT"),
    "unsigned short": ("sal_uInt16", "UNSIGNED_SHORT"),
    "long": ("sal_Int32", "LONG"),
    "unsigned long": ("sal_uInt32", "UNSIGNED_LONG"),
    "hyper": ("sal_Int64", "HYPER"),
    "unsigned hyper": ("sal_uInt64", "UNSIGNED_HYPER"),
    "float": ("float", "FLOAT"),
    "double": ("double", "DOUBLE"),
    "char": ("sal_Unicode", "CHAR"),
    "string": ("rtl_uString *", "STRING"),
    "type": ("typelib_TypeDescriptionReference *", "TYPE"),
    "any": ("uno_Any", "ANY"),
}


class GenError(Exception):
    pass


# ------------------------------------------------------------------ parsing

def norm_type(t):
    """'::com::sun::star::x::Y' -> 'com.sun.star.x.Y'; 'sequence< T >' -> '[]T'."""
    t = t.strip()
    m = re.match(r"^sequence<\s*(.*)\s*>$", t)
    if m:
        return "[]" + norm_type(m.group(1))
    if t.startswith("::"):
        return t[2:].replace("::", ".")
    return t


def split_top(text, sep=","):
    """Splits text at sep outside <...>."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts]


class Entity:
    def __init__(self, kind, name):
        self.kind = kind          # interface struct exception enum typedef other
        self.name = name
        self.base = None          # struct/exception base, or typedef target
        self.bases = []           # interface bases
        self.members = []         # struct: (type, name); interface: methods
        self.attributes = []      # interface attributes: {"name", "type"}


def parse_idl_text(text, entities):
    """Adds the entities declared in one unoidl-read output to `entities`."""
    modules = []
    stack = []   # block kinds: "module" or an Entity (or None for skipped blocks)
    for raw in text.splitlines():
        line = re.sub(r"^\s*(/\*\*.*?\*/\s*)?", "", raw)
        line = re.sub(r"^published\s+", "", line).strip()
        if not line:
            continue
        if line == "};":
            kind = stack.pop()
            if kind == "module":
                modules.pop()
            continue
        m = re.match(r"^module (\w+) \{$", line)
        if m:
            modules.append(m.group(1))
            stack.append("module")
            continue
        top = stack[-1] if stack else None
        if isinstance(top, Entity):
            if parse_member(top, line) == "block":
                stack.append(None)   # an attribute's get/set raises clauses
            continue
        if top is not None and top != "module":
            continue   # inside a skipped block
        prefix = ".".join(modules)
        m = re.match(r"^interface (\w+) \{$", line)
        if m:
            e = Entity("interface", prefix + "." + m.group(1))
            entities[e.name] = e
            stack.append(e)
            continue
        m = re.match(r"^(struct|exception) (\w+)(<[^>]*>)?\s*(: (\S+))?\s*\{$", line)
        if m:
            e = Entity(m.group(1) if not m.group(3) else "polystruct", prefix + "." + m.group(2))
            if m.group(5):
                e.base = norm_type(m.group(5))
            entities[e.name] = e
            stack.append(e)
            continue
        m = re.match(r"^enum (\w+) \{$", line)
        if m:
            e = Entity("enum", prefix + "." + m.group(1))
            entities[e.name] = e
            stack.append(None)
            continue
        m = re.match(r"^typedef (.+) (\w+);$", line)
        if m:
            e = Entity("typedef", prefix + "." + m.group(2))
            e.base = norm_type(m.group(1))
            entities[e.name] = e
            continue
        if line.endswith("{"):
            stack.append(None)   # constants, accumulation-based services...
            continue
        # forward declarations, services, singletons: nothing to keep


def parse_member(e, line):
    if e.kind in ("struct", "exception", "polystruct"):
        m = re.match(r"^(.+) (\w+);$", line)
        if not m:
            raise GenError("cannot parse member of %s: %s" % (e.name, line))
        e.members.append((norm_type(m.group(1)), m.group(2)))
        return
    # interface
    m = re.match(r"^(\[optional\] )?interface (\S+);$", line)
    if m:
        e.bases.append(norm_type(m.group(2)))
        return
    if line.startswith("[attribute"):
        m = re.match(r"^\[attribute([^\]]*)\] (.+) (\w+)( \{|;)$", line)
        if not m:
            raise GenError("cannot parse attribute of %s: %s" % (e.name, line))
        e.attributes.append({"name": m.group(3), "type": norm_type(m.group(2)),
                             "readonly": "readonly" in m.group(1)})
        return "block" if m.group(4) == " {" else None
    i, j = line.find("("), line.find(")")
    if i < 0 or j < i or " " not in line[:i]:
        raise GenError("cannot parse member of %s: %s" % (e.name, line))
    head, rest = line[:i], line[i + 1:]
    ret, name = head.rsplit(" ", 1)
    j = rest.index(")")
    params = []
    for p in split_top(rest[:j]):
        pm = re.match(r"^\[(in|out|inout)\] (.+) (\w+)$", p)
        if not pm:
            raise GenError("cannot parse parameter of %s::%s: %s" % (e.name, name, p))
        params.append((pm.group(1), norm_type(pm.group(2)), pm.group(3)))
    e.members.append({"name": name, "ret": norm_type(ret), "params": params})


# ------------------------------------------------------------------ the list

def read_list(path):
    """Returns [(verb, name, alias)] from the list file."""
    items = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            if words[0] not in ("call", "struct", "implement", "interface") or \
                    len(words) not in (2, 4) or (len(words) == 4 and words[2] != "as"):
                raise GenError("%s:%d: expected '<call|struct|implement|interface> NAME [as ALIAS]'" % (path, n))
            items.append((words[0], words[1], words[3] if len(words) == 4 else None))
    return items


# ------------------------------------------------------------------ generation

class Gen:
    def __init__(self, entities, items):
        self.entities = entities
        self.items = items
        self.short = {}        # full type name -> C short name
        self.types = []        # full names of types in the type table, in order
        self.structs = []      # full names of generated structs, dependency order
        self.members = []      # (full member name, iface, member dict)
        self.impl = []         # implemented interface names

    def resolve(self, t):
        """Follows typedefs."""
        seen = 0
        while t in self.entities and self.entities[t].kind == "typedef":
            t = self.entities[t].base
            seen += 1
            if seen > 20:
                raise GenError("typedef loop at %s" % t)
        if t.startswith("[]"):
            return "[]" + self.resolve(t[2:])
        return t

    def kind(self, t):
        t = self.resolve(t)
        if t in BASIC:
            return "basic"
        if t.startswith("[]"):
            return "sequence"
        if t not in self.entities:
            raise GenError("unknown type %s" % t)
        return self.entities[t].kind

    def short_name(self, t, alias=None):
        if t in self.short:
            return self.short[t]
        s = alias or t.rsplit(".", 1)[-1]
        if s in self.short.values():
            raise GenError("two types would be called %s in C; give one an alias ('as NAME')" % s)
        self.short[t] = s
        return s

    def type_const(self, t):
        """The RL_UNO_T_ index of a type, adding it to the table."""
        t = self.resolve(t)
        if t not in self.types:
            self.types.append(t)
        return "RL_UNO_T_" + self.type_ident(t)

    def type_ident(self, t):
        if t.startswith("[]"):
            return "seq_" + self.type_ident(t[2:])
        if t in BASIC:
            return t.replace(" ", "_")
        return self.short_name(t)

    def c_type(self, t):
        """The C type of a value of UNO type t, as stored in memory."""
        t = self.resolve(t)
        k = self.kind(t)
        if k == "basic":
            return BASIC[t][0]
        if k == "sequence":
            if self.kind(t[2:]) != "interface":
                self.c_type(t[2:])   # a struct element needs its C struct too
            self.type_const(t)
            return "uno_Sequence *"
        if k == "interface":
            return "uno_Interface *"
        if k == "enum":
            return "sal_Int32"
        if k in ("struct", "exception"):
            self.add_struct(t)
            return "rl_uno_" + self.short_name(t)
        raise GenError("type %s (%s) is not supported by the generator" % (t, k))

    def add_struct(self, t, alias=None):
        t = self.resolve(t)
        if t in self.structs:
            return
        e = self.entities.get(t)
        if e is None or e.kind not in ("struct", "exception"):
            raise GenError("%s is not a plain struct or exception" % t)
        self.short_name(t, alias)
        if e.base:
            self.add_struct(e.base)
        for mt, _ in e.members:
            self.c_type(mt)
        self.structs.append(t)
        self.type_const(t)

    def find_member(self, full):
        iface, _, member = full.partition("::")
        e = self.entities.get(iface)
        if e is None or e.kind != "interface":
            raise GenError("%s: no interface %s" % (full, iface))
        for m in e.members:
            if m["name"] == member:
                return iface, m
        # An attribute is read as a method without parameters named get<Name>:
        # binary UNO dispatches an attribute's description with no arguments
        # as its getter. (Setting one is not supported.)
        for a in e.attributes:
            if a["name"] == member:
                return iface, {"name": "get" + member, "ret": a["type"], "params": []}
        raise GenError("%s: %s has no method or attribute %s" % (full, iface, member))

    def run(self):
        for verb, name, alias in self.items:
            if verb == "struct":
                self.add_struct(name, alias)
        for verb, name, alias in self.items:
            if verb in ("implement", "interface"):
                e = self.entities.get(name)
                if e is None or e.kind != "interface":
                    raise GenError("no interface %s" % name)
                self.short_name(name, alias)
                self.type_const(name)
                if verb == "implement":
                    self.impl.append(name)
                    # The C implementation builds the return values and reads
                    # the arguments: their types must be in the table too.
                    for m in e.members:
                        if "ret" in m:
                            self.c_type(m["ret"])
                            for _, pt, _ in m["params"]:
                                self.c_type(pt)
        for verb, name, alias in self.items:
            # Two modules may list the same member (like a struct): one wrapper.
            if verb == "call" and name not in [full for full, _, _ in self.members]:
                iface, m = self.find_member(name)
                self.short_name(iface)
                self.type_const(iface)
                self.c_type(m["ret"])
                for _, pt, _ in m["params"]:
                    self.c_type(pt)
                self.members.append((name, iface, m))

    # -------------------------------------------------------------- output

    def header(self):
        out = []
        w = out.append
        w("/* Generated by tools/uno-cgen.py from src/uno/uno_api.list: do not edit. */")
        w("#ifndef RL_UNO_API_H")
        w("#define RL_UNO_API_H")
        w("")
        w("/* Types: RL_UNO_T_* index rl_uno_type(); rl_uno_init() resolves them all. */")
        w("enum {")
        for t in self.types:
            w("    RL_UNO_T_%s, /* %s */" % (self.type_ident(t), t))
        w("    RL_UNO_T_COUNT_")
        w("};")
        w("")
        w("/* Members called through the wrappers below. */")
        w("enum {")
        for full, iface, m in self.members:
            w("    RL_UNO_M_%s_%s," % (self.short[iface], m["name"]))
        w("    RL_UNO_M_COUNT_")
        w("};")
        w("")
        w("/* Member names of implemented interfaces, for class tables. */")
        for iface in self.impl:
            e = self.entities[iface]
            # Attributes too: the dispatcher finds an attribute by its name.
            for n in [m["name"] for m in e.members] + [a["name"] for a in e.attributes]:
                w('#define RL_UNO_MN_%s_%s "%s::%s"' % (self.short[iface], n, iface, n))
        w("")
        w("/* Typed skeletons of implemented members. RL_UNO_SKELETON_<I>_<m>(thunk, impl)")
        w(" * defines `static void thunk(...)`, an rl_uno_method_fn for the class table,")
        w(" * that unpacks the dispatcher's arguments and calls")
        w(" *     impl(rl_uno_object *self, uno_Any **exc[, R *ret][, parameters])")
        w(" * with the member's C types: the compiler checks impl's signature against")
        w(" * the IDL. ret is unconstructed storage impl fills unless it throws; an")
        w(" * in-parameter is borrowed (a struct or any by const pointer), an out or")
        w(" * inout one is a pointer. RL_UNO_GETTER_<I>_<attribute>(thunk, impl) does the")
        w(" * same for a read-only attribute: impl(self, exc, T *ret); a settable one has")
        w(" * RL_UNO_ATTRIBUTE_<I>_<attribute>(thunk, get, set), set(self, exc, T value)")
        w(" * (a struct or any by const pointer). */")
        for iface in self.impl:
            e = self.entities[iface]
            for m in e.members:
                w(self.skeleton(iface, m))
            for a in e.attributes:
                w(self.getter(iface, a))
        w("")
        w("/* Structs and exceptions, laid out as the type library says (checked")
        w(" * member by member by rl_uno_init()). A derived one starts with its base. */")
        for t in self.structs:
            e = self.entities[t]
            w("typedef struct rl_uno_%s { /* %s */" % (self.short[t], t))
            if e.base:
                w("    rl_uno_%s base;" % self.short[self.resolve(e.base)])
            if not e.members and not e.base:
                raise GenError("empty struct %s" % t)
            for mt, mn in e.members:
                ct = self.c_type(mt)
                sep = "" if ct.endswith("*") else " "
                w("    %s%s%s; /* %s */" % (ct, sep, mn, mt))
            w("} rl_uno_%s;" % self.short[t])
            w("")
        w("/* Wrappers. obj is any interface of the target object (the wrapper")
        w(" * queries the member's interface). In-parameters are borrowed. On")
        w(" * RL_OK *ret holds a value the caller owns: release an interface")
        w(" * or string, rl_uno_destruct() a struct, sequence or any. On failure")
        w(" * *ret is untouched and err says why. */")
        for full, iface, m in self.members:
            w(self.proto(iface, m) + ";")
        w("")
        w("#endif")
        return "\n".join(out) + "\n"

    def param_c(self, d, pt):
        """The C type of a parameter as the implementation receives it."""
        ct = self.c_type(pt)
        k = self.kind(pt)
        if d != "in":
            return ct + ("*" if ct.endswith("*") else " *")
        if k in ("struct", "exception") or self.resolve(pt) == "any":
            return "const " + ct + " *"
        return ct

    def unpack(self, d, pt, i):
        """args[i] as the implementation receives it: args[i] points to the value."""
        ct = self.param_c(d, pt)
        if ct.endswith("*") and (d != "in" or ct.startswith("const ")):
            return "(%s)args[%d]" % (ct, i)
        return "*(%s%s*)args[%d]" % (ct, "" if ct.endswith("*") else " ", i)

    def skeleton(self, iface, m):
        name = "%s_%s" % (self.short[iface], m["name"])
        call = ["self", "exc"]
        rt = self.resolve(m["ret"])
        if rt != "void":
            ct = self.c_type(rt)
            call.append("(%s%s*)ret" % (ct, "" if ct.endswith("*") else " "))
        for i, (d, pt, _) in enumerate(m["params"]):
            call.append(self.unpack(d, pt, i))
        unused = []
        if rt == "void":
            unused.append("(void)ret;")
        if not m["params"]:
            unused.append("(void)args;")
        return ("#define RL_UNO_SKELETON_%s(thunk, impl) \\\n"
                "    static void thunk(rl_uno_object *self, void *ret, void *args[], uno_Any **exc) \\\n"
                "    { %simpl(%s); }" % (name, " ".join(unused) + (" " if unused else ""), ", ".join(call)))

    def getter(self, iface, a):
        """The attribute's entry: binary UNO calls it with ret for the getter,
        and with ret NULL and args[0] the new value for the setter."""
        ct = self.c_type(a["type"])
        get = "if (ret) get(self, exc, (%s%s*)ret);" % (ct, "" if ct.endswith("*") else " ")
        if a["readonly"]:
            return ("#define RL_UNO_GETTER_%s_%s(thunk, get) \\\n"
                    "    static void thunk(rl_uno_object *self, void *ret, void *args[], uno_Any **exc) \\\n"
                    "    { (void)args; %s \\\n"
                    "      else rl_uno_throw(exc, RL_UNO_T_RuntimeException, NULL, \"%s::%s is read-only\"); }"
                    % (self.short[iface], a["name"], get, iface, a["name"]))
        return ("#define RL_UNO_ATTRIBUTE_%s_%s(thunk, get, set) \\\n"
                "    static void thunk(rl_uno_object *self, void *ret, void *args[], uno_Any **exc) \\\n"
                "    { %s else set(self, exc, %s); }"
                % (self.short[iface], a["name"], get, self.unpack("in", a["type"], 0)))

    def proto(self, iface, m):
        args = ["uno_Interface *obj", "rl_uno_err *err"]
        rt = self.resolve(m["ret"])
        if rt != "void":
            ct = self.c_type(rt)
            args.append(ct + ("*ret" if ct.endswith("*") else " *ret"))
        for d, pt, pn in m["params"]:
            ct = self.c_type(pt)
            k = self.kind(pt)
            if d != "in":
                args.append(ct + ("*" if ct.endswith("*") else " *") + pn)
            elif k in ("struct", "exception") or self.resolve(pt) == "any":
                args.append("const " + ct + " *" + pn)
            else:
                args.append(ct + ("" if ct.endswith("*") else " ") + pn)
        return "int rl_uno_%s_%s(%s)" % (self.short[iface], m["name"], ", ".join(args))

    def source(self):
        out = []
        w = out.append
        w("/* Generated by tools/uno-cgen.py from src/uno/uno_api.list: do not edit. */")
        w('#include "uno_bridge.h"')
        w("")
        w("#include <stddef.h>")
        w("")
        w("const rl_uno_type_info rl_uno__types[RL_UNO_T_COUNT_] = {")
        for t in self.types:
            k = self.kind(t)
            if t in self.structs:
                n = len(self.entities[t].members)
                w('    { "%s", sizeof(rl_uno_%s), %d, %s },' %
                  (t, self.short[t], n, "fields_" + self.short[t] if n else "NULL"))
            else:
                w('    { "%s", 0, 0, NULL },' % t)
        w("};")
        w("")
        w("const char *const rl_uno__members[RL_UNO_M_COUNT_] = {")
        for full, iface, m in self.members:
            w('    "%s",' % full)
        w("};")
        w("")
        for full, iface, m in self.members:
            w(self.proto(iface, m))
            w("{")
            argv = []
            for d, pt, pn in m["params"]:
                k = self.kind(pt)
                if d != "in" or k in ("struct", "exception") or self.resolve(pt) == "any":
                    argv.append("(void *)%s" % pn)
                else:
                    argv.append("&%s" % pn)
            if argv:
                w("    void *args[%d] = { %s };" % (len(argv), ", ".join(argv)))
            rt = self.resolve(m["ret"])
            w("    return rl_uno__invoke(obj, RL_UNO_M_%s_%s, %s, %s, err);" %
              (self.short[iface], m["name"], "ret" if rt != "void" else "NULL",
               "args" if argv else "NULL"))
            w("}")
            w("")
        return "\n".join(out)

    def field_tables(self):
        """The member offsets of each generated struct, for the layout check."""
        out = []
        for t in self.structs:
            e = self.entities[t]
            s = self.short[t]
            if not e.members:
                continue
            out.append("static const rl_uno_field_info fields_%s[] = {" % s)
            for _, mn in e.members:
                out.append('    { "%s", offsetof(rl_uno_%s, %s) },' % (mn, s, mn))
            out.append("};")
        return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", required=True)
    ap.add_argument("--out-h", required=True)
    ap.add_argument("--out-c", required=True)
    ap.add_argument("idl", nargs="+")
    a = ap.parse_args()
    entities = {}
    try:
        for path in a.idl:
            with open(path, encoding="utf-8") as f:
                parse_idl_text(f.read(), entities)
        g = Gen(entities, read_list(a.list))
        g.run()
        header = g.header()
        source = g.source().replace(
            "#include <stddef.h>\n", "#include <stddef.h>\n\n" + g.field_tables(), 1)
    except GenError as e:
        print("uno-cgen: %s" % e, file=sys.stderr)
        return 1
    for path, text in ((a.out_h, header), (a.out_c, source)):
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
