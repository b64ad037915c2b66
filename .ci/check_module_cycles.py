#!/usr/bin/env python3
"""Report import cycles between sibling modules of each crate (issue 16: dependencies run
one way).

For every module of every crate under `crates/*/src` (files and inline `mod x { .. }`), the
paths it names — `use crate::…`, `use super::…`, `use self::…` trees and the same paths
written inline in code — are resolved to the module that defines the named item (following
`pub use` re-exports, so `crate::Error` counts as `crate::error`). A reference from module
`a::b::c` to `a::d::e` is an edge `b -> d` between the siblings under `a`; a module naming its
own ancestor or descendant is not an edge. Strongly connected groups of two or more siblings
are cycles: they are printed and the exit status is 1.

Usage: check_module_cycles.py [ROOT]   (ROOT defaults to the repository root)
"""
import re
import sys
from pathlib import Path

COMMENT_OR_LITERAL = re.compile(
    r"//[^\n]*"  # line comment (doc comments too)
    r"|/\*.*?\*/"  # block comment (not nested; the code base has none nested)
    r'|b?r(#*)".*?"\1'  # raw string
    r'|b?"(?:\\.|[^"\\])*"'  # string
    r"|b?'(?:\\[^']{1,10}|[^\\'])'",  # char literal (lifetimes have no closing quote)
    re.S,
)
MOD_DECL = re.compile(r"\bmod\s+(r#)?(\w+)\s*([;{])")
USE_STMT = re.compile(r"\buse\s+([^;]*);")
INLINE_PATH = re.compile(r"(?<![\w$:])((?:crate|super|self)(?:\s*::\s*(?:r#)?\w+)+)")
PUB_USE = re.compile(r"\bpub(?:\s*\([^)]*\))?\s+use\s+([^;]*);")


