"""Detection and redaction of patient-identifiable data in free text.

Library staff are asked about evidence, not patients, but clinicians paste whatever is on
their screen. Every message therefore passes through :class:`PrivacyScanner` before it is
stored, logged or forwarded, so that NHS numbers, dates of birth, hospital numbers, phone
numbers, email addresses, postcodes and patients' names (where the wording shows one: "Mrs
Jones", "patient called ...") never leave the process that received them.

Design choices worth knowing about:

* A :class:`Finding` records only *where* an identifier is, never the identifier itself, so
  findings can be logged, counted or raised in exceptions without leaking what they point at.
* Detection errs towards redacting: when two detectors overlap, the union of their spans is
  removed, because a half-redacted NHS number is still an NHS number.
* Every built-in pattern is linear-time on hostile input (bounded repetition, no nested
  unbounded quantifiers, look-behinds that stop scans restarting inside a run), because the
  scanner sees arbitrary user text and must not become a denial-of-service vector. A custom
  hospital-number pattern is trusted configuration and must keep to the same rules.
* Oversize input is scanned in full: truncating would silently let identifiers through.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import re
import secrets
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import phonenumbers

from bot.config.privacy import DEFAULT_HOSPITAL_NUMBER_PATTERN

__all__ = [
    "DEFAULT_HOSPITAL_NUMBER_PATTERN",
    "Finding",
    "FindingKind",
    "PrivacyScanner",
]


class FindingKind(StrEnum):
    """Kinds of identifier, in the order they are reported to the requester."""

    NHS_NUMBER = "nhs_number"
    DATE_OF_BIRTH = "date_of_birth"
    HOSPITAL_NUMBER = "hospital_number"
    PHONE_NUMBER = "phone_number"
    EMAIL = "email"
    POSTCODE = "postcode"
    NAME = "name"


_LABELS: Final[dict[FindingKind, str]] = {
    FindingKind.NHS_NUMBER: "[NHS number removed]",
    FindingKind.DATE_OF_BIRTH: "[date of birth removed]",
    FindingKind.HOSPITAL_NUMBER: "[hospital number removed]",
    FindingKind.PHONE_NUMBER: "[phone number removed]",
    FindingKind.EMAIL: "[email address removed]",
    FindingKind.POSTCODE: "[postcode removed]",
    FindingKind.NAME: "[name removed]",
}

# (singular with article, plural) for the message shown to the requester.
_PHRASES: Final[dict[FindingKind, tuple[str, str]]] = {
    FindingKind.NHS_NUMBER: ("an NHS number", "NHS numbers"),
    FindingKind.DATE_OF_BIRTH: ("a date of birth", "dates of birth"),
    FindingKind.HOSPITAL_NUMBER: ("a hospital number", "hospital numbers"),
    FindingKind.PHONE_NUMBER: ("a phone number", "phone numbers"),
    FindingKind.EMAIL: ("an email address", "email addresses"),
    FindingKind.POSTCODE: ("a postcode", "postcodes"),
    FindingKind.NAME: ("a name", "names"),
}

# When spans overlap the merged finding takes the most specific kind: a valid NHS number is
# far stronger evidence than "this digit string also happens to dial somewhere".
_PRIORITY: Final[dict[FindingKind, int]] = {
    FindingKind.NHS_NUMBER: 0,
    FindingKind.DATE_OF_BIRTH: 1,
    FindingKind.HOSPITAL_NUMBER: 2,
    FindingKind.EMAIL: 3,
    FindingKind.POSTCODE: 4,
    FindingKind.PHONE_NUMBER: 5,
    FindingKind.NAME: 6,
}


@dataclass(frozen=True, slots=True, repr=False)
class Finding:
    """Location of one identifier in a message.

    Deliberately holds no copy of the matched text: findings travel into logs, metrics and
    error messages, and must be harmless there.
    """

    kind: FindingKind
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end <= self.start:
            raise ValueError(f"invalid finding span {self.start}:{self.end}")

    @property
    def label(self) -> str:
        """Placeholder that replaces the identifier, so readers can see something was there."""
        return _LABELS[self.kind]

    def __repr__(self) -> str:
        return f"Finding(kind={self.kind.name}, start={self.start}, end={self.end})"


# --------------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------------

# Hospital (local patient / MRN) numbers have no national format. One to three capital letters
# followed by six to eight digits covers the common PAS layouts ("RTX123456", "K1234567",
# "AB12345678") while staying clear of ordinary words. PubMed Central ("PMC1234567") and
# ClinicalTrials.gov ("NCT01234567") identifiers share that shape and are exactly what an
# evidence service is asked about, so they are excluded. Trusts with other layouts pass their
# own pattern; numbers introduced by words such as "MRN" or "hospital number" are caught
# whatever their layout (see _HOSPITAL_CONTEXT_RE).

# NHS numbers (England, Wales, Isle of Man), CHI numbers (Scotland) and H&C numbers (Northern
# Ireland) share one layout: ten digits, written plain, 3-3-4 with spaces or 3-3-4 with dashes,
# the last a modulus-11 check digit. The scanner works on decoded text (see _decode), where
# non-breaking spaces and Unicode dashes are already plain spaces and hyphens.
# Zero-width so that every start position is tried: a candidate with a wrong check digit must
# not consume characters that belong to a valid number next to it.
_NHS_CANDIDATE_RE: Final = re.compile(r"(?<!\d)(?=(\d{3}[ \-]?\d{3}[ \-]?\d{4})(?!\d))")
_NHS_WEIGHTS: Final = (10, 9, 8, 7, 6, 5, 4, 3, 2)
# Words that make a ten-digit number a patient identifier whatever its check digit: a typo in
# the last digit does not make "NHS no 943 476 5918" any less someone's record. The label must
# end within a few characters (no digit between) before the number.
_NHS_LABEL_RE: Final = re.compile(
    r"(?:\b(?:nhs|chi|h\s?&\s?c|h\s?and\s?c|hcn)"
    r"|\b(?:hospital|hosp|patient|pt|health\s{1,3}(?:and|&)\s{1,3}care|unit|case\s{1,3}note)"
    r"\s{0,3}(?:number|num|no|id|#))(?![a-z])[^\d\n]{0,16}\Z",
    re.IGNORECASE,
)
_NHS_LABEL_LOOKBACK: Final = 48


def _has_nhs_check_digit(digits: str) -> bool:
    """The modulus-11 check of the NHS Data Dictionary, and nothing else.

    The ``nhs-number`` package also rejects numbers outside the ranges it can place in a
    region; for a privacy guard that is a leak (Scottish CHI numbers, unissued ranges, test
    ranges that staff paste from training systems), so the check digit alone decides.
    """
    total = sum(int(digit) * weight for digit, weight in zip(digits, _NHS_WEIGHTS, strict=False))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


_MONTH = (
    r"(?:january|february|march|april|june|july|august|september|sept|october|november"
    r"|december|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(?![a-z])"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE_STARTING_WITH_DIGIT = (
    r"(?P<date>"
    r"\d{1,2}[./\-]\d{1,2}[./\-](?:\d{4}|\d{2})(?!\d)"  # 12/03/1950, 12.03.50
    r"|\d{4}[./\-]\d{1,2}[./\-]\d{1,2}(?!\d)"  # 1950-03-12
    rf"|\d{{1,2}}{_ORDINAL}[\s\-/.]{{0,3}}(?:of\s)?\s?{_MONTH}\.?,?[\s\-/.]{{0,3}}"
    r"(?:\d{4}|'?\d{2})(?!\d)"  # 12 March 1950, 12th of Mar '50, 12-Mar-1950
    r")"
)
_DATE_STARTING_WITH_MONTH = (
    rf"(?P<month_first_date>{_MONTH}\.?\s{{1,3}}\d{{1,2}}{_ORDINAL},?\s{{1,3}}\d{{4}}(?!\d))"
)
# A date is only a date of birth when the text says so; clinic dates and deadlines are not
# identifying and redacting them would make questions unanswerable.
#
# The keyword may be a few words away ("born in Leeds on 3/4/1988"), but the gap may not
# contain a digit, so an unrelated later date is not swept up. The gap is possessive: it stops
# at the first digit and never gives characters back, so each keyword costs one attempt rather
# than one per gap length (which made "DOB DOB DOB ..." ten times slower). Month-first dates
# cannot use that trick and are rare in UK text, so they must follow the keyword closely.
_DOB_RE: Final = re.compile(
    r"(?:\bd\.?\s?o\.?\s?b|\bdate\s{1,3}of\s{1,3}birth|\bbirth\s?date|\bborn)(?![a-z])"
    rf"(?:[^\d\n]{{0,30}}+{_DATE_STARTING_WITH_DIGIT}"
    rf"|[\s:=.,;(\-]{{0,6}}(?:on\s|is\s|was\s|of\s)?\s?{_DATE_STARTING_WITH_MONTH})",
    re.IGNORECASE,
)

# Identifiers introduced by these words are hospital numbers whatever their local layout.
_HOSPITAL_CONTEXT_RE: Final = re.compile(
    r"(?:\bhospital\s{1,3}(?:number|num|no|id)|\bhosp\.?\s{0,2}(?:number|num|no)|\bmrn"
    r"|\bmedical\s{1,3}record\s{1,3}(?:number|no)|\bunit\s{1,3}(?:number|no)"
    r"|\bcase\s{1,3}note\s{1,3}(?:number|no)|\bpas\s{1,3}(?:number|no))(?![a-z])"
    r"[\s:#.=(\-]{0,5}(?:is\s)?\s?(?P<value>[a-z0-9][a-z0-9/\-]{3,19})",
    re.IGNORECASE,
)
_MIN_DIGITS_IN_CONTEXT_HOSPITAL_NUMBER: Final = 3

# The look-behind anchors the local part at the start of its run; without it a long run of
# address characters with no "@" would be rescanned from every position (quadratic).
_EMAIL_RE: Final = re.compile(
    r"(?<![A-Za-z0-9._%+'\-])[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+\.[A-Za-z0-9.\-]*[A-Za-z]"
)

# Shape of a full postcode: outward code (area letters, district digit, optional sub-district)
# then inward code (sector digit, two unit letters from the set Royal Mail uses). Matching
# the shape and then checking the area against the real list keeps "Q3 4th" or "mp3 2nd" out;
# putting the 120 areas into the pattern as an alternation made it twenty times slower.
_POSTCODE_RE: Final = re.compile(
    r"\b(?P<area>[A-Z]{1,2})\d[A-Z\d]?[ \t\u00a0]{0,2}\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE
)
_POSTCODE_AREAS: Final = frozenset(
    (
        "AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH "
        "DL DN DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT "
        "KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG "
        "RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD "
        "WF WN WR WS WV YO ZE"
    ).split()
)

# A name is only found where the wording marks one: a title ("Mrs Jones", "Mr A. Khan") or words
# such as "patient called" / "name:". Free-standing capitalised words are not names (they are
# wards, drugs, places and the start of sentences), and guessing at them would redact half of
# every question. The title must be written as a title (capital first letter) and the name
# capitalised, so "I miss Friday's teaching" is not a name. Bounded repetition throughout.
_NAME_WORD = r"[A-Z][A-Za-z'\u2019\-]{1,30}"
# A following record keyword is not a second name ("Mrs Jones DOB ...").
_NOT_A_KEYWORD = r"(?!(?:DOB|DoB|MRN|NHS|Hosp|Hospital|Ward|Bay|Bed|Aged?)\b)"

_TITLED_NAME_RE: Final = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Master|MR|MRS|MS|MISS)\.?[ \t\u00a0]{1,3}"
    rf"(?P<name>(?:[A-Z]\.?[ \t\u00a0]{{1,3}}){{0,2}}{_NAME_WORD}(?:[ \-]{_NOT_A_KEYWORD}{_NAME_WORD})?)(?![a-z])"
)
_NAMED_PATIENT_RE: Final = re.compile(
    r"(?:\b(?:[Pp]atient|[Pp]t|[Cc]lient|[Rr]esident|[Bb]aby|[Cc]hild|[Ss]on|[Dd]aughter)"
    r"[ \t]{1,3}(?:(?:is|was)[ \t]{1,3})?(?:called|named)"
    r"|\b(?:[Pp]atient'?s?|[Pp]t'?s?)[ \t]{1,3}name(?:[ \t]{1,3}is)?"
    r"|\b[Nn]ame[ \t]{0,2}[:=])"
    rf"[ \t:]{{1,3}}(?P<name>{_NAME_WORD}(?:[ \-]{_NOT_A_KEYWORD}{_NAME_WORD}){{0,2}})(?![a-z])"
)

# libphonenumber's matcher costs about 50 microseconds per digit group it examines, which would
# dominate scanning of digit-heavy clinical notes. Runs of digits and dialling punctuation are
# found cheaply first, and the matcher is run only around runs with enough digits to be a
# valid phone number anywhere (seven, e.g. a GB freephone or a small territory with its
# country code). Text made of nothing but digits and spaces remains the slow case, at roughly
# 15 ms per 4,000 characters, because every group in it is a candidate the matcher must parse.
# Dialling punctuation accepted by libphonenumber (see phonenumberutil._VALID_PUNCTUATION).
_PHONE_RUN_RE: Final = re.compile(
    r"[+\uff0b(\[\uff08\uff3b]?\d"
    r"[\d\s\-\u2010-\u2015\u2212\u30fc\uff0d-\uff0f\u00ad\u200b\u2060()\uff08\uff09\[\]"
    r"\uff3b\uff3d./~\u2053\u223c\uff5e]*"
)
# Any UK-shaped number, whether or not libphonenumber calls it valid: "valid" there means "in
# a range the regulator has allocated", and Ofcom's drama ranges (01632 960xxx, 07700 900xxx,
# 020 7946 0xxx) and newly opened ranges fail it, yet a person who typed one meant a phone
# number. UK-shaped: a trunk 0 (or +44 / 0044, with an optional "(0)") and then nine or ten
# digits of a dialable kind (not 0, 4 or 6 first), spaces, hyphens or a closing bracket between
# them. Bare ten-digit references (audit ids, wrong-check-digit NHS-shaped numbers) have no
# trunk 0 and are not swept up. Bounded repetition keeps it linear.
_UK_PHONE_RE: Final = re.compile(
    r"(?<![\w+])(?:(?:\+|00)44[ \-]?(?:\(0\)[ \-]?)?|\(?0)(?=[1-35789])"
    r"(?:\d[ \-)]{0,2}){8,9}\d(?![\w])"
)
_DATE_SHAPE_RE: Final = re.compile(
    r"\d{1,2}[./\-]\d{1,2}[./\-](?:\d{4}|\d{2})|\d{4}[./\-]\d{1,2}[./\-]\d{1,2}"
)
_PHONE_MIN_DIGITS: Final = 7
# Context kept around a run: the matcher rejects a candidate touching a letter, so it needs
# the character before, and it folds in extensions such as "extension 1234" that follow.
# Anything wider only hands it more unrelated digits to parse.
_PHONE_WINDOW_BEFORE: Final = 4
_PHONE_WINDOW_AFTER: Final = 24
_DIGIT_RE: Final = re.compile(r"\d")


class _RecentFindings:
    """The findings of the last `size` texts scanned, keyed by a keyed hash of the text.

    Findings are positions and kinds only (see `Finding`), and the key is a BLAKE2b MAC under
    a key made at random per process, so nothing here holds, or lets anyone confirm, what a
    message said. Shared by the event loop and the embedding worker thread, hence the lock."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._key = secrets.token_bytes(32)
        self._entries: dict[bytes, tuple[Finding, ...]] = {}
        self._lock = threading.Lock()

    def key(self, text: str) -> bytes:
        return hashlib.blake2b(
            text.encode("utf-8", "surrogatepass"), key=self._key, digest_size=16
        ).digest()

    def get(self, key: bytes) -> tuple[Finding, ...] | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: bytes, findings: tuple[Finding, ...]) -> None:
        with self._lock:
            if key not in self._entries and len(self._entries) >= self._size:
                del self._entries[next(iter(self._entries))]  # the oldest
            self._entries[key] = findings


