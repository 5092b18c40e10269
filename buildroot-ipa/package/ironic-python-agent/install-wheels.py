#!/usr/bin/env python3
"""Install the locked wheels of ironic-python-agent into the target.

ironic-python-agent.mk runs this with the host Python (which has
host-python-installer). It can be run on its own, which is how it is tested.

1. Every wheel must be listed in the lock's hash file with the sha256 it
   has: an unknown or tampered wheel is refused before anything is
   installed. So are two wheels installing the same file with different
   contents (identical files, such as a pkgutil namespace __init__.py,
   are fine).
2. Each wheel is installed with Buildroot's support/scripts/pyinstaller.py,
   so that scripts start with #!/usr/bin/python.
3. The tests and byte-code caches the wheels brought are removed (Buildroot
   compiles the target's Python files itself).
4. A JSON manifest of what was installed (name, version, sha256, license)
   is written for the images directory.
"""

import argparse
import configparser
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import HeaderParser

# Directories dropped from what the wheels install.
DROP_DIRS = {"tests", "__pycache__"}


def fail(message):
    sys.stderr.write("ERROR: {}\n".format(message))
    sys.exit(1)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_hashes(path):
    """Return {file name: sha256} from a Buildroot hash file."""
    hashes = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) == 3 and fields[0] == "sha256":
                hashes[fields[2]] = fields[1]
    return hashes


