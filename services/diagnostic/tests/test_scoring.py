"""The latest questionnaire's scoring, maturity rule, explanation and orientation (pure: no
broker, no database). The expected values are read off the configuration file by hand: a
change of weight there is meant to make this table fail."""
import pytest

from parcours_testing.answers import (
    EXPERIENCED_EXPORTER, FIRST_TIME_EXPORTER, NOT_READY, OCCASIONAL_EXPORTER,
)

from diagnostic.questionnaire import InvalidAnswers, Questionnaires

QUESTIONNAIRE = Questionnaires().version(2)
HOME = "domestic_success.is.yes"
SOME_COMMITMENT = "management_commitment.one_of.interested-decided-export_plan"
FIRM_COMMITMENT = "management_commitment.one_of.decided-export_plan"
# a firm that says yes at home and little else: 5 + 10 + 5 + 10 points
BARELY = dict(FIRST_TIME_EXPORTER, management_commitment="interested",
              domestic_reach="national", export_staff=0, languages=[],
              financial_capacity="low", certifications="none", intellectual_property="none",
              digital_presence="none", target_markets=[])
# exports to one country, but with too few points to be occasional (36 of 100)
WEAK_EXPORTER = dict(FIRST_TIME_EXPORTER, languages=[], export_staff=0,
                     financial_capacity="low", product_adapted=False, certifications="none",
                     digital_presence="none", countries_exported_to=["BE"],
                     export_share_percent=5)


def assessed(answers):
    return QUESTIONNAIRE.assess(QUESTIONNAIRE.check(answers, complete=True))


def codes(findings):
    return [finding["code"] for finding in findings]


@pytest.mark.parametrize("answers, score, maturity, because, missing", [
    (FIRST_TIME_EXPORTER, 57, "first_time_exporter",
     [HOME, SOME_COMMITMENT, "score.overall.at_least.30"], ["countries_exported_to.at_least.1"]),
    # a firm must first succeed at home: the lowest level, for want of that alone
    (NOT_READY, 47, "not_ready", [HOME], [HOME]),
    (dict(FIRST_TIME_EXPORTER, management_commitment="not_discussed"), 47, "not_ready",
     [SOME_COMMITMENT], [SOME_COMMITMENT]),
    (dict(BARELY, domestic_reach="local"), 25, "not_ready",
     ["score.overall.at_least.30"], ["score.overall.at_least.30"]),
    (BARELY, 30, "first_time_exporter",  # exactly the threshold
     [HOME, SOME_COMMITMENT, "score.overall.at_least.30"], ["countries_exported_to.at_least.1",
                                                            "score.overall.at_least.40"]),
    (dict(BARELY, domestic_reach="regional"), 28, "not_ready",  # 27.5 rounds up, still short
     ["score.overall.at_least.30"], ["score.overall.at_least.30"]),
    (WEAK_EXPORTER, 36, "first_time_exporter",
     [HOME, SOME_COMMITMENT, "score.overall.at_least.30"], ["score.overall.at_least.40"]),
    (OCCASIONAL_EXPORTER, 63, "occasional_exporter",
     [HOME, "countries_exported_to.at_least.1", "score.overall.at_least.40"],
     ["countries_exported_to.at_least.5", "export_share_percent.at_least.20"]),
    (EXPERIENCED_EXPORTER, 100, "experienced_exporter",
     [HOME, FIRM_COMMITMENT, "countries_exported_to.at_least.5",
      "export_share_percent.at_least.20", "score.overall.at_least.60"], []),
    (dict(EXPERIENCED_EXPORTER, management_commitment="interested"), 90, "occasional_exporter",
     [HOME, "countries_exported_to.at_least.1", "score.overall.at_least.40"], [FIRM_COMMITMENT]),
    (dict(EXPERIENCED_EXPORTER, export_share_percent=15), 98, "occasional_exporter",
     [HOME, "countries_exported_to.at_least.1", "score.overall.at_least.40"],
     ["export_share_percent.at_least.20"]),
    (dict(EXPERIENCED_EXPORTER, countries_exported_to=["BE", "CH", "DE", "ES"]), 98,
     "occasional_exporter",
     [HOME, "countries_exported_to.at_least.1", "score.overall.at_least.40"],
     ["countries_exported_to.at_least.5"]),
    (dict(EXPERIENCED_EXPORTER, domestic_success=False), 90, "not_ready", [HOME], [HOME]),
])
def test_maturity_and_its_explanation(answers, score, maturity, because, missing):
    result = assessed(answers)
    assert (result.score, result.maturity) == (score, maturity)
    assert codes(result.explanation["because"]) == because
    assert codes(result.explanation["missing_for_next_level"]) == missing


