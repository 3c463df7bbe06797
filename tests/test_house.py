"""The house stays tidy: no two modules of the package import each other (a cycle makes import
order matter and hides layering mistakes — e.g. a command module importing the CLI that
registers it)."""

import ast
import collections
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _imports() -> dict[str, set[str]]:
    mods = {".".join(p.relative_to(SRC).with_suffix("").parts).replace(".__init__", ""): p
            for p in (SRC / "overheard").rglob("*.py")}
    edges: dict[str, set[str]] = collections.defaultdict(set)
    for name, path in mods.items():
        pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for cand in [target] + [f"{target}.{a.name}" for a in node.names]:
                if cand in mods and cand != name:
                    edges[name].add(cand)
    return edges


def test_no_two_modules_import_each_other():
    edges = _imports()
    assert len(edges) > 50                      # the analysis sees the package
    pairs = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, ())})
    assert pairs == [], f"modules importing each other: {pairs}"
