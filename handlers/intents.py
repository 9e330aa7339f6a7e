"""Recognising what kind of message this is before (or instead of) looking for an FAQ.

Greetings, thanks and requests for evidence have a grammar that a bag-of-words matcher cannot
see: "find papers on falls" and "how do I find papers?" share their words but not their intent.
These rules read that grammar; the FAQ index decides everything else.
"""

from __future__ import annotations

import bz2
import hashlib
import importlib.util
import pickle
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from handlers.deadlines import find_deadline
from knowledge import cachefile, yamlio

_SMALLTALK_WORDS = frozenset(
    """hi hello hey hiya howdy morning afternoon evening good gm yo there all team everyone folks
    thanks thank you ta cheers many much very lots great brilliant perfect lovely ace nice cool
    awesome amazing fab fantastic super ok okay k kk yes yep yeah no nope sure fine got it that's
    thats helpful bye goodbye see ya later cya night take care appreciated appreciate again bot
    evidence desk how are doing is it going you alright all's well what's up whats sup
    sounds great will do noted understood was that really so much super useful this is
    works worked done sorted thx thnx thanx tq ty been have day your a lovely wonderful
    you've youve you're youre""".split()
)
_FOR_YOUR_HELP = re.compile(r"\bfor\s+(?:all\s+)?(?:your|the)\s+help\b")
_GREETING = re.compile(
    r"^\s*(?:(?:hi|hello|hey|hiya|morning|good\s+(?:morning|afternoon|evening)|dear\s+\w+|"
    r"quick\s+(?:one|question|q)|sorry\s+to\s+bother\s+you|hope\s+you(?:'re|\s+are)\s+well)"
    r"(?:\s+(?:there|all|team|everyone|folks|guys|evidence\s+desk|bot|librarian))?[\s,!.:;\-\u2013]*)+",
    re.IGNORECASE,
)
_EVIDENCE_NOUN = (
    r"(?:evidence(?:\s+base)?|research|papers?|articles?|literature|studies|study|"
    r"guidelines?|guidance|(?:systematic\s+|scoping\s+|literature\s+|evidence\s+)?reviews?|"
    r"trials?|rcts?|data|publications?|sources|references|meta[\s-]?analys[ie]s|"
    r"(?:a\s+|an\s+)?(?:quick\s+|rapid\s+|full\s+|brief\s+)?(?:literature|lit|evidence|database)\s+searche?s?|"
    r"(?:an?\s+)?evidence\s+(?:summary|review)|(?:a|an)\s+(?:quick\s+|rapid\s+|brief\s+)?search|"
    r"anything|something|stuff|info(?:rmation)?)"
)
_EVIDENCE_NOUNS = rf"{_EVIDENCE_NOUN}(?:\s*(?:,|/|or|and|&)\s*{_EVIDENCE_NOUN})*"
_PREPOSITION = (
    r"(?:on|about|for|into|around|regarding|re|re:|relating\s+to|related\s+to|looking\s+at|"
    r"of|that|comparing|to\s+support|supporting|showing|covering|in)"
)
_REQUEST_VERB = (
    r"(?:find|search|look(?:ing)?\s+for|look\s+up|get|getting|got|seen|know\s+of|grab|need|needing|want|wanting|"
    r"after|source|pull\s+together|dig\s+out|track\s+down|locate|gather|compile|do|run|"
    r"carry\s+out|request|requesting|send|share|recommend|suggest|point\s+me\s+to|help\s+me\s+find|"
    r"searching\s+for|hunting\s+for|interested\s+in|collect)"
)
_PATTERNS = [
    # "search request: antimicrobial stewardship", "lit search - falls in care homes"
    re.compile(
        r"^\s*(?:new\s+)?(?:search\s+request|evidence\s+request|lit(?:erature)?\s+search(?:\s+request)?|"
        r"lit(?:erature)?\s+review|evidence\s+search|request)\s*[:\-\u2013]\s*(?P<topic>.+)$",
        re.IGNORECASE,
    ),
    # "can you find papers on X", "I need evidence about Y", "please do a lit search on Z"
    re.compile(
        rf"\b{_REQUEST_VERB}\b(?:\s+\S+){{0,4}}?\s+(?:(?:the\s+)?(?:latest|current|recent|best|good|"
        rf"some|any|relevant|high[\s-]quality|up[\s-]to[\s-]date|published|new)\s+)*{_EVIDENCE_NOUNS}"
        rf"\s+{_PREPOSITION}\s+(?P<topic>.+)$",
        re.IGNORECASE,
    ),
    # "what is the evidence for X", "what does the research say about Y"
    re.compile(
        r"\bwhat(?:'s|\s+is|s|\s+does|\s+do)?\s+(?:the\s+)?(?:latest\s+|current\s+|best\s+|recent\s+)?"
        r"(?:evidence(?:\s+base)?|research|literature|data|studies)(?:\s+say|\s+show|\s+tell\s+us)?"
        r"\s+(?:for|on|about|behind|around|regarding|re|into|in\s+favour\s+of|in)\s+(?P<topic>.+)$",
        re.IGNORECASE,
    ),
    # "is there any evidence that X", "are there studies comparing Y"
    re.compile(
        r"\b(?:is|are)\s+there\s+(?:any\s+|good\s+|much\s+|recent\s+|new\s+|published\s+)*"
        r"(?:evidence|research|literature|data|studies|papers|trials|guidelines|reviews)\s+"
        rf"{_PREPOSITION}\s+(?P<topic>.+)$",
        re.IGNORECASE,
    ),
    # "any papers on X?", "evidence base for X", "info needed on X", "lit search on X by Friday"
    re.compile(
        r"^\s*(?:(?:any|some|recent|latest|good|new|current)\s+)*"
        rf"(?:{_EVIDENCE_NOUNS}|search)(?:\s+(?:needed|wanted|required|requested|please|pls|plz|"
        r"request|ideally|published|out\s+there|available))*\s*(?:(?:on|about|for|regarding|into|around|re|relating\s+to|covering|"
        r"of)\b|:|-)\s*(?P<topic>.+)$",
        re.IGNORECASE,
    ),
    # "lit search pls: pressure ulcer prevention", "search: frailty scores"
    re.compile(
        r"^\s*(?:new\s+|quick\s+|urgent\s+)?(?:lit(?:erature)?\s+)?(?:search|review|evidence)"
        r"(?:\s+(?:request|please|pls|plz|needed|wanted))*\s*[:\-\u2013]\s*(?P<topic>.+)$",
        re.IGNORECASE,
    ),
]
# "should we use capnography in sedation - what's the evidence?": the question comes first.
_TRAILING_EVIDENCE = re.compile(
    r"^(?P<topic>.+?)[\s,.;:!?\-\u2013]+(?:(?:so\s+|and\s+)?(?:is|are)\s+there\s+(?:any\s+|good\s+|much\s+)?"
    r"(?:evidence|research|literature|studies|data)(?:\s+(?:for|on|about)\s+(?:it|this|that))?"
    r"|what(?:'s|s|\s+is|\s+does)\s+the\s+(?:latest\s+|current\s+)?(?:evidence|research|literature)(?:\s+say)?"
    r"|any\s+(?:evidence|research|papers|studies))[\s?.!]*$",
    re.IGNORECASE,
)
# "teaching on sepsis next week - can you find some recent papers": the topic comes first.
_TRAILING_ASK = re.compile(
    rf"^(?P<topic>.+?)[\s,.;:!?\-\u2013]+(?:(?:can|could|would|will)\s+(?:you|u|someone|anyone|the\s+library)"
    rf"\s+(?:please\s+)?|please\s+|pls\s+)?{_REQUEST_VERB}\s+(?:me\s+|us\s+)?"
    r"(?:(?:some|any|a\s+few|the|latest|recent|relevant|good)\s+)*"
    rf"{_EVIDENCE_NOUNS}(?:\s+(?:on\s+(?:it|this|that)|please|pls|for\s+(?:me|us)))*[\s?.!]*$",
    re.IGNORECASE,
)
# "how do I find papers on X" asks how to search, which the training and Hub FAQs answer.
_HOW_TO = re.compile(
    r"\bhow\s+(?:do|can|should|would)\s+(?:i|we|one|people|staff)\b|\bwhere\s+(?:do|can)\s+(?:i|we)\b"
    r"|\bmy\s+own\s+(?:lit(?:erature)?\s+)?search|\b(?:show|teach)\s+(?:me|us)\b"
    # Questions about the search service itself, not a request: "how does that work?"
    r"|\bhow\s+(?:does|do|would|will)\s+(?:it|that|this|the\s+service)\s+work"
    r"|\bhow\s+long\s+(?:does|do|will|would)\b|\bhow\s+much\b|\bis\s+it\s+free\b"
    # Alerts for new research are current awareness, not a one-off search.
    r"|\balerts?\b|\bkeep\s+(?:me\s+|us\s+)?up\s+to\s+date\b|\bbulletins?\b|\bnotif(?:y|ied|ication)"
    # "can I paste a patient's letter in here so you can find evidence" asks about privacy.
    r"|\b(?:paste|post|share|include|upload|put|send|type)\b[^.?!]{0,40}\bpatient",
    re.IGNORECASE,
)
_BENEFICIARY = re.compile(
    r"^(?:(?:for\s+)?(?:me|us|myself|my\s+\w+|our\s+\w+|the\s+team|you|them|him|her|it|this|that)"
    r"\b[\s,]*(?:please\s*)?(?:on|about|into|regarding|re|around|for)?\s*)+",
    re.IGNORECASE,
)
_TRAILING = re.compile(
    r"(?:[\s,.;:!?-]+|\b(?:please|pls|plz|thanks|thank\s+you|cheers|ta|if\s+possible|"
    r"if\s+you\s+can|if\s+poss|for\s+me|for\s+us|x+)\b)+$",
    re.IGNORECASE,
)
_FILLER_TOPIC = frozenset(
    "it this that these those them me us you anything something stuff topic a the my our "
    "how what does work works".split()
)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z])|\n+")


