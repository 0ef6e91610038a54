"""The repository stands on its own: no tracked file points at a path outside it.

Whoever clones Facho has nothing beside the clone, so a test, script or doc that reads
``../something`` (or an absolute path of the machine it was written on) breaks for them.
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

from facho.config import REPO_ROOT


# `../x` not preceded by a word character or a dot (so `a/../b` inside a URL is left alone).
RELATIVE_ESCAPE = re.compile(r"(?<![\w./-])((?:\.\./)+)([\w.-]+)")
# Absolute paths of the machines Facho was developed on.
FOREIGN_ABSOLUTE = re.compile(r"(?<![\w.])/(?:work|root|home)/[\w.-]+")
# A line may carry this mark when the path is deliberate bad input (a fuzzed form value).
ALLOWED_MARK = "repo-path: bad input"
SKIPPED_SUFFIXES = {".js", ".css", ".png", ".ico", ".woff", ".woff2", ".ttf", ".snmprec"}


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    files = []
    for name in filter(None, names):
        path = REPO_ROOT / name
        if path.suffix in SKIPPED_SUFFIXES or not path.is_file():
            continue
        try:
            files.append((path, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue
    return files


def escapes_repository(path: Path, dots: str, name: str) -> bool:
    """True when ``dots + name`` leaves the repository whether it is read from the file's
    folder or from the repository root (scripts cd to the root, docs are read from there)."""
    inside = []
    for base in (path.parent, REPO_ROOT):
        target = (base / (dots + name)).resolve()
        inside.append(target == REPO_ROOT or REPO_ROOT in target.parents)
    return not any(inside)


def outside_references(files) -> list[str]:
    found = []
    for path, text in files:
        for number, line in enumerate(text.splitlines(), 1):
            if ALLOWED_MARK in line:
                continue
            where = f"{path.relative_to(REPO_ROOT)}:{number}"
            for match in RELATIVE_ESCAPE.finditer(line):
                if escapes_repository(path, match.group(1), match.group(2)):
                    found.append(f"{where}: {match.group(0)}")
            for match in FOREIGN_ABSOLUTE.finditer(line):
                found.append(f"{where}: {match.group(0)}")
    return found


def test_no_tracked_file_refers_to_a_path_outside_the_repository():
    assert outside_references(tracked_text_files()) == []


def test_the_check_catches_a_path_beside_the_repository():
    readme = REPO_ROOT / "README.md"
    # built from pieces, so this file does not itself hold a path outside the repository
    up, sibling, root = "..", "sha" + "red", "wo" + "rk"
    beside, machine = f"{up}/{sibling}/DESIGN.md", f"/{root}/main/app.py"
    escaped = [(readme, f"see {beside}"), (readme, f"open {machine}")]
    kept = [(readme, "see docs/../README.md and https://h/a/../b"),
            (readme, f"'{'../' * 2}etc/passwd'  # {ALLOWED_MARK}"),
            (REPO_ROOT / "tests" / "x.py", "Path('../app.py')")]
    assert len(outside_references(escaped)) == 2
    assert outside_references(kept) == []



@pytest.fixture(scope="module")
def check_imports():
    """scripts/check_imports.py, loaded as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("check_imports",
                                                  REPO_ROOT / "scripts" / "check_imports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_import_graph_has_no_cycle_and_no_import_back_from_the_domain(check_imports):
    """Nothing under facho/ imports the web app, the panel or the actors, and no module
    reaches itself through imports (imports inside functions included)."""
    edges = check_imports.graph(check_imports.module_files(REPO_ROOT))
    assert check_imports.find_cycle(edges) is None
    assert check_imports.forbidden_imports(edges) == []


def test_the_import_check_finds_a_cycle_and_an_import_back(check_imports):
    edges = {"facho.a": [("facho.b", False, 1)], "facho.b": [("facho.a", True, 7)],
             "facho.c": [("app", True, 3)], "app": []}
    assert check_imports.find_cycle(edges) == ["facho.a", "facho.b", "facho.a"]
    assert check_imports.forbidden_imports(edges) == ["facho.c:3 imports app"]



def modules_the_benchmarks_import() -> list[str]:
    """bench/ modules, and the test helpers they import (mostly inside functions)."""
    found = {f"bench.{p.stem}" for p in (REPO_ROOT / "bench").glob("*.py")
             if p.stem not in ("__init__", "__main__")}
    for path in (REPO_ROOT / "bench").glob("*.py"):
        found.update(re.findall(r"(?:from|import) (tests(?:\.\w+)+)", path.read_text()))
    return sorted(found)


@pytest.mark.parametrize("module", modules_the_benchmarks_import())
def test_what_the_benchmarks_import_loads_in_a_fresh_interpreter(module):
    """A benchmark imports its test helpers on their own, not after pytest's conftest:
    `tests.snmp_agents` once failed there on a circular import with `tests.conftest`, and
    `python -m bench e2e` ran nothing."""
    import sys
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
