"""The words firms read, in French: what they may ask for, what they consent to, where their
request stands. Pages and messages take them from here, so a firm reads the same words in both.
"""
NEED_LABELS = {
    "first_export": "Exporter pour la première fois",
    "target_market": "Aborder un marché précis",
    "trade_fair": "Participer à un salon à l'étranger",
    "financing": "Financer un projet à l'export",
    "partner_abroad": "Trouver un partenaire à l'étranger",
}

# each purpose the firm may consent to, in plain words
CONSENT_WORDS = {
    "orientation": "Être orienté vers les programmes qui vous conviennent, et tenu informé par "
                   "courriel de l'avancée de votre demande.",
    "co_export_matching": "Être mis en relation avec de grandes entreprises qui emmènent des PME "
                          "à l'export (portage).",
    "satisfaction_surveys": "Recevoir, après un accompagnement, une courte enquête pour dire "
                            "s'il vous a été utile.",
}

# where a request stands, as the firm's follow page says it (domain.PATHWAY_STAGES)
STAGE_WORDS = {
    "opened": "Votre demande est enregistrée au guichet unique.",
    "assigned": "Un conseiller suit votre demande.",
    "diagnostic_scheduled": "Un diagnostic export est prévu avec votre conseiller.",
    "diagnosed": "Votre diagnostic export est fait.",
    "proposed": "Des programmes d'accompagnement vous ont été proposés.",
    "waitlisted": "Vous êtes sur liste d'attente d'un programme.",
    "enrolled": "Vous êtes inscrit à un programme.",
    "completed": "Vous avez terminé un programme.",
    "outcome_recorded": "Les résultats de votre accompagnement sont notés.",
}
CLOSED_WORDS = "Votre parcours au guichet unique est terminé."
