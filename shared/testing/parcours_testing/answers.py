"""Answers to diagnostic's latest questionnaire (services/diagnostic/diagnostic/questionnaires),
one set per maturity level, for the tests that drive a firm along the pathway."""

FIRST_TIME_EXPORTER = {
    "management_commitment": "decided", "domestic_success": True,
    "domestic_reach": "regional", "countries_exported_to": [], "export_share_percent": 0,
    "export_staff": 1, "languages": ["en"], "financial_capacity": "medium",
    "product_adapted": True, "certifications": "in_progress", "intellectual_property": "france",
    "digital_presence": "website", "target_markets": ["DE"],
}
NOT_READY = dict(FIRST_TIME_EXPORTER, domestic_success=False)
OCCASIONAL_EXPORTER = dict(FIRST_TIME_EXPORTER, countries_exported_to=["BE", "CH"],
                           export_share_percent=8)
EXPERIENCED_EXPORTER = dict(
    FIRST_TIME_EXPORTER, management_commitment="export_plan", domestic_reach="national",
    countries_exported_to=["BE", "CH", "DE", "ES", "IT", "US"], export_share_percent=35,
    export_staff=4, languages=["en", "de", "es"], financial_capacity="high",
    certifications="held", intellectual_property="international",
    digital_presence="sells_online_abroad", target_markets=["US", "JP"])
