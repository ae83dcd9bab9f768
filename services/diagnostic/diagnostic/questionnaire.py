"""The export-readiness questionnaire, as its versioned configuration files say it.

Each file of ``questionnaires/`` is one published version: its questions (type, validation,
dimension, weight), the rule that turns answers into a maturity level, the advice, the programme
kinds and the target markets to suggest. Nothing of it is in code: the code only knows how to
read a version and apply it, so a version once published scores its answers the same for ever.
The README of the service explains the files for advisors.
"""
import math
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction

import pycountry
import yaml

from parcours_shared.contracts import MATURITY_LEVELS, PROGRAMME_KINDS
from parcours_shared.domain import DomainError

QUESTIONNAIRES = os.path.join(os.path.dirname(__file__), "questionnaires")
OVERALL = "overall"
_FILE_NAME = re.compile(r"^v(\d+)\.yaml$")


class QuestionnaireError(ValueError):
    """A questionnaire file that cannot be used: the message says which file, where, and why."""


class _Loader(yaml.SafeLoader):
    """YAML without its 1.1 booleans: ``NO`` is Norway and ``no`` an option, not False; only
    ``true`` and ``false`` are booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"),
                              list("tf"))


def _credit(value, where):
    """A share of a question's weight, from 0 to 1, written as a number or a fraction ("1/3")."""
    try:
        credit = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise QuestionnaireError("{}: {!r} is not a number or a fraction".format(where, value))
    if not 0 <= credit <= 1:
        raise QuestionnaireError("{}: {} is not between 0 and 1".format(where, value))
    return credit


def _round(value):
    """Half up, as a person rounds: 62.5 is 63."""
    return math.floor(value + Fraction(1, 2))


# -- questions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Band:
    """From ``at_least`` up (to the next band), an answer earns ``credit`` of the weight."""
    at_least: int
    credit: Fraction


@dataclass(frozen=True)
class Question:
    id: str
    dimension: str
    label: str       # short, for explanations: "Export share of turnover (%)"
    text: str        # the question as the advisor asks it
    weight: int      # the points a full answer earns, out of the questionnaire's total

    def problems(self, value):
        """What is wrong with an answer ([] when it is valid); list questions may answer a
        dict {item index: [problems]}."""
        raise NotImplementedError

    def normalised(self, value):
        return value

    def measure(self, value):
        """What conditions compare: the option, true/false, the number, the number of items."""
        return value

    def credit(self, value):
        raise NotImplementedError

    def described(self, value):
        return str(value)

    def as_document(self):
        return {"id": self.id, "type": self.TYPE, "dimension": self.dimension,
                "label": self.label, "text": self.text, "weight": self.weight}


@dataclass(frozen=True)
class YesNoQuestion(Question):
    TYPE = "yes_no"

    def problems(self, value):
        return [] if isinstance(value, bool) else ["expected true or false"]

    def credit(self, value):
        return Fraction(1 if value else 0)

    def described(self, value):
        return "yes" if value else "no"


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    credit: Fraction


@dataclass(frozen=True)
class ChoiceQuestion(Question):
    TYPE = "single_choice"
    options: tuple = ()

    def problems(self, value):
        if isinstance(value, str) and self._option(value) is not None:
            return []
        return ["expected one of: {}".format(", ".join(o.id for o in self.options))]

    def _option(self, option_id):
        return next((o for o in self.options if o.id == option_id), None)

    def credit(self, value):
        return self._option(value).credit

    def described(self, value):
        return self._option(value).label

    def as_document(self):
        return dict(super().as_document(), options=[
            {"id": o.id, "label": o.label, "credit": str(o.credit)} for o in self.options])


def _banded(bands, measure):
    earned = Fraction(0)
    for band in bands:
        if measure >= band.at_least:
            earned = band.credit
    return earned


def _bands_document(bands):
    return [{"at_least": b.at_least, "credit": str(b.credit)} for b in bands]


@dataclass(frozen=True)
class NumberQuestion(Question):
    TYPE = "number"
    minimum: int = 0
    maximum: int = 0
    bands: tuple = ()

    def problems(self, value):
        if (isinstance(value, bool) or not isinstance(value, int)
                or not self.minimum <= value <= self.maximum):
            return ["expected a whole number from {} to {}".format(self.minimum, self.maximum)]
        return []

    def credit(self, value):
        return _banded(self.bands, value)

    def as_document(self):
        return dict(super().as_document(), minimum=self.minimum, maximum=self.maximum,
                    bands=_bands_document(self.bands))


