#!/usr/bin/env python3
"""Install the locked wheels of ironic-python-agent into the target.

ironic-python-agent.mk runs this with the host Python (which has
host-python-installer). It can be run on its own, which is how it is tested.

1. Every wheel must be listed in the lock's hash file with the sha256 it
   has: an unknown or tampered wheel is refused before anything is
   installed.
2. Each wheel is installed with Buildroot's support/scripts/pyinstaller.py,
   so that scripts start with #!/usr/bin/python.
3. The tests and byte-code caches the wheels brought are removed (Buildroot
   compiles the target's Python files itself).
4. A JSON manifest of what was installed (name, version, sha256, license)
   is written for the images directory.
"""

import argparse
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
    target = args.target
    site = os.path.join(target, "usr", "lib", py, "site-packages")
    removed = 0
    for p in packages:
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
