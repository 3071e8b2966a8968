"""The dependency rules of docs/architecture.md (import-linter contracts, no import cycles),
module sizes and the linter, checked on every run."""
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    lint = shutil.which("lint-imports")
    assert lint, "import-linter is a test dependency: pip install -e '.[test]'"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and " 0 broken" in result.stdout


def _import_cycles(graph) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (Tarjan's
    strongly connected components over every import, those inside functions too)."""
    import sys

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for module in sorted(graph.modules):
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    return cycles


def test_no_circular_imports():
    import grimp

    # Imports only a type checker runs (under ``if TYPE_CHECKING:``) cannot loop at run time.
    graph = grimp.build_graph("engine", "studio", exclude_type_checking_imports=True)
    assert _import_cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    class Graph:
        modules = {"a", "b", "c", "d"}
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.edges[module]

    assert _import_cycles(Graph()) == [["a", "b", "c"]]


#: Lines a module may have: a newcomer reads a module whole. The two entry points that
#: every feature used to grow are held tighter.
MAX_MODULE_LINES = 600
MAX_ENTRY_POINT_LINES = {"engine/cli.py": 400, "studio/main_window.py": 400}


def test_no_module_is_too_long_to_read():
    too_long = {}
    for path in sorted((ROOT / "engine").rglob("*.py")) + sorted((ROOT / "studio").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_ENTRY_POINT_LINES.get(relative, MAX_MODULE_LINES):
            too_long[relative] = lines
    assert too_long == {}


def test_ruff_finds_nothing():
    """The linter configured in pyproject.toml passes over everything we write."""
    ruff = shutil.which("ruff")
    assert ruff, "ruff is a test dependency: pip install -e '.[test]'"
    result = subprocess.run([ruff, "check", "engine", "studio", "tests", "tools", "bench",
                             "packaging"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
