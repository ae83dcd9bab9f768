"""The French activity nomenclature, NAF rev. 2: which codes exist, and their section.

A firm's NAF (APE) code is checked against the official list (``reference/naf_rev2.csv``), not
only its shape: "25.62X" looks like a code and is not one. Programmes' eligibility accepts or
excludes whole sections ("C", manufacturing), hence ``section_of``.
"""
import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

NAF_FILE = Path(__file__).parent / "reference" / "naf_rev2.csv"
# as people write them: 2562B, 25.62b, 25 62 B
_LOOSE_CODE = re.compile(r"^\s*(\d{2})[ .]?(\d{2})\s*([A-Za-z])\s*$")


@dataclass(frozen=True)
class NafCode:
    code: str
    section: str
    label: str


@functools.cache
def naf_codes():
    """{code: NafCode} for every sub-class of NAF rev. 2."""
    with NAF_FILE.open(encoding="utf-8", newline="") as rows:
        return {row["code"]: NafCode(**row) for row in csv.DictReader(rows)}


class UnknownNafCode(ValueError):
    pass


def normalise_naf(raw):
    """The code as INSEE writes it (``25.62B``), from the ways people write it; raises
    UnknownNafCode saying what is wrong."""
    match = _LOOSE_CODE.match(raw or "")
    if match is None:
        raise UnknownNafCode("{!r} is not shaped like a NAF code: expected two digits, a dot, "
                             "two digits and a letter, like 25.62B".format(raw))
    code = "{}.{}{}".format(match[1], match[2], match[3].upper())
    if code not in naf_codes():
        raise UnknownNafCode("{} is not in the NAF rev. 2 list (INSEE): check the firm's APE "
                             "code on its Kbis or on annuaire-entreprises.data.gouv.fr".format(
                                 code))
    return code


def section_of(code):
    """The NAF section (a letter, A to U) of a valid code."""
    return naf_codes()[code].section


_SECTION = re.compile(r"^[A-U]$")
_DIVISION = re.compile(r"^\d{2}$")


def naf_entry(raw):
    """A sector as a programme's eligibility names it: a section ("C"), a division ("25") or a
    code ("25.62B", written any way ``normalise_naf`` reads); raises UnknownNafCode."""
    value = (raw or "").strip().upper()
    if _SECTION.match(value):
        return value
    if _DIVISION.match(value):
        if not any(code.startswith(value + ".") for code in naf_codes()):
            raise UnknownNafCode("{} is not a NAF rev. 2 division".format(value))
        return value
    if len(value) <= 2:
        raise UnknownNafCode("{!r} is neither a NAF section (A to U), a division (two digits) "
                             "nor a code like 25.62B".format(raw))
    return normalise_naf(value)


def naf_matches(code, entry):
    """Whether a firm's code falls under an entry (``naf_entry``): its section, division, or
    the code itself. An unknown code matches nothing."""
    if code not in naf_codes():
        return False
    if _SECTION.match(entry):
        return section_of(code) == entry
    if _DIVISION.match(entry):
        return code.startswith(entry + ".")
    return code == entry
