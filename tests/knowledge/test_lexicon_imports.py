"""The normalisation modules form no import circle: each imports alone, and no module reaches
itself through the knowledge modules it imports (at the top or inside a function)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from knowledge.paths import ROOT

MODULES = sorted(p.stem for p in (ROOT / "knowledge").glob("*.py") if p.stem != "__init__")


def _imports(module: str) -> set[str]:
    tree = ast.parse((ROOT / "knowledge" / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
        found |= {n.split(".")[1] for n in names if n.startswith("knowledge.") and n.split(".")[1] in MODULES}
    return found


def test_no_knowledge_module_imports_itself_through_others():
    graph = {m: _imports(m) for m in MODULES}
    for start in MODULES:
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            assert m != start, f"knowledge.{start} imports itself through knowledge.{sorted(seen)}"
            if m not in seen:
                seen.add(m)
                todo += graph[m]


@pytest.mark.parametrize("module", ["paths", "characters", "dictionaries", "pinyin", "lexicon", "tokenize", "corpus"])
def test_each_module_imports_alone(module):
    done = subprocess.run(
        [sys.executable, "-c", f"import knowledge.{module}"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
