"""The codes of the lint rules and what each reports, shared by the models and the linter."""

SURVEY_MAX_SHARE = 25.0

LINT_RULES = {
    "passive-activity": "an activity level or a tier above the lowest counts passive events such as logins "
                        "or page views",
    "passive-engagement": "the engagement category of a health score scores only passive activity",
    "survey-overweight": f"survey signals (NPS, CSAT) carry more than {SURVEY_MAX_SHARE:g}% of a health "
                         "score's weight",
    "missing-trend": "a health score scores only current levels and no trend",
    "ratio-without-minimum": "a stickiness ratio per group has no minimum denominator",
    "unused-definition": "a source, account metric or project variable that nothing uses",
    "numeric-segment": "a health score's segment attribute is declared as a number, whose text differs "
                       "between engines",
}