def _country(code):
    return pycountry.countries.get(alpha_2=code)


def _language(code):
    return pycountry.languages.get(alpha_2=code)


# what the items of a list question are: how to find one, and what to call a wrong one
ITEM_KINDS = {
    "country": (_country, "an ISO 3166 alpha-2 country code", str.upper),
    "language": (_language, "an ISO 639-1 language code", str.lower),
    "text": (None, "a text of 2 to 30 characters", str.strip),
}


@dataclass(frozen=True)
class ListQuestion(Question):
    """Several items: countries (ISO 3166), languages (ISO 639-1) or short texts. Conditions
    and bands count the distinct items."""
    TYPE = "list"
    items: str = "country"
    at_most: int = 20
    excluded: tuple = ()      # items that cannot be given (France, French: the home ones)
    bands: tuple = ()

    def problems(self, value):
        lookup, expected, normal = ITEM_KINDS[self.items]
        if not isinstance(value, list):
            return ["expected a list, each item {}".format(expected)]
        if len(value) > self.at_most:
            return ["at most {} items".format(self.at_most)]
        by_item, seen = {}, set()
        for index, item in enumerate(value):
            problem = None
            if not isinstance(item, str):
                problem = "expected {}".format(expected)
            elif lookup is None and not 2 <= len(item.strip()) <= 30:
                problem = "expected {}".format(expected)
            elif lookup is not None and (len(item) != 2 or lookup(item) is None):
                problem = "{!r} is not {}".format(item, expected)
            elif normal(item) in self.excluded:
                problem = "{} is not asked here: {}".format(normal(item), self.excluded_why)
            elif lookup is not None and normal(item) in seen:
                problem = "{} is given twice".format(normal(item))
            if problem:
                by_item[index] = [problem]
            elif isinstance(item, str):
                seen.add(normal(item))
        return by_item

    @property
    def excluded_why(self):
        return "the pathway is about markets abroad"

    def normalised(self, value):
        normal = ITEM_KINDS[self.items][2]
        return [normal(item) for item in value]

    def measure(self, value):
        return len(set(value))

    def credit(self, value):
        return _banded(self.bands, self.measure(value))

    def described(self, value):
        return ", ".join(value) if value else "none"

    def as_document(self):
        return dict(super().as_document(), items=self.items, at_most=self.at_most,
                    excluded=list(self.excluded), bands=_bands_document(self.bands))


# -- conditions -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One condition of a rule, applied to one firm's answers: its code, whether it held, and
    a sentence for the advisor naming the answer."""
    code: str
    held: bool
    text: str
    question: str | None = None

    def as_document(self):
        document = {"code": self.code, "text": self.text}
        if self.question:
            document["question"] = self.question
        return document


@dataclass(frozen=True)
class Condition:
    """``answer`` (a question) or ``score`` (a dimension, or overall) compared by ``test``:
    ``is`` (an option, true or false), ``one_of`` (options), ``at_least`` or ``below`` (a
    number; for a list, how many items)."""
    subject: str            # question id, or dimension id for a score
    on_score: bool
    test: str
    value: object

    @property
    def code(self):
        value = ("yes" if self.value else "no") if isinstance(self.value, bool) else (
            "-".join(self.value) if isinstance(self.value, tuple) else self.value)
        return "{}{}.{}.{}".format("score." if self.on_score else "", self.subject,
                                   self.test, value)

    def holds(self, measure):
        if self.test == "is":
            return measure == self.value
        if self.test == "one_of":
            return measure in self.value
        if self.test == "at_least":
            return measure >= self.value
        return measure < self.value

    def find(self, questionnaire, answers, scores):
        if self.on_score:
            measure = scores[self.subject]
            what = "{} score is {}".format(questionnaire.dimension_label(self.subject), measure)
            question = None
        else:
            question = questionnaire.question(self.subject)
            measure = question.measure(answers[self.subject])
            what = "{}: {}".format(question.label, question.described(answers[self.subject]))
            question = question.id
        return Finding(self.code, self.holds(measure), "{} ({} needed)".format(
            what, self._wanted(questionnaire)), question)

    def _wanted(self, questionnaire):
        if self.test == "at_least":
            return "at least {}".format(self.value)
        if self.test == "below":
            return "below {}".format(self.value)
        if self.on_score:
            return str(self.value)
        question = questionnaire.question(self.subject)
        values = self.value if self.test == "one_of" else (self.value,)
        return " or ".join(question.described(v) for v in values)


def _findings(conditions, questionnaire, answers, scores):
    return [c.find(questionnaire, answers, scores) for c in conditions]


# -- the rules of one version -----------------------------------------------------------------

@dataclass(frozen=True)
class Level:
    """A maturity level, and what a firm must meet to be given it (nothing: the default)."""
    level: str
    when: tuple


@dataclass(frozen=True)
class Advice:
    code: str
    when: tuple


@dataclass(frozen=True)
class Orientation:
    """A programme kind that fits firms at ``levels``, if ``when`` holds too."""
    kind: str
    levels: tuple
    when: tuple


@dataclass(frozen=True)
class MarketSource:
    """Where suggested markets come from, in order: a list question's answer (``answer``),
    the countries of the languages the staff speak (``languages``, by ``countries``), or a
    fixed list (``countries``), for the firms at ``levels``."""
    reason: str
    answer: str | None = None
    languages: str | None = None
    countries: object = ()       # a tuple of countries, or {language: tuple of countries}
    levels: tuple = ()


@dataclass(frozen=True)
class Result:
    """What one version makes of one firm's complete answers."""
    questionnaire_version: int
    score: int
    dimension_scores: dict
    maturity: str
    explanation: dict
    recommendations: list
    programme_kinds: list       # [{"kind", "reasons": [codes]}]
    target_markets: list        # [{"country", "reason"}]


