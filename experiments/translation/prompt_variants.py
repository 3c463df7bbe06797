"""Prompt variants of the translator, scored on a tuning slice of the dev intercepts
(rc001-rc005 by default); the rest of dev stays for the reported figure.

    python experiments/translation/prompt_variants.py MODEL.gguf VARIANT [DOCS...]
"""
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import bench_translation as bt  # noqa: E402
from overheard.translate import engine  # noqa: E402
from overheard.translate.backends import LocalModel  # noqa: E402

VARIANTS = {}


def variant(fn):
    VARIANTS[fn.__name__] = fn
    return fn


@variant
def current():
    pass


@variant
def literal_callsigns():
    engine.SYSTEM = engine.SYSTEM.replace(
        '- Call signs and names: transliterate them and keep them in quotes ("Береза" -> "Bereza", "Шестой" -> "Sixth").',
        '- Call signs: keep them in quotes; translate a call sign that is a word ("Береза" -> "Birch", "Рысь" -> "Lynx", '
        '"Шестой" -> "Sixth"), transliterate a name ("Буран" -> "Buran").')


def main(model, name, docs=("rc001", "rc002", "rc003", "rc004", "rc005")):
    VARIANTS[name]()
    tr = engine.Translator(LocalModel(model))
    all_docs = [d for d in bt.dev_documents() if d[0] in docs]
    out = {}
    t = time.perf_counter()
    for doc, lines, _ in all_docs:
        for i, line in enumerate(lines):
            g = tr.translate(line, "ru")
            out[(doc, i)] = {"ru": line, "en": g.text, "s": g.seconds, "flags": g.flags, "attempts": g.attempts}
    res = bt.score(all_docs, out)
    print(json.dumps({"variant": name, **res, "wall_s": round(time.perf_counter() - t)}))
    (ROOT / "bench" / ".translation-cache" / f"variant-{name}.jsonl").write_text(
        "\n".join(json.dumps({"doc": k[0], "i": k[1], **v}, ensure_ascii=False) for k, v in out.items()), encoding="utf-8")



@variant
def hints_in_examples():
    """Call signs as words, glossary hints in one fixed format that the examples also use (a
    small model otherwise echoes a hint block it has not seen answered), literal register."""
    literal_callsigns()
    engine.SYSTEM = engine.SYSTEM.replace("- Answer with the English translation only.",
        "- A line may be followed by \"Glossary:\" with the meaning of slang in it: use those meanings; never translate or repeat the glossary itself.\n"
        "- Answer with the English translation only.")
    engine.EXAMPLES = [
        ("\"Сокол\", я \"Гора\", как слышишь меня? Приём.\nGlossary: приём = over; как слышишь = how do you read me",
         "\"Falcon\", this is \"Mountain\", how do you read me? Over."),
        ("Понял тебя. По нам работает арта, у меня двое трёхсотых, один двухсотый.\n"
         "Glossary: понял = roger / copy; арта = artillery; трехсотый = WIA (wounded); двухсотый = KIA (killed in action)",
         "Roger. Artillery is working on us, I have two wounded (300s) and one killed (200)."),
        ("Мам, нас кинули, жрать нечего, третий день без воды, никто не приезжает.",
         "Mom, they abandoned us, there's nothing to eat, third day without water, nobody comes."),
        ("Да ебашат нас без остановки, пиздец полный, командир съебался.\n"
         "Glossary: ебашить = to pound / hammer (with fire); пиздец = fucked up / a disaster",
         "They're fucking pounding us non-stop, it's completely fucked, the commander bailed."),
    ]
    def messages(self, text, lang, matches, strict=""):
        if self.plain:
            return orig(self, text, lang, matches, strict)
        msgs = [{"role": "system", "content": engine.SYSTEM + strict}]
        for src, en in engine.EXAMPLES:
            msgs += [{"role": "user", "content": src}, {"role": "assistant", "content": en}]
        user = text
        if matches:
            user += "\nGlossary: " + "; ".join(f"{m.term.ru} = {m.term.en}" + (" (slur)" if m.term.kind == "slur" else "")
                                              for m in matches)
        msgs.append({"role": "user", "content": user})
        return msgs
    orig = engine.Translator.messages
    engine.Translator.messages = messages


@variant
def hints_i_am():
    """hints_in_examples, with the examples in the literal register of the traffic ("I am X")."""
    hints_in_examples()
    engine.EXAMPLES[0] = (engine.EXAMPLES[0][0], "\"Falcon\", I am \"Mountain\", how do you read me? Over.")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *([tuple(sys.argv[3:])] if len(sys.argv) > 3 else []))
