"""Identifier checks (FINESS, SIRET, department) that name the reason of a refusal in French."""
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError as StdnumError
from stdnum.fr import siret as stdnum_siret

DEPARTMENTS = (
    [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"] + [str(n) for n in range(971, 977)]
)
_FINESS_RE = re.compile(r"^(?:\d{2}|2[AB])\d{7}$")


def compact(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def validate_finess(value: str) -> str:
    """Return the compact FINESS number or raise ValidationError naming the reason.

    Nine characters, the first two a department (2A/2B for Corsica), the last a Luhn key over the nine
    digits; the key rule is not documented for Corsican numbers, so only their format is checked.
    """
    number = compact(value)
    if len(number) != 9:
        raise ValidationError(_("Un numéro FINESS compte 9 caractères (%(n)d reçus).") % {"n": len(number)},
                              code="finess_length")
    if not _FINESS_RE.match(number):
        raise ValidationError(_("Un numéro FINESS ne contient que des chiffres, après un département 2A ou 2B éventuel."),
                              code="finess_format")
    head = number[:2]
    if head in {"2A", "2B"}:
        return number
    if head == "00" or (head not in DEPARTMENTS and head not in {"97", "98"}):
        raise ValidationError(_("Les deux premiers caractères du FINESS (%(d)s) ne sont pas un département.") % {"d": head},
                              code="finess_department")
    if not luhn.is_valid(number):
        raise ValidationError(_("La clé de contrôle du numéro FINESS est fausse."), code="finess_checksum")
    return number


def validate_siret(value: str) -> str:
    """Return the compact SIRET or raise ValidationError naming the reason (python-stdnum does the maths)."""
    number = compact(value)
    try:
        return stdnum_siret.validate(number)
    except InvalidLength:
        raise ValidationError(_("Un SIRET compte 14 chiffres (%(n)d reçus).") % {"n": len(number)}, code="siret_length")
    except InvalidFormat:
        raise ValidationError(_("Un SIRET ne contient que des chiffres."), code="siret_format")
    except InvalidComponent:
        raise ValidationError(_("Le SIREN contenu dans ce SIRET est invalide."), code="siret_siren")
    except InvalidChecksum:
        raise ValidationError(_("La clé de contrôle du SIRET est fausse."), code="siret_checksum")
    except StdnumError:
        raise ValidationError(_("SIRET invalide."), code="siret_invalid")


def validate_department(value: str) -> str:
    code = compact(value)
    if code not in DEPARTMENTS:
        raise ValidationError(
            _("« %(v)s » n'est pas un département : 01 à 95, 2A, 2B ou 971 à 976.") % {"v": value},
            code="department",
        )
    return code


def finess_department(value: str) -> str | None:
    """The department a FINESS number names: its first two characters (2A/2B for Corsica), three for the
    overseas departments (971 to 976); None when it names none we can compare (not 9 characters, 98x)."""
    number = compact(value)
    if len(number) != 9:
        return None
    if number.startswith("97"):
        return number[:3]
    if number.startswith("98"):
        return None  # overseas collectivities and Monaco: no department of ours to compare with
    return number[:2]


def finess_department_mismatch(finess: str, department: str) -> bool:
    """True when the FINESS names a department and it is not the given one (an empty side is no mismatch)."""
    named = finess_department(finess)
    return bool(named and department) and named != compact(department)
