#!/usr/bin/env python3
"""The exported symbols of libifx.so are exactly the API its installed headers declare.

Installs the build into a scratch prefix (cmake --install), lists the symbols libifx.so defines
and exports (nm -D --defined-only), and reads every declaration marked IFX_EXTERN in the installed
include/ifx/*.h. Fails when a symbol is exported that no public header declares with IFX_EXTERN
(an internal function leaking out, or one the headers forgot to mark), or when a header declares
with IFX_EXTERN something the library does not export (a missing definition, or a definition that
does not see its declaration). Also checks the naming rule of docs/architecture.md on the
installed static library: an exported symbol is ifx_..., every other global one ifxi_....

  check_exports.py BUILD_DIR
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

# Defined by the linker in every shared object, not by ifx.
LINKER_SYMBOLS = {"_init", "_fini", "_edata", "_end", "__bss_start"}


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True,
                         text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] not in LINKER_SYMBOLS:
            names.add(parts[2].split("@")[0])
    return names


def static_globals(archive):
    """The global symbols the members of a static library define."""
    out = subprocess.run(["nm", "--defined-only", "-g", archive], check=True,
                         capture_output=True, text=True).stdout
    return {parts[2] for parts in (line.split() for line in out.splitlines()) if len(parts) == 3}


def declared(headers):
    """Names declared with IFX_EXTERN, each with the header that declares it."""
    names = {}
    for path in headers:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)
        for stmt in text.split(";"):
            if not re.search(r"\bIFX_EXTERN\b", stmt):
                continue
            head = stmt.split("(", 1)[0] if "(" in stmt else re.split(r"[\[=]", stmt, 1)[0]
            ids = re.findall(r"[A-Za-z_]\w*", head)
            if not ids:
                raise SystemExit(f"{path}: cannot read the IFX_EXTERN declaration: {stmt.strip()}")
            names[ids[-1]] = os.path.basename(path)
    return names


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    build = argv[0]
    with tempfile.TemporaryDirectory(prefix="ifx-exports-") as prefix:
        subprocess.run(["cmake", "--install", build, "--prefix", prefix], check=True,
                       stdout=subprocess.DEVNULL)
        libs = glob.glob(os.path.join(prefix, "lib*", "**", "libifx.so"), recursive=True)
        headers = sorted(glob.glob(os.path.join(prefix, "include", "ifx", "*.h")))
        archives = glob.glob(os.path.join(prefix, "lib*", "**", "libifx.a"), recursive=True)
        if len(libs) != 1 or not headers or not archives:
            print(f"installed tree without libifx.so, libifx.a and include/ifx/*.h: {libs}",
                  file=sys.stderr)
            return 1
        have = exported(libs[0])
        want = declared(headers)
        inside = static_globals(archives[0])
    problems = []
    for name in sorted(have - set(want)):
        problems.append(f"exported but not declared IFX_EXTERN in a public header: {name}")
    for name in sorted(set(want) - have):
        problems.append(f"declared IFX_EXTERN in ifx/{want[name]} but not exported: {name}")
    for name in sorted(have):
        if not name.startswith("ifx_"):
            problems.append(f"exported without the API prefix ifx_: {name}")
    for name in sorted(inside - have):
        if not name.startswith("ifxi_"):
            problems.append(f"internal global without the prefix ifxi_: {name}")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"exports ok: {len(have)} symbols, each declared IFX_EXTERN in {len(headers)} public "
          "headers")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