def wheel_metadata(path):
    """Return the headers of a wheel's .dist-info/METADATA."""
    with zipfile.ZipFile(path) as wheel:
        names = [n for n in wheel.namelist()
                 if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if len(names) != 1:
            fail("{}: not a wheel (no single .dist-info/METADATA)".format(
                os.path.basename(path)))
        text = wheel.read(names[0]).decode("utf-8", "replace")
    return HeaderParser().parsestr(text), names[0].split("/")[0]


def license_of(meta):
    """A short license name, by the rule ipabr's lock uses too."""
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return " ".join(expression.split())
    field = " ".join((meta.get("License") or "").split())
    if field and len(field) <= 64 and field.upper() != "UNKNOWN":
        return field
    names = []
    for classifier in meta.get_all("Classifier") or []:
        parts = [p.strip() for p in classifier.split("::")]
        if len(parts) >= 2 and parts[0] == "License" and \
                parts[-1] and parts[-1] != "OSI Approved":
            names.append(parts[-1])
    return ", ".join(names) if names else "unknown"


def prune(site, dist_info):
    """Remove the tests and caches a wheel installed under site."""
    record = os.path.join(site, dist_info, "RECORD")
    if not os.path.exists(record):
        return 0
    removed = 0
    dirs = set()
    with open(record) as f:
        for line in f:
            rel = line.rsplit(",", 2)[0]
            path = os.path.normpath(os.path.join(site, rel))
            inside = os.path.relpath(path, site)
            if inside.startswith(".."):
                continue
            parts = inside.split(os.sep)
            for i, part in enumerate(parts[:-1]):
                if part in DROP_DIRS:
                    dirs.add(os.path.join(site, *parts[:i + 1]))
                    break
            else:
                if path.endswith(".pyc") and os.path.exists(path):
                    os.unlink(path)
                    removed += 1
    for d in sorted(dirs):
        if os.path.isdir(d):
            shutil.rmtree(d)
            removed += 1
    return removed


def dropped(rel):
    """Whether prune() removes a path relative to site-packages."""
    parts = rel.split("/")
    return rel.endswith(".pyc") or any(p in DROP_DIRS for p in parts[:-1])


def installed_files(path, site, headers):
    """Map each file a wheel installs (relative to the target) to its
    sha256, by the rule ipabr's lock checks too: <name>.data/<scheme>/
    files go to that scheme, console and GUI scripts to usr/bin, the rest
    to site-packages, less what prune() removes."""
    schemes = {"purelib": site, "platlib": site, "scripts": "usr/bin",
               "headers": headers, "data": ""}
    files = {}
    with zipfile.ZipFile(path) as wheel:
        for name in wheel.namelist():
            if name.endswith("/"):
                continue
            top, _, rest = name.partition("/")
            dest = site + "/" + name
            if top.endswith(".data"):
                scheme, _, inside = rest.partition("/")
                dest = os.path.join(schemes.get(scheme, scheme), inside)
            if dest.startswith(site + "/") and dropped(dest[len(site) + 1:]):
                continue
            data = wheel.read(name)
            files[dest] = hashlib.sha256(data).hexdigest()
            if top.endswith(".dist-info") and rest == "entry_points.txt":
                entry_points = configparser.ConfigParser(
                    delimiters=("=",), interpolation=None)
                entry_points.optionxform = str
                entry_points.read_string(data.decode("utf-8"))
                for group in ("console_scripts", "gui_scripts"):
                    if entry_points.has_section(group):
                        for script, func in entry_points.items(group):
                            files["usr/bin/" + script] = "script " + func
    return files


def check_overlaps(packages):
    """Refuse two wheels installing one file with different contents;
    note in each package the identical files earlier wheels install."""
    owners = {}
    for p in packages:
        p["shared"] = []
        for rel, digest in sorted(p["files"].items()):
            if rel not in owners:
                owners[rel] = (p["wheel"], digest)
            elif owners[rel][1] != digest:
                fail("{} and {} both install {} with different contents; the "
                     "image can hold only one of them: lock again without "
                     "one (drop its --extra)".format(
                         owners[rel][0], p["wheel"], rel))
            else:
                p["shared"].append(rel)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wheels", nargs="+", help="the locked wheel files")
    ap.add_argument("--pyinstaller", required=True,
                    help="Buildroot's support/scripts/pyinstaller.py")
    ap.add_argument("--hash-file", required=True,
                    help="the lock's ironic-python-agent.hash")
    ap.add_argument("--target", required=True, help="the target directory")
    ap.add_argument("--python-version", required=True,
                    help="the target's Python, major.minor")
    ap.add_argument("--series", default="", help="the OpenStack series")
    ap.add_argument("--manifest", required=True,
                    help="where to write the JSON manifest")
    args = ap.parse_args()

    hashes = read_hashes(args.hash_file)
    packages = []
    for wheel in args.wheels:
        name = os.path.basename(wheel)
        if not os.path.isfile(wheel):
            fail("{}: no such wheel".format(wheel))
        if name not in hashes:
            fail("{} is not in the lock's hash file {}".format(
                name, args.hash_file))
        got = sha256_of(wheel)
        if got != hashes[name]:
            fail("{} has wrong sha256 hash: expected {}, got {} "
                 "(refusing to install a wheel that is not the locked "
                 "one)".format(name, hashes[name], got))
        meta, dist_info = wheel_metadata(wheel)
        packages.append({
            "name": meta.get("Name", ""),
            "version": meta.get("Version", ""),
            "wheel": name,
            "sha256": got,
            "license": license_of(meta),
            "dist_info": dist_info,
            "path": wheel,
        })

    seen = {}
    for p in packages:
        key = p["name"].lower().replace("_", "-").replace(".", "-")
        if key in seen:
            fail("{} and {} are both {}".format(seen[key], p["wheel"],
                                                p["name"]))
        seen[key] = p["wheel"]

    py = "python" + args.python_version
    site_rel = "usr/lib/" + py + "/site-packages"
    for p in packages:
        p["files"] = installed_files(p["path"], site_rel, "usr/include/" + py)
    check_overlaps(packages)

    target = args.target
    site = os.path.join(target, "usr", "lib", py, "site-packages")
    removed = 0
    for p in packages:
        # installer refuses to overwrite a file: an identical one an
        # earlier wheel installed goes first.
        for rel in p["shared"]:
            if os.path.lexists(os.path.join(target, rel)):
                os.unlink(os.path.join(target, rel))
        subprocess.run([
            sys.executable, args.pyinstaller, p["path"],
            "--interpreter=/usr/bin/python",
            "--script-kind=posix",
            "--purelib=" + site,
            "--headers=" + os.path.join(target, "usr", "include", py),
            "--scripts=" + os.path.join(target, "usr", "bin"),
            "--data=" + target,
        ], check=True)
        removed += prune(site, p["dist_info"])

    manifest = {
        "series": args.series,
        "python": args.python_version,
        "packages": [{k: p[k] for k in
                      ("name", "version", "wheel", "sha256", "license")}
                     for p in sorted(packages,
                                     key=lambda p: p["name"].lower())],
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.manifest)),
                exist_ok=True)
    with open(args.manifest, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    print("ironic-python-agent: installed {} wheels, removed {} test and "
          "cache entries".format(len(packages), removed))


if __name__ == "__main__":
    main()
