"""The floor plan (docs/ARCHITECTURE.md, "Layers"): each layer imports only layers below it.

The test reads every project module with `ast`, imports inside functions included (a lazy
import is still a dependency, it only hides it from start-up), and names each upward import
as file:line → module. docs/ARCHITECTURE.md states the same order in its table, and the last
test checks that the two agree, so the list below is the one place the order is decided.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Bottom to top. A module may import its own layer and any layer before it in this list.
LAYERS = (
    "core",
    "audit",
    "accounts",
    "signatures",
    "trials",
    "patients",
    "assessments",
    "safety",
    "notifications",
    "demo",
)

#: Wiring and entry points: they sit above every layer and may import anything, and no layer
#: imports them.
ENTRY_POINTS = ("config", "manage", "scripts", "bench")

#: Folders that hold no project code of their own.
NOT_CODE = {"tests", "templates", "static", "var", "docs", "node_modules"}


def project_modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        top = relative.parts[0]
        if top.startswith(".") or top in NOT_CODE or "migrations" in relative.parts:
            continue
        yield relative


def owner(relative: Path) -> str:
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imported_modules(relative: Path):
    """(line, module) for every absolute import anywhere in the file, functions included."""
    tree = ast.parse((ROOT / relative).read_text(), filename=str(relative))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def rank(name: str) -> int:
    if name in ENTRY_POINTS:
        return len(LAYERS)
    return LAYERS.index(name)


def test_every_project_package_has_a_place_in_the_floor_plan():
    unplaced = sorted(
        {owner(m) for m in project_modules()} - set(LAYERS) - set(ENTRY_POINTS) - NOT_CODE
    )
    assert unplaced == [], f"add these to LAYERS or ENTRY_POINTS: {unplaced}"


def test_no_module_imports_a_layer_above_its_own():
    known = set(LAYERS) | set(ENTRY_POINTS)
    upward = []
    for relative in project_modules():
        here = owner(relative)
        if here not in known:
            continue
        for line, module in imported_modules(relative):
            target = module.split(".")[0]
            if target in known and target != here and rank(target) >= rank(here):
                if here in ENTRY_POINTS:
                    continue
                upward.append(f"{relative}:{line} → {module}")
    assert upward == [], "upward imports:\n" + "\n".join(upward)


def test_the_architecture_document_lists_the_same_layers_in_the_same_order():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    table = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| \d+ \| `(\w+)/` \|", table, flags=re.MULTILINE)
    assert documented == list(LAYERS)


def test_no_test_module_imports_another():
    """Helpers shared by tests live in `helpers_*.py` modules and fixtures in a conftest.py.
    tests/ is not a package, so pytest loads each test module under its bare name: a test
    module imported by dotted path is loaded a second time, as a copy, and its helpers change
    with its own tests."""
    borrowed = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_"):
                    borrowed.append(f"{path.relative_to(ROOT)}:{node.lineno} → {name}")
    assert borrowed == []