class PrivacyScanner:
    """Find and remove patient-identifiable data from a message.

    ``hospital_number_pattern`` is a regular expression for free-standing local hospital
    numbers (default :data:`DEFAULT_HOSPITAL_NUMBER_PATTERN`). Pass ``None`` to switch off
    the free-standing match if it is too noisy for a trust's traffic; numbers introduced by
    "MRN", "hospital number" and similar words are still found because the wording alone
    shows they are patient identifiers. Instances are immutable and safe to share between
    tasks.
    """

    def __init__(
        self, hospital_number_pattern: str | None = DEFAULT_HOSPITAL_NUMBER_PATTERN
    ) -> None:
        self._hospital_number_re: re.Pattern[str] | None
        if hospital_number_pattern is None:
            self._hospital_number_re = None
        else:
            try:
                self._hospital_number_re = re.compile(hospital_number_pattern)
            except re.error as exc:
                # The pattern is configuration, not patient data, so it is safe to echo.
                raise ValueError(
                    f"invalid hospital_number_pattern {hospital_number_pattern!r}: {exc}"
                ) from exc
        self._recent = _RecentFindings()

    def scan(self, text: str) -> list[Finding]:
        """Return every identifier in ``text``, sorted and with overlaps merged.

        Callers can redact with the result and describe it to the requester without running
        detection twice. Detection runs on the decoded text (HTML entities, chat markup,
        invisible characters and Unicode digits and spaces resolved, see :func:`_decode`), and
        the findings are spans of the text as given, covering everything that encoded the
        identifier, so redacting leaves no fragment of an ``&nbsp;`` or a ``<tel:...>`` behind.

        A message is scanned where it is journalled, where it is embedded and where it is
        answered; the findings of recent texts are remembered (`_RecentFindings`), so it is
        scanned once.
        """
        key = self._recent.key(text)
        known = self._recent.get(key)
        if known is not None:
            return list(known)
        findings = self._scan_uncached(text)
        self._recent.put(key, tuple(findings))
        return findings

    def _scan_uncached(self, text: str) -> list[Finding]:
        decoded = _decode(text)
        if decoded is None:
            return self._scan_decoded(text)
        return _merge([decoded.to_original(f) for f in self._scan_decoded(decoded.text)])

    def _scan_decoded(self, text: str) -> list[Finding]:
        found = _merge(
            [
                *self._nhs_numbers(text),
                *self._dates_of_birth(text),
                *self._hospital_numbers(text),
                *self._emails(text),
                *self._postcodes(text),
                *self._names(text),
            ]
        )
        # Phone matching is by far the slowest detector, so it runs last and skips digits the
        # others have already accounted for.
        return _merge([*found, *self._phone_numbers(text, found)])

    def redact(self, text: str, findings: Sequence[Finding] | None = None) -> str:
        """Replace each identifier with its label.

        ``findings`` lets a caller that has already scanned avoid a second pass; they are
        re-merged here so overlapping spans supplied by hand cannot leave fragments behind.
        """
        if findings is None:
            findings = self.scan(text)
        merged = _merge(findings)
        if merged and merged[-1].end > len(text):
            raise ValueError("finding lies beyond the end of the text")
        parts: list[str] = []
        position = 0
        for finding in merged:
            parts.append(text[position : finding.start])
            parts.append(finding.label)
            position = finding.end
        parts.append(text[position:])
        return "".join(parts)

    @staticmethod
    def describe(findings: Sequence[Finding]) -> str:
        """Tell the requester what kind of data they sent, never the data itself.

        Returns an empty string when there is nothing to say, so callers can test the result.
        """
        counts: dict[FindingKind, int] = {}
        for finding in findings:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        if not counts:
            return ""
        phrases = [
            _PHRASES[kind][0 if counts[kind] == 1 else 1] for kind in FindingKind if kind in counts
        ]
        listed = (
            phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
        )
        return (
            f"It looks like your message contains {listed}. "
            "Please rephrase without patient-identifiable details."
        )

    # ----------------------------------------------------------------------------------------
    # Detectors
    # ----------------------------------------------------------------------------------------

    @staticmethod
    def _nhs_numbers(text: str) -> Iterator[Finding]:
        for match in _NHS_CANDIDATE_RE.finditer(text):
            candidate = match.group(1)
            digits = candidate.replace(" ", "").replace("-", "")
            start = match.start(1)
            if _has_nhs_check_digit(digits) or _NHS_LABEL_RE.search(
                text, max(0, start - _NHS_LABEL_LOOKBACK), start
            ):
                yield Finding(FindingKind.NHS_NUMBER, start, match.end(1))

    @staticmethod
    def _dates_of_birth(text: str) -> Iterator[Finding]:
        for match in _DOB_RE.finditer(text):
            group = "date" if match.start("date") >= 0 else "month_first_date"
            yield Finding(FindingKind.DATE_OF_BIRTH, match.start(group), match.end(group))

    def _hospital_numbers(self, text: str) -> Iterator[Finding]:
        if self._hospital_number_re is not None:
            for match in self._hospital_number_re.finditer(text):
                if match.end() > match.start():
                    yield Finding(FindingKind.HOSPITAL_NUMBER, match.start(), match.end())
        for match in _HOSPITAL_CONTEXT_RE.finditer(text):
            value = match.group("value").rstrip("/-")
            if len(_DIGIT_RE.findall(value)) >= _MIN_DIGITS_IN_CONTEXT_HOSPITAL_NUMBER:
                start = match.start("value")
                yield Finding(FindingKind.HOSPITAL_NUMBER, start, start + len(value))

    @staticmethod
    def _emails(text: str) -> Iterator[Finding]:
        for match in _EMAIL_RE.finditer(text):
            yield Finding(FindingKind.EMAIL, match.start(), match.end())

    @staticmethod
    def _names(text: str) -> Iterator[Finding]:
        for pattern in (_TITLED_NAME_RE, _NAMED_PATIENT_RE):
            for match in pattern.finditer(text):
                yield Finding(FindingKind.NAME, match.start("name"), match.end("name"))

    @staticmethod
    def _postcodes(text: str) -> Iterator[Finding]:
        for match in _POSTCODE_RE.finditer(text):
            if match.group("area").upper() in _POSTCODE_AREAS:
                yield Finding(FindingKind.POSTCODE, match.start(), match.end())

    @staticmethod
    def _phone_numbers(text: str, found: Sequence[Finding]) -> Iterator[Finding]:
        for uk_shaped in _UK_PHONE_RE.finditer(text):
            yield Finding(FindingKind.PHONE_NUMBER, uk_shaped.start(), uk_shaped.end())
        for window_start, window_end in _phone_windows(text, found):
            window = text[window_start:window_end]
            # max_tries would otherwise cap the candidates examined; never stop early.
            matcher = phonenumbers.PhoneNumberMatcher(
                window, "GB", max_tries=max(len(window), 65535)
            )
            for match in matcher:
                yield Finding(
                    FindingKind.PHONE_NUMBER, window_start + match.start, window_start + match.end
                )


