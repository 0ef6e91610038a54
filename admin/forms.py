"""Form plumbing shared by the panel: the CSRF-protected base form, adapters from
facho.validation to WTForms validators, and the write-only secret field."""
from __future__ import annotations

from flask_admin.form import SecureForm
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms import PasswordField, StringField, TextAreaField, ValidationError
from wtforms.csrf.core import CSRF
from wtforms.validators import StopValidation

from admin.i18n import WTFORMS_ES

CONTROL_CHARS_MESSAGE = ("No puede contener caracteres de control (por ejemplo NUL o "
                         "tabulaciones pegadas desde otra aplicación).")
CSRF_MESSAGE = ("El formulario expiró o no es válido (token CSRF). "
                "Recargue la página e intente de nuevo.")


class FlaskWTFCSRF(CSRF):
    """SecureForm's CSRF, but with Flask-WTF's token.

    The app runs Flask-WTF's global CSRFProtect, which checks every POST's `csrf_token`
    against its own token before any view runs. Flask-Admin's SecureForm would put a
    WTForms SessionCSRF token in that same field, which CSRFProtect rejects, so every
    panel form and bulk action would fail. With one token both layers agree.
    """

    def generate_csrf_token(self, csrf_token_field):
        return generate_csrf()

    def validate_csrf_token(self, form, field):
        try:
            validate_csrf(field.data)
        except ValidationError:
            raise ValidationError(CSRF_MESSAGE) from None


class FachoForm(SecureForm):
    """Base of every panel form, including Flask-Admin's action and delete forms."""

    class Meta:
        csrf = True
        csrf_class = FlaskWTFCSRF
        csrf_field_name = "csrf_token"

        def get_translations(self, form):
            return WTFORMS_ES

    def validate(self, extra_validators=None) -> bool:
        """Every field's own rules, then one for all typed text: no control characters
        (PostgreSQL refuses NUL outright, which would surface as a generic error; the rest
        are invisible on the page and break exports). Text areas may keep line breaks."""
        valid = super().validate(extra_validators)
        for field in self:
            if not isinstance(field, StringField) or not isinstance(field.data, str):
                continue
            allowed = "\t\r\n" if isinstance(field, TextAreaField) else ""
            if any((ord(c) < 32 and c not in allowed) or ord(c) == 127 for c in field.data):
                field.errors = list(field.errors) + [CONTROL_CHARS_MESSAGE]
                valid = False
        return valid


def checked(check, *, normalise: bool = True):
    """WTForms validator from a facho.validation function (ValueError -> field error).

    With `normalise`, the field's data becomes what the check returned (stripped text, a
    canonical OID…), so what is stored is what was validated. A missing value is left to
    the field's required/optional validators; blanks are not missing: they reach `check`.
    """

    def validator(form, field):
        if field.data is None or field.data == "":
            return
        try:
            result = check(field.data)
        except ValueError as exc:
            raise StopValidation(str(exc)) from None
        if normalise:
            field.data = result

    return validator


class SecretField(PasswordField):
    """Write-only input: never rendered back, and left empty on edit it keeps the stored
    value (the operator edits the OLT without retyping the community)."""

    def populate_obj(self, obj, name):
        if self.data:
            setattr(obj, name, self.data)


def secret_required(check):
    """Required on create; on edit an empty value means "keep the current one"."""

    def validator(form, field):
        editing = getattr(form, "_obj", None) is not None
        if not field.data and editing:
            return
        try:
            field.data = check(field.data or "")
        except ValueError as exc:
            raise StopValidation(str(exc)) from None

    return validator
