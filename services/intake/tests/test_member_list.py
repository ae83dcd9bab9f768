"""Reading member lists as people export them: delimiters, encodings, column names, and each
bad row rejected with its line and reason (the file's good rows are not lost for it)."""
import io

import pytest
from parcours_testing import luhn_valid_sirens

from intake.member_list import Member, Rejection, UnreadableFile, read_members

SIRENS = luhn_valid_sirens(63000000)


def read(text, encoding="utf-8"):
    data = text.encode(encoding) if isinstance(text, str) else text
    found_encoding, delimiter, rows = read_members(io.BytesIO(data))
    return found_encoding, delimiter, list(rows)


def test_a_semicolon_file_from_excel_in_windows_1252_with_french_column_names():
    siren = next(SIRENS)
    encoding, delimiter, rows = read(
        "Raison sociale;N° SIREN;Code NAF;Région\r\n"
        "Chocolaterie de Provence;{};10.82Z;93\r\n".format(siren), "cp1252")
    assert (encoding, delimiter) == ("cp1252", ";")
    assert rows == [Member(2, {"siren": siren, "company_name": "Chocolaterie de Provence",
                               "naf_code": "10.82Z", "region_code": "93"})]


def test_utf8_with_its_bom_commas_quotes_and_a_siret():
    siren = next(SIRENS)
    siret = siren + "00012"
    siret = siret[:-1] + str(_luhn_digit(siret[:-1]))
    _, delimiter, rows = read('\ufeffsiret,"company name",website\n{},"Ateliers, Durand & Fils",'
                              'https://durand.example\n'.format(siret))
    assert delimiter == ","
    [member] = rows
    assert member.firm["siren"] == siren and member.firm["siret"] == siret
    assert member.firm["company_name"] == "Ateliers, Durand & Fils"


def test_each_bad_row_is_rejected_with_its_line_and_the_good_ones_kept():
    good = next(SIRENS)
    _, _, rows = read("siren;raison sociale;naf;region\n"
                      "{};Bonne Firme;25.62B;84\n"
                      "123456789;Mauvais SIREN;;\n"
                      "\n"
                      "{};;99.99Z;99\n".format(good, next(SIRENS)))
    assert isinstance(rows[0], Member)
    assert [(r.line, type(r)) for r in rows[1:]] == [(3, Rejection), (5, Rejection)]
    assert "SIREN" in rows[1].reason
    # every problem of the row, not only the first
    assert all(part in rows[2].reason for part in ("name is empty", "NAF rev. 2", "region code"))


def test_a_badly_encoded_row_in_a_utf8_file_is_rejected_alone():
    first, second = next(SIRENS), next(SIRENS)
    data = ("siren;raison sociale\n{};Société Générale\n".format(first).encode("utf-8")
            + "{};Caf\xe9 Latin\n".format(second).encode("cp1252"))
    encoding, _, rows = read(data)
    assert encoding == "utf-8"
    assert rows[0] == Member(2, {"siren": first, "company_name": "Société Générale"})
    assert isinstance(rows[1], Rejection) and "save the file as UTF-8" in rows[1].reason


def test_the_date_a_firm_was_met_is_read_as_french_files_write_it():
    first, second = next(SIRENS), next(SIRENS)
    _, _, rows = read("raison sociale;siren;date de contact\n"
                      "Salon;{};15/10/2026\nFutur;{};01/01/2999\n".format(first, second))
    assert rows[0].firm["contacted_on"].isoformat() == "2026-10-15"
    assert isinstance(rows[1], Rejection) and "in the future" in rows[1].reason


def test_a_file_without_the_firm_s_columns_says_which_columns_it_needs():
    with pytest.raises(UnreadableFile, match="Raison sociale"):
        read("nom;prénom;email\nDurand;Claire;c@d.example\n")


def _luhn_digit(body):
    from stdnum import luhn
    return luhn.calc_check_digit(body)


def test_an_import_runs_in_batches_counts_each_kind_of_row_and_keeps_the_rejections(tmp_path):
    from contextlib import contextmanager

    from parcours_testing import UseCaseDatabase

    from intake import handlers, store

    db = UseCaseDatabase("intake", store.metadata)
    known = next(SIRENS)
    with db.transaction() as uow:
        handlers.open_case(uow, {"siren": known, "company_name": "Déjà Connue"}, "walk_in")
    new = [next(SIRENS) for _ in range(5)]
    lines = ["Raison sociale;SIREN;Région"] + ["Firme {};{};84".format(i, siren)
                                             for i, siren in enumerate(new)]
    lines += ["Déjà Connue;{};84".format(known), "Firme 0 encore;{};84".format(new[0]),
              "Sans numéro;;84"]
    path = tmp_path / "membres.csv"
    path.write_bytes("\n".join(lines).encode("cp1252"))
    with db.transaction() as uow:
        job = handlers.start_import(uow, "membres.csv", path.stat().st_size)

    @contextmanager
    def transaction(actor):
        with db.transaction(actor) as uow:
            yield uow

    done = handlers.run_import(transaction, job.id, str(path), batch_rows=3)
    assert (done.status, done.rows_read, done.opened, done.already_known, done.repeated,
            done.rejected) == ("done", 8, 5, 1, 1, 1)
    assert done.progress == 1.0
    with db.reading() as session:
        [(line, reason, raw)] = list(store.rejections_of(session, job.id))
        assert store.case_by_siren(session, known).company_name == "Déjà Connue"
    assert line == 9 and "SIREN" in reason and raw == "Sans numéro;;84"
    opened = db.published_data("case.opened")
    assert len(opened) == 6 and {o["channel"] for o in opened[1:]} == {"import"}
    assert len(db.published_data("case.enriched")) == 1  # the known firm's arrival



def test_an_import_cut_off_by_a_restart_says_so_and_what_to_do():
    from datetime import timedelta

    from parcours_shared.contracts import utc_now
    from parcours_testing import UseCaseDatabase

    from intake import handlers, store

    db = UseCaseDatabase("intake", store.metadata)
    with db.transaction() as uow:
        job = handlers.start_import(uow, "membres.csv", 1000)
    with db.transaction() as uow:  # a minute on, it moves still: running
        assert handlers.fail_interrupted_imports(uow, utc_now() + timedelta(minutes=1)) == []
    with db.transaction() as uow:  # it has not moved for long: its process died
        [interrupted] = handlers.fail_interrupted_imports(uow, utc_now() + timedelta(minutes=6))
    with db.reading() as session:
        job = handlers.get_import(session, job.id)
    assert job.status == "failed" and "import the file again" in job.error
