#!/usr/bin/env python3
"""List what the Ironic Python Agent needs from the image it runs in.

Reads IPA's Python source with the ast module (nothing is imported or run)
and prints JSON; every item carries the file and line it comes from:

- programs: every program IPA executes. The calls that run a process are
  oslo.concurrency's processutils.execute, ironic-lib's execute, subprocess,
  os.system and os.exec*; IPA's own functions that hand their parameters on
  to one of them (utils.execute, try_execute, get_command_output, ...) are
  found by reading them, and their callers' arguments are read instead;
- modules: every kernel module it loads with modprobe;
- filesystems: every file system type it mounts with mount -t (the kernel
  loads the module for it);
- paths: every absolute path under PREFIXES it writes, creates, removes,
  reads or checks for ("use"), and any other string naming one ("other");
- unresolved: each program or module that could not be worked out, and
  each process-running function handed on rather than called, so that a
  reviewer reads them instead of them being dropped.

Values are worked out the way a reader would: string constants, list,
tuple and dict literals, names assigned in the same function, class or
module, loop variables over those, % and str.format formatting, f-strings,
os.path.join, and the arguments callers pass. Shell command lines
(shell=True, os.system) are split into the commands of their pipelines.
What chroot runs belongs to the deployed image, not to the ramdisk.

Usage: ipa-needs.py [--package NAME] SOURCE_DIR
SOURCE_DIR is a checkout of openstack/ironic-python-agent; the tests under
the package are skipped. ipa-needs.table beside this script is the reviewed
answer to this list; the ipa-source test tier compares the two.
"""

import argparse
import ast
import itertools
import json
import os
import re
import shlex
import string
import sys

PREFIXES = ("/etc", "/var", "/run", "/sys/firmware", "/dev/disk",
            "/lib/firmware")

# Stands for the part of a string that is not known; printed as "*".
UNKNOWN_PART = "\x00"
# Alternatives kept for one value before it counts as unknown.
MAX_ALTERNATIVES = 64
# Callers followed into the functions they call.
MAX_DEPTH = 12

# Functions outside the package that run a process, by how they take the
# command: "argv", the positional arguments are the command line (*cmd);
# "list", the first argument is the command line (a list, or a string
# with shell=True); "shell", the first argument is a shell command line;
# "path", the first argument is the program.
EXECUTORS = {
    "oslo_concurrency.processutils.execute": "argv",
    "oslo_concurrency.processutils.trycmd": "argv",
    "ironic_lib.utils.execute": "argv",
    "ironic_lib.utils.try_execute": "argv",
    "subprocess.run": "list",
    "subprocess.call": "list",
    "subprocess.check_call": "list",
    "subprocess.check_output": "list",
    "subprocess.Popen": "list",
    "subprocess.getoutput": "shell",
    "subprocess.getstatusoutput": "shell",
    "os.system": "shell",
    "os.popen": "shell",
    "os.execv": "path",
    "os.execve": "path",
    "os.execvp": "path",
    "os.execvpe": "path",
}

# Calls that use a path: (argument index, use); "mode" is open's: "write"
# when the mode writes, appends or creates, "read" otherwise.
PATH_OPS = {
    "open": ((0, "mode"),),
    "io.open": ((0, "mode"),),
    "os.makedirs": ((0, "mkdir"),),
    "os.mkdir": ((0, "mkdir"),),
    "os.path.exists": ((0, "check"),),
    "os.path.lexists": ((0, "check"),),
    "os.path.isfile": ((0, "check"),),
    "os.path.isdir": ((0, "check"),),
    "os.path.islink": ((0, "check"),),
    "os.path.ismount": ((0, "check"),),
    "os.access": ((0, "check"),),
    "os.stat": ((0, "check"),),
    "os.lstat": ((0, "check"),),
    "os.listdir": ((0, "read"),),
    "os.scandir": ((0, "read"),),
    "os.walk": ((0, "read"),),
    "os.readlink": ((0, "read"),),
    "glob.glob": ((0, "read"),),
    "glob.iglob": ((0, "read"),),
    "shutil.copy": ((0, "read"), (1, "write")),
    "shutil.copy2": ((0, "read"), (1, "write")),
    "shutil.copyfile": ((0, "read"), (1, "write")),
    "shutil.copytree": ((0, "read"), (1, "write")),
    "shutil.move": ((0, "remove"), (1, "write")),
    "shutil.rmtree": ((0, "remove"),),
    "os.remove": ((0, "remove"),),
    "os.unlink": ((0, "remove"),),
    "os.rmdir": ((0, "remove"),),
    "os.rename": ((0, "remove"), (1, "write")),
    "os.replace": ((0, "remove"), (1, "write")),
    "os.chmod": ((0, "write"),),
    "os.chown": ((0, "write"),),
    "os.symlink": ((1, "write"),),
    "os.link": ((1, "write"),),
}

SHELL_OPERATORS = {"|", "||", "&", "&&", ";", ";;", "(", ")"}
REDIRECTIONS = {">", ">>", "<", "<<", ">&", "<&", ">|", "&>"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PERCENT_FIELD = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?"
    r"(?P<conv>[diouxXeEfFgGcrsa%])")


