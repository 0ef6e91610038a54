"""Spanish for Flask-Admin's own words, without Flask-Babel.

Flask-Admin translates through Flask-Babel when it is installed and otherwise returns
the English msgid. Rather than add a dependency and a locale selector for a panel that
only ever speaks Spanish, we read the catalogue Flask-Admin ships (es/admin.mo) with the
standard library, correct the entries that read badly, and hand that to Flask-Admin in the
places it looks the functions up. WTForms' own messages ("Este campo es obligatorio.")
come from the catalogue WTForms ships.
"""
from __future__ import annotations

import gettext as stdlib_gettext
import importlib
import os
import re

import flask_admin
from wtforms.i18n import get_translations

# Where the catalogue is missing an entry or words it awkwardly for our operators.
_OVERRIDES = {
    "Save": "Guardar",
    "Yes": "Sí",
    "Delete": "Eliminar",
    "Delete?": "¿Eliminar?",
    "Add": "Agregar",
    "New": "Nuevo",
    "List": "Lista",
    "items": "registros",
    "Record was successfully created.": "Registro creado.",
    "Record was successfully saved.": "Cambios guardados.",
    "Record was successfully deleted.": "Registro eliminado.",
    "%(count)s records were successfully deleted.": "%(count)s registros eliminados.",
    "Failed to create record.": "No se pudo crear el registro: revise los campos marcados.",
    "Failed to save record.": "No se pudieron guardar los cambios: revise los campos marcados.",
    "Failed to perform action. %(error)s": "No se pudo ejecutar la acción. %(error)s",
    "Failed to delete record. %(error)s": "No se pudo eliminar el registro. %(error)s",
    "Record does not exist.": "El registro no existe.",
    "Are you sure you want to delete this record?": "¿Seguro que desea eliminar este registro?",
    "There are no items in the table.": "No hay registros.",
    "Clear search": "Limpiar búsqueda",
    "Remove Filter": "Quitar filtro",
    "Reset": "Restablecer",
    "Previous": "Anterior",
    "Next": "Siguiente",
    "not between": "no entre",
    "Select record": "Seleccionar registro",
    "Invalid Filter Value: %(value)s": "Valor de filtro inválido: %(value)s",
}

# Modules that bound `gettext` & co. from flask_admin.babel at import time.
_MODULES = (
    "flask_admin.babel", "flask_admin.base", "flask_admin.helpers", "flask_admin.actions",
    "flask_admin.model.base", "flask_admin.model.filters", "flask_admin.model.widgets",
    "flask_admin.model.template", "flask_admin.form.fields", "flask_admin.form.widgets",
    "flask_admin.form.validators", "flask_admin.contrib.sqla.view",
    "flask_admin.contrib.sqla.filters", "flask_admin.contrib.sqla.fields",
    "flask_admin.contrib.sqla.validators",
)

_catalog_path = os.path.join(os.path.dirname(flask_admin.__file__), "translations", "es",
                             "LC_MESSAGES", "admin.mo")
with open(_catalog_path, "rb") as _fh:
    _CATALOG = stdlib_gettext.GNUTranslations(_fh)

class _WTFormsSpanish:
    """WTForms' Spanish catalogue plus the msgids Flask-Admin's own fields pass through it
    (the JSON field's "Invalid JSON" is not in WTForms' catalogue)."""

    OVERRIDES = {"Invalid JSON": "JSON inválido: revise comillas, comas y llaves "
                                 '(ejemplo: {"base": 4194304000, "step_slot": 8192}).'}

    def __init__(self, base):
        self.base = base

    def gettext(self, string: str) -> str:
        return self.OVERRIDES.get(string) or self.base.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.base.ngettext(singular, plural, n)


WTFORMS_ES = _WTFormsSpanish(get_translations(["es"]))


def translate(string: str) -> str:
    # The shipped catalogue uses non-breaking spaces in odd places; they break wrapping.
    return _OVERRIDES.get(string) or _CATALOG.gettext(string).replace("\xa0", " ")


_PAGE_SIZE = re.compile(r"(\d+) items?")


def gettext(string: str, **variables) -> str:
    size = _PAGE_SIZE.fullmatch(string)   # the page-size menu: "20 items" (built by format)
    if size:
        n = int(size.group(1))
        return "1 registro" if n == 1 else f"{n} registros"
    text = translate(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return gettext(singular if num == 1 else plural, **variables)


def lazy_gettext(string: str, **variables) -> str:
    # Only called after install(), i.e. while building views and per request.
    return gettext(string, **variables)


def install() -> None:
    """Point Flask-Admin at the Spanish functions. Call before building any view: filters
    translate their labels when they are constructed."""
    for name in _MODULES:
        module = importlib.import_module(name)
        for attr, func in (("gettext", gettext), ("ngettext", ngettext),
                           ("lazy_gettext", lazy_gettext)):
            if hasattr(module, attr):
                setattr(module, attr, func)
