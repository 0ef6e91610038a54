"""Import rules of the house, checked from the source (no module is imported):

1. no import cycle among the project's modules (`app`, `facho`, `actors`, `admin`), counting
   imports made inside functions too: an import hidden in a function is still a dependency;
2. nothing under `facho/` imports the web app (`app`) or the panel (`admin`), and nothing under
   `facho/` or `admin/` imports the actors: views, actors and CLI call the domain, never back.

    python scripts/check_imports.py            # exit 1 with the cycle or the rule broken
    python scripts/check_imports.py --stats    # also: modules, largest, imports in functions

Run by the test suite (tests/test_repository.py), so CI fails on a cycle.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("facho", "actors", "admin")
TOP_MODULES = ("app",)
FORBIDDEN = {  # importer package -> packages it must not import
    "facho": ("app", "admin", "actors"),
    "admin": ("actors", "app"),
}


def module_files(root: Path = ROOT) -> dict[str, Path]:
    modules = {name: root / f"{name}.py" for name in TOP_MODULES if (root / f"{name}.py").exists()}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, known: set[str]) -> list[tuple[str, bool, int]]:
    """(imported project module, inside a function?, line) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found = []

    def closest(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = closest(alias.name)
                    if target:
                        found.append((target, in_function, child.lineno))
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(name, is_package, child)
                for alias in child.names:
                    target = closest(f"{base}.{alias.name}") or closest(base)
                    if target:
                        found.append((target, in_function, child.lineno))
            visit(child, nested)

    visit(tree, False)
    return [f for f in found if f[0] != name]


def graph(modules: dict[str, Path]) -> dict[str, list[tuple[str, bool, int]]]:
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def find_cycle(edges: dict[str, list[tuple[str, bool, int]]]) -> list[str] | None:
    """One cycle as a list of modules (first == last), or None. A package's `__init__`
    importing its own submodules is not a cycle of the design, so package -> own child
    edges are left out."""
    adjacency = {m: sorted({t for t, _, _ in targets if not t.startswith(m + ".")})
                 for m, targets in edges.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in adjacency.get(module, ()):
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = dfs(target)
                if cycle:
                    return cycle
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(adjacency):
        if module not in state:
            cycle = dfs(module)
            if cycle:
                return cycle
    return None


def largest_tangle(edges) -> int:
    """Size of the largest strongly connected component (modules that all reach each other)."""
    adjacency = {m: {t for t, _, _ in targets if not t.startswith(m + ".")}
                 for m, targets in edges.items()}
    reach = {}
    for start in adjacency:
        seen, todo = set(), [start]
        while todo:
            for nxt in adjacency.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        reach[start] = seen
    return max((sum(1 for o in adjacency if o in reach[m] and m in reach[o])
                for m in adjacency), default=0)


def forbidden_imports(edges) -> list[str]:
    broken = []
    for importer, targets in edges.items():
        package = importer.split(".")[0]
        for target, _, line in targets:
            if target.split(".")[0] in FORBIDDEN.get(package, ()):
                broken.append(f"{importer}:{line} imports {target}")
    return broken


def stats(modules, edges) -> dict:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines())
             for name, path in modules.items()}
    largest = max(sizes, key=sizes.get)
    in_functions = sum(1 for targets in edges.values() for _, inside, _ in targets if inside)
    return {"modules": len(modules), "largest": f"{largest} ({sizes[largest]} lines)",
            "project_imports_in_functions": in_functions,
            "largest_import_cycle_modules": largest_tangle(edges)}


def main(argv: list[str]) -> int:
    modules = module_files()
    edges = graph(modules)
    if "--stats" in argv:
        for key, value in stats(modules, edges).items():
            print(f"{key}: {value}")
    problems = forbidden_imports(edges)
    cycle = find_cycle(edges)
    if cycle:
        problems.append("import cycle: " + " -> ".join(cycle))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
