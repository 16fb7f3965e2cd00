"""The layout: no import cycle among the product's modules, counting imports inside functions (only
`if TYPE_CHECKING:` imports are exempt), so CI fails on a new one."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("warmintro", "slackapp", "web", "agent", "tools", "mcpserver", "prompts", "vectorstore", "bot.py")


def product_modules(root: Path, parts: Iterable[str]) -> dict[str, Path]:
    """{dotted module name: file} for every Python file of the given packages (and top-level modules)."""
    mods: dict[str, Path] = {}
    for part in parts:
        path = root / part
        files = [path] if path.suffix == ".py" else sorted(path.rglob("*.py")) if path.is_dir() else []
        for f in files:
            names = list(f.relative_to(root).with_suffix("").parts)
            if names[-1] == "__init__":
                names = names[:-1]
            mods[".".join(names)] = f
    return mods


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            exempt.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return exempt


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, *([node.module] if node.module else [])])
    else:
        target = node.module or ""
    return [target, *(f"{target}.{alias.name}" for alias in node.names)]


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the product modules it imports anywhere in its file (a name imported from a package counts
    as the submodule when there is one), and the packages Python runs on the way to them."""
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exempt = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in exempt:
                continue
            for target in _targets(module, path.name == "__init__.py", node):
                while target and target not in mods:  # the longest product module it names
                    target = target.rsplit(".", 1)[0] if "." in target else ""
                if target and target != module:
                    edges[module].add(target)
                # importing a.b.c runs the package a.b first: an edge too, unless a.b is a package of this module
                # (then it is already being imported when this module runs)
                parent = target.rsplit(".", 1)[0] if "." in target else ""
                while parent:
                    if parent in mods and parent != module and not module.startswith(parent + "."):
                        edges[module].add(parent)
                    parent = parent.rsplit(".", 1)[0] if "." in parent else ""
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_among_product_modules():
    found = cycles(import_graph(product_modules(ROOT, PRODUCT)))
    assert not found, "import cycles (counting imports inside functions):\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_check_finds_a_cycle_through_a_function_level_import(tmp_path: Path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import g\n\ndef f():\n    return g()\n")
    (pkg / "b.py").write_text("def g():\n    from pkg import a  # inside a function: still a cycle\n    return a\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.d import x\n")
    (pkg / "d.py").write_text("from .c import TYPE_CHECKING\n")
    found = cycles(import_graph(product_modules(tmp_path, ["pkg"])))
    assert found == [["pkg.a", "pkg.b"]]  # c <-> d is exempt: c imports d only for type checking


def test_the_check_finds_a_cycle_through_a_package_init(tmp_path: Path):
    # runner imports sub.common, which runs sub/__init__.py first, which imports sub.user, which imports runner
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "runner.py").write_text("from pkg.sub.common import tell\n")
    (pkg / "sub" / "__init__.py").write_text("from pkg.sub import user\n")
    (pkg / "sub" / "common.py").write_text("def tell():\n    pass\n")
    (pkg / "sub" / "user.py").write_text("from pkg.runner import tell\nfrom pkg.sub.common import tell as t\n")
    found = cycles(import_graph(product_modules(tmp_path, ["pkg"])))
    assert found == [["pkg.runner", "pkg.sub", "pkg.sub.user"]]  # user -> its own package pkg.sub is no edge


def named_paths(doc: str) -> list[tuple[str, Path]]:
    """(as written, where it must exist) for every `path` a document names in backticks: a repo-relative
    path (`slackapp/client.py`, `web/`; not a URL path such as `/healthz`), or in a table row of the packages table, a path inside that
    row's package (`| \\`slackapp/\\` | ... \\`client.py\\` ...`)."""
    out: list[tuple[str, Path]] = []
    for line in doc.splitlines():
        tokens = re.findall(r"`([^`\s]+)`", line)
        row = re.match(r"\|\s*`([\w./]+/)`", line)
        base = ROOT / row.group(1) if row else ROOT
        for token in tokens:
            if token.startswith("/") or not re.fullmatch(r"[\w./-]+", token) or not (token.endswith((".py", "/")) or "/" in token):
                continue
            where = base / token if row and ((base / token).exists() or not (ROOT / token).exists()) else ROOT / token
            out.append((token, where))
    return out


def test_architecture_doc_names_only_modules_that_exist():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = named_paths(doc)
    assert len(named) > 30  # the packages table and both routes name their modules
    missing = [token for token, where in named if not where.exists()]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_the_doc_check_sees_a_missing_module():
    named = dict(named_paths("| `slackapp/` | `nope.py`, `client.py` |\nthen `web/gone.py` and `web/server.py`"))
    assert not named["nope.py"].exists() and named["client.py"].exists()
    assert not named["web/gone.py"].exists() and named["web/server.py"].exists()
