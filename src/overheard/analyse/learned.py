"""The learned half of the indicator detector: one calibrated linear model per code over
character n-grams and word lemmas, scored per sentence so that a finding points at the
sentence that carries it.

    from overheard.analyse.learned import load_model
    m = load_model()                      # the shipped model (model/indicators-linear.npz)
    m.version                             # e.g. "linear-2026.12.1+c3f0a9d1"
    scored = m.score_many([(text, "ru"), ...])
    scored[0].best["fear"]                # (probability, start, end) of the best window

The model is stored as plain arrays (vocabularies, idf weights, coefficients, sigmoid
calibration) in one ``.npz`` file, never as a pickle: loading it runs no code and does not
depend on the scikit-learn version that trained it. ``train.py`` builds it with
scikit-learn from the corpus in ``corpus/``; inference rebuilds the same vectorizers from
the stored vocabularies.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .indicators import CODES, STANCES
MODEL_PATH = Path(__file__).resolve().parent / "model" / "indicators-linear.npz"

# Sentences: split after . ! ? … (runs of them) followed by space; a very long sentence is
# also split at ; and — so that one window does not swallow a whole unpunctuated turn.
_SENT_RE = re.compile(r"[^.!?…]+(?:[.!?…]+[\"»”)]*|$)", re.S)
_LONG_SENT = 320
_CLAUSE_RE = re.compile(r"[^;—–]+(?:[;—–]|$)")
_WORD_RE = re.compile(r"[0-9]+|[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.U)


def normalise(text: str) -> str:
    """Lower case, ё→е, ’→' and one space: the form both vectorizers read."""
    t = text.lower().replace("ё", "е").replace("’", "'").replace("ʼ", "'")
    return " ".join(t.split())


