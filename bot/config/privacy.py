"""The privacy scanner's default, kept with the settings that can change it.

A hospital number's format differs between trusts (EVIDENCE_DESK_HOSPITAL_NUMBER_PATTERN);
this is the default: one to three capital letters and six to eight digits, except the
PMC and NCT prefixes of article and trial ids, which look the same and are not patients',
and a MeSH descriptor id in a link to NLM's MeSH browser ("...record/ui?ui=D000058", the
search-strategy starter's headings), which is not one either.
"""

from __future__ import annotations

from typing import Final

DEFAULT_HOSPITAL_NUMBER_PATTERN: Final[str] = r"\b(?<!ui=)(?!(?:PMC|NCT)\d)[A-Z]{1,3}\d{6,8}\b"
