"""Which registration choices a user's words name: business type, employer type, specialty role and
the kind of information change (POST /api/registration/match; the conversation sends what users type).

The words are rules.yml's. A text that is exactly a code, name, alias or word of a choice names it;
otherwise the first choice (in the file's order) one of whose `words` occurs in the text. A text is
read either as a sentence or as the answer to the question about one field (`answer_to`); an answer
is read more freely, because the question says what it is about.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.registration.rules import Named, Rulebook

FIELDS = ("business_type", "employer_type", "specialty_role", "info_change_kind")
# Read only as the answer to their own question: the employer "other" words (其他, 别的) and every
# information kind ("电话", "名字") mean something else in most sentences.
ANSWER_ONLY = {("employer_type", "other"), ("info_change_kind", None)}


def read_choices(book: Rulebook, text: str, answer_to: str | None = None) -> dict[str, Named | None]:
    """Field -> the choice `text` names (None when it names none)."""
    text = text.strip()
    roles = {**({"added_to_main": book.added_to_main} if book.added_to_main else {}), **book.specialty_roles}
    tables = {
        "business_type": book.business_types,
        "employer_type": book.employer_types,
        "specialty_role": roles,
        "info_change_kind": book.info_change_kinds,
    }
    return {
        field: _find(field, table, _text_for(book, field, text, answer_to), answer_to == field)
        for field, table in tables.items()
    }


def _text_for(book: Rulebook, field: str, text: str, answer_to: str | None) -> str:
    """In a sentence "增项注册" names the business, not the specialty's role."""
    if field != "specialty_role" or answer_to == field:
        return text
    for item in book.business_types.values():
        for word in item.words:
            text = text.replace(word, " ")
    return text


def _find(field: str, table: Mapping[str, Named], text: str, as_answer: bool) -> Named | None:
    if as_answer:
        code = Rulebook.lookup(table, text)
        if code is not None:
            return table[code]
    elif (field, None) in ANSWER_ONLY:
        return None
    for item in table.values():
        if (as_answer or (field, item.code) not in ANSWER_ONLY) and any(word in text for word in item.words):
            return item
    return None