@dataclass(frozen=True)
class Questionnaire:
    version: int
    title: str
    dimensions: dict          # id -> label, in order
    questions: tuple
    levels: tuple             # highest level first; the last one is the default
    advice: tuple
    orientation: tuple
    markets: tuple
    markets_at_most: int
    document: dict = field(repr=False, compare=False)   # the file, as read

    def question(self, question_id):
        return self._questions_by_id()[question_id]

    def _questions_by_id(self):
        return {question.id: question for question in self.questions}

    def dimension_label(self, dimension):
        return "Overall" if dimension == OVERALL else self.dimensions[dimension]

    # answers

    def check(self, answers, complete):
        """The answers, normalised (country codes in capitals...); raises InvalidAnswers with
        what is wrong, question by question. ``complete``: every question must be answered."""
        problems, normal = {}, {}
        questions = self._questions_by_id()
        if not isinstance(answers, dict):
            raise InvalidAnswers({"_answers": ["expected an object: question id -> answer"]})
        for question_id, value in answers.items():
            question = questions.get(question_id)
            if question is None:
                problems[question_id] = ["no such question in questionnaire version {}".format(
                    self.version)]
                continue
            found = question.problems(value)
            if found:
                problems[question_id] = found
            else:
                normal[question_id] = question.normalised(value)
        if complete:
            for question in self.questions:
                if question.id not in answers:
                    problems[question.id] = ["an answer is needed to complete the diagnostic"]
        if problems:
            raise InvalidAnswers(problems)
        return normal

    def unanswered(self, answers):
        return [question.id for question in self.questions if question.id not in answers]

    # scoring

    def scores(self, answers):
        """{dimension: 0-100, ..., "overall": 0-100}: the points earned out of the weights."""
        earned, weights = {}, {}
        for question in self.questions:
            credit = question.credit(answers[question.id])
            for key in (question.dimension, OVERALL):
                earned[key] = earned.get(key, 0) + question.weight * credit
                weights[key] = weights.get(key, 0) + question.weight
        return {key: _round(100 * earned[key] / weights[key]) if weights[key] else 0
                for key in list(self.dimensions) + [OVERALL]}

    def assess(self, answers):
        """The result of complete, checked answers."""
        scores = self.scores(answers)
        maturity, explanation = self._maturity(answers, scores)
        return Result(
            questionnaire_version=self.version, score=scores[OVERALL],
            dimension_scores={d: scores[d] for d in self.dimensions}, maturity=maturity,
            explanation=explanation,
            recommendations=[a.code for a in self.advice
                             if self._all_hold(a.when, answers, scores)],
            programme_kinds=self._programme_kinds(maturity, answers, scores),
            target_markets=self._target_markets(maturity, answers))

    def _all_hold(self, conditions, answers, scores):
        return all(f.held for f in _findings(conditions, self, answers, scores))

    def _maturity(self, answers, scores):
        """The first level whose conditions all hold, why, and what the level above needs."""
        for index, level in enumerate(self.levels):
            findings = _findings(level.when, self, answers, scores)
            if all(f.held for f in findings):
                break
        above = self.levels[index - 1] if index else None
        missing = ([f for f in _findings(above.when, self, answers, scores) if not f.held]
                   if above else [])
        # the default level holds for want of the one above: that is its reason
        because = findings if level.when else missing
        return level.level, {
            "because": [f.as_document() for f in because],
            "next_level": above.level if above else None,
            "missing_for_next_level": [f.as_document() for f in missing]}

    def _programme_kinds(self, maturity, answers, scores):
        kinds = {}
        for line in self.orientation:
            if maturity not in line.levels:
                continue
            findings = _findings(line.when, self, answers, scores)
            if all(f.held for f in findings):
                reasons = kinds.setdefault(line.kind, [])
                reasons.extend(["level." + maturity] + [f.code for f in findings])
        return [{"kind": kind, "reasons": list(dict.fromkeys(reasons))}
                for kind, reasons in kinds.items()]

    def _target_markets(self, maturity, answers):
        suggested = {}
        for source in self.markets:
            if source.levels and maturity not in source.levels:
                continue
            for country in self._countries_of(source, answers):
                if len(suggested) == self.markets_at_most:
                    break
                suggested.setdefault(country, source.reason)
        return [{"country": country, "reason": reason} for country, reason in suggested.items()]

    def _countries_of(self, source, answers):
        if source.answer:
            return answers[source.answer]
        if source.languages:
            return [country for language in answers[source.languages]
                    for country in source.countries.get(language, ())]
        return source.countries

    def as_document(self):
        """The questionnaire as an advisor's system shows it (GET /questionnaires/<version>)."""
        return {"version": self.version, "title": self.title,
                "dimensions": [{"id": d, "label": label} for d, label in self.dimensions.items()],
                "questions": [q.as_document() for q in self.questions],
                "rules": {key: self.document[key] for key in (
                    "maturity", "advice", "orientation", "target_markets") if key in self.document}}