def test_the_explanation_names_the_answers_in_words():
    explanation = assessed(OCCASIONAL_EXPORTER).explanation
    assert explanation["next_level"] == "experienced_exporter"
    assert [f["text"] for f in explanation["missing_for_next_level"]] == [
        "Countries exported to: BE, CH (at least 5 needed)",
        "Export share of turnover (%): 8 (at least 20 needed)"]
    assert explanation["missing_for_next_level"][0]["question"] == "countries_exported_to"
    assert assessed(EXPERIENCED_EXPORTER).explanation["next_level"] is None


def test_dimension_scores_are_the_points_earned_out_of_their_weights():
    scores = assessed(FIRST_TIME_EXPORTER).dimension_scores
    assert scores == {"commitment": 67, "home_market": 83, "experience": 0, "team": 50,
                      "finance": 50, "product": 75, "digital": 33, "markets": 100}
    assert set(assessed(EXPERIENCED_EXPORTER).dimension_scores.values()) == {100}


def test_recommendations_follow_the_gaps():
    advice = assessed(dict(FIRST_TIME_EXPORTER, export_staff=0, financial_capacity="low",
                           intellectual_property="none")).recommendations
    assert advice == ["dedicate_staff_to_export", "export_financing_and_insurance",
                      "protect_intellectual_property", "build_foreign_language_website"]
    assert assessed(EXPERIENCED_EXPORTER).recommendations == []


@pytest.mark.parametrize("answers, kinds", [
    (FIRST_TIME_EXPORTER, ["preparation", "trade_fair_pavilion"]),
    (dict(FIRST_TIME_EXPORTER, languages=[], export_staff=0, financial_capacity="low"),
     ["preparation", "cluster", "trade_fair_pavilion", "financing"]),
    (NOT_READY, []),
    (dict(FIRST_TIME_EXPORTER, management_commitment="not_discussed"), ["preparation"]),
    (OCCASIONAL_EXPORTER, ["targeted_market", "trade_fair_pavilion", "international_volunteer",
                           "export_insurance"]),
    (EXPERIENCED_EXPORTER, ["targeted_market", "co_export"]),
])
def test_orientation_by_maturity_and_gaps(answers, kinds):
    assert [line["kind"] for line in assessed(answers).programme_kinds] == kinds


def test_each_programme_kind_says_why():
    [preparation, pavilion] = assessed(FIRST_TIME_EXPORTER).programme_kinds
    assert preparation["reasons"] == ["level.first_time_exporter"]
    assert pavilion["reasons"] == ["level.first_time_exporter", "target_markets.at_least.1"]


@pytest.mark.parametrize("answers, markets", [
    (FIRST_TIME_EXPORTER, [("DE", "named_by_firm"), ("GB", "staff_speak_its_language"),
                           ("IE", "staff_speak_its_language")]),
    (dict(FIRST_TIME_EXPORTER, languages=[], target_markets=[]),
     [("BE", "nearby_first_market"), ("DE", "nearby_first_market"),
      ("CH", "nearby_first_market")]),
    (dict(OCCASIONAL_EXPORTER, languages=["it"], target_markets=[]),
     [("IT", "staff_speak_its_language"), ("BE", "already_sells_there"),
      ("CH", "already_sells_there")]),
    (dict(FIRST_TIME_EXPORTER, languages=["de"]),  # named and spoken: named counts first
     [("DE", "named_by_firm"), ("AT", "staff_speak_its_language"),
      ("CH", "staff_speak_its_language")]),
    (NOT_READY, []),  # home first
])
def test_one_to_three_target_markets_each_with_its_reason(answers, markets):
    assert [(m["country"], m["reason"]) for m in assessed(answers).target_markets] == markets


def test_invalid_answers_are_named_question_by_question():
    answers = dict(FIRST_TIME_EXPORTER, management_commitment="eager", domestic_success="yes",
                   export_share_percent=140, languages=["en", "xx"],
                   target_markets=["DE", "FR", "DE"], favourite_colour="blue")
    del answers["certifications"]
    with pytest.raises(InvalidAnswers) as refused:
        QUESTIONNAIRE.check(answers, complete=True)
    assert refused.value.problems == {
        "management_commitment": [
            "expected one of: not_discussed, interested, decided, export_plan"],
        "domestic_success": ["expected true or false"],
        "export_share_percent": ["expected a whole number from 0 to 100"],
        "languages": {1: ["'xx' is not an ISO 639-1 language code"]},
        "target_markets": {1: ["FR is not asked here: the pathway is about markets abroad"],
                           2: ["DE is given twice"]},
        "favourite_colour": ["no such question in questionnaire version 2"],
        "certifications": ["an answer is needed to complete the diagnostic"],
    }


def test_a_draft_may_leave_questions_out_and_codes_are_normalised():
    checked = QUESTIONNAIRE.check({"target_markets": ["de", "Be"], "languages": ["EN"]},
                                  complete=False)
    assert checked == {"target_markets": ["DE", "BE"], "languages": ["en"]}
    assert "domestic_success" in QUESTIONNAIRE.unanswered(checked)
