"""Plain keyword baseline: surface substrings per code, no lemmas, negation or stance logic.

Same interface as the detector (analyze / analyze_many), for comparison only.
"""
from __future__ import annotations

import re

from .indicators import AnalysisResult, Finding, LANGS, Detector

BASELINE_VERSION = "keywords-2026.11.1"

# lowercased surface substrings; a match anywhere in the lowercased text fires the code
KEYWORDS: dict[str, dict[str, list[str]]] = {
    "ru": {
        "fear": ["страшно", "боюсь", "боимся", "страх", "испугал"],
        "distress": ["плач", "рыда", "слёз", "слез", "заебал", "не могу", "устал", "депресс", "отчаян"],
        "self_harm": ["повеситься", "застрелиться", "вены", "самоубий", "суицид", "покончить с собой"],
        "deceived": ["обманули", "наебали", "обман", "учения", "врут"],
        "unwilling": ["домой", "не хочу воевать", "отказ", "сдаться", "дезертир"],
        "coercion": ["расстрел", "заградотряд", "пристрелят", "обнулят"],
        "casualties": ["двухсот", "трёхсот", "трехсот", "200", "300", "груз 200", "погиб", "убит",
                       "ранен", "труп", "мёртв", "мертв", "цинк", "потери"],
        "infighting": ["по своим", "свои же", "наши же", "нахуй", "баран", "дебил"],
        "civilian_harm": ["мирных", "мирные", "гражданск", "насил", "мародёр", "мародер"],
        "neglect": ["нет еды", "нет воды", "нету", "где поддержка", "где воздух", "бросили", "голод", "нечего"],
        "resolve": ["держимся", "победим", "прорвёмся", "прорвемся", "всё хорошо", "все хорошо"],
    },
    "uk": {
        "fear": ["страшно", "боюся", "боюсь", "страх"],
        "distress": ["плач", "сльоз", "не можу", "втомив", "депрес", "відчай"],
        "self_harm": ["повіситися", "застрелитися", "вени", "самогуб", "суїцид"],
        "deceived": ["обдурили", "обманули", "брехн", "навчання"],
        "unwilling": ["додому", "не хочу воювати", "відмов", "здатися", "дезертир"],
        "coercion": ["розстріл", "загороджув", "заградотряд"],
        "casualties": ["двохсот", "трьохсот", "200", "300", "загин", "вбит", "поранен", "труп", "втрати"],
        "infighting": ["по своїх", "свої ж", "нахуй", "дебіл"],
        "civilian_harm": ["мирних", "цивільн", "ґвалт", "гвалт", "мародер"],
        "neglect": ["нема їжі", "нема води", "немає", "де підтримка", "кинули", "голод"],
        "resolve": ["тримаємося", "переможемо", "все добре"],
    },
    "en": {
        "fear": ["scared", "afraid", "fear", "terrified", "frightened", "panic"],
        "distress": ["cry", "crying", "tears", "demoralised", "demoralized", "despair", "low morale", "exhausted"],
        "self_harm": ["kill myself", "suicide", "wrists", "kill himself"],
        "deceived": ["lied", "deceived", "training", "exercise", "propaganda"],
        "unwilling": ["go home", "not our war", "refuse", "desert", "surrender", "want to fight"],
        "coercion": ["shot", "enemies of the state", "threat"],
        "casualties": ["killed", "dead", "bodies", "wounded", "injur", "casualties", "cargo 200"],
        "infighting": ["each other", "friendly fire", "our own"],
        "civilian_harm": ["civilian", "rape", "looting", "loot"],
        "neglect": ["no food", "no water", "support", "supplies", "abandoned"],
        "resolve": ["we will win", "we'll hold", "high morale", "proud"],
    },
}


class KeywordBaseline:
    """Fires a code when any of its keywords occurs as a substring (first occurrence)."""

    def __init__(self, keywords: dict | None = None):
        self.version = BASELINE_VERSION
        kw = keywords or KEYWORDS
        self._re = {
            lang: [(code, re.compile("|".join(re.escape(k) for k in sorted(words, key=len, reverse=True))))
                   for code, words in codes.items() if words]
            for lang, codes in kw.items()
        }

    def analyze(self, text: str, lang: str) -> AnalysisResult:
        if not isinstance(text, str) or not text.strip():
            return AnalysisResult([], "empty", None)
        l = Detector.norm_lang(lang)
        if l is None or l not in self._re:
            return AnalysisResult([], "unsupported", f"language {lang!r} not supported")
        low = text.lower()  # same length as text for Cyrillic/Latin
        out = []
        for code, rx in self._re[l]:
            m = rx.search(low)
            if m:
                out.append(Finding(code, "narration" if l == "en" else "self", 0.5,
                                   m.start(), m.end(), "keyword:" + code))
        return AnalysisResult(out, "ok", None)

    def analyze_many(self, items):
        return [self.analyze(t, l) for t, l in items]


assert set(KEYWORDS) == set(LANGS)
