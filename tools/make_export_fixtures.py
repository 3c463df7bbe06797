"""Build the messenger/subtitle/web fixtures in tests/fixtures/exports/ (committed; rerun only to
change them). Audio comes from examples/audio/demo_lines_clean.ogg (our Festival lines) and the
real Russian voice note in ../shared/data/audio/ru-voice-note (MIT, see its SOURCE.txt).

    .venv/bin/python tools/make_export_fixtures.py tests/fixtures/exports
    .venv/bin/python tools/make_export_fixtures.py examples/telegram --demo   # the demo's export:
        # the Telegram chat only, without the messages whose media are missing
"""

from __future__ import annotations

import json
import shutil
import sys
from fractions import Fraction
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

LINES = REPO / "examples" / "audio" / "demo_lines_clean.ogg"
VOICE_NOTE = REPO.parent / "shared" / "data" / "audio" / "ru-voice-note" / "my_voice.ogg"


def line(n: int) -> tuple[float, float, str]:
    meta = json.loads((REPO / "examples" / "audio" / "demo_lines_clean.json").read_text())["lines"][n]
    return meta["start_s"], meta["end_s"], meta["text"]


def video_with_audio(out: Path, start: float, end: float) -> None:
    """A tiny round-video-style MP4 (64×64 grey MPEG-4 video + AAC audio of one demo line)."""
    import av
    import numpy as np
    from overheard.audio.decode import read_range

    audio = read_range(LINES, start, end)        # float32 mono 16 kHz
    with av.open(str(out), "w", format="mp4") as box:
        v = box.add_stream("mpeg4", rate=10)
        v.width = v.height = 64
        v.pix_fmt = "yuv420p"
        a = box.add_stream("aac", rate=16000)
        a.layout = "mono"
        frames = int((end - start) * 10) + 1
        for i in range(frames):
            img = np.full((64, 64, 3), 90 + (i % 20), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, 10)
            for p in v.encode(frame):
                box.mux(p)
        for p in v.encode():
            box.mux(p)
        step = 1024
        for i in range(0, len(audio), step):
            chunk = audio[i:i + step]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1).astype(np.float32), format="fltp", layout="mono")
            frame.sample_rate = 16000
            frame.pts = i
            for p in a.encode(frame):
                box.mux(p)
        for p in a.encode():
            box.mux(p)


def tiny_jpeg(out: Path) -> None:
    from PIL import Image
    Image.new("RGB", (16, 16), (120, 130, 90)).save(out, quality=60)