class InvalidAnswers(DomainError):
    """Answers that do not fit their questionnaire; ``problems``: question id -> what is wrong."""

    def __init__(self, problems):
        super().__init__("some answers are invalid; see fields.answers, question by question",
                         {"answers": problems})
        self.problems = problems


# -- reading a file -------------------------------------------------------------------------

class _Reader:
    """Reads one questionnaire document, saying where each mistake is."""

    def __init__(self, where):
        self.where = where

    def fail(self, place, message):
        raise QuestionnaireError("{}, {}: {}".format(self.where, place, message))

    def get(self, mapping, key, place, kind=None, default=...):
        if not isinstance(mapping, dict):
            self.fail(place, "expected a mapping (key: value lines)")
        if key not in mapping:
            if default is ...:
                self.fail(place, "{} is missing".format(key))
            return default
        value = mapping[key]
        if kind is not None and not isinstance(value, kind) or isinstance(value, bool) and (
                kind is int):
            self.fail("{}.{}".format(place, key), "expected {}, not {!r}".format(
                getattr(kind, "__name__", kind), value))
        return value

    def questionnaire(self, document, version):
        if self.get(document, "version", "top", int) != version:
            self.fail("version", "says {}, but the file is named for version {}".format(
                document["version"], version))
        dimensions = self.get(document, "dimensions", "top", dict)
        dimensions = {str(d): str(self.get(spec, "label", "dimensions." + str(d), str))
                      for d, spec in dimensions.items()}
        questions = tuple(self.question(spec, "questions[{}]".format(i), dimensions)
                          for i, spec in enumerate(self.get(document, "questions", "top", list)))
        ids = [q.id for q in questions]
        if len(set(ids)) != len(ids):
            self.fail("questions", "a question id is used twice")
        by_id = {q.id: q for q in questions}
        levels = tuple(Level(self.get(spec, "level", place, str),
                             self.conditions(spec, place, by_id, dimensions))
                       for place, spec in self.entries(document, "maturity"))
        for place, level in zip(("maturity[{}]".format(i) for i in range(len(levels))), levels):
            if level.level not in MATURITY_LEVELS:
                self.fail(place, "{} is not a maturity level ({})".format(
                    level.level, ", ".join(MATURITY_LEVELS)))
        if not levels or levels[-1].when:
            self.fail("maturity", "the last level is the default: it has no conditions")
        markets = self.get(document, "target_markets", "top", dict)
        return Questionnaire(
            version=version, title=self.get(document, "title", "top", str),
            dimensions=dimensions, questions=questions, levels=levels,
            advice=tuple(Advice(self.get(spec, "code", place, str),
                                self.conditions(spec, place, by_id, dimensions))
                         for place, spec in self.entries(document, "advice")),
            orientation=tuple(self.orientation(spec, place, by_id, dimensions)
                              for place, spec in self.entries(document, "orientation")),
            markets=tuple(self.market_source(spec, "target_markets.from[{}]".format(i), by_id)
                          for i, spec in enumerate(self.get(markets, "from", "target_markets",
                                                            list))),
            markets_at_most=self.get(markets, "at_most", "target_markets", int),
            document=document)

    def entries(self, document, key):
        return [("{}[{}]".format(key, i), spec)
                for i, spec in enumerate(self.get(document, key, "top", list))]

    def question(self, spec, place, dimensions):
        kind = self.get(spec, "type", place, str)
        common = {"id": self.get(spec, "id", place, str),
                  "dimension": self.get(spec, "dimension", place, str),
                  "label": self.get(spec, "label", place, str),
                  "text": self.get(spec, "text", place, str),
                  "weight": self.get(spec, "weight", place, int)}
        if common["dimension"] not in dimensions:
            self.fail(place, "dimension {} is not among the dimensions".format(
                common["dimension"]))
        if common["weight"] < 0:
            self.fail(place, "a weight is 0 or more")
        if kind == YesNoQuestion.TYPE:
            return YesNoQuestion(**common)
        if kind == ChoiceQuestion.TYPE:
            options = self.get(spec, "options", place, dict)
            return ChoiceQuestion(**common, options=tuple(
                Option(str(option_id), self.get(option, "label", place + "." + str(option_id),
                                                str),
                       _credit(self.get(option, "credit", place + "." + str(option_id)),
                               "{}, {}.{}".format(self.where, place, option_id)))
                for option_id, option in options.items()))
        if kind == NumberQuestion.TYPE:
            return NumberQuestion(**common, minimum=self.get(spec, "minimum", place, int),
                                  maximum=self.get(spec, "maximum", place, int),
                                  bands=self.bands(spec, place))
        if kind == ListQuestion.TYPE:
            items = self.get(spec, "items", place, str)
            if items not in ITEM_KINDS:
                self.fail(place, "items are one of {}".format(", ".join(ITEM_KINDS)))
            normal = ITEM_KINDS[items][2]
            return ListQuestion(**common, items=items,
                                at_most=self.get(spec, "at_most", place, int, 20),
                                excluded=tuple(normal(str(item)) for item in self.get(
                                    spec, "excluded", place, list, [])),
                                bands=self.bands(spec, place))
        self.fail(place, "type {!r} is not one of yes_no, single_choice, number, list".format(
            kind))

    def bands(self, spec, place):
        bands = tuple(Band(self.get(band, "at_least", place + ".bands", int),
                           _credit(self.get(band, "credit", place + ".bands"),
                                   "{}, {}.bands".format(self.where, place)))
                      for band in self.get(spec, "bands", place, list))
        if [b.at_least for b in bands] != sorted({b.at_least for b in bands}):
            self.fail(place + ".bands", "bands go up: each at_least above the one before")
        return bands

    def conditions(self, spec, place, questions, dimensions):
        return tuple(self.condition(condition, "{}.when[{}]".format(place, i), questions,
                                    dimensions)
                     for i, condition in enumerate(self.get(spec, "when", place, list, [])))

    def condition(self, spec, place, questions, dimensions):
        if not isinstance(spec, dict):
            self.fail(place, "expected a mapping such as {answer: ..., at_least: ...}")
        tests = [test for test in ("is", "one_of", "at_least", "below") if test in spec]
        if len(tests) != 1:
            self.fail(place, "give one of is, one_of, at_least or below")
        test, value = tests[0], spec[tests[0]]
        if "score" in spec:
            subject = str(spec["score"])
            if subject != OVERALL and subject not in dimensions:
                self.fail(place, "score of {}: not a dimension (nor overall)".format(subject))
            if test not in ("at_least", "below"):
                self.fail(place, "a score is compared with at_least or below")
            return Condition(subject, True, test, self._number(value, place))
        subject = self.get(spec, "answer", place, str)
        question = questions.get(subject)
        if question is None:
            self.fail(place, "no question {}".format(subject))
        if test in ("at_least", "below"):
            if not isinstance(question, (NumberQuestion, ListQuestion)):
                self.fail(place, "{} is compared with is or one_of".format(subject))
            return Condition(subject, False, test, self._number(value, place))
        values = tuple(value) if test == "one_of" else (value,)
        for candidate in values:
            if question.problems(candidate) and not isinstance(question, ListQuestion):
                self.fail(place, "{!r} is not an answer to {}".format(candidate, subject))
        return Condition(subject, False, test, values if test == "one_of" else value)

    def _number(self, value, place):
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(place, "expected a whole number, not {!r}".format(value))
        return value

    def orientation(self, spec, place, questions, dimensions):
        kind = self.get(spec, "kind", place, str)
        if kind not in PROGRAMME_KINDS:
            self.fail(place, "{} is not a programme kind ({})".format(
                kind, ", ".join(PROGRAMME_KINDS)))
        return Orientation(kind, self.levels(spec, place),
                           self.conditions(spec, place, questions, dimensions))

    def levels(self, spec, place):
        levels = tuple(self.get(spec, "levels", place, list, []))
        for level in levels:
            if level not in MATURITY_LEVELS:
                self.fail(place, "{} is not a maturity level".format(level))
        return levels

    def market_source(self, spec, place, questions):
        reason = self.get(spec, "reason", place, str)
        levels = self.levels(spec, place)
        for key, items in (("answer", "country"), ("languages", "language")):
            if key in spec:
                question = questions.get(spec[key])
                if not isinstance(question, ListQuestion) or question.items != items:
                    self.fail(place, "{}: {} is not a list of {} question".format(
                        key, spec[key], items))
        if "answer" in spec:
            return MarketSource(reason, answer=spec["answer"], levels=levels)
        countries = self.get(spec, "countries", place)
        if "languages" in spec:
            if not isinstance(countries, dict):
                self.fail(place, "countries: expected language -> countries")
            return MarketSource(reason, languages=spec["languages"], levels=levels, countries={
                str(language): self.countries(codes, place) for language, codes in
                countries.items()})
        return MarketSource(reason, countries=self.countries(countries, place), levels=levels)

    def countries(self, codes, place):
        if not isinstance(codes, list):
            self.fail(place, "expected a list of country codes")
        for code in codes:
            if not isinstance(code, str) or _country(code) is None:
                self.fail(place, "{!r} is not an ISO 3166 alpha-2 country code".format(code))
        return tuple(code.upper() for code in codes)


