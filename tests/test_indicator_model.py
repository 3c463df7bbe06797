"""The learned indicator model: training, persistence, the hybrid detector, LORO, CLI."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from overheard.analyse import load_detector
from overheard.analyse.evaluate import evaluate, evaluate_loro, load_gold, recording_of
from overheard.analyse.hybrid import HybridDetector
from overheard.analyse.indicators import CODES, STANCES
from overheard.analyse.learned import MODEL_PATH, LinearModel, load_model, windows
from overheard.analyse.train import CORPUS_DIR, TrainParams, corpus_digest, load_corpus, train

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL = FIXTURES / "indicator_train_small"
BLIND_D = FIXTURES / "indicators_blind_d.jsonl"
BLIND_D_SHA256 = "05c995d777be37098c1f3b7f896d9d2560488b008f0ea3b20c102929878bef66"


@pytest.fixture(scope="module")
def small_rows():
    return load_corpus(SMALL)


@pytest.fixture(scope="module")
def small_model(small_rows):
    return train(small_rows)


def test_corpus_groups_and_weights(small_rows):
    real = [r for r in small_rows if r["source"] == "real.jsonl"]
    assert {r["group"] for r in real} == {"rc003", "rc012", "rc016", "rc019", "rc025"}
    assert {r["weight"] for r in real} == {2.0}
    assert {r["group"] for r in small_rows if r["source"] == "written.jsonl"} == {"written.jsonl"}


def test_corpus_errors_name_the_file_and_line(tmp_path):
    (tmp_path / "MANIFEST.json").write_text(json.dumps({"files": [{"file": "x.jsonl"}]}))
    (tmp_path / "x.jsonl").write_text('{"id": "a-1", "text": "ok", "labels": []}\n{"id": 2, "text": "x",'
                                      ' "labels": [{"code": "panic"}]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"x.jsonl:2: unknown code"):
        load_corpus(tmp_path)


def test_training_is_deterministic_and_round_trips(small_rows, small_model, tmp_path):
    again = train(small_rows)
    assert again.version == small_model.version
    assert np.array_equal(again.coef, small_model.coef)
    assert small_model.meta["corpus_sha256"] == corpus_digest(small_rows)
    path = tmp_path / "m.npz"
    small_model.save(path)
    loaded = LinearModel.load(path)          # allow_pickle=False inside: plain arrays only
    items = [(r["text"], r["lang"]) for r in small_rows[:40]]
    a = small_model.score_many(items)
    b = loaded.score_many(items)
    for x, y in zip(a, b):
        assert x.whole == pytest.approx(y.whole, abs=1e-5)
        assert x.best.keys() == y.best.keys()
    # a different corpus gives a different version
    other = train(small_rows[:-10])
    assert other.version != small_model.version


def test_model_learns_its_training_signal(small_rows, small_model):
    """On its own training lines the model must rank positives above negatives (a broken
    feature or label pipeline scores near chance)."""
    from sklearn.metrics import roc_auc_score
    scored = small_model.score_many([(r["text"], r["lang"]) for r in small_rows])
    for code in ("distress", "casualties", "neglect"):
        y = [int(any(l["code"] == code for l in r["labels"])) for r in small_rows]
        p = [s.whole[code] for s in scored]
        assert roc_auc_score(y, p) > 0.9, code


def test_windows_cover_sentences_and_long_clauses():
    text = "Пацаны, всё норм. Воды нет третий день!  Где воздух?"
    ws = windows(text)
    assert [text[a:b] for a, b in ws] == ["Пацаны, всё норм.", "Воды нет третий день!", "Где воздух?"]
    long = "; ".join(["слово " * 20] * 5)
    assert len(windows(long)) == 5


def test_hybrid_findings_have_exact_spans_and_methods(small_model):
    det = HybridDetector(model=small_model)
    assert det.version == f"{det.rules.version}+{small_model.version}"
    text = ("Мам, всё нормально, кормят. Вчера опять накрыли, от роты человек двадцать осталось, "
            "пацанов собирали по кускам. Я уже не могу, честно, не знаю, как дальше.")
    res = det.analyze(text, "ru")
    assert res.status == "ok" and res.findings
    for f in res.findings:
        assert f.code in CODES and f.stance in STANCES and 0 <= f.score <= 1
        assert 0 <= f.start < f.end <= len(text)
        assert f.method.startswith(("lemma-rule:", "model:"))
        if f.method.startswith("model:"):
            # the evidence of a learned finding is one of the text's sentences
            assert (f.start, f.end) in windows(text)
    assert len({f.code for f in res.findings}) == len(res.findings)
    assert det.analyze("", "ru").status == "empty"
    assert det.analyze("текст", "de").status == "unsupported"


def test_learned_finding_where_no_rule_fires(small_model):
    """A phrasing the rules do not know still gets a finding when the model is sure of it."""
    det = HybridDetector(model=small_model)
    rows = load_gold(FIXTURES / "indicators_written_a.jsonl")
    res = det.analyze_many([(r["text"], r["lang"]) for r in rows])
    learned = [f for r in res for f in r.findings if f.method.startswith("model:")]
    assert learned, "the learned half never fired on its own training lines"


def test_fast_detector_is_the_rules():
    fast = load_detector(fast=True)
    full = load_detector()
    assert fast.version.startswith("rules-") and "+linear-" not in fast.version
    assert full.version.startswith(fast.version + "+linear-")


def test_shipped_model_was_trained_on_the_shipped_corpus():
    model = load_model()
    assert MODEL_PATH.exists()
    assert model.meta["corpus_sha256"] == corpus_digest(load_corpus(CORPUS_DIR)), (
        "the corpus changed since the model was trained: run `overheard train indicators`")
    assert model.meta["params"] == TrainParams().as_dict()
    assert set(model.codes) == set(CODES)


def test_loro_trains_without_the_held_out_recording(small_rows):
    gold = FIXTURES / "indicator_train_small" / "real.jsonl"
    out = evaluate_loro(gold, corpus_rows=small_rows)
    assert out["trained_component"] is True
    assert set(out["folds"]) == {recording_of(g["id"]) for g in load_gold(gold)}
    assert "learned_only" in out and set(out["learned_only"]["micro"]) == {"precision", "recall", "f1"}
    # trained on itself the model would score these lines far better than held out
    seen = evaluate(HybridDetector(model=train(small_rows)), gold)
    assert out["learned_only"]["micro"]["recall"] < 1.0
    assert seen["micro"]["f1"] >= out["micro"]["f1"]


def test_blind_slice_d_is_frozen():
    assert hashlib.sha256(BLIND_D.read_bytes()).hexdigest() == BLIND_D_SHA256, (
        "blind slice D is frozen (tests/fixtures/SOURCE.txt)")
    assert len(load_gold(BLIND_D)) == 260


def test_cli_train_and_eval(cli, tmp_path):
    out = tmp_path / "m.npz"
    r = cli("train", "indicators", "--corpus", SMALL, "--out", out)
    assert r.exit_code == 0, r.stdout
    assert out.exists() and "linear-" in r.stdout
    r = cli("train", "indicators", "--corpus", SMALL, "--out", tmp_path / "no" / "m.npz")
    assert r.exit_code == 2 and "does not exist" in r.stdout + r.stderr
    r = cli("eval", "indicators", "--gold", FIXTURES / "seed_labels.jsonl", "--json")
    assert r.exit_code == 0
    res = json.loads(r.stdout)
    assert {"micro", "macro", "per_code", "n", "stance_accuracy"} <= set(res)
    assert "+linear-" in res["detector"]
    r = cli("eval", "indicators", "--gold", FIXTURES / "seed_labels.jsonl", "--json", "--fast")
    assert "+linear-" not in json.loads(r.stdout)["detector"]


@pytest.mark.parametrize("name,floor", [("indicators_blind_d.jsonl", 0.80), ("indicators_written_c.jsonl", 0.78)])
def test_shipped_detector_blind_floor(name, floor):
    """Blind slices (never trained on, errors never read): measured 2026-12-03 with
    linear-2026.12.1+9d3f9e6e: D micro F1 0.826 (P 0.812), C 0.810 (P 0.744); rules alone
    0.585 and 0.767. A floor a few points under catches a model or corpus change that loses
    generality."""
    gold = FIXTURES / name
    r = evaluate(load_detector(), gold)
    rules = evaluate(load_detector(fast=True), gold)
    assert r["micro"]["f1"] >= floor, r["micro"]
    assert r["micro"]["f1"] > rules["micro"]["f1"] + 0.03, (r["micro"], rules["micro"])
    assert r["stance_accuracy"] >= 0.85
    for code in ("self_harm", "civilian_harm"):
        assert r["per_code"][code]["precision"] >= 0.8, (code, r["per_code"][code])
