"""Translate one line: prompt with the glossary terms it contains, check the meaning, retry once.

The prompt, the few-shot examples and the glossary are versioned together: the translator
version recorded with each gloss names the backend's model, the prompt and the glossary, so
``overheard translate`` re-makes exactly the glosses an upgrade would change.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from .backends import ChatBackend, identity_key
from ..index.terms import WORD_RE
from .checks import NEGATION_RU_UK, check
from .glossary import Glossary, Match

PROMPT_VERSION = "p2026.12.3"
PLAIN_VERSION = "plain-1"
LANG_NAMES = {"ru": "Russian", "uk": "Ukrainian", "und": "Russian or Ukrainian"}

SYSTEM = """You translate intercepted Russian and Ukrainian military radio traffic, phone calls and soldiers' messages into English for analysts.
Rules:
- Translate faithfully and completely, line for line. Do not summarise, explain or add anything.
- Keep every negation (not, no, never) and every number exactly as said.
- Call signs: keep them in quotes; translate a call sign that is a word ("Береза" -> "Birch", "Рысь" -> "Lynx", "Шестой" -> "Sixth"), transliterate a name ("Буран" -> "Buran").
- Radio procedure: "приём" = "over", "понял"/"принял" = "copy", "как слышишь" = "how do you read me", "конец связи" = "out".
- Swearing and slurs: translate them with English of the same strength; never soften or clean them up.
- If a word is unclear, keep it transliterated in [brackets].
- A line may be followed by "Glossary:" with the meaning of slang in it: use those meanings; never translate or repeat the glossary itself.
- Answer with the English translation only."""

STRICT = """
This is a second attempt: your previous answer lost part of the meaning ({problems}).
Translate again. Every "не"/"нет"/"ни" must appear as a negation in English, every number must appear, and the answer must be in English only."""

# Invented examples in the register of the traffic (not taken from any evaluation data), in the
# exact format of a real request: a small model echoes a hint block it has never seen answered.
EXAMPLES = [
    ("\"Сокол\", я \"Гора\", как слышишь меня? Приём.\nGlossary: приём = over; как слышишь = how do you read me",
     "\"Falcon\", I am \"Mountain\", how do you read me? Over."),
    ("Понял тебя. По нам работает арта, у меня двое трёхсотых, один двухсотый.\n"
     "Glossary: понял = roger / copy; арта = artillery; трехсотый = WIA (wounded); двухсотый = KIA (killed in action)",
     "Roger. Artillery is working on us, I have two wounded (300s) and one killed (200)."),
    ("Мам, нас кинули, жрать нечего, третий день без воды, никто не приезжает.",
     "Mom, they abandoned us, there's nothing to eat, third day without water, nobody comes."),
    ("Да ебашат нас без остановки, пиздец полный, командир съебался.\n"
     "Glossary: ебашить = to pound / hammer (with fire); пиздец = fucked up / a disaster",
     "They're fucking pounding us non-stop, it's completely fucked, the commander bailed."),
]


@dataclass
class Gloss:
    text: str
    flags: list[str]
    terms: list[dict]
    seconds: float
    attempts: int
    translator: str
    meta: dict = field(default_factory=dict)


def _clean(reply: str) -> str:
    """The model sometimes labels or quotes its answer; keep the translation only."""
    text = reply.strip()
    text = re.sub(r"^(english|translation|english translation)\s*:\s*", "", text, flags=re.I)
    if len(text) >= 2 and text[0] == text[-1] == '"' and text.count('"') == 2:
        text = text[1:-1]
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return " ".join(ln.strip() for ln in lines)


def describe(flags: list[str], text: str, lang: str) -> str:
    """The retry prompt names what went missing, with the source words: a small model fixes
    "keep 'не пришлют' negative" far more often than "keep every negation"."""
    out = []
    for flag in flags:
        if flag == "negation-dropped":
            phrases = negated_phrases(text)
            out.append("a negation was dropped" + (": translate " + ", ".join(f'"{p}"' for p in phrases[:3])
                                                   + " as negative" if phrases else ""))
        elif flag.startswith("number-lost:"):
            out.append(f"the number(s) {flag.split(':', 1)[1]} must appear in the English")
        else:
            out.append(flag)
    return "; ".join(out)


def negated_phrases(text: str) -> list[str]:
    """'не пришлют', 'нету', 'ни хера' … as written in the line."""
    words = list(WORD_RE.finditer(text))
    out = []
    for i, m in enumerate(words):
        if m.group().lower() in NEGATION_RU_UK:
            end = words[i + 1].end() if i + 1 < len(words) and m.group().lower() in ("не", "ни", "ні") else m.end()
            out.append(text[m.start():end])
    return out


def glossary_line(matches: list[Match]) -> str:
    """The hint appended to a line: term = English (the reader's notes stay out of it: a small
    model copies them into the translation)."""
    return "Glossary: " + "; ".join(f"{m.term.ru} = {m.term.en}" + (" (slur)" if m.term.kind == "slur" else "")
                                    for m in matches)


class Translator:
    """Glossary-aware, checked translation over any chat backend."""

    def __init__(self, backend: ChatBackend, glossary: Glossary | None = None, *, plain: bool = False,
                 max_tokens: int = 384):
        self.backend = backend
        self.plain = plain
        self.glossary = None if plain else (glossary or Glossary.load())
        self.max_tokens = max_tokens

    @property
    def version(self) -> str:
        if self.plain:
            return f"{PLAIN_VERSION}+{identity_key(self.backend.identity)}"
        return f"{PROMPT_VERSION}+gl.{self.glossary.version}+{identity_key(self.backend.identity)}"

    @property
    def method(self) -> str:
        return "llm-plain" if self.plain else "llm"

    def messages(self, text: str, lang: str, matches: list[Match], strict: str = "") -> list[dict]:
        name = LANG_NAMES.get(lang, "Russian or Ukrainian")
        if self.plain:
            return [{"role": "system", "content": f"Translate the user's text from {name} to English. "
                                                  "Output only the translation."},
                    {"role": "user", "content": text}]
        msgs = [{"role": "system", "content": SYSTEM + strict}]
        for src, en in EXAMPLES:
            msgs += [{"role": "user", "content": src}, {"role": "assistant", "content": en}]
        msgs.append({"role": "user", "content": f"{text}\n{glossary_line(matches)}" if matches else text})
        return msgs

    def translate(self, text: str, lang: str = "ru") -> Gloss:
        """One line's gloss. A long text (an article paragraph, a long message) goes in chunks of
        whole sentences, each checked on its own, so it never overflows the model's context."""
        started = time.perf_counter()
        parts = [(0, text)] if len(text) <= CHUNK_CHARS else list(chunks(text))
        texts, flags, terms, attempts = [], [], [], 0
        for offset, part in parts:
            en, part_flags, matches, tries = self._translate_part(part, lang)
            texts.append(en)
            flags += [f for f in part_flags if f not in flags]
            terms += [{**m.to_dict(), "span": [m.start + offset, m.end + offset]} for m in matches]
            attempts = max(attempts, tries)
        return Gloss(" ".join(t for t in texts if t), flags, terms, round(time.perf_counter() - started, 3),
                     attempts, self.version, {"backend": dict(self.backend.identity), "prompt": PROMPT_VERSION
                                              if not self.plain else PLAIN_VERSION,
                                              "glossary": None if self.plain else self.glossary.version,
                                              "chunks": len(parts)})

    def _translate_part(self, text: str, lang: str) -> tuple[str, list[str], list[Match], int]:
        matches = [] if self.plain else self.glossary.find(text, lang)
        reply = _clean(self.backend.chat(self.messages(text, lang, matches), self.max_tokens))
        flags, attempts = check(text, reply, lang), 1
        if flags and not self.plain:
            retry = _clean(self.backend.chat(
                self.messages(text, lang, matches, STRICT.format(problems=describe(flags, text, lang))),
                self.max_tokens))
            retry_flags, attempts = check(text, retry, lang), 2
            if len(retry_flags) < len(flags):
                reply, flags = retry, retry_flags
        return reply, flags, matches, attempts


CHUNK_CHARS = 1200      # ~500 tokens of Russian: the prompt, the chunk and its English fit in 4,096
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def chunks(text: str, limit: int = CHUNK_CHARS):
    """(offset, piece) of ``text`` in runs of whole sentences of at most ``limit`` characters
    (a single longer sentence is cut at spaces)."""
    pos, buf_start, buf_end = 0, 0, 0
    pieces = []
    for m in list(_SENTENCE_END.finditer(text)) + [None]:
        end = m.start() if m else len(text)
        nxt = m.end() if m else len(text)
        if end - buf_start > limit and buf_end > buf_start:
            pieces.append((buf_start, buf_end))
            buf_start = pos
        buf_end, pos = end, nxt
    pieces.append((buf_start, buf_end))
    for start, end in pieces:
        while end - start > limit:
            cut = text.rfind(" ", start, start + limit)
            cut = cut if cut > start else start + limit
            yield start, text[start:cut]
            start = cut + (1 if text[cut:cut + 1] == " " else 0)
        if text[start:end].strip():
            yield start, text[start:end]