def read_questionnaire(path):
    """One version, from its file (``v<version>.yaml``); raises QuestionnaireError."""
    match = _FILE_NAME.match(os.path.basename(path))
    if match is None:
        raise QuestionnaireError("{}: a questionnaire file is named v<version>.yaml".format(path))
    with open(path, encoding="utf-8") as file:
        try:
            document = yaml.load(file, Loader=_Loader)
        except yaml.YAMLError as exc:
            raise QuestionnaireError("{}: not valid YAML: {}".format(path, exc)) from None
    return _Reader(os.path.basename(path)).questionnaire(document, int(match.group(1)))


class Questionnaires:
    """Every published version, from one folder; new diagnostics are answered with the latest,
    and each diagnostic is scored by the version it was answered with."""

    def __init__(self, folder=QUESTIONNAIRES):
        self.folder = folder
        names = sorted((n for n in os.listdir(folder) if _FILE_NAME.match(n)),
                       key=lambda n: int(_FILE_NAME.match(n).group(1)))
        if not names:
            raise QuestionnaireError("{}: no questionnaire (v1.yaml, v2.yaml...)".format(folder))
        self._versions = {q.version: q for q in (
            read_questionnaire(os.path.join(folder, name)) for name in names)}

    @property
    def latest(self):
        return self._versions[max(self._versions)]

    def version(self, version):
        """The questionnaire of that version; raises UnknownQuestionnaire."""
        try:
            return self._versions[version]
        except KeyError:
            raise UnknownQuestionnaire(version) from None

    def versions(self):
        return sorted(self._versions)


class UnknownQuestionnaire(DomainError):
    def __init__(self, version):
        super().__init__("no questionnaire version {} (published: see GET /questionnaires)"
                         .format(version))
        self.version = version