def under_prefixes(path):
    return any(path == p or path.startswith(p + "/") for p in PREFIXES)


def shown(text):
    return text.replace(UNKNOWN_PART, "*")


def compact(node):
    """An expression's source without blanks: a key a table can hold."""
    return "".join(ast.unparse(node).split())


# ---------------------------------------------------------------------------
# Values: what an expression may evaluate to. A reader works with lists of
# alternatives.

class Str:
    """A string, UNKNOWN_PART marking what is not known; node is the
    constant it is, if it is one; sources are the constants it is made
    of."""

    def __init__(self, text, node=None, sources=()):
        self.text, self.node = text, node
        self.sources = frozenset(sources) | (
            {node} if node is not None else frozenset())


class Const:
    """True, False or None."""

    def __init__(self, value):
        self.value = value


class Seq:
    """A list or tuple: items are ("one", values) or ("spread", values)."""

    def __init__(self, items):
        self.items = items


class Dict:
    def __init__(self, pairs):
        self.pairs = pairs  # [(key values, value values)]


class Param:
    """A parameter of a function read without its callers."""

    def __init__(self, func, name):
        self.func, self.name = func, name


class Unknown:
    """What the reader cannot work out: the expression."""

    def __init__(self, node):
        self.node = node


def capped(values, node):
    if len(values) > MAX_ALTERNATIVES:
        return [Unknown(node)]
    return values


def text_of(value):
    return value.text if isinstance(value, Str) else UNKNOWN_PART


def sources_of(values):
    out = frozenset()
    for v in values:
        if isinstance(v, Str):
            out |= v.sources
    return out


def elements(items, node):
    """A sequence's elements, each a list of values; a spread whose value
    is not one known sequence becomes one unknown element."""
    out = []
    for kind, values in items:
        if kind == "one":
            out.append(values)
        elif len(values) == 1 and isinstance(values[0], Seq):
            out.extend(elements(values[0].items, node))
        else:
            out.append([v if isinstance(v, (Param, Unknown))
                        else Unknown(node) for v in values])
    return out


def first_values(items):
    """The values the first element of a sequence may have."""
    out = []
    for kind, values in items:
        if kind == "one":
            return out + values
        more = False
        for v in values:
            if isinstance(v, Seq):
                if v.items:
                    out.extend(first_values(v.items))
                else:
                    more = True
            else:
                out.append(v)
        if not more:
            return out
    return out


# ---------------------------------------------------------------------------
# The source: modules, their scopes, imports.

def is_scope(node):
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef))


def scope_nodes(nodes):
    """The nodes of a scope's body, not entering nested scopes."""
    todo = list(nodes)
    while todo:
        node = todo.pop()
        yield node
        if not is_scope(node):
            todo.extend(ast.iter_child_nodes(node))


class Scope:
    """A function or method, a class body, or a module's top level."""

    def __init__(self, module, node, qualname, parent, cls, method=False):
        self.module, self.node, self.qualname = module, node, qualname
        self.parent = parent  # the scope whose names this one sees
        self.cls = cls  # the class whose self it sees
        self.assigned = {}  # name -> [(index path, value node, kind)]
        self.calls = []
        self.references = []
        self.positional, self.keyword_only = [], []
        self.vararg = self.kwarg = None
        self.defaults = {}
        self.is_method = False
        self.called = False
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            positional = a.posonlyargs + a.args
            self.positional = [p.arg for p in positional]
            self.keyword_only = [p.arg for p in a.kwonlyargs]
            tail = positional[len(positional) - len(a.defaults):]
            for p, d in zip(tail, a.defaults):
                self.defaults[p.arg] = d
            for p, d in zip(a.kwonlyargs, a.kw_defaults):
                if d is not None:
                    self.defaults[p.arg] = d
            self.vararg = a.vararg.arg if a.vararg else None
            self.kwarg = a.kwarg.arg if a.kwarg else None
            static = any(isinstance(d, ast.Name) and d.id == "staticmethod"
                         for d in node.decorator_list)
            self.is_method = method and not static

    def is_param(self, name):
        return name in self.positional or name in self.keyword_only or \
            name in (self.vararg, self.kwarg)

    @property
    def file(self):
        return self.module.rel


class Module:
    def __init__(self, name, rel):
        self.name, self.rel = name, rel
        self.imports = {}  # local name -> dotted name
        self.scopes = {}  # qualname -> Scope
        self.classes = {}  # name -> (ast.ClassDef, class body Scope)
        self.top = None