def strip(text):
    """Blank comments and literals, keeping offsets and line numbers."""
    return COMMENT_OR_LITERAL.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def expand_use_tree(tree):
    """`a::{b, c::{d, e}, self}` -> [["a", "b"], ["a", "c", "d"], ["a", "c", "e"], ["a"]]."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, s):
        # split s at top-level commas
        depth, start, parts = 0, 0, []
        for i, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(s[start:i])
                start = i + 1
        parts.append(s[start:])
        for p in parts:
            if not p:
                continue
            brace = p.find("{")
            if brace >= 0:
                head = [x for x in p[:brace].split("::") if x]
                walk(prefix + head, p[brace + 1 : p.rfind("}")])
                continue
            segs = [x for x in p.split("::") if x]
            if segs and segs[-1] == "self":
                segs = segs[:-1]
            if segs:
                out.append(prefix + segs)

    walk([], tree)
    return out


def expand_use_raw(tree):
    """Like expand_use_tree, but keeps `as` aliases: returns (segments, local_name)."""
    # Protect `x as y` before whitespace removal.
    tree = re.sub(r"\s+as\s+", "@", tree)
    res = []
    for segs in expand_use_tree(tree):
        last = segs[-1]
        if "@" in last:
            name, alias = last.split("@", 1)
            segs = segs[:-1] + [name]
        else:
            alias = segs[-1]
        res.append((segs, alias))
    return res


class Module:
    def __init__(self, path, file):
        self.path = path  # tuple of segments below the crate root
        self.file = file
        self.children = {}
        self.reexports = {}  # local name -> absolute path (list of segments)
        self.refs = []  # (absolute path segments, line)


def parse_crate(src_root, root_file):
    modules = {}

    def load(path, file):
        text = strip(file.read_text())
        parse_text(path, file, text, 0, len(text))

    def parse_text(path, file, text, begin, end):
        mod = Module(path, file)
        modules[path] = mod
        # Find inline modules first (their bodies belong to them, not to this module).
        inner = []
        pos = begin
        while True:
            m = MOD_DECL.search(text, pos, end)
            if not m:
                break
            name = m.group(2)
            if m.group(3) == ";":
                mod.children[name] = None
                child_file = child_file_for(file, name)
                if child_file is not None:
                    mod.children[name] = child_file
                pos = m.end()
            else:
                depth, i = 1, m.end()
                while depth and i < end:
                    if text[i] == "{":
                        depth += 1
                    elif text[i] == "}":
                        depth -= 1
                    i += 1
                mod.children[name] = "inline"
                inner.append((name, m.end(), i - 1))
                pos = i
        own = list(text[begin:end])
        for _, b, e in inner:
            for k in range(b - begin, e - begin):
                if own[k] != "\n":
                    own[k] = " "
        own = "".join(own)
        line_of = lambda off: text.count("\n", 0, begin + off) + 1  # noqa: E731
        for m in USE_STMT.finditer(own):
            for segs, alias in expand_use_raw(m.group(1)):
                absolute = resolve_relative(path, segs)
                if absolute is not None:
                    mod.refs.append((absolute, line_of(m.start())))
        for m in PUB_USE.finditer(own):
            for segs, alias in expand_use_raw(m.group(1)):
                absolute = resolve_relative(path, segs, bare_is_child=True, children=mod.children)
                if absolute is not None and alias not in ("*", "_"):
                    mod.reexports[alias] = absolute
        use_spans = [(m.start(), m.end()) for m in USE_STMT.finditer(own)]
        for m in INLINE_PATH.finditer(own):
            if any(a <= m.start() < b for a, b in use_spans):
                continue
            segs = [s.replace("r#", "") for s in re.split(r"\s*::\s*", m.group(1))]
            absolute = resolve_relative(path, segs)
            if absolute is not None:
                mod.refs.append((absolute, line_of(m.start())))
        for name, b, e in inner:
            parse_text(path + (name,), file, text, b, e)
        for name, child in list(mod.children.items()):
            if isinstance(child, Path):
                load(path + (name,), child)

    def child_file_for(file, name):
        base = file.parent if file.name in ("lib.rs", "main.rs", "mod.rs") else file.with_suffix("")
        for cand in (base / f"{name}.rs", base / name / "mod.rs"):
            if cand.exists():
                return cand
        return None

    load((), root_file)
    return modules


def resolve_relative(path, segs, bare_is_child=False, children=None):
    """Turn a path written in module `path` into an absolute one (None if external)."""
    segs = list(segs)
    if not segs:
        return None
    if segs[0] == "crate":
        return segs[1:]
    if segs[0] in ("super", "self"):
        base = list(path)
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                if not base:
                    return None
                base.pop()
            segs.pop(0)
        return base + segs
    if bare_is_child and children is not None and segs[0] in children:
        return list(path) + segs
    return None


def resolve_target(modules, segs, depth=0):
    """The module that defines the item an absolute path names."""
    cur = ()
    i = 0
    while i < len(segs):
        mod = modules.get(cur)
        if mod is None:
            break
        s = segs[i]
        if s in mod.children and (cur + (s,)) in modules:
            cur = cur + (s,)
            i += 1
            continue
        if s in mod.reexports and depth < 20:
            return resolve_target(modules, list(mod.reexports[s]) + segs[i + 1 :], depth + 1)
        break
    return cur


def sccs(nodes, edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def check_crate(crate_dir):
    src = crate_dir / "src"
    roots = [src / "lib.rs", src / "main.rs"]
    problems = []
    for root in roots:
        if not root.exists():
            continue
        modules = parse_crate(src, root)
        # parent -> {child: {other_child: [(file, line)]}}
        sib = {}
        for path, mod in modules.items():
            for segs, line in mod.refs:
                target = resolve_target(modules, segs)
                n = 0
                while n < len(path) and n < len(target) and path[n] == target[n]:
                    n += 1
                if n == len(path) or n == len(target):
                    continue  # ancestor, descendant or itself
                parent = path[:n]
                a, b = path[n], target[n]
                where = f"{mod.file.relative_to(crate_dir.parent.parent)}:{line}"
                sib.setdefault(parent, {}).setdefault(a, {}).setdefault(b, []).append(where)
        for parent, edges in sorted(sib.items()):
            nodes = set(edges) | {b for e in edges.values() for b in e}
            for comp in sccs(nodes, edges):
                if len(comp) < 2:
                    continue
                scope = "crate::" + "::".join(parent) if parent else "crate"
                lines = [f"{crate_dir.name}: cycle under {scope}: {' <-> '.join(comp)}"]
                for a in comp:
                    for b in comp:
                        if b in edges.get(a, {}):
                            refs = edges[a][b]
                            more = f" (+{len(refs) - 1} more)" if len(refs) > 1 else ""
                            lines.append(f"  {a} -> {b}: {refs[0]}{more}")
                problems.append("\n".join(lines))
    return problems


def main():
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    problems = []
    for crate_dir in sorted((root / "crates").iterdir()):
        if (crate_dir / "Cargo.toml").exists():
            problems += check_crate(crate_dir)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} module cycle(s); give the shared items one home below both.")
        return 1
    print("no import cycles between sibling modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
