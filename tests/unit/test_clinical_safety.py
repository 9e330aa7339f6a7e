"""Clinical safety, one rule a test (docs/clinical-safety.md names the test for each control).

The bot never answers a clinical question from its knowledge base, always offers a search request
instead, and signposts an emergency or a risk to life before anything else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.messages import Intent, Reply
from handlers.answers import Answerer
from handlers.intents import ClinicalVocabulary
from handlers.listening import Listener
from handlers.replies import ACTION_OPEN_REQUEST
from knowledge import SHIPPED_KB_DIR
from knowledge.loader import read_directory
from tests.conftest import TODAY, KbFolder

WHEN_TO_CALL_999 = (
    "https://www.nhs.uk/nhs-services/urgent-and-emergency-care-services/when-to-call-999/"
)
MENTAL_HEALTH_HELP = "https://www.nhs.uk/nhs-services/mental-health-services/where-to-get-urgent-help-for-mental-health/"


@pytest.fixture(scope="module")
def vocabulary() -> ClinicalVocabulary:
    return ClinicalVocabulary.from_file(SHIPPED_KB_DIR / "clinical_terms.yaml")


def assert_offers_a_search_without_advice(reply: Reply) -> None:
    assert reply.intent is Intent.SEARCH_REQUEST and reply.faq_id is None
    assert reply.text.startswith("I can't advise on patient care")
    assert reply.prefill is not None and reply.prefill.topic
    assert [b.action for b in reply.buttons] == [ACTION_OPEN_REQUEST]


def assert_emergency_signposting(reply: Reply) -> None:
    assert reply.intent is Intent.URGENT
    assert "call 999 now" in reply.text and "A&E" in reply.text and "NHS 111" in reply.text
    assert WHEN_TO_CALL_999 in [s.url for s in reply.sources]
    assert reply.buttons == () and reply.prefill is None  # signposting only: nothing to file


@pytest.mark.parametrize(
    "question",
    [
        # Each of these matches an FAQ well enough to be answered, were it not clinical.
        "gentamicin level alert came back, what now",
        "new research alerts for my specialty - K+ 6.2, do we give insulin dextrose",
        "critical appraisal training: can I give 2 units of blood with Hb 75",
        "my openathens expired, should I give gentamicin 5mg/kg or 7mg/kg",
        "do we have UpToDate, need to know if I can give ketorolac with eGFR 25",
        "vancomycin level alert came back high, do we skip the next dose?",
        "need to renew the flucloxacillin prescription for bed 4, how long should it run?",
        "do we follow the training guidance and stop apixaban 48 hours before surgery?",
        "access to the tazocin protocol - can I give it with a penicillin allergy?",
        "the guideline says 1 gram ceftriaxone but my patient weighs 120 kg, should I double it?",
        "can I register my patient for levetiracetam monitoring or should I stop it",
    ],
)
def test_a_clinical_question_with_a_library_word_is_never_answered_from_the_kb(
    answerer: Answerer, question: str
) -> None:
    assert_offers_a_search_without_advice(answerer.answer(question).reply)


def test_drug_names_come_from_the_packaged_list_not_only_word_endings(
    vocabulary: ClinicalVocabulary,
) -> None:
    # Neither in clinical_terms.yaml nor caught by an ending such as -mycin or -cillin.
    assert vocabulary.drug_names("is ketorolac ok with an eGFR of 40") == ["ketorolac"]
    assert "gentamicin" in vocabulary.drug_names("gentamicin levels")
    assert vocabulary.drug_names("how do I renew my athens account") == []


@pytest.mark.parametrize(
    "question", ["morphine 10mg", "fentanyl 40 mcg/kg", "heparin 18 units/kg", "running at 6 ml/hr"]
)
def test_a_dose_or_a_rate_marks_a_question_as_patient_care(
    vocabulary: ClinicalVocabulary, question: str
) -> None:
    assert vocabulary.patient_care(question) == "dose"


@pytest.mark.parametrize("question", ["K+ 6.2 this morning", "eGFR 25, what now", "Hb 70 post op"])
def test_a_lab_value_marks_a_question_as_patient_care(
    vocabulary: ClinicalVocabulary, question: str
) -> None:
    assert vocabulary.patient_care(question) == "lab value"


@pytest.mark.parametrize(
    "question",
    [
        "should I give gentamicin to this patient",
        "do we stop the warfarin before surgery",
        "can I give my patient her insulin early",
    ],
)
def test_should_i_or_do_we_give_a_drug_marks_a_question_as_patient_care(
    vocabulary: ClinicalVocabulary, question: str
) -> None:
    assert vocabulary.patient_care(question) == "drug"


@pytest.mark.parametrize(
    "question",
    [
        "should I give gentamicin to a patient with an eGFR of 25?",  # was a bare "can't help"
        "Hb 70 post op, can I transfuse 2 units?",
        "is melatonin effective for sleep in ICU patients",
        "any guidance on whether I should give gentamicin to bed 4?",  # worded as a request
        "chest pain radiating to left arm in 50yo male management",  # a case, not a question
    ],
)
def test_a_clinical_question_gets_no_advice_and_always_the_offer_of_a_search(
    answerer: Answerer, question: str
) -> None:
    assert_offers_a_search_without_advice(answerer.answer(question).reply)


def test_one_clinical_word_about_a_described_case_is_a_clinical_question(
    vocabulary: ClinicalVocabulary,
) -> None:
    assert vocabulary.is_clinical_question("sepsis in a 72 year old on the ward")
    assert vocabulary.is_clinical_question("delirium in an 85yo on the ward")
    assert not vocabulary.is_clinical_question("sepsis audit results for the board")


def test_an_age_without_a_clinical_word_is_not_a_clinical_question(
    vocabulary: ClinicalVocabulary,
) -> None:
    assert not vocabulary.is_clinical_question("my 17 year old work experience student")


@pytest.mark.parametrize(
    "message",
    [
        "my husband has crushing chest pain and is sweating",
        "I think my mum is having a stroke, her face is drooping",
        "he's not breathing",
        "I'm struggling to breathe",
        "my colleague just collapsed and is unconscious",
        "my son is having a fit",
        "I've cut my hand and it won't stop bleeding",
        "her lips are swelling, I think it's anaphylaxis",
        "my flatmate has taken an overdose",
        "my baby is floppy and won't wake up",
    ],
)
def test_an_emergency_is_signposted_to_999_111_and_a_and_e(
    answerer: Answerer, message: str
) -> None:
    assert_emergency_signposting(answerer.answer(message).reply)


@pytest.mark.parametrize(
    "message",
    [
        "I've been thinking about killing myself",
        "I keep self harming and can't stop",
        "my friend says she is going to end her life tonight",
    ],
)
def test_a_risk_to_life_gets_999_111_option_2_and_samaritans(
    answerer: Answerer, message: str
) -> None:
    reply = answerer.answer(message).reply
    assert reply.intent is Intent.URGENT and reply.buttons == ()
    assert "call 999 or go to A&E" in reply.text
    assert "NHS 111 and choose option 2" in reply.text
    assert "Samaritans" in reply.text and "116 123" in reply.text
    assert MENTAL_HEALTH_HELP in [s.url for s in reply.sources]


@pytest.mark.parametrize(
    "question",
    [
        "chest pain guidelines evidence",
        "can you do a search on stroke rehabilitation",
        "is there any training on anaphylaxis for nurses",
        "literature on suicide prevention in young men",
        "what is the evidence for self-harm interventions in adolescents",
    ],
)
def test_a_library_question_about_an_emergency_topic_is_not_signposted(
    answerer: Answerer, question: str
) -> None:
    assert answerer.answer(question).reply.intent is not Intent.URGENT


@pytest.mark.parametrize(
    "message",
    [
        "the library catalogue is not responding",
        "my laptop won't wake up",
        "who does the fitting of anti-embolism stockings",
        "I hurt myself lifting a patient, who do I report it to",
        "patients who want to die at home - end of life evidence",
    ],
)
def test_everyday_words_shared_with_the_signs_are_not_signposted(
    answerer: Answerer, message: str
) -> None:
    assert answerer.answer(message).reply.intent is not Intent.URGENT


def test_a_person_in_danger_now_is_signposted_even_in_a_request_for_evidence(
    answerer: Answerer,
) -> None:
    assert_emergency_signposting(
        answerer.answer("my dad has chest pain right now, can you find evidence on aspirin?").reply
    )


def test_signposting_comes_before_anything_else_even_a_message_too_long_to_read(
    answerer: Answerer,
) -> None:
    long = "Sorry for the long message. " * 200 + "My wife has collapsed and is not breathing."
    assert_emergency_signposting(answerer.answer(long).reply)


def test_listening_mode_signposts_an_emergency_unasked(answerer: Answerer) -> None:
    listener = Listener(answerer, store=None, unasked_threshold=0.24, per_hour=5)  # type: ignore[arg-type]
    reply = listener.verdict("someone has collapsed in the corridor outside the library")
    assert reply is not None and reply.intent is Intent.URGENT
    assert "call 999 now" in reply.text
    assert [b.label for b in reply.buttons] == ["Not now", "Stop listening here"]


def test_listening_mode_leaves_a_ward_note_about_a_patient_in_care_to_the_team(
    answerer: Answerer,
) -> None:
    listener = Listener(answerer, store=None, unasked_threshold=0.24, per_hour=5)  # type: ignore[arg-type]
    assert listener.verdict("can someone review bed 9, c/o chest pain") is None
    assert (
        listener.verdict("bed 4 says he wants to kill himself, can the psych liaison come") is None
    )
    own = listener.verdict("after that shift on the ward I want to end it all")
    assert own is not None and "116 123" in own.text
    # Asked directly, the same words are signposted.
    assert_emergency_signposting(answerer.answer("can someone review bed 9, c/o chest pain").reply)


def test_the_urgent_wording_is_a_reviewed_kb_file_with_a_clinical_owner() -> None:
    _, problems = read_directory(SHIPPED_KB_DIR, TODAY)
    assert [p for p in problems if "urgent.yaml" in p.file] == []
    text = (SHIPPED_KB_DIR / "urgent.yaml").read_text()
    assert "owner: Clinical Safety Officer" in text and "review_by:" in text


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (("owner: Clinical Safety Officer (Evidence Desk deployment)\n", ""), "'owner'"),
        (("review_by: 2027-06-02\n", ""), "'review_by'"),
        (("on **116 123**", "on the phone"), "must give '116 123'"),
        (("choose option 2", "choose the right option"), "must give 'option 2'"),
    ],
)
def test_the_loader_refuses_urgent_wording_without_owner_review_date_or_numbers(
    kb_folder: KbFolder, edit: tuple[str, str], problem: str
) -> None:
    shipped = (SHIPPED_KB_DIR / "urgent.yaml").read_text()
    assert edit[0] in shipped
    kb_folder.write("urgent.yaml", shipped.replace(edit[0], edit[1]))
    kb, problems = read_directory(Path(kb_folder.path), TODAY)
    assert kb is None
    assert any(problem in p.message and p.file.endswith("urgent.yaml") for p in problems)


def test_an_emergency_carrying_an_nhs_number_is_signposted_and_echoes_nothing(
    answerer: Answerer,
) -> None:
    reply = answerer.answer("my patient 943 476 5919 has collapsed and is not breathing").reply
    assert_emergency_signposting(reply)
    assert "5919" not in reply.text and reply.warning and "NHS number" in reply.warning


def test_a_problem_in_the_urgent_wording_points_at_its_line(kb_folder: KbFolder) -> None:
    shipped = (SHIPPED_KB_DIR / "urgent.yaml").read_text()
    kb_folder.write("urgent.yaml", shipped.replace("on **116 123**", "on the phone"))
    _, problems = read_directory(Path(kb_folder.path), TODAY)
    (problem,) = [p for p in problems if p.file.endswith("urgent.yaml")]
    lines = shipped.splitlines()
    mental = lines.index("mental_health:")
    reply_line = next(n for n in range(mental, len(lines)) if lines[n].strip().startswith("reply:"))
    assert problem.line == reply_line + 1
