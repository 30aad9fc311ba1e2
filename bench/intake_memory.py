"""Photo intake under hostile uploads: peak memory per upload, next to naive Pillow in the same run.

    .venv/bin/python -m bench intake_memory

The hostile corpus is made here (small files that claim big pixels): a 2.5 KB lossless
WebP of 8000 x 8000 RGBA, a 200 KB PNG of 8000 x 8000, a progressive JPEG of 8000 x 8000
(libjpeg keeps every coefficient however small the output), a JPEG whose header claims
8000 x 8000 over 16 x 16 of data, a 20 MP RGBA PNG; and, to show what is still accepted,
a 12 MP camera JPEG, a 6 MP RGBA PNG and a 2048 px WebP.

Each case runs in a fresh subprocess, after a warm-up: the peak resident set above the
process's baseline (VmHWM, reset through /proc/self/clear_refs just before), so
Pillow's and libwebp's C allocations count.

- intake: the real `photos.intake` in a temporary app on SQLite (with its default decode
  budget, GEMBA_MAX_DECODE_MB=128, and two decode slots per process);
- naive: `Image.open`, `load`, `thumbnail` to 2048 and 320, saved as JPEG (Pillow's own
  default pixel limit, 89 MP, lets every one of these through).

"four at once" runs two hostile files and the two heaviest accepted ones in four threads
of one process at the same moment: the two decode slots per process bound what is held.

Goals (issue 10): <= 200 MB above baseline for any single upload, accepted or refused;
<= 400 MB for four uploads at once.
"""

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

MB = 1024 * 1024
GOAL_SINGLE_MB = 200
GOAL_FOUR_MB = 400
OUT = Path(__file__).resolve().parent / "out" / "intake_memory.json"


# The corpus ---------------------------------------------------------------------------

