#!/usr/bin/env python3
"""The layer check: every #include "..." in src/ and include/ifx/ runs down the layer order that
docs/architecture.md draws, and the include graph printed in that document is the current one.

Layers, bottom up: core < config < transport < connector < hosts. A file may include headers of
its own layer and of the layers below it; the two hosts (src/iggy/, src/cli/) are siblings and do
not include each other. The check works by folder, so new files need no edit here. A public header
(include/ifx/NAME.h) belongs to the layer of the folder that implements it: the table below, or,
for a header not in it, the one folder of src/ holding NAME.c.

  check_layers.py                 check the includes and the graph in docs/architecture.md
  check_layers.py --markdown      print the include graph (what the document holds)
  check_layers.py --update-doc    rewrite the graph in docs/architecture.md
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join("docs", "architecture.md")
BEGIN = "<!-- include-graph:begin (tests/architecture/check_layers.py --update-doc) -->"
END = "<!-- include-graph:end -->"

# Bottom up. Folders of src/ by layer; the hosts are siblings.
LAYERS = ["core", "config", "transport", "connector", "hosts"]
FOLDER_LAYER = {
    "core": "core",
    "config": "config",
    "transport": "transport",
    "connector": "connector",
    "iggy": "hosts",
    "cli": "hosts",
}
# Public headers whose implementation is not in a .c file of the same name.
PUBLIC_FOLDER = {
    "client.h": "transport",  # transport/http.c and the version files
    "codec.h": "core",  # core/json.c, utf8.c, base64.c, ...
    "export.h": "core",  # the export macro only
    # types only: the configuration embeds them and the transport takes them, so they sit with
    # the configuration, below the transport
    "transport_options.h": "config",
}
# Generated headers (build directory) and the folder their template lives in.
GENERATED_FOLDER = {"ifx_build_version.h": "core"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def public_folder(name, root):
    if name in PUBLIC_FOLDER:
        return PUBLIC_FOLDER[name]
    stem = name[:-2] if name.endswith(".h") else name
    found = [f for f in FOLDER_LAYER if os.path.exists(os.path.join(root, "src", f, stem + ".c"))]
    return found[0] if len(found) == 1 else None


def sources(root):
    """(path relative to root, folder) for every C file of src/ and include/ifx/."""
    out = []
    for folder in sorted(os.listdir(os.path.join(root, "src"))):
        d = os.path.join(root, "src", folder)
        if not os.path.isdir(d):
            continue
        for dirpath, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    out.append((os.path.relpath(os.path.join(dirpath, f), root), folder))
    inc = os.path.join(root, "include", "ifx")
    for f in sorted(os.listdir(inc)):
        if f.endswith(".h"):
            out.append((os.path.join("include", "ifx", f), public_folder(f, root)))
    return out


def target_folder(inc, including, root):
    """The folder of src/ an included header belongs to, or None when unknown."""
    if inc.startswith("ifx/"):
        return public_folder(inc[len("ifx/"):], root)
    if inc in GENERATED_FOLDER:
        return GENERATED_FOLDER[inc]
    first = inc.split("/", 1)[0]
    if "/" in inc and first in FOLDER_LAYER:
        return first
    # A name relative to the including file.
    if os.path.exists(os.path.join(root, os.path.dirname(including), inc)):
        parts = os.path.normpath(os.path.join(os.path.dirname(including), inc)).split(os.sep)
        if len(parts) > 2 and parts[0] == "src":
            return parts[1]
    return None


def scan(root):
    """Returns (edges, problems): edges maps (from folder, to folder) to the headers included."""
    edges = {}
    problems = []
    for path, folder in sources(root):
        if folder is None:
            problems.append(f"{path}: no layer for this public header (add it to PUBLIC_FOLDER)")
            continue
        if folder not in FOLDER_LAYER:
            problems.append(f"{path}: folder src/{folder}/ has no layer (add it to FOLDER_LAYER)")
            continue
        with open(os.path.join(root, path), encoding="utf-8") as fh:
            text = fh.read()
        for m in INCLUDE.finditer(text):
            inc = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            to = target_folder(inc, path, root)
            if to is None:
                problems.append(f"{path}:{line}: #include \"{inc}\": header of no known layer")
                continue
            lf, lt = FOLDER_LAYER[folder], FOLDER_LAYER[to]
            if LAYERS.index(lt) > LAYERS.index(lf):
                problems.append(f"{path}:{line}: #include \"{inc}\": {lf} must not include "
                                f"{lt} (layers: {' < '.join(LAYERS)})")
            elif lf == lt == "hosts" and folder != to:
                problems.append(f"{path}:{line}: #include \"{inc}\": the hosts src/{folder}/ "
                                f"and src/{to}/ do not include each other")
            if to != folder:
                edges.setdefault((folder, to), set()).add(inc)
    return edges, problems


def markdown(edges):
    order = list(FOLDER_LAYER)
    lines = [
        "| from | uses | headers |",
        "|---|---|---|",
    ]
    for (a, b) in sorted(edges, key=lambda e: (order.index(e[0]), order.index(e[1]))):
        heads = ", ".join(f"`{h}`" for h in sorted(edges[(a, b)]))
        lines.append(f"| `src/{a}/` ({FOLDER_LAYER[a]}) | `src/{b}/` ({FOLDER_LAYER[b]}) | {heads} |")
    return "\n".join(lines) + "\n"


def doc_section(root):
    with open(os.path.join(root, DOC), encoding="utf-8") as fh:
        text = fh.read()
    b, e = text.find(BEGIN), text.find(END)
    if b < 0 or e < b:
        return text, None, None
    return text, b + len(BEGIN) + 1, e


def main(argv):
    root = ROOT
    edges, problems = scan(root)
    graph = markdown(edges)
    if "--markdown" in argv:
        sys.stdout.write(graph)
        return 0
    text, start, end = doc_section(root)
    if "--update-doc" in argv:
        if start is None:
            print(f"{DOC}: markers {BEGIN} ... {END} not found", file=sys.stderr)
            return 1
        with open(os.path.join(root, DOC), "w", encoding="utf-8") as fh:
            fh.write(text[:start] + graph + text[end:])
        return 0
    if start is None:
        problems.append(f"{DOC}: the include graph markers are missing")
    elif text[start:end] != graph:
        problems.append(f"{DOC}: the include graph is stale; run "
                        "tests/architecture/check_layers.py --update-doc")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"layers ok: {sum(len(v) for v in edges.values())} cross-folder includes, all downward")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