class Source:
    def __init__(self, root, package):
        self.modules = {}
        self.owner = {}  # id(node) -> Scope whose body holds it
        self.path_constants = []  # (Scope, ast.Constant) under PREFIXES
        base = os.path.join(root, package)
        if not os.path.isdir(base):
            raise FileNotFoundError(
                "%s has no %s/ directory: give a checkout of "
                "openstack/ironic-python-agent" % (root, package))
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames
                                 if d not in ("tests", "__pycache__"))
            for name in sorted(filenames):
                if name.endswith(".py"):
                    self.load(root, os.path.join(dirpath, name))

    def load(self, root, path):
        rel = os.path.relpath(path, root)
        name = rel[:-len(".py")].replace(os.sep, ".")
        package = name.split(".")
        if package[-1] == "__init__":
            package.pop()
            name = ".".join(package)
        else:
            package.pop()
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), rel)
        mod = Module(name, rel)
        self.modules[name] = mod
        # Imports inside functions count as the module's: IPA uses them to
        # break import cycles, not to shadow names.
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        mod.imports[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        mod.imports[top] = top
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package[:len(package) - node.level + 1]
                    base = ".".join(parent + ([base] if base else []))
                for a in node.names:
                    mod.imports[a.asname or a.name] = base + "." + a.name
        mod.top = self.scope(mod, tree, "<module>", None, None)

    def scope(self, mod, node, qualname, parent, cls, method=False):
        sc = Scope(mod, node, qualname, parent, cls, method)
        mod.scopes[qualname] = sc
        prefix = "" if qualname == "<module>" else qualname + "."
        for child in scope_nodes(node.body):
            self.owner[id(child)] = sc
            self.note(sc, child)
            if not is_scope(child):
                continue
            if isinstance(child, ast.ClassDef):
                body = self.scope(mod, child, prefix + child.name, sc, None)
                mod.classes.setdefault(child.name, (child, body))
                # A method sees the names around the class, not the class
                # body's.
                for stmt in child.body:
                    if isinstance(stmt, (ast.FunctionDef,
                                         ast.AsyncFunctionDef)):
                        self.scope(mod, stmt,
                                   prefix + child.name + "." + stmt.name,
                                   sc, child, method=True)
            elif not isinstance(node, ast.ClassDef):
                # A nested function sees its method's self.
                self.scope(mod, child, prefix + child.name, sc, sc.cls)
        return sc

    def note(self, sc, node):
        if isinstance(node, ast.Call):
            sc.calls.append(node)
        elif isinstance(node, (ast.Name, ast.Attribute)) and \
                isinstance(node.ctx, ast.Load):
            sc.references.append(node)
        elif isinstance(node, ast.Constant) and \
                isinstance(node.value, str) and under_prefixes(node.value):
            self.path_constants.append((sc, node))
        if isinstance(node, ast.Assign):
            for t in node.targets:
                self.bind(sc, t, node.value, "value")
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and \
                node.value is not None:
            self.bind(sc, node.target, node.value, "value")
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            self.bind(sc, node.target, node.iter, "item")
        elif isinstance(node, ast.withitem) and node.optional_vars:
            self.bind(sc, node.optional_vars, node.context_expr, "unknown")
        elif isinstance(node, ast.ExceptHandler) and node.name:
            sc.assigned.setdefault(node.name, []).append(
                ((), node, "unknown"))

    def bind(self, sc, target, value, kind, path=()):
        """Record that target gets value, or an item of it."""
        if isinstance(target, ast.Name):
            sc.assigned.setdefault(target.id, []).append((path, value, kind))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for i, elt in enumerate(target.elts):
                if isinstance(elt, ast.Starred):
                    self.bind(sc, elt.value, value, "unknown")
                else:
                    self.bind(sc, elt, value, kind, path + (i,))

    def dotted(self, sc, node):
        """The dotted name a Name/Attribute chain refers to, through the
        module's imports; None for a local variable's attributes."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        name = node.id
        scope = sc
        while scope is not None and scope.qualname != "<module>":
            if name in scope.assigned or scope.is_param(name):
                return None
            scope = scope.parent
        mod = sc.module
        if name in mod.imports:
            base = mod.imports[name]
        elif name in mod.scopes or name in mod.top.assigned:
            base = mod.name + "." + name
        else:
            base = name
        return ".".join([base] + parts[::-1])

    def module_of(self, dotted):
        """(module, rest of the name) for a dotted name in the source."""
        parts = dotted.split(".")
        for i in range(len(parts) - 1, 0, -1):
            mod = self.modules.get(".".join(parts[:i]))
            if mod is not None:
                return mod, ".".join(parts[i:])
        return None, None

    def method(self, sc, name):
        """The method self.name / cls.name refers to inside a method."""
        cls = sc.cls
        seen = set()
        while cls is not None and id(cls) not in seen:
            seen.add(id(cls))
            for qual, other in sc.module.scopes.items():
                if other.cls is cls and qual.endswith("." + name):
                    return other
            cls = self.base_class(sc.module, cls)
        return None

    def class_attribute(self, sc, name):
        """The value node of a class attribute self.name refers to."""
        cls = sc.cls
        seen = set()
        while cls is not None and id(cls) not in seen:
            seen.add(id(cls))
            body = sc.module.classes.get(cls.name, (None, None))[1]
            if body is not None and name in body.assigned:
                return body, body.assigned[name]
            cls = self.base_class(sc.module, cls)
        return None, None

    @staticmethod
    def base_class(mod, cls):
        for b in cls.bases:
            if isinstance(b, ast.Name) and b.id in mod.classes:
                return mod.classes[b.id][0]
        return None

    def callee(self, sc, call):
        """What a call calls: ("exec", how), ("path", ops), ("func",
        Scope), or None for what the source does not show."""
        f = call.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
                and f.value.id in ("self", "cls") and sc.cls is not None:
            target = self.method(sc, f.attr)
            return ("func", target) if target else None
        name = self.dotted(sc, f)
        if name is None:
            return None
        if name in EXECUTORS:
            return ("exec", EXECUTORS[name])
        if name in PATH_OPS:
            return ("path", PATH_OPS[name])
        if isinstance(f, ast.Name):
            scope = sc
            while scope is not None:
                prefix = "" if scope.qualname == "<module>" else \
                    scope.qualname + "."
                local = sc.module.scopes.get(prefix + f.id)
                if local is not None:
                    return ("func", local)
                scope = scope.parent
        mod, rest = self.module_of(name)
        target = mod.scopes.get(rest) if mod else None
        return ("func", target) if target else None


# ---------------------------------------------------------------------------
# Reading values.

class Context:
    """A scope being read; bindings holds its parameters' values when it
    is read for one call (None: read on its own, parameters unknown)."""

    def __init__(self, scope, bindings=None, depth=0):
        self.scope, self.bindings, self.depth = scope, bindings, depth


class Reader:
    def __init__(self, source):
        self.src = source

    def values(self, ctx, node, seen=frozenset()):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return [Str(node.value, node)]
            if node.value is None or isinstance(node.value, bool):
                return [Const(node.value)]
            return [Str(str(node.value))]
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    items.append(("spread",
                                  self.values(ctx, elt.value, seen)))
                else:
                    items.append(("one", self.values(ctx, elt, seen)))
            return [Seq(items)]
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                return [Unknown(node)]
            return [Dict([(self.values(ctx, k, seen),
                           self.values(ctx, v, seen))
                          for k, v in zip(node.keys, node.values)])]
        if isinstance(node, ast.Name):
            return self.name(ctx, node, seen)
        if isinstance(node, ast.Attribute):
            return self.attribute(ctx, node, seen)
        if isinstance(node, ast.IfExp):
            return capped(self.values(ctx, node.body, seen) +
                          self.values(ctx, node.orelse, seen), node)
        if isinstance(node, ast.BoolOp):
            out = []
            for v in node.values:
                out.extend(self.values(ctx, v, seen))
            return capped(out, node)
        if isinstance(node, ast.BinOp):
            return self.binop(ctx, node, seen)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append([Str(str(v.value))])
                elif v.format_spec is None and v.conversion in (-1, 115):
                    parts.append(self.values(ctx, v.value, seen))
                else:
                    parts.append([Unknown(v)])
            return self.concat(parts, node)
        if isinstance(node, ast.Subscript):
            return self.subscript(ctx, node, seen)
        if isinstance(node, ast.Call):
            return self.call(ctx, node, seen)
        return [Unknown(node)]

    @staticmethod
    def concat(parts, node):
        out = []
        for combo in itertools.islice(itertools.product(*parts),
                                      MAX_ALTERNATIVES + 1):
            out.append(Str("".join(text_of(v) for v in combo),
                           sources=sources_of(combo)))
        return capped(out, node)

    def name(self, ctx, node, seen):
        sc = ctx.scope
        key = (id(sc), node.id)
        if key in seen:
            return [Unknown(node)]
        seen = seen | {key}
        scope = sc
        while scope is not None:
            found = False
            out = []
            sub = ctx if scope is sc else Context(scope)
            if scope.is_param(node.id):
                found = True
                out.extend(self.param(sub, node))
            for path, value, kind in scope.assigned.get(node.id, ()):
                found = True
                out.extend(self.assigned(sub, path, value, kind, seen))
            if found:
                return capped(out, node)
            scope = scope.parent
        dotted = sc.module.imports.get(node.id)
        if dotted:
            return self.imported(dotted, node, seen)
        return [Unknown(node)]

    def param(self, ctx, node):
        sc = ctx.scope
        if ctx.bindings is None:
            return [Param(sc, node.id)]
        if node.id in ctx.bindings:
            return ctx.bindings[node.id]
        if node.id in sc.defaults:
            return self.values(Context(sc.parent), sc.defaults[node.id])
        return [Unknown(node)]

    def assigned(self, ctx, path, value, kind, seen):
        if kind == "unknown":
            return [Unknown(value)]
        values = self.values(ctx, value, seen)
        if kind == "item":
            values = self.items(values, value)
        for i in path:
            values = self.index(values, i, value)
        return values

    @staticmethod
    def items(values, node):
        """What a loop over a value of these values gets."""
        out = []
        for v in values:
            if isinstance(v, Seq):
                for one in elements(v.items, node):
                    out.extend(one)
            elif isinstance(v, Dict):
                for keys, _ in v.pairs:
                    out.extend(keys)
            else:
                out.append(Unknown(node))
        return capped(out, node)

    @staticmethod
    def index(values, i, node):
        out = []
        for v in values:
            elems = elements(v.items, node) if isinstance(v, Seq) else []
            if i < len(elems):
                out.extend(elems[i])
            else:
                out.append(Unknown(node))
        return out

    def imported(self, dotted, node, seen):
        """A module-level name of another module of the source."""
        mod, rest = self.src.module_of(dotted)
        if mod is None or "." in rest:
            return [Unknown(node)]
        target = ast.copy_location(ast.Name(id=rest, ctx=ast.Load()), node)
        return self.name(Context(mod.top), target, seen)

    def attribute(self, ctx, node, seen):
        sc = ctx.scope
        if isinstance(node.value, ast.Name) and \
                node.value.id in ("self", "cls") and sc.cls is not None:
            body, assigned = self.src.class_attribute(sc, node.attr)
            if body is None:
                return [Unknown(node)]
            out = []
            for path, value, kind in assigned:
                out.extend(self.assigned(Context(body), path, value, kind,
                                         seen))
            return capped(out, node)
        dotted = self.src.dotted(sc, node)
        if dotted:
            return self.imported(dotted, node, seen)
        return [Unknown(node)]

    def binop(self, ctx, node, seen):
        left = self.values(ctx, node.left, seen)
        right = self.values(ctx, node.right, seen)
        out = []
        for lv, rv in itertools.product(left, right):
            if isinstance(node.op, ast.Mod) and isinstance(lv, Str):
                out.append(Str(self.percent(lv.text, rv, node),
                               sources=lv.sources | self.used(rv)))
            elif isinstance(node.op, ast.Add) and isinstance(lv, Seq) \
                    and isinstance(rv, Seq):
                out.append(Seq(lv.items + rv.items))
            elif isinstance(node.op, ast.Add) and (
                    isinstance(lv, Str) or isinstance(rv, Str)):
                out.append(Str(text_of(lv) + text_of(rv),
                               sources=sources_of((lv, rv))))
            else:
                out.append(Unknown(node))
        return capped(out, node)

    @staticmethod
    def used(value):
        """The constants a % operand is made of."""
        if isinstance(value, Seq):
            return frozenset().union(*[sources_of(vals) for _, vals
                                       in value.items])
        if isinstance(value, Dict):
            return frozenset().union(*[sources_of(vals) for _, vals
                                       in value.pairs])
        return sources_of([value])

    @staticmethod
    def percent(template, value, node):
        """template % value."""
        positional, mapping = [], {}
        if isinstance(value, Seq):
            positional = [v[0] if len(v) == 1 else None
                          for v in elements(value.items, node)]
        elif isinstance(value, Dict):
            for keys, vals in value.pairs:
                if len(keys) == 1 and len(vals) == 1 and \
                        isinstance(keys[0], Str):
                    mapping[keys[0].text] = vals[0]
        else:
            positional = [value]
        counter = itertools.count()

        def field(m):
            if m.group("conv") == "%":
                return "%"
            if m.group("key") is not None:
                v = mapping.get(m.group("key"))
            else:
                i = next(counter)
                v = positional[i] if i < len(positional) else None
            if isinstance(v, Str) and m.group("conv") in "sr":
                return v.text
            return UNKNOWN_PART
        return PERCENT_FIELD.sub(field, template)

    def subscript(self, ctx, node, seen):
        index = node.slice
        values = self.values(ctx, node.value, seen)
        if isinstance(index, ast.Constant) and \
                isinstance(index.value, int) and index.value >= 0:
            return self.index(values, index.value, node)
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            out = []
            for v in values:
                if not isinstance(v, Dict):
                    continue
                for keys, vals in v.pairs:
                    if any(isinstance(k, Str) and k.text == index.value
                           for k in keys):
                        out.extend(vals)
            return out or [Unknown(node)]
        return [Unknown(node)]

    def call(self, ctx, node, seen):
        f = node.func
        name = self.src.dotted(ctx.scope, f)
        if name == "os.path.join" and node.args and not node.keywords:
            parts = [self.values(ctx, a, seen) for a in node.args]
            out = []
            for combo in itertools.islice(itertools.product(*parts),
                                          MAX_ALTERNATIVES + 1):
                path = ""
                for v in combo:
                    text = text_of(v)
                    if text.startswith("/"):
                        path = text
                    elif path and not path.endswith("/"):
                        path += "/" + text
                    else:
                        path += text
                out.append(Str(path, sources=sources_of(combo)))
            return capped(out, node)
        if name in ("str", "list", "tuple") and len(node.args) == 1 and \
                not node.keywords:
            return self.values(ctx, node.args[0], seen)
        if not isinstance(f, ast.Attribute):
            return [Unknown(node)]
        if f.attr == "format":
            args = [self.values(ctx, a, seen) for a in node.args]
            kwargs = {k.arg: self.values(ctx, k.value, seen)
                      for k in node.keywords if k.arg}
            out = []
            used = frozenset()
            for vals in args + list(kwargs.values()):
                used |= sources_of(vals)
            for t in self.values(ctx, f.value, seen):
                out.append(Str(self.format(t.text, args, kwargs),
                               sources=t.sources | used)
                           if isinstance(t, Str) else Unknown(node))
            return capped(out, node)
        if f.attr in ("items", "values", "keys") and not node.args:
            out = []
            for v in self.values(ctx, f.value, seen):
                if not isinstance(v, Dict):
                    out.append(Unknown(node))
                    continue
                items = []
                for keys, vals in v.pairs:
                    if f.attr == "items":
                        pair = Seq([("one", keys), ("one", vals)])
                        items.append(("one", [pair]))
                    else:
                        items.append(("one",
                                      keys if f.attr == "keys" else vals))
                out.append(Seq(items))
            return out
        return [Unknown(node)]

    @staticmethod
    def format(template, args, kwargs):
        """template.format(*args, **kwargs)."""
        out = []
        auto = itertools.count()
        try:
            fields = list(string.Formatter().parse(template))
        except ValueError:
            return UNKNOWN_PART
        for literal, field, spec, conversion in fields:
            out.append(literal)
            if field is None:
                continue
            if field == "" or field.isdigit():
                i = next(auto) if field == "" else int(field)
                vals = args[i] if i < len(args) else None
            else:
                vals = kwargs.get(field)
            if vals and len(vals) == 1 and isinstance(vals[0], Str) and \
                    not spec and conversion in (None, "s"):
                out.append(vals[0].text)
            else:
                out.append(UNKNOWN_PART)
        return "".join(out)


# ---------------------------------------------------------------------------
# What the calls need.

class Finder:
    def __init__(self, source):
        self.src = source
        self.reader = Reader(source)
        self.passes_on = set()  # id() of scopes whose needs are parameters
        self.items = {}
        self.unresolved = {}
        self.used_constants = set()

    def run(self):
        scopes = [s for m in self.src.modules.values()
                  for s in m.scopes.values()]
        for sc in scopes:
            for call in sc.calls:
                target = self.src.callee(sc, call)
                if target and target[0] == "func":
                    target[1].called = True
        # The functions that hand a parameter on to a process or a path
        # operation, directly or through another such function: grows
        # until it stops changing.
        changed = True
        while changed:
            changed = False
            for sc in scopes:
                if id(sc) in self.passes_on:
                    continue
                if any(isinstance(v, Param) and v.func is sc
                       for need in self.needs(Context(sc), [sc])
                       for v in need["values"]):
                    self.passes_on.add(id(sc))
                    changed = True
        names = {s.qualname.split(".")[-1] for s in scopes
                 if id(s) in self.passes_on}
        for sc in scopes:
            for need in self.needs(Context(sc), [sc]):
                self.record(need, sc)
            self.handed_on(sc)
            self.unfollowed(sc, names)
        self.mentions()

    def needs(self, ctx, stack):
        """What the calls of a scope need: dicts with kind, values, use,
        the call (site) and the outermost call it was read for."""
        out = []
        for call in ctx.scope.calls:
            out.extend(self.call_needs(ctx, call, stack))
        return out

    def call_needs(self, ctx, call, stack):
        sc = ctx.scope
        target = self.src.callee(sc, call)
        if target is None:
            return []
        kind, what = target
        base = {"site": (sc, call), "via": ast.unparse(call.func)}
        if kind == "exec":
            return self.command(ctx, call, what, base)
        if kind == "path":
            out = []
            for index, use in what:
                arg = self.argument(call, index, None)
                if arg is None:
                    continue
                if use == "mode":
                    mode = self.argument(call, 1, "mode")
                    modes = self.reader.values(ctx, mode) if mode else \
                        [Str("r")]
                    writes = any(not isinstance(m, Str) or
                                 set(m.text) & set("wax+") for m in modes)
                    use = "write" if writes else "read"
                out.append(dict(base, kind="path", use=use,
                                values=self.reader.values(ctx, arg)))
            return out
        if id(what) not in self.passes_on or what in stack or \
                ctx.depth >= MAX_DEPTH:
            return []
        bindings = self.bind(ctx, what, call)
        out = []
        for need in self.needs(Context(what, bindings, ctx.depth + 1),
                               stack + [what]):
            # Reported at the outermost call, the one read first.
            out.append(dict(need, outer=(sc, call),
                            via=ast.unparse(call.func)))
        return out

    @staticmethod
    def argument(call, index, keyword):
        for k in call.keywords:
            if keyword is not None and k.arg == keyword:
                return k.value
        if index < len(call.args) and not any(
                isinstance(a, ast.Starred) for a in call.args[:index + 1]):
            return call.args[index]
        return None

    def bind(self, ctx, callee, call):
        """The callee's parameters as this call passes them."""
        pending = []
        for a in call.args:
            if isinstance(a, ast.Starred):
                pending.append(("spread", self.reader.values(ctx, a.value)))
            else:
                pending.append(("one", self.reader.values(ctx, a)))
        names = callee.positional[1:] if callee.is_method else \
            callee.positional
        bindings = {}
        hidden = None  # a spread of unknown length hides the rest
        for name in names:
            while pending and pending[0][0] == "spread" and \
                    len(pending[0][1]) == 1 and \
                    isinstance(pending[0][1][0], Seq):
                pending[0:1] = pending[0][1][0].items
            if not pending:
                break
            if pending[0][0] == "spread":
                hidden = call
                break
            bindings[name] = pending.pop(0)[1]
        if hidden is not None:
            for name in names:
                bindings.setdefault(name, [Unknown(hidden)])
        if callee.vararg:
            bindings[callee.vararg] = [Seq(pending)]
        extra = []
        for k in call.keywords:
            if k.arg is None:
                vals = self.reader.values(ctx, k.value)
                if len(vals) == 1 and isinstance(vals[0], Dict):
                    extra.extend(vals[0].pairs)
                else:
                    extra.append(([Unknown(k.value)], [Unknown(k.value)]))
            else:
                extra.append(([Str(k.arg)], self.reader.values(ctx,
                                                               k.value)))
        rest = []
        for keys, vals in extra:
            named = [k.text for k in keys if isinstance(k, Str)]
            if len(named) == 1 and callee.is_param(named[0]) and \
                    named[0] not in (callee.vararg, callee.kwarg):
                bindings[named[0]] = vals
            else:
                rest.append((keys, vals))
        if callee.kwarg:
            bindings[callee.kwarg] = [Dict(rest)]
        return bindings

    def shell_flag(self, ctx, call):
        """Whether a call runs its command through a shell."""
        values = []
        for k in call.keywords:
            if k.arg == "shell":
                values.extend(self.reader.values(ctx, k.value))
            elif k.arg is None:
                for v in self.reader.values(ctx, k.value):
                    if isinstance(v, Dict):
                        for keys, vals in v.pairs:
                            if any(isinstance(key, Str) and
                                   key.text == "shell" for key in keys):
                                values.extend(vals)
        return any(isinstance(v, Const) and v.value is True for v in values)

    def command(self, ctx, call, how, base):
        shell = self.shell_flag(ctx, call)
        if how == "argv":
            items = []
            for a in call.args:
                if isinstance(a, ast.Starred):
                    items.append(("spread",
                                  self.reader.values(ctx, a.value)))
                else:
                    items.append(("one", self.reader.values(ctx, a)))
            commands = [Seq(items)]
        elif not call.args:
            return []
        else:
            commands = self.reader.values(ctx, call.args[0])
            if how != "list":
                shell = how == "shell"
                commands = [Seq([("one", [c])]) for c in commands]
        out = []
        for cmd in commands:
            if not isinstance(cmd, Seq):
                # A string without a shell is the program itself.
                out.append(dict(base, kind="program", values=[cmd]))
            elif shell:
                out.append(dict(base, kind="program",
                                values=[Str("/bin/sh")]))
                for script in first_values(cmd.items):
                    out.extend(self.shell(script, base))
            else:
                out.extend(self.argv(cmd, base))
        return out

    @staticmethod
    def argv(cmd, base):
        node = base["site"][1]
        programs = first_values(cmd.items)
        out = [dict(base, kind="program", values=programs)]
        names = {os.path.basename(p.text) for p in programs
                 if isinstance(p, Str)}
        rest = elements(cmd.items, node)[1:]
        if "env" in names:
            # env [NAME=VALUE]... PROGRAM ...
            while rest and all(isinstance(v, Str) and
                               ASSIGNMENT.match(v.text) for v in rest[0]):
                rest = rest[1:]
            if rest:
                out.append(dict(base, kind="program", values=rest[0]))
        if "mount" in names:
            # mount -t TYPE: the kernel loads the file system's module.
            for i, vals in enumerate(rest[:-1]):
                if any(isinstance(v, Str) and v.text == "-t" for v in vals):
                    types = [v for v in rest[i + 1] if not (
                        isinstance(v, Str) and v.text == "auto")]
                    if types:
                        out.append(dict(base, kind="filesystem",
                                        values=types))
        if "modprobe" in names and not any(
                isinstance(v, Str) and v.text in ("-r", "--remove")
                for vals in rest for v in vals):
            for vals in rest:
                modules = [v for v in vals if not (
                    isinstance(v, Str) and v.text.startswith("-"))]
                if modules:
                    out.append(dict(base, kind="module", values=modules))
        return out

    @staticmethod
    def shell(script, base):
        """The programs of a shell command line: the first word of each
        command of its pipelines and lists."""
        if not isinstance(script, Str):
            return [dict(base, kind="program", values=[script])]
        lexer = shlex.shlex(script.text, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            tokens = list(lexer)
        except ValueError:
            return [dict(base, kind="program",
                         values=[Str(UNKNOWN_PART + script.text)])]
        out = []
        first, redirect, inside_chroot = True, False, False
        for tok in tokens:
            if tok in SHELL_OPERATORS:
                first, inside_chroot = True, False
            elif redirect:
                redirect = False
            elif tok in REDIRECTIONS:
                redirect = True
            elif first and not inside_chroot and not ASSIGNMENT.match(tok):
                first = False
                out.append(dict(base, kind="program", values=[Str(tok)]))
                # What chroot runs is the deployed image's.
                inside_chroot = os.path.basename(tok) == "chroot"
        return out

    # -- recording -----------------------------------------------------------

    def record(self, need, sc):
        site_sc, call = need.get("outer") or need["site"]
        where = {"call": "%s:%d" % (site_sc.file, call.lineno),
                 "via": need["via"]}
        for v in need["values"]:
            if need["kind"] == "path":
                self.record_path(need, v, site_sc, call, where)
                continue
            if isinstance(v, Str) and UNKNOWN_PART not in v.text:
                owner = self.src.owner.get(id(v.node), site_sc)
                line = v.node.lineno if v.node is not None else call.lineno
                self.add(self.items, dict(
                    where, kind=need["kind"], name=v.text, file=owner.file,
                    line=line, function=owner.qualname))
                continue
            if isinstance(v, Param):
                if v.func is sc and sc.called:
                    continue  # read at each call instead
                owner, node = site_sc, call
                expr = v.name
                reason = "parameter %s of %s, which nothing in the " \
                         "source calls" % (v.name, v.func.qualname)
                if v.func is not sc:
                    reason = "parameter %s of %s, read in %s" % (
                        v.name, v.func.qualname, sc.qualname)
            elif isinstance(v, Unknown):
                node = v.node
                owner = self.src.owner.get(id(node), site_sc)
                expr = compact(node)
                reason = "not worked out from the source"
            else:
                owner, node = site_sc, call
                expr = shown(v.text) if isinstance(v, Str) else \
                    compact(call)
                reason = "partly worked out" if isinstance(v, Str) else \
                    "not a string"
            self.add(self.unresolved, dict(
                where, kind=need["kind"], expr=expr, reason=reason,
                file=owner.file, line=node.lineno,
                function=owner.qualname))

    def record_path(self, need, v, site_sc, call, where):
        if not isinstance(v, Str):
            return
        text = shown(v.text)
        # The constants a path operation reads are accounted for.
        self.used_constants.update(id(n) for n in v.sources)
        if not under_prefixes(text):
            return
        self.add(self.items, dict(
            where, kind="path", name=text, use=need["use"],
            file=site_sc.file, line=call.lineno,
            function=site_sc.qualname))

    @staticmethod
    def add(table, item):
        table[json.dumps(item, sort_keys=True)] = item

    def handed_on(self, sc):
        """Process-running functions used other than by a call."""
        called = {id(c.func) for c in sc.calls}
        inner = {id(r.value) for r in sc.references
                 if isinstance(r, ast.Attribute)}
        for ref in sc.references:
            if id(ref) in called or id(ref) in inner:
                continue
            if isinstance(ref, ast.Attribute) and isinstance(
                    ref.value, ast.Name) and ref.value.id in ("self", "cls"):
                name = None
                target = self.src.method(sc, ref.attr) if sc.cls else None
            else:
                name = self.src.dotted(sc, ref)
                mod, rest = self.src.module_of(name) if name else (None, None)
                target = mod.scopes.get(rest) if mod else None
            if name not in EXECUTORS and (
                    target is None or id(target) not in self.passes_on):
                continue
            self.add(self.unresolved, {
                "kind": "program", "expr": compact(ref),
                "reason": "runs programs; handed on, not called",
                "file": sc.file, "line": ref.lineno,
                "function": sc.qualname,
                "call": "%s:%d" % (sc.file, ref.lineno),
                "via": compact(ref)})

    def unfollowed(self, sc, names):
        """Calls of a method named like a process-running function, on an
        object the reader cannot follow."""
        for call in sc.calls:
            f = call.func
            if isinstance(f, ast.Attribute) and f.attr in names and \
                    self.src.callee(sc, call) is None:
                self.add(self.unresolved, {
                    "kind": "program", "expr": compact(f),
                    "reason": "a method named like one that runs "
                              "programs, on an object not followed",
                    "file": sc.file, "line": call.lineno,
                    "function": sc.qualname,
                    "call": "%s:%d" % (sc.file, call.lineno),
                    "via": compact(f)})

    def mentions(self):
        """Path constants under the prefixes no operation accounted for."""
        for sc, node in self.src.path_constants:
            if id(node) in self.used_constants:
                continue
            inside = [c for c in sc.calls
                      if any(n is node for n in ast.walk(c))]
            via = ast.unparse(inside[-1].func) if inside else ""
            self.add(self.items, {
                "kind": "path", "name": node.value, "use": "other",
                "file": sc.file, "line": node.lineno,
                "function": sc.qualname,
                "call": "%s:%d" % (sc.file, node.lineno), "via": via})


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="List the programs, kernel modules and paths the "
                    "Ironic Python Agent needs, read from its source.")
    parser.add_argument("source",
                        help="a checkout of openstack/ironic-python-agent")
    parser.add_argument("--package", default="ironic_python_agent",
                        help="the package directory (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        src = Source(args.source, args.package)
    except (OSError, SyntaxError, UnicodeDecodeError) as e:
        print("ipa-needs: %s" % e, file=sys.stderr)
        return 2
    finder = Finder(src)
    finder.run()

    def order(item):
        return (item.get("name", item.get("expr")), item["file"],
                item["line"], item.get("use", ""), item["call"])
    items = sorted(finder.items.values(), key=order)
    json.dump({
        "package": args.package,
        "files": sorted(m.rel for m in src.modules.values()),
        "programs": [i for i in items if i["kind"] == "program"],
        "modules": [i for i in items if i["kind"] == "module"],
        "filesystems": [i for i in items if i["kind"] == "filesystem"],
        "paths": [i for i in items if i["kind"] == "path"],
        "unresolved": sorted(finder.unresolved.values(), key=order),
    }, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
