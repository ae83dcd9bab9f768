"""Questionnaire versions: the first one scores as the code did before it became configuration,
a version once published scores its answers the same whatever is published after it, and a
broken file says where it is broken."""
import hashlib
import os
import random
import shutil

import pytest

from parcours_testing.answers import FIRST_TIME_EXPORTER

from diagnostic.questionnaire import (
    QUESTIONNAIRES, QuestionnaireError, Questionnaires, read_questionnaire,
)

# Published versions, frozen: past diagnostics are scored by them. A new version is a new file.
PUBLISHED = {
    "v1.yaml": "8ab4e35bbd0298df49ae751306ae34a79167e673110d7a61cc755b4d7481ec11",
    "v2.yaml": "d69ea4b51a00f6ff4532710790f631598c47c35a848c7e543ec234d3c56b3a6e",
}


def test_published_versions_are_never_edited():
    for name, digest in PUBLISHED.items():
        with open(os.path.join(QUESTIONNAIRES, name), "rb") as file:
            assert hashlib.sha256(file.read()).hexdigest() == digest, (
                "{} is published: copy it to a new version's file and change that one "
                "(services/diagnostic/README.md, Changing the questionnaire)".format(name))


def former_rule(answers):
    """The scoring of diagnostic's code before version 1 became a file, word for word."""
    staff = answers["export_staff"]
    languages = len(set(answers["languages"]))
    countries = answers["countries_exported_to"]
    score = ((20 if answers["domestic_success"] else 0)
             + {"low": 0, "medium": 10, "high": 20}[answers["financial_capacity"]]
             + 5 * min(staff, 3) + 5 * min(languages, 3)
             + (10 if answers["product_adapted"] else 0)
             + (5 if answers["target_markets"] else 0)
             + (0 if countries == 0 else 8 if countries < 3 else 15))
    if not answers["domestic_success"] or score < 35:
        maturity = "not_ready"
    elif countries == 0:
        maturity = "first_time_exporter"
    elif countries < 5 or answers["export_share_percent"] < 20:
        maturity = "occasional_exporter"
    else:
        maturity = "experienced_exporter"
    advice = [code for code, applies in [
        ("consolidate_domestic_market", not answers["domestic_success"]),
        ("dedicate_staff_to_export", staff == 0),
        ("language_training", not answers["languages"]),
        ("export_financing_and_insurance", answers["financial_capacity"] == "low"),
        ("adapt_product_to_target_norms", not answers["product_adapted"]),
        ("select_target_markets", not answers["target_markets"]),
        ("trade_fair_pavilion", bool(answers["target_markets"]) and answers["domestic_success"]),
        ("co_export_with_large_group", countries >= 3)] if applies]
    return score, maturity, advice


def first_questionnaire_answers(rng):
    return {
        "domestic_success": rng.random() < 0.8,
        "export_share_percent": rng.choice([0, 5, 19, 20, 45, 100]),
        "export_staff": rng.choice([0, 1, 2, 3, 7]),
        "languages": rng.sample(["en", "de", "es", "zh", "English"], rng.randint(0, 4)) + (
            ["en"] if rng.random() < 0.2 else []),   # the first questionnaire took repeats
        "financial_capacity": rng.choice(["low", "medium", "high"]),
        "product_adapted": rng.random() < 0.6,
        "target_markets": rng.sample(["DE", "BE", "US", "JP"], rng.randint(0, 3)),
        "countries_exported_to": rng.choice([0, 1, 2, 3, 4, 5, 12]),
    }


def test_the_first_version_scores_as_the_former_code_did():
    first = Questionnaires().version(1)
    rng = random.Random(20261207)
    for _ in range(500):
        answers = first_questionnaire_answers(rng)
        result = first.assess(first.check(answers, complete=True))
        assert (result.score, result.maturity, result.recommendations) == former_rule(answers), (
            answers)


def test_a_new_version_changes_no_past_result(tmp_path):
    published = Questionnaires()
    answers = published.latest.check(FIRST_TIME_EXPORTER, complete=True)
    before = published.version(2).assess(answers)
    # an advisor publishes version 3: the management's commitment now weighs twice as much
    folder = tmp_path / "questionnaires"
    shutil.copytree(QUESTIONNAIRES, folder)
    text = (folder / "v2.yaml").read_text(encoding="utf-8").replace("version: 2", "version: 3")
    text = text.replace("    weight: 15\n", "    weight: 30\n", 1)
    (folder / "v3.yaml").write_text(text, encoding="utf-8")
    republished = Questionnaires(str(folder))
    assert republished.latest.version == 3
    assert republished.version(2).assess(answers) == before
    after = republished.latest.assess(answers)
    assert after.questionnaire_version == 3 and after.score != before.score


@pytest.mark.parametrize("change, message", [
    (("    weight: 15\n", "    weight: heavy\n"), "v2.yaml, questions[0].weight: expected int"),
    (("      - {answer: countries_exported_to, at_least: 5}\n",
      "      - {answer: countries_of_origin, at_least: 5}\n"),
     "v2.yaml, maturity[0].when[2]: no question countries_of_origin"),
    (("  - level: not_ready\n", "  - level: beginner\n"),
     "v2.yaml, maturity[3]: beginner is not a maturity level"),
    (("credit: 1/3}", "credit: 4/3}"), "4/3 is not between 0 and 1"),
    (("  - kind: co_export\n", "  - kind: golf_outing\n"),
     "golf_outing is not a programme kind"),
    (("    - countries: [BE, DE, CH]\n", "    - countries: [BE, XX, CH]\n"),
     "'XX' is not an ISO 3166 alpha-2 country code"),
])
def test_a_broken_file_says_where(tmp_path, change, message):
    text = open(os.path.join(QUESTIONNAIRES, "v2.yaml"), encoding="utf-8").read()
    assert change[0] in text
    path = tmp_path / "v2.yaml"
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=message.replace("[", r"\[").replace(
            "]", r"\]")):
        read_questionnaire(str(path))


def test_norway_is_a_country_not_a_boolean(tmp_path):
    text = open(os.path.join(QUESTIONNAIRES, "v2.yaml"), encoding="utf-8").read()
    path = tmp_path / "v2.yaml"
    path.write_text(text.replace("[BE, DE, CH]", "[BE, NO, CH]"), encoding="utf-8")
    assert read_questionnaire(str(path)).markets[-1].countries == ("BE", "NO", "CH")
