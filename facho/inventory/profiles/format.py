"""Reading a vendor profile file (``docs/vendor-profiles.md``): bytes -> ``Profile``.

``parse(data)`` never trusts the file. What makes it unreadable as a whole (too big, not
UTF-8 text, not JSON or cut short, not a profile, a newer format version, no brand) raises
``ProfileFileError`` with one Spanish sentence. Everything else is collected, never raised:
a problem of the file's header goes to ``Profile.errors``, a problem of one formula or OID to
that entry's ``errors``, each prefixed with its path (``oids[3].espacio: …``; positions count
from 0, as in the file's lists), so the panel's preview shows it under the entry it concerns.

Formulas are checked by ``facho.inventory.decoders.validate_formula`` and value rules by
``facho.inventory.value_rules.validate_rule``, the checks of the panel's forms. Nothing here
reads the database: conflicts with what an installation already has are ``plan``'s.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from facho.models import ESPACIOS, FORMULA_KINDS

FORMAT_VERSION = 1            # the newest version this installation reads
VERSION_KEY = "facho_perfil"
MAX_BYTES = 256 * 1024        # a profile with 100 OIDs is about 50 KB
TOP_KEYS = (VERSION_KEY, "nombre", "marca", "modelos", "descripcion", "fuentes", "formulas",
            "oids")
# Read but not (yet) exported: the catalog does not store a brand's budget defaults, the
# shipped files carry them (facho.polling_budget).
OPTIONAL_TOP_KEYS = ("presupuesto",)
FORMULA_KEYS = ("nombre", "modelo", "params")
OID_KEYS = ("nombre", "oid", "espacio", "formato", "regex", "sin_valor", "unidad", "escala",
            "desplazamiento", "decimales", "etiquetas", "keep_previous_value", "default_value")
# An OID key the file leaves out takes its column's default.
OID_DEFAULTS: dict[str, Any] = {
    "formato": "text", "regex": None, "sin_valor": "", "unidad": "", "escala": None,
    "desplazamiento": None, "decimales": None, "etiquetas": None, "keep_previous_value": False,
    "default_value": None,
}
RULE_KEYS = ("formato", "regex", "sin_valor", "unidad", "escala", "desplazamiento",
             "decimales", "etiquetas")
NAME_MAX, BRAND_MAX, MODEL_MAX, TEXT_MAX = 120, 80, 80, 255
DESCRIPTION_MAX = 4000


class ProfileFileError(ValueError):
    """The file cannot be read as a profile at all; str() is one Spanish sentence."""


@dataclass(frozen=True)
class Entry:
    """One formula or OID of the file: its values as the columns store them (only those
    that are well formed; left-out OID keys already hold their defaults) and its problems."""

    kind: str                      # "formula" or "oid"
    position: int                  # in the file's list, from 0
    values: dict[str, Any]
    errors: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f"{'oids' if self.kind == 'oid' else 'formulas'}[{self.position}]"

    @property
    def nombre(self) -> str:
        nombre = self.values.get("nombre")
        return nombre if isinstance(nombre, str) else ""


@dataclass(frozen=True)
class Profile:
    version: int
    marca: str
    nombre: str = ""
    modelos: tuple[str, ...] = ()
    descripcion: str = ""
    fuentes: tuple[str, ...] = ()
    formulas: tuple[Entry, ...] = ()
    oids: tuple[Entry, ...] = ()
    errors: tuple[str, ...] = field(default=())   # about the file as a whole
    # the polling budget defaults of the brand's OLTs (facho.polling_budget); None: none
    presupuesto: dict | None = None

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self.formulas + self.oids

    @property
    def problems(self) -> list[str]:
        return list(self.errors) + [e for entry in self.entries for e in entry.errors]

    @property
    def valid(self) -> bool:
        return not self.problems


# --- reading the bytes --------------------------------------------------------------------

def _kb(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")


def decode_text(data: bytes | str) -> str:
    """The file's text (UTF-8, a BOM dropped); ProfileFileError when it is too big or is not
    text."""
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if size > MAX_BYTES:
        raise ProfileFileError(f"El archivo es demasiado grande ({_kb(size)}): un perfil de "
                               f"fabricante ocupa como máximo {_kb(MAX_BYTES)}. ¿Es el archivo "
                               "correcto (un .facho.json exportado por Facho)?")
    if isinstance(data, str):
        text = data
    else:
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ProfileFileError("El archivo no es texto UTF-8 (parece un archivo binario): "
                                   "un perfil de fabricante es un archivo JSON "
                                   "(.facho.json).") from None
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise ProfileFileError("El archivo no es texto (contiene bytes NUL): un perfil de "
                               "fabricante es un archivo JSON (.facho.json).")
    if not text.strip():
        raise ProfileFileError("El archivo está vacío: no contiene ningún perfil.")
    return text


def _refuse_constant(name: str):
    raise ValueError(name)


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKey(key)
        seen[key] = value
    return seen


class _RepeatedKey(Exception):
    pass


def load_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_repeated_keys,
                          parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip())
        hint = (" (el texto termina antes de cerrar todos los objetos: ¿se copió o descargó "
                "entero?)" if cut else "")
        raise ProfileFileError(f"El archivo está incompleto o no es JSON: línea {exc.lineno}, "
                               f"columna {exc.colno}{hint}.") from None
    except _RepeatedKey as exc:
        raise ProfileFileError(f"El archivo repite la clave «{exc.args[0]}» dentro de un mismo "
                               "objeto: no se sabe cuál de los dos valores vale.") from None
    except ValueError as exc:   # NaN / Infinity
        raise ProfileFileError(f"El archivo no es JSON válido: contiene «{exc.args[0]}», que "
                               "no es un número de JSON.") from None
    except RecursionError:
        raise ProfileFileError("El archivo no es un perfil: tiene objetos anidados a demasiada "
                               "profundidad.") from None


def _version(document: dict) -> int:
    if VERSION_KEY not in document:
        raise ProfileFileError(f"No es un perfil de fabricante de Facho: falta la clave "
                               f"«{VERSION_KEY}» (la versión del formato).")
    version = document[VERSION_KEY]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProfileFileError(f"«{VERSION_KEY}» debe ser la versión del formato, un número "
                               f"entero como {FORMAT_VERSION} (se leyó {_shown(version)}).")
    if version > FORMAT_VERSION:
        raise ProfileFileError(
            f"El perfil usa la versión {version} del formato y este Facho lee hasta la versión "
            f"{FORMAT_VERSION}: actualice Facho para importarlo. No se importó nada.")
    return version


def parse(data: bytes | str) -> Profile:
    """The profile in ``data`` (a file's bytes or pasted text); see the module docstring."""
    document = load_json(decode_text(data))
    if not isinstance(document, dict):
        raise ProfileFileError(f"No es un perfil de fabricante de Facho: el archivo debe ser un "
                               f"objeto JSON {{…}} con la clave «{VERSION_KEY}» (es "
                               f"{_type_name(document)}).")
    version = _version(document)
    errors: list[str] = []
    marca = _brand(document)
    nombre = _name(document.get("nombre"), "nombre", errors, required=True, limit=NAME_MAX)
    descripcion = _text(document.get("descripcion"), "descripcion", errors,
                        limit=DESCRIPTION_MAX, newlines=True)
    modelos = _texts(document.get("modelos"), "modelos", errors, limit=MODEL_MAX)
    fuentes = _texts(document.get("fuentes"), "fuentes", errors, limit=DESCRIPTION_MAX)
    for key in document:
        if key not in TOP_KEYS + OPTIONAL_TOP_KEYS:
            errors.append(f"{key}: clave desconocida (las del perfil son: "
                          f"{', '.join(TOP_KEYS + OPTIONAL_TOP_KEYS)})")
    presupuesto = document.get("presupuesto")
    if presupuesto is not None:
        from facho.polling_budget import validate_budget

        problems = validate_budget(presupuesto)
        errors.extend(problems)
        presupuesto = None if problems else presupuesto
    formulas = [_formula(i, raw) for i, raw in enumerate(_list(document, "formulas", errors))]
    oids = [_oid(i, raw) for i, raw in enumerate(_list(document, "oids", errors))]
    _repeated(formulas, "nombre", "otra fórmula del archivo ({other}) ya se llama «{value}»")
    _repeated(formulas, "modelo", "otra fórmula del archivo ({other}) ya es la del modelo "
                                  "«{value}» (una fórmula por marca y modelo)", shown_empty=True)
    _repeated(oids, "nombre", "otro OID del archivo ({other}) ya se llama «{value}»")
    _repeated(oids, ("oid", "espacio"), "otro OID del archivo ({other}) ya lee {value[0]} con "
                                        "espacio {value[1]}")
    return Profile(version=version, marca=marca, nombre=nombre or "", modelos=tuple(modelos),
                   descripcion=descripcion or "", fuentes=tuple(fuentes),
                   formulas=tuple(formulas), oids=tuple(oids), errors=tuple(errors),
                   presupuesto=presupuesto)


# --- checks -------------------------------------------------------------------------------

def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "un booleano"
    if isinstance(value, (int, float)):
        return "un número"
    if isinstance(value, str):
        return "un texto"
    if isinstance(value, list):
        return "una lista"
    return "un objeto"


def _shown(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _wrong(path: str, expected: str, value: Any) -> str:
    return f"{path}: debe ser {expected} (se leyó {_shown(value)})"


def _control(text: str, newlines: bool = False) -> bool:
    allowed = "\n\r\t" if newlines else ""
    return any((ord(c) < 32 and c not in allowed) or ord(c) == 127 for c in text)


def _text(value: Any, path: str, errors: list[str], *, limit: int = TEXT_MAX,
          newlines: bool = False, nullable: bool = True) -> str | None:
    """A text value (None when absent/null and allowed); problems appended to ``errors``."""
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        errors.append(_wrong(path, "un texto", value))
        return None
    if _control(value, newlines):
        errors.append(f"{path}: no puede contener caracteres de control (NUL, tabulaciones…)")
        return None
    if len(value) > limit:
        errors.append(f"{path}: máximo {limit} caracteres (tiene {len(value)})")
        return None
    return value


def _name(value: Any, path: str, errors: list[str], *, required: bool,
          limit: int = NAME_MAX) -> str | None:
    if value is None:
        if required:
            errors.append(f"{path}: falta (es obligatorio)")
        return None
    text = _text(value, path, errors, limit=limit)
    if text is None:
        return None
    text = text.strip()
    if not text and required:
        errors.append(f"{path}: no puede estar vacío")
        return None
    return text


def _texts(value: Any, path: str, errors: list[str], *, limit: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(_wrong(path, "una lista de textos", value))
        return []
    out = []
    for i, item in enumerate(value):
        text = _text(item, f"{path}[{i}]", errors, limit=limit, nullable=False)
        if text is not None:
            out.append(text)
    return out


def _brand(document: dict) -> str:
    errors: list[str] = []
    marca = _name(document.get("marca"), "marca", errors, required=True, limit=BRAND_MAX)
    if errors or not marca:
        raise ProfileFileError(f"El perfil no dice de qué marca es: {errors[0]}.")
    return marca


def _list(document: dict, key: str, errors: list[str]) -> list:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(_wrong(key, "una lista [ … ]", value))
        return []
    return value


def _unknown(raw: dict, keys: tuple[str, ...], path: str, errors: list[str]) -> None:
    for key in raw:
        if key not in keys:
            errors.append(f"{path}.{key}: clave desconocida (las válidas son: "
                          f"{', '.join(keys)})")


def _formula(position: int, raw: Any) -> Entry:
    path = f"formulas[{position}]"
    errors: list[str] = []
    if not isinstance(raw, dict):
        return Entry("formula", position, {}, (_wrong(path, "un objeto {…}", raw),))
    _unknown(raw, FORMULA_KEYS, path, errors)
    values: dict[str, Any] = {}
    nombre = _name(raw.get("nombre"), f"{path}.nombre", errors, required=True)
    if nombre is not None:
        values["nombre"] = nombre
    before = len(errors)
    modelo = _name(raw.get("modelo"), f"{path}.modelo", errors, required=False,
                   limit=MODEL_MAX)
    if len(errors) == before:
        values["modelo"] = modelo or ""
    params = raw.get("params")
    if params is None:
        errors.append(f"{path}.params: falta (es obligatorio)")
    elif not isinstance(params, dict):
        errors.append(_wrong(f"{path}.params", "un objeto {…}", params))
    elif params.get("kind") not in FORMULA_KINDS:
        errors.append(f"{path}.params.kind: tipo de fórmula desconocido "
                      f"{_shown(params.get('kind'))}; válidos: {', '.join(FORMULA_KINDS)}")
    else:
        from facho.inventory.decoders import validate_formula
        try:
            validate_formula(params)
        except ValueError as exc:
            errors.append(f"{path}.params: {exc}")
        else:
            values["kind"] = params["kind"]
            values["params"] = params
    return Entry("formula", position, values, tuple(errors))


def _number(value: Any, path: str, errors: list[str], *, integer: bool = False):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            integer and not isinstance(value, int)):
        errors.append(_wrong(path, "un número entero o null" if integer
                             else "un número o null", value))
        return None
    if isinstance(value, float) and not math.isfinite(value):
        errors.append(_wrong(path, "un número finito", value))
        return None
    return value


def _labels(value: Any, path: str, errors: list[str]) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append(_wrong(path, 'un objeto de valor crudo → texto, por ejemplo '
                                   '{"1": "en línea"}, o null', value))
        return None
    out: dict[str, str] = {}
    for key, label in value.items():
        where = f"{path}.{key}"
        if _control(key):
            errors.append(f"{path}: una clave contiene caracteres de control")
            return None
        text = _text(label, where, errors, nullable=False)
        if text is None:
            return None
        out[key] = text
    return out or None


def _oid(position: int, raw: Any) -> Entry:
    from facho.inventory.value_rules import validate_rule
    from facho.inventory.values import FORMATTERS
    from facho.validation import validate_oid

    path = f"oids[{position}]"
    errors: list[str] = []
    if not isinstance(raw, dict):
        return Entry("oid", position, {}, (_wrong(path, "un objeto {…}", raw),))
    _unknown(raw, OID_KEYS, path, errors)
    values: dict[str, Any] = {}
    bad: set[str] = set()

    def keep(key: str, value: Any, before: int) -> None:
        if len(errors) > before:
            bad.add(key)
        else:
            values[key] = value

    before = len(errors)
    keep("nombre", _name(raw.get("nombre"), f"{path}.nombre", errors, required=True), before)

    before = len(errors)
    oid = _text(raw.get("oid"), f"{path}.oid", errors)
    if oid is None and len(errors) == before:
        errors.append(f"{path}.oid: falta (es obligatorio)")
    elif oid is not None:
        try:
            oid = validate_oid(oid)
        except ValueError as exc:
            errors.append(f"{path}.oid: {exc}")
    keep("oid", oid, before)

    before = len(errors)
    espacio = _text(raw.get("espacio"), f"{path}.espacio", errors)
    if espacio is None and len(errors) == before:
        errors.append(f"{path}.espacio: falta (es obligatorio; uno de: {', '.join(ESPACIOS)})")
    elif espacio is not None and espacio not in ESPACIOS:
        errors.append(f"{path}.espacio: espacio desconocido «{espacio}»; válidos: "
                      f"{', '.join(ESPACIOS)}")
    keep("espacio", espacio, before)

    before = len(errors)
    formato = _text(raw.get("formato", "text"), f"{path}.formato", errors, nullable=False)
    if formato is not None and formato not in FORMATTERS:
        errors.append(f"{path}.formato: formato desconocido «{formato}»; válidos: "
                      f"{', '.join(sorted(FORMATTERS))}")
    keep("formato", formato, before)

    for key in ("regex", "sin_valor", "unidad", "default_value"):
        before = len(errors)
        text = _text(raw.get(key), f"{path}.{key}", errors)
        if key in ("regex", "default_value"):
            text = text or None              # "" is "not set", as in the panel's form
        else:
            text = (text or "").strip()
        keep(key, text, before)
    for key in ("escala", "desplazamiento", "decimales"):
        before = len(errors)
        keep(key, _number(raw.get(key), f"{path}.{key}", errors, integer=key == "decimales"),
             before)
    before = len(errors)
    keep("etiquetas", _labels(raw.get("etiquetas"), f"{path}.etiquetas", errors), before)
    before = len(errors)
    keep_previous = raw.get("keep_previous_value", False)
    if not isinstance(keep_previous, bool):
        errors.append(_wrong(f"{path}.keep_previous_value", "true o false", keep_previous))
    keep("keep_previous_value", keep_previous, before)

    if not bad & set(RULE_KEYS):
        for key, message in validate_rule({k: values[k] for k in RULE_KEYS}).items():
            errors.append(f"{path}.{key}: {message}")
            bad.add(key)
    if not errors:
        errors.extend(_fits_its_field(values, path))
    return Entry("oid", position, values, tuple(errors))


def _fits_its_field(values: dict[str, Any], path: str) -> list[str]:
    """What the panel checks when a job uses the OID: its default value fits the field."""
    from facho.inventory.writes import InventoryConfigError, field_rule
    from facho.models import Oid

    try:
        field_rule(Oid(**values), discovery=values["espacio"] == "descubrimiento")
    except InventoryConfigError as exc:
        return [f"{path}: {exc}"]
    except ValueError as exc:   # a rule field_rule builds and refuses
        return [f"{path}: {exc}"]
    return []


def _repeated(entries: list[Entry], key, message: str, shown_empty: bool = False) -> None:
    """Errors on every entry after the first with the same ``key`` value(s)."""
    keys = key if isinstance(key, tuple) else (key,)
    first: dict[Any, Entry] = {}
    for i, entry in enumerate(entries):
        if not all(k in entry.values for k in keys):
            continue
        value = tuple(entry.values[k] for k in keys)
        if value in first:
            shown = value if isinstance(key, tuple) else value[0]
            if shown == "" and shown_empty:
                shown = "(todos)"
            text = message.format(other=first[value].path, value=shown)
            entries[i] = Entry(entry.kind, entry.position, entry.values,
                               entry.errors + (f"{entry.path}.{keys[0]}: {text}",))
        else:
            first[value] = entry


def full_oid_values(entry: Entry) -> dict[str, Any]:
    """An OID entry's values with every column (left-out keys already defaulted)."""
    return {key: entry.values.get(key, OID_DEFAULTS.get(key)) for key in OID_KEYS}
