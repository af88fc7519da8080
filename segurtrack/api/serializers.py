"""Strict DRF serializers for every app's API: unknown fields and wrongly typed JSON values are refused."""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from django.utils.translation import get_language, gettext_lazy as _
from rest_framework import serializers

# JSON types the fields of this API take; DRF would also coerce 12 into "12" or "true" into True.
JSON_TYPES: tuple[tuple[tuple[type[serializers.Field], ...], type, Any], ...] = (
    ((serializers.BooleanField,), bool, _("un booléen")),
    ((serializers.IntegerField, serializers.PrimaryKeyRelatedField), int, _("un entier")),
    ((serializers.DictField,), dict, _("un objet")),
    # Amounts: the contract's strings ("1234.50"), and JSON numbers, which integrations commonly send; the field
    # still refuses more than two decimals, so nothing is rounded silently.
    ((serializers.DecimalField,), (str, int, float), _("une chaîne (montant) ou un nombre")),
    ((serializers.CharField, serializers.ChoiceField, serializers.DateField, serializers.DateTimeField,
      serializers.SlugRelatedField), str, _("une chaîne")),
)


def json_type_error(field: serializers.Field, value: Any) -> str | None:
    """Why a JSON value has the wrong type for the field, or None (null is the field's own business)."""
    if value is None:
        return None
    for field_classes, json_type, name in JSON_TYPES:
        if isinstance(field, field_classes):
            # JSON true/false are Python ints too: only a boolean field takes them.
            accepted = json_type is bool if isinstance(value, bool) else isinstance(value, json_type)
            if accepted:
                return None
            return _("Type incorrect : %(expected)s est attendu.") % {"expected": name}
    return None


class StrictMixin:
    """Refuse fields the serializer does not take (unknown or read-only) and, in JSON, values of the wrong type:
    a typo or a coercion is never silently accepted."""

    def to_internal_value(self, data: Any) -> Any:
        errors = self.strict_errors(data) if isinstance(data, Mapping) else {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as refused:
            if not errors:
                raise
            raise serializers.ValidationError({**refused.detail, **errors})
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def strict_errors(self, data: Mapping) -> dict[str, list[str]]:
        writable = {name: field for name, field in self.fields.items() if not field.read_only}
        errors = {name: [_("Champ inconnu ou en lecture seule.")] for name in sorted(set(data) - set(writable))}
        if isinstance(data, QueryDict):  # a form or multipart body may repeat a field: never pick one silently
            errors.update({name: [_("Ce champ est donné plusieurs fois ; une seule valeur est attendue.")]
                           for name in data if name in writable and len(data.getlist(name)) > 1})
        if not isinstance(data, QueryDict):  # form values are all text: the fields parse them
            errors.update({name: [message] for name, field in writable.items()
                           if name in data and (message := json_type_error(field, data[name])) is not None})
        return errors


_BUILT_FIELDS: dict[tuple[type, str | None], dict[str, serializers.Field]] = {}


class FieldsBuiltOnce:
    """A ModelSerializer builds every field from the model on each instance (its kwargs, labels and validators:
    4 ms for the dossier's 55 fields, more than the transition's statements); they depend only on the class and
    the language of their labels, so they are built once per (class, language) and each instance gets new ones
    made from the same arguments (a field is bound to its parent: never shared). DRF's own copy (deepcopy) also
    copies the arguments (a model field, choices): as long as building them; a field copies what it keeps of them.
    A nested serializer is copied as DRF does (its child is bound to it: a new one each time).
    """

    def get_fields(self) -> dict[str, serializers.Field]:
        key = (type(self), get_language())
        built = _BUILT_FIELDS.get(key)
        if built is None:
            built = _BUILT_FIELDS[key] = super().get_fields()
        return {name: copy.deepcopy(field) if isinstance(field, serializers.BaseSerializer)  # a nested one's child
                else type(field)(*field._args, **field._kwargs) for name, field in built.items()}
