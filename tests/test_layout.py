"""The package's folders are its layers: no module imports from a layer above
its own, and no import cycle (docs/architecture.rst)."""

import ast
import pathlib

import skgd

ROOT = pathlib.Path(skgd.__file__).parent

# Bottom to top; the top-level modules (skgd/__init__, _demo, ...) sit above all.
LAYERS = {"_kernels": 0, "objective": 1, "steps": 1, "training": 2, "solvers": 3}
LAYERS["_estimators"] = 4
TOP = 5


def _module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph():
    """``module -> modules of skgd it imports`` (relative imports, statically)."""
    graph = {}
    for path in ROOT.rglob("*.py"):
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                targets.add(".".join(base + ([node.module] if node.module else [])))
        graph[name] = targets
    return {
        name: {t if t in graph else t.rsplit(".", 1)[0] for t in targets} - {name}
        for name, targets in graph.items()
    }


def _layer(module):
    parts = module.split(".")
    return LAYERS.get(parts[1], TOP) if len(parts) > 1 else TOP


def test_every_package_is_a_known_layer():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYERS)


def test_no_module_imports_from_a_layer_above():
    upward = [
        (module, target)
        for module, targets in _import_graph().items()
        for target in targets
        if _layer(target) > _layer(module)
    ]
    assert not upward


def test_no_import_cycles():
    graph = _import_graph()
    state, cycles = {}, []

    def visit(module, path):
        state[module] = "open"
        for target in graph.get(module, ()):
            if state.get(target) == "open":
                cycles.append([*path[path.index(target) :], target])
            elif target in graph and target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [module])
    assert not cycles