def _phone_windows(text: str, found: Sequence[Finding]) -> list[tuple[int, int]]:
    """Spans worth handing to libphonenumber, padded and with overlaps joined.

    ``found`` holds the merged findings of the other detectors. A run lying wholly inside one
    of them would only be merged into it, so the matcher is spared it; likewise runs shaped
    like a date, which libphonenumber never accepts but still pays to parse.
    """
    starts = [finding.start for finding in found]
    windows: list[tuple[int, int]] = []
    for run in _PHONE_RUN_RE.finditer(text):
        digits = run.group()
        if len(_DIGIT_RE.findall(digits)) < _PHONE_MIN_DIGITS:
            continue
        core_length = len(digits)
        while not digits[core_length - 1].isdecimal():
            core_length -= 1
        if _DATE_SHAPE_RE.fullmatch(digits, 0, core_length):
            continue
        core_start, core_end = run.start(), run.start() + core_length
        index = bisect.bisect_right(starts, core_start) - 1
        if index >= 0 and found[index].end >= core_end:
            continue
        start = max(0, run.start() - _PHONE_WINDOW_BEFORE)
        end = min(len(text), run.end() + _PHONE_WINDOW_AFTER)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


# Everything the decoder has work to do for: anything outside printable ASCII, an entity, a tag.
_NEEDS_DECODING_RE: Final = re.compile(r"[^\t\n\r\x20-\x25\x27-\x3b\x3d-\x7e]")
_DECODE_TOKEN_RE: Final = re.compile(
    r"(?P<entity>&(?:\#[0-9]{1,7}|\#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
    # Slack's links: <tel:...|label>, <mailto:...|label>, <https://...|label>.
    r"|(?P<link><(?:tel|mailto|sms|callto|https?):[^<>\n]{0,1000}>)"
    r"|(?P<tag></?(?P<tag_name>[A-Za-z][A-Za-z0-9]{0,15})(?P<attrs>\s[^<>]{0,1000})?/?>)"
    r"|(?P<char>[^\t\n\r\x20-\x25\x27-\x3b\x3d-\x7e])"
)
# Tags that break a line: they stand for a space, so the words either side stay apart. Other
# tags (<b>, <span>, <at> ...) are formatting inside a line and vanish.
_BLOCK_TAGS: Final = frozenset(
    "br p div li ul ol tr td th table h1 h2 h3 h4 h5 h6 blockquote pre hr".split()
)
_LINK_SCHEME_RE: Final = re.compile(r"<(?:tel|mailto|sms|callto|https?):")
_INVISIBLE: Final = frozenset("\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff")
_DASHES: Final = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")


