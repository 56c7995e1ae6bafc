"""The form registry: every form of the product, built in or defined by a protocol, in one place.

Built-in forms are registered by the app that owns them when Django starts
(`AppConfig.ready`): assessments registers its scored instruments (derived from their Python
definitions), the Treg panel, the steroid dose and dose administration; patients registers
eligibility; safety the adverse event. Protocol-defined forms are the `FormDefinition` rows
of a study's protocol versions. `describe` gives the one JSON shape the API, the data
dictionary and (later) the capture pages read.

`items_from_model` derives items from a model's fields, so a built-in form described here
cannot drift from the model it is stored in.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .expressions import ItemType, parse, to_json
from .spec import FormSpec, GroupSpec, ItemSpec, Text

__all__ = ["FormRegistry", "UnknownForm", "items_from_model", "registry"]


class UnknownForm(LookupError):
    def __init__(self, code):
        super().__init__(f"No form has the code {code!r}.")
        self.code = code


def _field_type(field: models.Field) -> ItemType:
    if field.choices:
        return ItemType.CHOICE
    if isinstance(field, models.BooleanField):
        return ItemType.YESNO
    if isinstance(field, models.DecimalField):
        return ItemType.DECIMAL
    if isinstance(field, models.IntegerField):
        return ItemType.INTEGER
    if isinstance(field, models.DateTimeField):
        return ItemType.DATETIME
    if isinstance(field, models.DateField):
        return ItemType.DATE
    if isinstance(field, models.CharField | models.TextField):
        return ItemType.TEXT
    raise ValueError(f"{field}: no item type for a {type(field).__name__}")


def _bound(field: models.Field, kind) -> Decimal | None:
    # Only the validators the model declares: Django adds the column's own limits (0-32767
    # for a small integer) to `validators`, which say nothing about the clinical range.
    for validator in field._validators:
        if isinstance(validator, kind):
            return Decimal(str(validator.limit_value))
    return None


def item_from_field(model: type[models.Model], name: str, **overrides) -> ItemSpec:
    """The item a model field is entered through (its name as code, its verbose name as label)."""
    field = model._meta.get_field(name)
    kind = _field_type(field)
    low, high = _bound(field, MinValueValidator), _bound(field, MaxValueValidator)
    values = {
        "code": name,
        "label": Text.of(field.verbose_name),
        "type": kind,
        "help": Text.of(field.help_text) if field.help_text else None,
        "precision": field.decimal_places if kind == ItemType.DECIMAL else None,
        "max_length": field.max_length if kind == ItemType.TEXT else None,
        "codes": tuple((str(value), Text.of(label)) for value, label in field.choices or ()),
        "required": not (field.blank or field.null or field.has_default()),
        "range": (low, high) if low is not None and high is not None else None,
    }
    values.update(overrides)
    return ItemSpec(**values)


def items_from_model(
    model: type[models.Model], names: Iterable[str], **overrides: dict
) -> tuple[ItemSpec, ...]:
    """Items for the named fields, in that order; `overrides` maps a name to changed values."""
    return tuple(item_from_field(model, name, **overrides.get(name, {})) for name in names)


def _number(value: Decimal):
    return int(value) if value == value.to_integral_value() else float(value)


def _describe_item(item: ItemSpec) -> dict:
    data = {
        "code": item.code,
        "label": str(item.label),
        "type": str(item.type),
        "unit": item.unit,
        "required": item.required,
    }
    if item.help is not None:
        data["help"] = str(item.help)
    if item.precision is not None:
        data["precision"] = item.precision
    if item.max_length is not None:
        data["max_length"] = item.max_length
    if item.codes:
        data["codes"] = [{"code": code, "label": str(label)} for code, label in item.codes]
    for key in ("range", "soft_range"):
        bounds = getattr(item, key)
        if bounds is not None:
            data[key] = [_number(bounds[0]), _number(bounds[1])]
    # The text people read, and the parsed tree a page's live preview evaluates (the same
    # tree the server evaluates: one evaluator).
    for key in ("show_if", "calc"):
        text = getattr(item, key)
        if text is not None:
            data[key] = text
            data[f"{key}_tree"] = to_json(parse(text))
    if item.missing:
        data["missing"] = list(item.missing)
    return data


def _describe_check(check) -> dict:
    return {
        "id": check.id,
        "rule": check.rule,
        "rule_tree": to_json(parse(check.rule)),
        "message": str(check.message),
        "severity": check.severity,
    }


def describe_form(form: FormSpec) -> dict:
    """A form's groups and checks in the API's shape (without its versions)."""
    return {
        "code": form.code,
        "name": str(form.name),
        "groups": [
            {
                "code": group.code,
                **({"name": str(group.name)} if group.name is not None else {}),
                "repeating": group.repeating,
                **({"key": list(group.key)} if group.key else {}),
                **({"max_rows": group.max_rows} if group.max_rows is not None else {}),
                "items": [_describe_item(item) for item in group.items],
                **({"checks": [_describe_check(c) for c in group.checks]} if group.checks else {}),
            }
            for group in form.groups
        ],
        "checks": [_describe_check(check) for check in form.checks],
    }


class FormRegistry:
    def __init__(self) -> None:
        self._builtin: dict[str, tuple[str, FormSpec]] = {}

    # -- built-in forms -------------------------------------------------------------------

    def register(self, form: FormSpec, *, owner: str) -> None:
        """Register a built-in form of the app `owner` (from its AppConfig.ready)."""
        known = self._builtin.get(form.code)
        if known is not None and known[1] != form:
            raise ValueError(f"Form {form.code} is already registered by {known[0]}.")
        self._builtin[form.code] = (owner, form)

    def builtin(self, code: str) -> FormSpec | None:
        known = self._builtin.get(code)
        return None if known is None else known[1]

    def builtin_codes(self) -> frozenset[str]:
        return frozenset(self._builtin)

    def owner(self, code: str) -> str | None:
        known = self._builtin.get(code)
        return None if known is None else known[0]

    # -- protocol-defined forms -----------------------------------------------------------
    # `versions` is a queryset of protocol versions (of one study) the reader may read; the
    # callers pass `trials.access.readable_versions`, so drafts stay the admins' own.

    @staticmethod
    def _definitions(versions):
        from trials.models import FormDefinition

        return (
            FormDefinition.objects.filter(version__in=versions)
            .select_related("version")
            .order_by("version__effective_date", "version__created_at", "order")
        )

    def defined_codes(self, versions) -> list[str]:
        """The codes of the forms these protocol versions define, first defined first."""
        codes: list[str] = []
        for code in self._definitions(versions).values_list("code", flat=True):
            if code not in codes:
                codes.append(code)
        return codes

    def form(self, code: str, *, versions=None, version=None) -> FormSpec:
        """The form: as `version` defines it, else the latest of `versions`, else built in."""
        if version is not None:
            definition = version.forms.filter(code=code).first()
            if definition is not None:
                return definition.form
        if versions is not None and self.builtin(code) is None:
            definition = self._definitions(versions).filter(code=code).last()
            if definition is not None:
                return definition.form
        form = self.builtin(code)
        if form is None:
            raise UnknownForm(code)
        return form

    # -- description ----------------------------------------------------------------------

    def describe(self, code: str, *, versions=None, version=None) -> dict:
        """The form as `GET /api/v1/forms/{code}/` gives it, with its versions.

        A protocol-defined form lists each distinct hash with the protocol versions (labels)
        holding it; a built-in form has the one version of the running code, listing the
        protocol versions (of `versions`) that schedule it.
        """
        if versions is None and version is not None:
            versions = type(version).objects.filter(pk=version.pk)
        form = self.form(code, versions=versions, version=version)
        builtin = self.builtin(code) is not None
        if builtin:
            labels = []
            if versions is not None:
                labels = list(
                    versions.filter(visits__forms__contains=[code])
                    .distinct()
                    .order_by("effective_date", "created_at")
                    .values_list("label", flat=True)
                )
            history = [{"hash": form.content_hash, "protocol_versions": labels}]
        else:
            by_hash: dict[str, list[str]] = {}
            definitions = [] if versions is None else self._definitions(versions).filter(code=code)
            for definition in definitions:
                by_hash.setdefault(definition.content_hash, []).append(definition.version.label)
            history = [{"hash": h, "protocol_versions": labels} for h, labels in by_hash.items()]
        described = describe_form(form)
        return {
            "code": described["code"],
            "name": described["name"],
            "source": "builtin" if builtin else "protocol",
            "hash": form.content_hash,
            "versions": history,
            "groups": described["groups"],
            "checks": described["checks"],
        }

    def codes(self, *, versions=None) -> list[str]:
        """Every built-in code (sorted), then the protocol-defined ones of `versions`."""
        codes = sorted(self._builtin)
        if versions is not None:
            codes += [c for c in self.defined_codes(versions) if c not in self._builtin]
        return codes

    def describe_all(self, *, versions=None) -> list[dict]:
        return [self.describe(code, versions=versions) for code in self.codes(versions=versions)]


#: The one registry of the running process.
registry = FormRegistry()


def simple_form(code: str, name, items: Iterable[ItemSpec], checks=()) -> FormSpec:
    """A form of one non-repeating group (the usual shape of a built-in form)."""
    return FormSpec(
        code=code, name=Text.of(name), groups=(GroupSpec(code, tuple(items)),), checks=tuple(checks)
    )
