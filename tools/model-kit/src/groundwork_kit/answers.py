"""Normalising a generated answer for `answers.jsonl` (schemas/answers-line.schema.json).

`normalized` is what the kit could tell, or None:

- closed questions (answer_type "closed"): "yes" or "no" when the answer's first word is one of
  yes, yeah, yep, true, correct, present, positive / no, nope, false, incorrect, absent, negative
  (case, surrounding white space, quotes and punctuation ignored), else None;
- choice questions: the option letter ("A", "B", ...) when the answer starts with a letter alone
  or marked ("B", "B.", "(B)", "B) liver", "Option B"), or, failing that, when the answer's text
  equals one option or contains exactly one option's text, else None;
- open questions: None (score compares the normalised text itself).

`groundwork score` trusts `normalized` when it is given (answer-match@1).
"""

from __future__ import annotations

import re

YES = {"yes", "yeah", "yep", "true", "correct", "present", "positive"}
NO = {"no", "nope", "false", "incorrect", "absent", "negative"}
_QUOTES = "\"'`\u201c\u201d\u2018\u2019"
_FINAL = ".!?,;:"


def normalize_text(text: str) -> str:
    """Lower case; surrounding white space, quotes and final punctuation removed; inner white
    space runs made one space (the same rule as score's AnswerJudge.normalize)."""
    value = text.lower().strip()
    changed = True
    while changed and value:
        changed = False
        if value and (value[-1] in _FINAL or value[-1] in _QUOTES):
            value = value[:-1]
            changed = True
        if value and value[0] in _QUOTES:
            value = value[1:]
            changed = True
        value = value.strip()
    return " ".join(value.split())


def letter(index: int) -> str:
    return chr(ord("A") + index % 26)


def normalize_answer(answer: str, answer_type: str, options: list[str] | None) -> str | None:
    text = normalize_text(answer)
    if answer_type == "closed":
        match = re.match(r"[a-z]+", text)
        if match is None:
            return None
        word = match.group(0)
        return "yes" if word in YES else "no" if word in NO else None
    if answer_type == "choice":
        count = len(options or [])
        if count == 0:
            return None
        found = re.match(r"^(?:option\s+|answer\s*:?\s*)?\(?([a-z])(?:[)\].:]|$|\s)", text)
        if found:
            index = ord(found.group(1)) - ord("a")
            if 0 <= index < count:
                return letter(index)
        normalized = [normalize_text(o) for o in options or []]
        if text in normalized:
            return letter(normalized.index(text))
        inside = [i for i, o in enumerate(normalized) if o and re.search(r"\b" + re.escape(o) + r"\b", text)]
        if len(inside) == 1:
            return letter(inside[0])
        return None
    return None
