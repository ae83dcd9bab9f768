"""Export readiness rules (pure functions, no broker, no database)."""
import pytest

from diagnostic.domain import assess

BASE = {
    "domestic_success": True, "export_share_percent": 0, "export_staff": 1, "languages": ["en"],
    "financial_capacity": "medium", "product_adapted": True, "target_markets": ["DE"],
    "countries_exported_to": 0,
}


@pytest.mark.parametrize("changes, maturity", [
    ({}, "first_time_exporter"),
    ({"domestic_success": False}, "not_ready"),  # succeed at home first
    ({"export_staff": 0, "languages": [], "financial_capacity": "low", "product_adapted": False,
      "target_markets": []}, "not_ready"),  # score below the threshold
    ({"countries_exported_to": 2, "export_share_percent": 10}, "occasional_exporter"),
    ({"countries_exported_to": 8, "export_share_percent": 10}, "occasional_exporter"),
    ({"countries_exported_to": 8, "export_share_percent": 35}, "experienced_exporter"),
])
def test_maturity(changes, maturity):
    assert assess(dict(BASE, **changes)).maturity == maturity


def test_score_is_bounded_and_rewards_readiness():
    best = assess(dict(BASE, export_staff=9, languages=["en", "de", "es", "zh"],
                       financial_capacity="high", countries_exported_to=12))
    worst = assess(dict(BASE, domestic_success=False, export_staff=0, languages=[],
                        financial_capacity="low", product_adapted=False, target_markets=[]))
    assert best.score == 100 and worst.score == 0


def test_recommendations_follow_the_gaps():
    advice = assess(dict(BASE, export_staff=0, financial_capacity="low")).recommendations
    assert "dedicate_staff_to_export" in advice
    assert "export_financing_and_insurance" in advice
    assert "consolidate_domestic_market" not in advice
