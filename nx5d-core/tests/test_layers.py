"""The core's import graph: no module imports itself round a cycle, and lower layers never import upper ones.

Imports are read from the source (module-level and inside functions alike;
``if TYPE_CHECKING:`` blocks are annotations, not imports).
"""

import ast
from pathlib import Path

import nx5d

SOURCE = Path(nx5d.__file__).parent

#: Layers from the bottom up: a module may import its own layer and those below it.
LAYERS = [
    {"nx5d.credentials", "nx5d.suggestions"},
    {"nx5d.errors", "nx5d.version", "nx5d.annotations", "nx5d.progress", "nx5d.display", "nx5d.options"},
    {"nx5d.deprecation"},
    {"nx5d.optional"},
    {"nx5d.config"},
    {"nx5d.addressing", "nx5d.io"},
    {"nx5d.plugins", "nx5d.recipes", "nx5d.spice", "nx5d.extensions"},
    {"nx5d.model", "nx5d.repo"},
    {"nx5d.app", "nx5d.testing", "nx5d.__main__", "nx5d"},
]


def modules() -> dict[str, Path]:
    found = {}
    for path in SOURCE.rglob("*.py"):
        parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return True
    return False


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        tree = ast.parse(path.read_text())
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                named = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [name if name in known else node.module for name in named]
            else:
                continue
            if _type_checking_only(node, parents):
                continue
            graph[name].update(t for t in targets if t in known and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> int:
    for level, names in enumerate(LAYERS):
        if any(module == name or module.startswith(name + ".") for name in names if name != "nx5d") or module in names:
            return level
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_the_core_has_no_import_cycles():
    assert cycles(import_graph()) == []


def test_lower_layers_never_import_upper_ones():
    upward = [
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        for target in targets
        if layer_of(target) > layer_of(module)
    ]
    assert upward == []


def _modules_after(statement: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after running ``statement``."""
    import subprocess
    import sys

    code = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_import_nx5d_loads_neither_xarray_nor_pandas():
    """``import nx5d`` stays fast enough for the shell's tab completion: nothing heavy until it is used."""
    loaded = _modules_after("import nx5d")
    assert not loaded & {"xarray", "pandas", "numpy", "fsspec", "pluggy"}, loaded & {"xarray", "pandas", "numpy"}


def test_what_a_plugin_declares_imports_neither_xarray_nor_the_science():
    """The contract (declaration, references, hooks, options, Cooking) is plain data."""
    loaded = _modules_after("from nx5d.plugins import Beamline, ClaimLevel, Cooking, DocumentRef, ScanRef, option")
    assert not loaded & {"xarray", "pandas", "numpy", "nx5d_rsm", "matplotlib"}


def test_the_command_line_parses_without_the_object_model():
    """``nx5d --version`` and every Tab press build the parser only."""
    loaded = _modules_after("from nx5d.app import cli; cli._parser()")
    assert not loaded & {"xarray", "pandas", "numpy", "fsspec"}