@dataclass(frozen=True)
class SearchSignal:
    """What the rules found in a search request: the topic to prefill and any deadline words."""

    topic: str
    deadline_text: str | None


_HELP = re.compile(
    r"^\W*(?:help|\?+|menu|commands|options|what\s+(?:can|do)\s+(?:you|u|this\s+bot|evidence\s+desk)\s+do"
    r"|what\s+(?:are|r)\s+(?:you|u)(?:\s+for)?|who\s+are\s+you|how\s+do\s+(?:i|you)\s+use\s+(?:you|u|this|it)"
    r"|what\s+(?:kind|kinds|sort|sorts|type|types)\s+of\s+(?:things|questions|stuff)\s+can\s+(?:i|we)\s+ask(?:\s+you)?"
    r"|what\s+can\s+(?:i|we)\s+ask(?:\s+you)?|how\s+(?:do|can)\s+you\s+help(?:\s+me)?)"
    r"(?:\s+(?:here|exactly|please|then|bot))*\W*$",
    re.IGNORECASE,
)


def is_help_request(text: str) -> bool:
    """ "help", "what can you do?": answered by the bot's own help entry whatever the KB says."""
    return bool(_HELP.match(text))


def strip_greeting(text: str) -> str:
    """Drop a leading "hi team, quick one -" so the question itself is what gets matched."""
    return _GREETING.sub("", text, count=1).strip()


