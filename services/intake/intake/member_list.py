"""Reading a member list as people export it (a cluster's members, a trade fair's visitors).

A CSV file from a spreadsheet or a CRM: comma or semicolon, UTF-8 with or without its BOM, or
Windows-1252 (what Excel writes in France). Its columns are found by their names, whatever their
accents, case or order ("Raison sociale", "SIRET", "Code NAF"...). The file is read as a stream,
row after row: nothing holds more than the row at hand, whatever the file's size.

Each row becomes a firm to open (``Member``) or a ``Rejection`` saying, with its line number,
what is wrong, in the words of the single window's other doors.
"""
import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from .domain import (
    FIRM_DATA, REGIONS, FirmNumber, InvalidNafCode, InvalidSiren, check_naf_code, search_key,
)
from parcours_shared.contracts.intake import HEADCOUNT_BANDS
from parcours_shared.domain import DomainError

# what people call each column (as search keys: no accents, lower case)
COLUMN_NAMES = {
    "siren": ("siren", "n siren", "no siren", "numero siren", "siren de l'entreprise"),
    "siret": ("siret", "n siret", "no siret", "numero siret", "siret du siege"),
    "company_name": ("company_name", "raison sociale", "denomination", "nom de l'entreprise",
                     "entreprise", "societe", "nom", "company", "company name", "legal name"),
    "region_code": ("region_code", "code region", "region", "region insee"),
    "naf_code": ("naf_code", "naf", "code naf", "ape", "code ape", "naf/ape", "code naf/ape"),
    "headcount_band": ("headcount_band", "tranche d'effectif", "tranche effectif", "effectif"),
    "website": ("website", "site web", "site internet", "site"),
    # when the firm was met (a trade fair's visitors, last month): its arrival's date
    "contacted_on": ("contacted_on", "date de contact", "date du contact", "date de visite",
                     "date du salon", "contacted on", "date"),
}
SAMPLE_BYTES = 64 * 1024  # enough of the file's start to tell its encoding and delimiter


class UnreadableFile(DomainError):
    """The file as a whole cannot be read as a member list: its header says why."""

    def __init__(self, message):
        super().__init__(message, fields={"file": [message]})


@dataclass(frozen=True)
class Member:
    line: int
    firm: dict    # the fields of POST /cases, without the channel


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str
    raw: str      # the row as read, for the rejected-rows file


def read_members(stream):
    """(encoding, delimiter, rows): ``rows`` yields a Member or a Rejection per data row of
    the binary ``stream``, in order. Raises UnreadableFile when no column names the firm."""
    buffered = io.BufferedReader(stream) if not hasattr(stream, "peek") else stream
    sample = buffered.peek(SAMPLE_BYTES)[:SAMPLE_BYTES]
    encoding = _encoding_of(sample)
    # undecodable bytes become lone surrogates: the row holding them is rejected, not the file
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="surrogateescape", newline="")
    header_line = text.readline()
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    columns = _map_columns(header)
    reader = csv.reader(text, delimiter=delimiter)
    return encoding, delimiter, _rows(reader, columns, encoding, delimiter)


def _encoding_of(sample):
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # cut after the last complete line: a character may straddle the sample's end
    complete = sample[:sample.rfind(b"\n") + 1] or sample
    decoded = complete.decode("utf-8", errors="replace")
    undecodable = decoded.count("\ufffd")
    accented = sum(1 for char in decoded if ord(char) > 127 and char != "\ufffd")
    # a UTF-8 file with a row pasted from elsewhere stays UTF-8 (that row is rejected); a file
    # where no accent reads as UTF-8 is Windows-1252
    return "utf-8" if accented >= undecodable else "cp1252"


def _column_key(title):
    """A column's name as it is matched: no accents, case or punctuation ("N° SIREN")."""
    return " ".join(re.sub(r"[^a-z0-9']", " ", search_key(title)).split())


def _map_columns(header):
    """{field: column index} from the header's names."""
    wanted = {_column_key(alias): name for name, aliases in COLUMN_NAMES.items()
              for alias in aliases}
    columns = {}
    for index, title in enumerate(header):
        name = wanted.get(_column_key(title))
        if name is not None and name not in columns:
            columns[name] = index
    if "company_name" not in columns or not ({"siren", "siret"} & set(columns)):
        raise UnreadableFile(
            "the first line must name the columns, with the firm's name (\"Raison sociale\") "
            "and its SIREN or SIRET; found: {}".format(", ".join(
                repr(title) for title in header) or "nothing"))
    return columns


_SURROGATE = re.compile("[\udc80-\udcff]")


def _rows(reader, columns, encoding, delimiter):
    for line_number, values in enumerate(reader, start=2):
        raw = delimiter.join(values)
        if not any(value.strip() for value in values):
            continue  # a blank line between members
        if any(_SURROGATE.search(value) for value in values) or (
                encoding == "cp1252" and any(_was_utf8(value) for value in values)):
            yield Rejection(line_number, "not readable as {}: save the file as UTF-8 (CSV UTF-8 "
                            "in Excel) and import it again".format(_ENCODING_NAMES[encoding]),
                            raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            continue
        yield _member(line_number, values, columns, raw)


def _was_utf8(value):
    """A value of a Windows-1252 file whose bytes were UTF-8 ("CafÃ©" for "Café"): a row pasted
    from elsewhere, which would be kept garbled."""
    raw = value.encode("cp1252", errors="ignore")
    if raw.isascii():
        return False
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1252": "Windows-1252"}


def _member(line, values, columns, raw):
    fields = {name: (values[index].strip() if index < len(values) else "") or None
              for name, index in columns.items()}
    problems = []
    try:
        number = FirmNumber.of(fields.get("siren"), fields.get("siret"))
        fields["siren"], fields["siret"] = number.siren, number.siret
    except InvalidSiren as exc:
        problems.append(exc.message)
    if not fields.get("company_name"):
        problems.append("the firm's name is empty")
    elif len(fields["company_name"]) > 200:
        problems.append("the firm's name is longer than 200 characters")
    region = fields.get("region_code")
    if region is not None:
        region = region.zfill(2)
        if region not in REGIONS:
            problems.append("{} is not an INSEE region code".format(fields["region_code"]))
        fields["region_code"] = region
    if fields.get("naf_code") is not None:
        try:
            fields["naf_code"] = check_naf_code(fields["naf_code"])
        except InvalidNafCode as exc:
            problems.append(exc.message)
    band = fields.get("headcount_band")
    if band is not None and band.zfill(2) not in HEADCOUNT_BANDS:
        problems.append("{} is not an INSEE headcount band".format(band))
    elif band is not None:
        fields["headcount_band"] = band.zfill(2)
    if fields.get("contacted_on") is not None:
        try:
            fields["contacted_on"] = _contact_date(fields["contacted_on"])
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        return Rejection(line, "; ".join(problems), raw)
    return Member(line, {name: fields.get(name) for name in ("siren", "siret", "contacted_on")
                         + FIRM_DATA if fields.get(name) is not None})


def _contact_date(text):
    """A date as French files write it (31/01/2026) or as ISO (2026-01-31); not in the future."""
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            day = datetime.strptime(text, pattern).date()
            break
        except ValueError:
            continue
    else:
        raise ValueError("{} is not a date: write it like 31/01/2026".format(text))
    if day > date.today():
        raise ValueError("the contact date {} is in the future".format(text))
    return day