def _fold(char: str) -> str:
    """One character as the detectors expect it: ASCII digits, plain spaces and hyphens."""
    if char in _INVISIBLE:
        return ""
    if char in _DASHES:
        return "-"
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    if unicodedata.category(char) == "Zs":
        return " "
    if "\uff01" <= char <= "\uff5e":  # full-width ASCII
        return chr(ord(char) - 0xFEE0)
    return char


@dataclass(frozen=True, slots=True)
class _Decoded:
    """Text as a person reads it, with each character's source span in the text as sent.

    ``starts[i]``/``ends[i]`` give the span of the original text that produced decoded
    character ``i`` (a whole ``&nbsp;`` for one space). ``links`` are the spans of chat links:
    an identifier anywhere in one takes the whole link with it, target and label alike.
    """

    text: str
    starts: list[int]
    ends: list[int]
    links: list[tuple[int, int]]

    def to_original(self, finding: Finding) -> Finding:
        start, end = self.starts[finding.start], self.ends[finding.end - 1]
        for link_start, link_end in self.links:
            if link_start < end and start < link_end:
                start, end = min(start, link_start), max(end, link_end)
        return Finding(finding.kind, start, end)


def _decode(text: str) -> _Decoded | None:
    """Decode what chat platforms and word processors put between a person and their digits.

    Returns None when there is nothing to decode (plain ASCII, the usual case), so the common
    path costs one regular-expression search. Identifiers otherwise slip through written as
    ``943&nbsp;476&nbsp;5919`` (Teams), ``<tel:07700900123|07700 900123>`` (Slack),
    full-width digits (from an East Asian keyboard) or with zero-width
    spaces pasted from a web page.
    """
    if not _NEEDS_DECODING_RE.search(text):
        return None
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    links: list[tuple[int, int]] = []

    position = 0
    for token in _DECODE_TOKEN_RE.finditer(text):
        _emit_plain(text, position, token.start(), chars, starts, ends)
        start, end = token.span()
        position = end
        if token.group("entity"):
            value = html.unescape(token.group())
            if value == token.group():
                _emit_plain(text, start, end, chars, starts, ends)
            else:
                _emit_folded(value, start, end, chars, starts, ends)
        elif token.group("link"):
            links.append((start, end))
            scheme_end = _LINK_SCHEME_RE.match(text, start)
            body_start = scheme_end.end() if scheme_end else start + 1
            _emit_folded(" ", start, body_start, chars, starts, ends)
            for index in range(body_start, end - 1):
                char = " " if text[index] == "|" else text[index]
                _emit_folded(char, index, index + 1, chars, starts, ends)
            _emit_folded(" ", end - 1, end, chars, starts, ends)
        elif token.group("tag"):
            if token.group("tag_name").lower() in _BLOCK_TAGS:
                _emit_folded(" ", start, end, chars, starts, ends)
            if token.group("attrs"):
                # Attributes are read too (an href="tel:..."), and "<x 943 476 5919>" must
                # not hide a number by looking like a tag.
                attrs_start, attrs_end = token.span("attrs")
                for index in range(attrs_start, attrs_end):
                    _emit_folded(text[index], index, index + 1, chars, starts, ends)
        else:
            _emit_folded(token.group(), start, end, chars, starts, ends)
    _emit_plain(text, position, len(text), chars, starts, ends)
    return _Decoded("".join(chars), starts, ends, links)


