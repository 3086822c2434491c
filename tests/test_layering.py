"""The package's floors: imports point down only, and there is no import circle.

Read from the source (every `import` and `from ... import`, also inside functions), so a
lazy import that reaches up fails here as surely as a top-level one.
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "keras_resize_layers"

# Lower number = lower floor. A module may import its own floor or lower ones.
FLOORS = {
    "_compat": 0,
    "_core": 1,
    "_tf": 2,
    "_dispatch": 3,
    "_ops": 4,
}
PUBLIC_FLOOR = 5  # layers, data, decode, serving, distributed, migration, audit


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _floor(module):
    parts = module.split(".")
    if len(parts) == 1:  # the package itself: its __init__ re-exports the top level
        return PUBLIC_FLOOR + 1
    return FLOORS.get(parts[1], PUBLIC_FLOOR)


def _imports(path):
    """The package's modules that `path` imports (absolute names)."""
    tree = ast.parse(path.read_text(), str(path))
    package = _module_name(path) if path.name == "__init__.py" else \
        _module_name(path).rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [f"{prefix}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "keras_resize_layers":
                found.add(name)
    return found


def _graph():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imports(path):
            # `from pkg import sub` names a module when `pkg.sub` is one.
            while imported not in modules and "." in imported:
                imported = imported.rsplit(".", 1)[0]
            if imported in modules and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def test_imports_point_down_only():
    upward = []
    for module, targets in _graph().items():
        for target in targets:
            if target == "keras_resize_layers" and module != target:
                upward.append((module, target))
            elif _floor(target) > _floor(module):
                upward.append((module, target))
    assert not upward, "imports from a lower floor to a higher one: " + ", ".join(
        f"{a} -> {b}" for a, b in sorted(upward))


def test_core_imports_nothing_of_tf_and_no_public_module():
    graph = _graph()
    for module, targets in graph.items():
        if module.startswith("keras_resize_layers._core"):
            bad = [t for t in targets if not t.startswith(("keras_resize_layers._core",
                                                          "keras_resize_layers._compat"))]
            assert not bad, (module, bad)


def test_no_private_helper_crosses_public_modules():
    """A public module (or package) imports no `_name` from another public one."""
    crossing = []
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        top = module.split(".")[1] if "." in module else ""
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "keras_resize_layers."):
                target_top = node.module.split(".")[1]
                if target_top.startswith("_") or target_top == top:
                    continue
                crossing += [(module, f"{node.module}.{a.name}") for a in node.names
                             if a.name.startswith("_")]
    assert not crossing, crossing


def test_no_import_circle():
    graph = _graph()
    state, cycle = {}, []

    def visit(node, stack):
        state[node] = "open"
        for target in graph.get(node, ()):
            if state.get(target) == "open":
                cycle.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [node])
    # A package's __init__ re-exporting its submodules is not a circle of code.
    real = [c for c in cycle if not any(
        a.startswith(b + ".") or b.startswith(a + ".") for a, b in zip(c, c[1:]))]
    assert not real, real


@pytest.mark.parametrize("module", ["_core.batch", "_dispatch", "_ops"])
def test_every_floor_exists(module):
    assert (PACKAGE / (module.replace(".", "/") + ".py")).exists()