def is_smalltalk(text: str) -> bool:
    """True for messages that are only greetings, thanks or acknowledgements."""
    words = re.findall(r"[a-z']+", _FOR_YOUR_HELP.sub(" ", text.lower()))
    if not words or len(words) > 8:
        return not words and bool(text.strip())
    return all(w in _SMALLTALK_WORDS for w in words)


def _clean_topic(raw: str) -> str | None:
    first = _SENTENCE_END.split(raw.strip())[0]
    first = first.split("?")[0] if "?" in first[:-1] else first
    topic = _BENEFICIARY.sub("", first.strip()).strip()
    previous = None
    while previous != topic:
        previous = topic
        topic = _TRAILING.sub("", topic).strip()
    words = re.findall(r"[a-z0-9]+", topic.lower())
    if not words or all(w in _FILLER_TOPIC for w in words):
        return None
    return topic


def find_search_request(text: str) -> SearchSignal | None:
    """The topic of an explicit request for evidence, or None when the message is not one."""
    deadline_text, rest = find_deadline(text)
    if _HOW_TO.search(rest):
        return None
    for sentence in [rest, *_SENTENCE_END.split(rest)]:
        for pattern in _PATTERNS:
            match = pattern.search(sentence)
            if match is None:
                continue
            topic = _clean_topic(match.group("topic"))
            if topic:
                return SearchSignal(topic=topic, deadline_text=deadline_text)
    match = _TRAILING_ASK.search(rest) or _TRAILING_EVIDENCE.search(rest)
    if match is not None:
        topic = _clean_topic(
            re.sub(r"^(?:i(?:'m|\s+am)\s+)?(?:doing|giving|preparing|writing|running)\s+"
                   r"(?:a\s+|an\s+|the\s+|my\s+|our\s+)?", "", match.group("topic"), flags=re.I)
        )  # fmt: skip
        if topic:
            return SearchSignal(topic=topic, deadline_text=deadline_text)
    return None


