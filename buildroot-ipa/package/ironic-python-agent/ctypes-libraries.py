#!/usr/bin/env python3
"""Find the shared libraries the installed wheels load through ctypes.

Python code that loads a C library by name (ctypes.util.find_library,
ctypes.CDLL, cdll.LoadLibrary) fails only at run time when the library is
not in the image, or cannot be found there. ironic-python-agent.mk runs
this twice:

scan   after the wheels are installed (while their .py files exist): reads
       every module of every locked wheel with Python's ast, records each
       call with the library names it passes, and reports calls that pass
       no literal name and are not in the reviewed list (ctypes-libraries.txt
       beside this script): a new one needs a human to say what it loads.
check  when the target directory is complete: each library name must be in
       the image (lib<name>.so*, or the exact file name). A reviewed library
       that is missing fails the build; a missing literal name is a warning,
       since code often names several platforms' libraries in one call.

Both modes print one line per call; doc/image.md explains the mechanism.
"""

import argparse
import ast
import json
import os
import re
import sys

CALLS = {"find_library", "CDLL", "LoadLibrary"}
LIB_DIRS = ("usr/lib", "lib", "usr/lib64", "lib64")


def fail(message):
    sys.stderr.write("ERROR: {}\n".format(message))
    sys.exit(1)


def call_name(node):
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def literal_names(node):
    """The library names an argument spells out: a string, or each branch
    of a conditional expression (find_library("socket" if sunos else "c"))
    or of "a or b". Anything computed names nothing."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if node.value else []
    if isinstance(node, ast.IfExp):
        return sorted(set(literal_names(node.body) +
                          literal_names(node.orelse)))
    if isinstance(node, ast.BoolOp):
        return sorted({n for v in node.values for n in literal_names(v)})
    return []


def scan_source(source, filename):
    """Yield (line, call text, [library names]) for each ctypes load."""
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or call_name(node) not in CALLS:
            continue
        if not node.args:
            continue
        arg = node.args[0]
        # CDLL(find_library("x")): the inner call is the one that counts.
        if isinstance(arg, ast.Call) and call_name(arg) == "find_library":
            continue
        yield node.lineno, ast.unparse(node), literal_names(arg)


def read_reviewed(path):
    """{(distribution, file, call): [libraries]} from the reviewed list.

    Each line: DISTRIBUTION FILE: CALL -> LIBRARY... ('-' for a call that
    loads what a reviewed find_library of the same module found).
    """
    reviewed = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^(\S+)\s+(\S+):\s+(.+?)\s+->\s+(.+)$", line)
            if not m:
                fail("{}:{}: not 'DISTRIBUTION FILE: CALL -> LIBRARY...'"
                     .format(path, number))
            libs = [] if m.group(4).strip() == "-" else m.group(4).split()
            reviewed[(normalize(m.group(1)), m.group(2), m.group(3))] = libs
    return reviewed


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def dist_info_dir(site, wheel):
    """The .dist-info directory a wheel file installs."""
    parts = wheel.split("-")
    if len(parts) < 5:
        fail("{}: not a wheel file name".format(wheel))
    path = os.path.join(site, "{}-{}.dist-info".format(parts[0], parts[1]))
    if not os.path.isdir(path):
        fail("{}: {} is not installed".format(wheel, path))
    return path


def modules(site, dist_info):
    with open(os.path.join(dist_info, "RECORD")) as f:
        for line in f:
            rel = line.rsplit(",", 2)[0]
            if rel.endswith(".py") and os.path.isfile(os.path.join(site, rel)):
                yield rel


def scan(args):
    with open(args.manifest) as f:
        manifest = json.load(f)
    reviewed = read_reviewed(args.reviewed)
    calls = []
    for package in manifest["packages"]:
        dist_info = dist_info_dir(args.site, package["wheel"])
        for rel in sorted(modules(args.site, dist_info)):
            with open(os.path.join(args.site, rel), "rb") as f:
                source = f.read()
            for line, text, names in scan_source(source, rel):
                key = (normalize(package["name"]), rel, text)
                call = {"distribution": package["name"], "file": rel,
                        "line": line, "call": text, "libraries": names,
                        "reviewed": key in reviewed}
                if key in reviewed:
                    call["libraries"] = reviewed[key]
                calls.append(call)
    new = 0
    for c in calls:
        where = "{} {}:{} {}".format(c["distribution"], c["file"], c["line"],
                                     c["call"])
        if c["libraries"] or c["reviewed"]:
            print("ctypes: {} -> {}".format(
                where,
                " ".join(c["libraries"]) or "(a reviewed lookup's result)"))
        else:
            new += 1
            print("WARNING: ctypes: {} loads a library this check cannot "
                  "name; add it to {} once reviewed".format(
                      where, os.path.basename(args.reviewed)))
    with open(args.out, "w") as f:
        json.dump(calls, f, indent=2, sort_keys=True)
        f.write("\n")
    print("ironic-python-agent: {} ctypes library loads, {} not reviewed"
          .format(len(calls), new))


def present(target, name):
    """The file in the target's library directories that provides name."""
    if ".so" in name:
        pattern = re.compile("^" + re.escape(name) + "$")
    else:
        pattern = re.compile("^lib" + re.escape(name) + r"\.so(\.[0-9.]+)?$")
    for d in LIB_DIRS:
        path = os.path.join(target, d)
        if not os.path.isdir(path):
            continue
        for entry in sorted(os.listdir(path)):
            if pattern.match(entry):
                return entry
    return None


def check(args):
    with open(args.report) as f:
        calls = json.load(f)
    missing_reviewed = []
    for c in calls:
        if not c["libraries"]:
            continue
        where = "{} {}:{} {}".format(c["distribution"], c["file"], c["line"],
                                     c["call"])
        found = [(n, present(args.target, n)) for n in c["libraries"]]
        if any(path for _, path in found):
            print("ctypes: {}: {}".format(where, ", ".join(
                "{} ({})".format(n, p) for n, p in found if p)))
        elif c["reviewed"]:
            missing_reviewed.append(
                "{}: {}".format(where, " ".join(c["libraries"])))
        else:
            print("WARNING: ctypes: {}: none of {} is in the image".format(
                where, " ".join(c["libraries"])))
    if missing_reviewed:
        fail("libraries the agent loads are not in the image: " +
             "; ".join(missing_reviewed))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("scan", help="find the ctypes loads of the wheels")
    s.add_argument("--site", required=True, help="the target's site-packages")
    s.add_argument("--manifest", required=True,
                   help="install-wheels.py's manifest of the wheels")
    s.add_argument("--reviewed", required=True, help="ctypes-libraries.txt")
    s.add_argument("--out", required=True, help="where to write the calls")
    c = sub.add_parser("check", help="check the libraries are in the image")
    c.add_argument("--report", required=True, help="what scan wrote")
    c.add_argument("--target", required=True, help="the target directory")
    args = ap.parse_args()
    if args.mode == "scan":
        scan(args)
    else:
        check(args)


if __name__ == "__main__":
    main()