def _save(image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _lying_jpeg(width: int, height: int) -> bytes:
    from PIL import Image
    data = _save(Image.new("RGB", (16, 16), (200, 30, 30)), "JPEG")
    at = data.find(b"\xff\xc0")
    return data[:at + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + data[at + 9:]


def corpus() -> dict[str, bytes]:
    from PIL import Image
    from bench import images
    Image.MAX_IMAGE_PIXELS = None
    big = Image.new("RGBA", (8000, 8000), (10, 120, 60, 200))
    rgba_20mp = Image.new("RGBA", (5000, 4000), (10, 120, 60, 200))
    rgba_6mp = images.camera_pixels(3000, 2000).convert("RGBA")
    return {
        "webp 8000x8000 RGBA lossless": _save(big, "WEBP", lossless=True),
        "png 8000x8000 RGB": _save(big.convert("RGB"), "PNG"),
        "jpeg 8000x8000 progressive": _save(big.convert("RGB"), "JPEG", progressive=True, quality=50),
        "jpeg claims 8000x8000, 16x16 data": _lying_jpeg(8000, 8000),
        "png 5000x4000 RGBA": _save(rgba_20mp, "PNG"),
        "jpeg 12 MP camera (accepted)": images.camera_12mp(),
        "png 3000x2000 RGBA (accepted)": _save(rgba_6mp, "PNG", compress_level=1),
        "webp 2048x1536 (accepted)": _save(images.camera_pixels(2048, 1536), "WEBP", quality=80),
    }


FOUR = ("webp 8000x8000 RGBA lossless", "png 8000x8000 RGB", "png 3000x2000 RGBA (accepted)",
        "webp 2048x1536 (accepted)")


# The child: one method over one or more files, all at once ----------------------------

def _status(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) * 1024


def _naive(data: bytes) -> str:
    from PIL import Image
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        for edge in (2048, 320):
            copy = image.convert("RGB")
            copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
            copy.save(io.BytesIO(), "JPEG", quality=85)
    return "done"


def child(method: str, paths: list[str]) -> None:
    from flask_migrate import upgrade
    from server import create_app
    from server.errors import DomainError
    from server.extensions import db
    from server.services import accounts, photos
    from bench import images

    blobs = [Path(p).read_bytes() for p in paths]
    with tempfile.TemporaryDirectory() as directory:
        app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/b.db",
                          "GEMBA_PHOTO_DIR": f"{directory}/photos"})
        with app.app_context():
            upgrade()
            user = accounts.create_user("bench@example.test", "staff", "bench password", name="Bench")
            db.session.commit()
            user_id = user.id

        def intake(data: bytes) -> str:
            with app.app_context():
                person = db.session.get(type(user), user_id)
                try:
                    photos.intake(person, hashlib.sha256(data).hexdigest(), data)
                    db.session.commit()
                    return "stored"
                except DomainError as exc:
                    db.session.rollback()
                    return f"{exc.status} {exc.code}"

        run = intake if method == "intake" else _naive
        warm = images.jpeg(64, 48)
        run(warm)  # plugins loaded, caches filled
        Path("/proc/self/clear_refs").write_text("5")
        baseline = _status("VmRSS")
        outcomes = [None] * len(blobs)

        def one(index: int) -> None:
            try:
                outcomes[index] = run(blobs[index])
            except Exception as exc:  # naive Pillow fails on some: that is a result too
                outcomes[index] = f"error {type(exc).__name__}"

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(blobs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        peak = _status("VmHWM")
    print(json.dumps({"peak_mb": round((peak - baseline) / MB, 1), "outcomes": outcomes}), flush=True)


def _measure(method: str, paths: list[Path]) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.intake_memory", "--child", method, *map(str, paths)],
                          capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        return {"peak_mb": None, "outcomes": [f"child failed: {done.stderr.strip().splitlines()[-1:]}"]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> dict:
    report = {"goal": {"single_mb": GOAL_SINGLE_MB, "four_mb": GOAL_FOUR_MB}, "cases": [],
              "cpus": os.cpu_count(), "load_before": [round(x, 2) for x in os.getloadavg()]}
    print("Peak RSS above baseline (MB) per upload, each in a fresh process; intake vs naive Pillow")
    print(f"{'case':<38}{'bytes':>10}{'intake MB':>11}  {'intake outcome':<30}{'naive MB':>10}  naive")
    with tempfile.TemporaryDirectory() as directory:
        paths = {}
        for index, (label, data) in enumerate(corpus().items()):
            path = Path(directory) / f"case{index}"
            path.write_bytes(data)
            paths[label] = path
        for label, path in paths.items():
            intake, naive = _measure("intake", [path]), _measure("naive", [path])
            report["cases"].append({"case": label, "bytes": path.stat().st_size, "intake": intake, "naive": naive})
            print(f"{label:<38}{path.stat().st_size:>10}{intake['peak_mb']!s:>11}  {intake['outcomes'][0]:<30}"
                  f"{naive['peak_mb']!s:>10}  {naive['outcomes'][0]}", flush=True)
        four = [paths[label] for label in FOUR]
        intake, naive = _measure("intake", four), _measure("naive", four)
        report["four_at_once"] = {"cases": FOUR, "intake": intake, "naive": naive}
        print(f"{'four at once':<38}{'':>10}{intake['peak_mb']!s:>11}  "
              f"{', '.join(intake['outcomes']):<30}{naive['peak_mb']!s:>10}")
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    worst = max(case["intake"]["peak_mb"] or 0 for case in report["cases"])
    four_peak = report["four_at_once"]["intake"]["peak_mb"] or 0
    report["met"] = {"single": worst <= GOAL_SINGLE_MB, "four": four_peak <= GOAL_FOUR_MB}
    print(f"worst single upload {worst} MB (goal <= {GOAL_SINGLE_MB}) {'met' if report['met']['single'] else 'NOT met'}; "
          f"four at once {four_peak} MB (goal <= {GOAL_FOUR_MB}) {'met' if report['met']['four'] else 'NOT met'}")
    print(f"load average before {report['load_before'][0]}, after {report['load_after'][0]} on {report['cpus']} CPUs")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3:])
    else:
        main()
