"""The vendor profiles Facho ships: ``shipped/*.json`` beside this module.

``flask facho seed`` loads every one (``facho.inventory.seed``); the panel lists them with an
"Importar este perfil" button. A profile is named by its file name without ``.json``
(``huawei-ma5600t-ma5800``); only names of files in the folder are ever opened.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facho.inventory.profiles.format import Profile, ProfileFileError, parse

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"


@dataclass(frozen=True)
class ShippedProfile:
    slug: str                    # the file name without .json
    path: Path
    profile: Profile | None      # None when the file cannot be read (error says why)
    error: str | None = None


def shipped_paths() -> list[Path]:
    return sorted(SHIPPED_DIR.glob("*.json"))


def shipped_profiles() -> list[ShippedProfile]:
    out = []
    for path in shipped_paths():
        try:
            out.append(ShippedProfile(path.stem, path, parse(path.read_bytes())))
        except ProfileFileError as exc:
            out.append(ShippedProfile(path.stem, path, None, str(exc)))
    return out


def shipped_bytes(slug: str) -> bytes:
    """The file of the shipped profile ``slug``; KeyError when there is none by that name."""
    for path in shipped_paths():
        if path.stem == slug:
            return path.read_bytes()
    raise KeyError(slug)
