"""The repository stands on its own: no tracked file points at a path outside it.

Whoever clones Facho has nothing beside the clone, so a test, script or doc that reads
``../something`` (or an absolute path of the machine it was written on) breaks for them.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

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
        # This file holds examples of what the check refuses.
        if path.suffix in SKIPPED_SUFFIXES or not path.is_file() or path == Path(__file__):
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
    escaped = [(readme, "see ../shared/DESIGN.md"), (readme, "open /work/main/app.py")]
    kept = [(readme, "see docs/../README.md and https://h/a/../b"),
            (readme, f"'../../etc/passwd'  # {ALLOWED_MARK}"),
            (REPO_ROOT / "tests" / "x.py", "Path('../app.py')")]
    assert len(outside_references(escaped)) == 2
    assert outside_references(kept) == []