def main(dest: Path, demo: bool = False) -> None:
    from overheard.audio.clips import cut_clip

    dest.mkdir(parents=True, exist_ok=True)
    tg = (dest if demo else dest / "telegram") / "ChatExport_2022-03-05"
    for sub in ("voice_messages", "round_video_messages", "photos"):
        (tg / sub).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(VOICE_NOTE, tg / "voice_messages" / "audio_1@05-03-2022_14-02-00.ogg")
    s, e, video_text = line(4)
    video_with_audio(tg / "round_video_messages" / "file_2@05-03-2022_14-05-00.mp4", s, e)
    tiny_jpeg(tg / "photos" / "photo_1@05-03-2022_14-07-00.jpg")
    t0 = 1646488800          # 2022-03-05T14:00:00Z
    messages = [
        {"id": 101, "type": "service", "date": "2022-03-05T17:00:00", "date_unixtime": str(t0 - 60),
         "actor": "Сводки", "action": "create_channel", "title": "Сводки", "text": ""},
        {"id": 102, "type": "message", "date": "2022-03-05T17:00:00", "date_unixtime": str(t0), "from": "Сводки",
         "from_id": "channel1", "forwarded_from": "Перехват 24",
         "text": ["Перехват: ", {"type": "bold", "text": "«воды нет третий день, нас бросили»"},
                  " — подробнее ", {"type": "text_link", "text": "здесь", "href": "https://example.org/p/1"}],
         "text_entities": []},
        {"id": 103, "type": "message", "date": "2022-03-05T17:02:00", "date_unixtime": str(t0 + 120),
         "from": "Сводки", "from_id": "channel1", "file": "voice_messages/audio_1@05-03-2022_14-02-00.ogg",
         "media_type": "voice_message", "mime_type": "audio/ogg", "duration_seconds": 4, "text": ""},
        {"id": 104, "type": "message", "date": "2022-03-05T17:05:00", "date_unixtime": str(t0 + 300),
         "from": "Сводки", "from_id": "channel1", "reply_to_message_id": 102,
         "file": "round_video_messages/file_2@05-03-2022_14-05-00.mp4", "media_type": "video_message",
         "mime_type": "video/mp4", "duration_seconds": round(e - s), "text": "Видео от бойца"},
        {"id": 105, "type": "message", "date": "2022-03-05T17:07:00", "date_unixtime": str(t0 + 420),
         "from": "Сводки", "from_id": "channel1", "photo": "photos/photo_1@05-03-2022_14-07-00.jpg",
         "width": 16, "height": 16, "text": "Позиция после обстрела"},
        {"id": 106, "type": "message", "date": "2022-03-05T17:09:00", "date_unixtime": str(t0 + 540),
         "from": "Сводки", "from_id": "channel1",
         "file": "(File not included. Change data exporting settings to download.)", "media_type": "voice_message",
         "mime_type": "audio/ogg", "duration_seconds": 12, "text": ""},
        {"id": 107, "type": "message", "date": "2022-03-05T17:10:00", "date_unixtime": str(t0 + 600),
         "from": "Сводки", "from_id": "channel1", "file": "voice_messages/audio_9@05-03-2022_14-10-00.ogg",
         "media_type": "voice_message", "mime_type": "audio/ogg", "duration_seconds": 3, "text": ""},
        {"id": 108, "type": "message", "date": "2022-03-05T17:12:00", "date_unixtime": str(t0 + 720),
         "from": "Сводки", "from_id": "channel1", "text": "Командир сказал держаться до конца, мы держимся."},
    ]
    if demo:
        messages = [m for m in messages if m["id"] not in (106, 107)]
    (tg / "result.json").write_text(json.dumps({"name": "Сводки", "type": "public_channel", "id": 1001,
                                                "messages": messages}, ensure_ascii=False, indent=1) + "\n")

    if demo:
        print(f"wrote {dest}")
        return
    wa = dest / "whatsapp"
    wa.mkdir(exist_ok=True)
    s2, e2, _ = line(10)
    cut_clip(LINES, s2, e2, wa / "PTT-20220306-WA0003.opus")
    s3, e3, _ = line(6)
    cut_clip(LINES, s3, e3, wa / "00000031-AUDIO-2022-03-06-10-01-40.opus")
    (wa / "WhatsApp Chat with Иван.txt").write_text(
        "3/6/22, 9:58 AM - Messages and calls are end-to-end encrypted. No one outside of this chat can read them.\n"
        "3/6/22, 10:01 AM - Иван: Мама, у нас всё нормально\n"
        "не переживай\n"
        "3/6/22, 10:02 AM - Иван: PTT-20220306-WA0003.opus (file attached)\n"
        "3/6/22, 10:03 AM - Мама: <Media omitted>\n"
        "3/6/22, 10:15 PM - Мама: Сынок, береги себя\n", encoding="utf-8")
    (wa / "_chat.txt").write_text(
        "[06.03.22, 10:01:05] Иван: Нас отправили без еды и воды\n"
        "[06.03.22, 10:01:40] Иван: \u200e<attached: 00000031-AUDIO-2022-03-06-10-01-40.opus>\n"
        "[06.03.22, 22:15:00] Мама: Сынок, держись\n", encoding="utf-8")
    print(f"wrote {dest}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--demo"]
    main(Path(args[0]) if args else REPO / "tests" / "fixtures" / "exports", demo="--demo" in sys.argv)
