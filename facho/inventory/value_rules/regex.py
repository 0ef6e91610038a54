"""Rule ``regex``: take the value out of a text the device sends.

``"0.03 mW (-14.61 dBm)"`` with ``\\(([-\\d.]+) dBm\\)`` gives ``-14.61``. The expression is
searched anywhere in the text (``re.search``); the value is its group 1 when it has one, else
the whole match. At most one capturing group: use ``(?:...)`` to group without capturing.
"""
from __future__ import annotations

import re
from functools import lru_cache

MAX_LENGTH = 255  # Oid.regex column


def check(pattern: str) -> str | None:
    """The Spanish error for the form, or None when the expression is usable."""
    if len(pattern) > MAX_LENGTH:
        return (f"la expresión regular es demasiado larga ({len(pattern)} caracteres; "
                f"máximo {MAX_LENGTH})")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        where = f" en la posición {exc.pos}" if exc.pos is not None else ""
        return f"la expresión regular no compila: {exc.msg}{where}"
    if compiled.groups > 1:
        return (f"la expresión regular tiene {compiled.groups} grupos de captura; use uno solo "
                "(el valor) o ninguno, y (?:...) para agrupar sin capturar")
    return None


@lru_cache(maxsize=256)
def compiled(pattern: str) -> re.Pattern:
    """The compiled expression; ValueError (Spanish) when it cannot be used."""
    error = check(pattern)
    if error:
        raise ValueError(error)
    return re.compile(pattern)


def _shown(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def extract(pattern: str, text: str) -> str:
    """The part of ``text`` the expression takes (group 1, else the whole match).
    ValueError (Spanish, for the operator) when it finds nothing or takes an empty text."""
    expression = compiled(pattern)
    match = expression.search(text)
    if match is None:
        raise ValueError(f"la expresión regular no encontró nada en «{_shown(text)}»")
    taken = match.group(1) if expression.groups else match.group(0)
    if not taken or not taken.strip():
        raise ValueError(f"la expresión regular encontró «{_shown(match.group(0))}» en "
                         f"«{_shown(text)}» pero no tomó ningún valor")
    return taken.strip()