def _emit_plain(
    text: str, start: int, end: int, chars: list[str], starts: list[int], ends: list[int]
) -> None:
    # Whole stretches at once: every Slack mention (`<@U123>`) sends a message through the
    # decoder, and a character at a time was most of the scanner's time.
    if end > start:
        chars.extend(text[start:end])
        starts.extend(range(start, end))
        ends.extend(range(start + 1, end + 1))


def _emit_folded(
    value: str, start: int, end: int, chars: list[str], starts: list[int], ends: list[int]
) -> None:
    """Append ``value`` folded, every character of it standing for ``text[start:end]``."""
    for char in value:
        for folded in _fold(char):
            chars.append(folded)
            starts.append(start)
            ends.append(end)


def _merge(findings: Sequence[Finding]) -> list[Finding]:
    """Sort findings and fuse any that overlap into one covering their union.

    The union is used, not the preferred finding's own span, so no fragment of either
    identifier survives redaction.
    """
    ordered = sorted(findings, key=lambda f: (f.start, -f.end, _PRIORITY[f.kind]))
    merged: list[Finding] = []
    for finding in ordered:
        if merged and finding.start < merged[-1].end:
            previous = merged[-1]
            kind = min(previous.kind, finding.kind, key=_PRIORITY.__getitem__)
            merged[-1] = Finding(kind, previous.start, max(previous.end, finding.end))
        else:
            merged.append(finding)
    return merged