#: "10mg", "40 mcg/kg", "6 units/hr", "2 grams", "500ml": a dose or a rate is about treating someone.
_DOSE = re.compile(
    r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|micrograms?|ug|\u00b5g|grams?|gm|ml|mls|litres?|liters?|units?|iu|"
    r"mmol|meq|nanograms?|ng|mg/kg|mcg/kg|units/kg|ml/kg|ml/hr|ml/h|mg/hr|mg/h|units/hr|units/h|"
    r"mmol/hr|mmol/h|mmol/l|mcg/kg/min|puffs?|tablets?|capsules?|sachets?)(?![a-z])"
    r"|\b(?:mg|mcg|units|ml|mmol)/(?:kg|hr|h|min|day|l)\b",
    re.IGNORECASE,
)
#: "K+ 6.2", "eGFR 25", "Hb 70", "sodium 121", "BP 180/110": a result is about one patient.
_LAB_VALUE = re.compile(
    r"(?<![a-z0-9])(?:k\+?|na\+?|potassium|sodium|hb|haemoglobin|hemoglobin|e?gfr|creatinine|creat|crp|"
    r"inr|wcc|plts?|platelets|lactate|glucose|bms?|cbg|troponin|trop|hba1c|bilirubin|urea|mg2?\+|"
    r"magnesium|ca2?\+|calcium|phosphate|ph|pco2|po2|sats|spo2|o2\s+sats|bp|gcs|news2?|temp|"
    r"temperature|pulse|rr|ferritin|tsh|d-dimer|ddimer|albumin|neuts|neutrophils)"
    r"\s*(?:of|is|was|at|now|=|:|-|\u2013)?\s*\d+(?:\.\d+)?(?:/\d+)?(?![a-z0-9])",
    re.IGNORECASE,
)
#: "should I give", "do we stop", "can I transfuse": asking what to do for a patient.
_CARE_QUESTION = re.compile(
    r"\b(?:should|shall|can|could|do|would|must|may|is\s+it\s+(?:ok|okay|safe)\s+to)\s+(?:i|we|you|they|u)?\s*"
    r"(?:still\s+|just\s+|safely\s+)?(?:give|prescribe|administer|start|stop|restart|withhold|hold|"
    r"omit|increase|decrease|reduce|titrate|double|halve|switch|continue|transfuse|intubate|"
    r"cannulate|catheteri[sz]e|skip|re-?dose|rechart|restrict|crush|dilute|bolus|push|repeat|"
    r"treat|sedate|anticoagulate|discharge|wean|use)\b",
    re.IGNORECASE,
)
#: Someone in particular: "my patient", "bed 4", "an 85 year old", "95kg".
_A_PATIENT = re.compile(
    r"\b(?:patients?|pts?|bed\s*\d+|bay\s*\d+|side\s+room|\d+\s*(?:-\s*)?(?:year|yr)s?(?:\s*-?\s*old)?|"
    r"\d+\s*yo|\d+\s*kg|he|she|him|her|his|neonates?|baby|infant|child)\b",
    re.IGNORECASE,
)
#: A case described by age or bed ("50yo male", "an 85 year old", "bed 4"): with a clinical
#: word, a question about a patient even when it is not worded as a question.
_A_CASE = re.compile(
    r"\b(?:\d+\s*(?:-\s*)?(?:years?|yrs?)\s*-?\s*old|\d+\s*(?:yo|y/o|y\.o)|"
    r"(?:bed|bay)\s*\d+)\b",
    re.IGNORECASE,
)
#: Words that turn a drug name into a question about someone's treatment.
_TREATMENT_WORDS = re.compile(
    r"\b(?:dose|doses|dosing|dosage|level|levels|prescription|prescribed|prescribe|chart|charted|"
    r"infusion|iv|im|po|sc|oral|stat|regimen|course\s+of|interaction|interacts?|allerg(?:y|ic)|"
    r"contraindicat\w*|side\s+effects?|rate|route|crush|given|give|giving|run|running)\b",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[a-z0-9][a-z0-9&.\-]*[a-z0-9]|[a-z0-9]")
#: Names in the drug list shorter than this are too often abbreviations of something else.
MIN_PACKAGED_NAME = 5
#: Drug names of more words than this are not looked for ("calcium gluconate" is two).
MAX_DRUG_WORDS = 3
#: The format of the drug names kept in the cache directory: UTF-8, one name a line.
DRUG_NAMES_MAGIC = b"EDDRUGS1\n"


@lru_cache(maxsize=2)
def packaged_drug_names(cache_dir: Path | None = None) -> frozenset[str]:
    """Generic and brand drug names from `drug-named-entity-recognition` (DrugBank open data, MeSH
    and Wikipedia; MIT licence), read once from the data file the package ships: offline, and
    without the package's own search index (3 s and 300 MB we do not need for exact lookups).

    The file is found without importing the package: its `__init__` builds that index, and
    `importlib.resources.files` would import it (the CLI's `ask` paid 1-2 s for it). Unpacking
    it (bz2, then pickle) still costs ~0.9 s of CPU, so with a `cache_dir` the names are also
    kept there as plain text under the data file's SHA-256, which reads in ~0.05 s: a changed
    package makes another file, and a damaged one is read from the package again."""
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("drug-named-entity-recognition is not installed")
    data_file = Path(spec.submodule_search_locations[0]) / "drug_ner_dictionary.pkl.bz2"
    cached: Path | None = None
    if cache_dir is not None:
        with data_file.open("rb") as raw:
            digest = hashlib.file_digest(raw, "sha256").hexdigest()[:32]
        cached = cache_dir / f"drug-names-{MIN_PACKAGED_NAME}-{digest}.txt"
        payload = cachefile.read(cached, DRUG_NAMES_MAGIC)
        if payload is not None:
            return frozenset(payload.decode("utf-8").split("\n")) - {""}
    names = _unpack_drug_names(data_file)
    if cached is not None and not any("\n" in name for name in names):
        cachefile.write(cached, DRUG_NAMES_MAGIC, "\n".join(sorted(names)).encode("utf-8"))
    return names


def _unpack_drug_names(data_file: Path) -> frozenset[str]:
    with data_file.open("rb") as raw, bz2.open(raw) as f:
        # Data shipped inside a pinned package from the index: trusted like the package's code.
        data = pickle.load(f)  # noqa: S301
    return frozenset(
        str(name)
        for name in data["drug_variant_to_canonical"]
        if len(str(name)) >= MIN_PACKAGED_NAME
    )


def _longest_in_words(names: frozenset[str], cap: int) -> int:
    """How many words the longest name has, up to `cap`: the scan stops at the first name of
    `cap` words rather than splitting all ~100,000 packaged names (0.06 s at every start)."""
    longest = 0 if names else 1
    for name in names:
        longest = max(longest, len(name.split()))
        if longest >= cap:
            return cap
    return longest


class ClinicalVocabulary:
    """Recognises clinical questions, which are never answered from the KB.

    Two strengths: clinical *words* (a condition, a drug) make an evidence question, which an FAQ
    that matches strongly can still answer ("where is the BNF online?"); *patient care* (a dose,
    a lab value, a drug with its dose or level, "should I give ... to my patient") is a question
    about treating someone, which no FAQ answers, whatever library words it also uses.
    """

    def __init__(
        self,
        terms: frozenset[str],
        endings: tuple[str, ...],
        drugs: frozenset[str] = frozenset(),
    ) -> None:
        self.terms = terms
        self.endings = endings
        self.drugs = drugs
        self._longest_drug = _longest_in_words(drugs, MAX_DRUG_WORDS)

    @classmethod
    def from_file(cls, path: Path, cache_dir: Path | None = None) -> ClinicalVocabulary:
        """The KB's terms and its own drug names, plus the packaged drug list less `not_drugs`
        (`cache_dir`: see `packaged_drug_names`)."""
        data = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
        terms = frozenset(str(t).lower() for t in data.get("terms") or [])
        endings = tuple(str(e).lower() for e in data.get("endings") or [])
        local = frozenset(str(d).lower() for d in data.get("drugs") or [])
        not_drugs = frozenset(str(d).lower() for d in data.get("not_drugs") or [])
        return cls(terms, endings, (packaged_drug_names(cache_dir) | local) - not_drugs)

    def drug_names(self, text: str) -> list[str]:
        """Drug names in the text, single words and phrases ("calcium gluconate") alike."""
        words = _WORDS.findall(text.lower())
        found = []
        for size in range(1, self._longest_drug + 1):
            for i in range(len(words) - size + 1):
                phrase = " ".join(words[i : i + size]).strip(".")
                if phrase in self.drugs:
                    found.append(phrase)
        return found

    def clinical_words(self, text: str) -> list[str]:
        words = _WORDS.findall(text.lower())
        return [
            w
            for w in words
            if w in self.terms
            or w in self.drugs
            or (len(w) >= 7 and any(w.endswith(e) for e in self.endings))
        ] + [d for d in self.drug_names(text) if " " in d]

    def clinical_strength(self, text: str) -> int:
        """How many different clinical words the text uses."""
        return len(set(self.clinical_words(text)))

    def patient_care(self, text: str) -> str | None:
        """Why the text asks how to treat someone ("dose", "lab value", "drug", "care question"),
        or None. Such a question is never answered from the KB."""
        if _DOSE.search(text):
            return "dose"
        if _LAB_VALUE.search(text):
            return "lab value"
        drugs = self.drug_names(text)
        care = _CARE_QUESTION.search(text)
        if drugs and (care or _TREATMENT_WORDS.search(text) or _A_PATIENT.search(text)):
            return "drug"
        if care and _A_PATIENT.search(text) and self.clinical_words(text):
            return "care question"
        return None

    def about_one_patient(self, text: str) -> bool:
        """Patient care about someone in particular (a dose, a result, "should I give ..."),
        not a drug compared across a population ("apixaban vs rivaroxaban in elderly patients")."""
        reason = self.patient_care(text)
        return reason in {"dose", "lab value", "care question"} or (
            reason == "drug" and _CARE_QUESTION.search(text) is not None
        )

    def is_clinical_question(self, text: str) -> bool:
        """A question (by form) about a clinical subject (by vocabulary)."""
        lowered = text.lower().strip()
        question = lowered.endswith("?") or bool(
            re.match(
                r"(?:does|do|is|are|should|can|could|which|what|how|when|why|will|would|has|have)\b",
                lowered,
            )
        )
        words = self.clinical_words(text)
        # A bare topic ("outcomes of ERAS in colorectal patients over 80") counts when it is
        # unmistakably clinical: two different clinical words, or one about a described case
        # ("sepsis in a 72yo on the ward").
        return bool(words) and (
            question or len(set(words)) >= 2 or _A_CASE.search(text) is not None
        )