def windows(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences (long ones cut at ; and dashes), trimmed."""
    out = []
    for m in _SENT_RE.finditer(text):
        s, e = m.start(), m.end()
        if e - s > _LONG_SENT:
            parts = [(s + c.start(), s + c.end()) for c in _CLAUSE_RE.finditer(text[s:e])]
        else:
            parts = [(s, e)]
        for a, b in parts:
            while a < b and text[a] in " \t\r\n.,…-–—\"«»“”'":
                a += 1
            while b > a and text[b - 1] in " \t\r\n,":
                b -= 1
            if b > a and any(ch.isalnum() for ch in text[a:b]):
                out.append((a, b))
    return out


class Lemmatiser:
    """Word lemmas per language (pymorphy3 for ru/uk, Snowball for en), cached."""

    def __init__(self):
        self._morph = {}
        self._stem = None
        self._lock = threading.Lock()

    def _analyser(self, lang: str):
        if lang == "en":
            if self._stem is None:
                import snowballstemmer
                self._stem = snowballstemmer.stemmer("english").stemWord
            return None
        with self._lock:
            if lang not in self._morph:
                import pymorphy3
                self._morph[lang] = pymorphy3.MorphAnalyzer(lang=lang)
        return self._morph[lang]

    @lru_cache(maxsize=300_000)
    def lemma(self, word: str, lang: str) -> str:
        if word.isdigit():
            return word
        if lang == "en":
            self._analyser("en")
            return self._stem(word)
        return self._analyser(lang).parse(word)[0].normal_form.replace("ё", "е")

    def lemmas(self, text: str, lang: str) -> str:
        lang = lang if lang in ("ru", "uk", "en") else "ru"
        return " ".join(self.lemma(w, lang) for w in _WORD_RE.findall(normalise(text)))


_LEMMATISER = Lemmatiser()


@dataclass
class Scored:
    """Per-code probabilities of one utterance: the whole text and its best window."""
    whole: dict                      # code -> probability of the whole utterance
    best: dict                       # code -> (probability, start, end) of the best window
    windows: list = field(default_factory=list)   # [(start, end)]


@dataclass
class LinearModel:
    """Calibrated per-code linear models over char n-grams + lemma n-grams."""
    char_vocab: list
    char_idf: np.ndarray
    word_vocab: list
    word_idf: np.ndarray
    coef: np.ndarray                 # (n_codes, n_char + n_word)
    intercept: np.ndarray            # (n_codes,)
    calib: np.ndarray                # (n_codes, 2): sigmoid a, b (p = 1/(1+exp(a*f+b)))
    thresholds: np.ndarray           # (n_codes,) probability at which a finding is made
    stance_coef: np.ndarray          # (n_stances, n_char + n_word + n_codes)
    stance_intercept: np.ndarray
    meta: dict
    codes: tuple = CODES
    _vec: tuple | None = None

    @property
    def version(self) -> str:
        return self.meta["version"]

    # -- features ------------------------------------------------------------
    def _vectorizers(self):
        if self._vec is None:
            p = self.meta["features"]
            cv, wv = make_vectorizers(p["char_ngrams"], p["word_ngrams"],
                                      char={"vocabulary": self.char_vocab}, word={"vocabulary": self.word_vocab})
            cv.idf_ = self.char_idf
            wv.idf_ = self.word_idf
            self._vec = (cv, wv)
        return self._vec

    def features(self, texts: Sequence[str], langs: Sequence[str]):
        cv, wv = self._vectorizers()
        return featurise(cv, wv, texts, langs)

    # -- scoring -------------------------------------------------------------
    def proba(self, X) -> np.ndarray:
        f = np.asarray(X @ self.coef.T) + self.intercept
        return 1.0 / (1.0 + np.exp(self.calib[:, 0] * f + self.calib[:, 1]))

    def stance(self, X, code_idx: Sequence[int]) -> list[str]:
        from scipy.sparse import csr_matrix, hstack
        onehot = np.zeros((X.shape[0], len(self.codes)), dtype=np.float32)
        onehot[np.arange(X.shape[0]), list(code_idx)] = 1.0
        Z = hstack([X, csr_matrix(onehot)]).tocsr()
        s = np.asarray(Z @ self.stance_coef.T) + self.stance_intercept
        return [STANCES[i] for i in s.argmax(axis=1)]

    def score_many(self, items: Iterable[tuple[str, str]]) -> list[Scored]:
        """Score (text, lang) pairs: the whole utterance and each of its sentences."""
        items = list(items)
        docs, langs, owner, spans = [], [], [], []
        item_windows = [windows(text) for text, _ in items]
        for k, ((text, lang), ws) in enumerate(zip(items, item_windows)):
            docs.append(text)
            langs.append(lang)
            owner.append(k)
            spans.append(None)
            if len(ws) > 1:
                for a, b in ws:
                    docs.append(text[a:b])
                    langs.append(lang)
                    owner.append(k)
                    spans.append((a, b))
        if not docs:
            return []
        P = self.proba(self.features(docs, langs))
        out = [Scored({}, {}, []) for _ in items]
        for row, k, span in zip(P, owner, spans):
            sc = out[k]
            if span is None:
                # the whole utterance; its span is its one sentence, or all of it
                ws = item_windows[k]
                a, b = ws[0] if len(ws) == 1 else (0, len(items[k][0]))
                sc.whole = dict(zip(self.codes, map(float, row)))
                sc.windows = ws
                if len(ws) <= 1:
                    sc.best = {c: (float(p), a, b) for c, p in zip(self.codes, row)}
            else:
                # the best window is the sentence with the highest probability
                for c, p in zip(self.codes, row):
                    cur = sc.best.get(c)
                    if cur is None or p > cur[0]:
                        sc.best[c] = (float(p), span[0], span[1])
        return out

    # -- persistence -----------------------------------------------------------
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path, char_vocab=np.array(self.char_vocab), char_idf=self.char_idf.astype(np.float32),
            word_vocab=np.array(self.word_vocab), word_idf=self.word_idf.astype(np.float32),
            coef=self.coef.astype(np.float32), intercept=self.intercept.astype(np.float32),
            calib=self.calib.astype(np.float64), thresholds=self.thresholds.astype(np.float64),
            stance_coef=self.stance_coef.astype(np.float32),
            stance_intercept=self.stance_intercept.astype(np.float32),
            codes=np.array(self.codes), meta=np.array(json.dumps(self.meta, sort_keys=True)))

    @classmethod
    def load(cls, path: Path) -> "LinearModel":
        with np.load(path, allow_pickle=False) as z:
            return cls(char_vocab=z["char_vocab"].tolist(), char_idf=z["char_idf"],
                       word_vocab=z["word_vocab"].tolist(), word_idf=z["word_idf"],
                       coef=z["coef"], intercept=z["intercept"], calib=z["calib"],
                       thresholds=z["thresholds"], stance_coef=z["stance_coef"],
                       stance_intercept=z["stance_intercept"], meta=json.loads(str(z["meta"])),
                       codes=tuple(z["codes"].tolist()))


def make_vectorizers(char_ngrams, word_ngrams, *, char: dict, word: dict):
    """The two TF-IDF vectorizers (characters of the normalised text, lemma n-grams), built
    in one place for training (``char``/``word``: fitting limits) and inference (the stored
    vocabularies), so that the two can never read text differently."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    common = {"sublinear_tf": True, "lowercase": False, "dtype": np.float32}
    return (TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngrams), **common, **char),
            TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=tuple(word_ngrams),
                            **common, **word))


def featurise(char_vec, word_vec, texts: Sequence[str], langs: Sequence[str]):
    """Both feature blocks side by side (the vectorizers may be fitted or being fitted)."""
    from scipy.sparse import hstack
    norm = [normalise(t) for t in texts]
    lem = [_LEMMATISER.lemmas(t, l) for t, l in zip(texts, langs)]
    return hstack([char_vec.transform(norm), word_vec.transform(lem)]).tocsr()


_MODEL: LinearModel | None = None
_MLOCK = threading.Lock()


def load_model(path: Path | None = None) -> LinearModel:
    """The shipped model (cached), or the model at ``path``."""
    global _MODEL
    if path is not None:
        return LinearModel.load(Path(path))
    if _MODEL is None:
        with _MLOCK:
            if _MODEL is None:
                if not MODEL_PATH.exists():
                    raise FileNotFoundError(f"{MODEL_PATH}: the trained indicator model is missing;"
                                            " rebuild it with `overheard train indicators`")
                _MODEL = LinearModel.load(MODEL_PATH)
    return _MODEL
