"""Photo intake: time and peak memory per photo, next to naive Pillow in the same run.

    .venv/bin/python -m bench.photos

Cases: a 12-megapixel camera JPEG (4000 x 3000, EXIF orientation 6, GPS, quality 90)
and the 2048 px JPEG the field app uploads. For each, two ways to make the display
(<= 2048 px) and thumbnail (<= 320 px) copies:

- intake: the real `server.services.photos.intake` in a temporary app on SQLite - it
  also hashes, writes the original and both copies to the photo directory (fsynced),
  and commits the Photo row, the change feed entry and the trail event;
- naive: Pillow the obvious way - full decode, `ImageOps.exif_transpose`, `thumbnail`
  to 2048 and to 320 from the full frame, both encoded as JPEG in memory (no hashing,
  no files, no database: a floor for the image work alone).

Every case runs in a fresh subprocess. Memory is the peak resident set above the
process's own baseline, read from /proc (VmHWM, reset through /proc/self/clear_refs
just before the measured call), so Pillow's C allocations count; tracemalloc's peak
is shown beside it to make the point that it sees only Python objects. Time is the
median wall time of single calls that alternate between the two processes (so load
from elsewhere on the machine hits both alike), after a warm-up; CPU time (all
threads) is shown too, as it is steadier on a busy machine. The load average before
and after is printed so a noisy run can be recognised.

Goals (issue 3): 12 MP intake at most 0.25x naive time, and at most 60 MB above baseline.
"""

import hashlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from flask_migrate import upgrade
from PIL import Image, ImageOps

from bench import images
from server import create_app
from server.extensions import db
from server.services import accounts, photos

OUT = Path(__file__).resolve().parent / "out" / "photos.json"
TIMED_CALLS = 15
GOAL_TIME_RATIO = 0.25
GOAL_PEAK_MB = 60
MB = 1024 * 1024


# Measuring inside the child process -------------------------------------------------

def _status(field: str) -> int:
    """A VmRSS/VmHWM figure of this process, in bytes."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) * 1024


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


class _Naive:
    """Pillow the obvious way: decode everything, turn it, shrink it twice."""

    def prepare(self, data: bytes) -> bytes:
        return data

    def __call__(self, data: bytes) -> None:
        with Image.open(io.BytesIO(data)) as image:
            upright = ImageOps.exif_transpose(image)  # decodes the full frame
        for edge in (2048, 320):
            copy = upright.copy()
            copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
            copy.save(io.BytesIO(), "JPEG", quality=85)


class _Intake:
    """The real service in a throwaway app: SQLite file and photo directory in a temp dir."""

    def __init__(self, directory: Path):
        self.app = create_app({
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'bench.db'}",
            "GEMBA_PHOTO_DIR": str(directory / "photos"),
        })
        self.context = self.app.app_context()
        self.context.push()
        upgrade()
        self.user = accounts.create_user("bench@example.test", "staff", "bench password", name="Bench")
        db.session.commit()
        self.runs = 0

    def prepare(self, data: bytes) -> tuple[str, bytes]:
        """A new photo for each call (an existing hash is a no-op), hashed as the device would.

        Bytes after the JPEG's end marker change the hash and nothing else.
        """
        self.runs += 1
        variant = data + self.runs.to_bytes(4, "big")
        return hashlib.sha256(variant).hexdigest(), variant

    def __call__(self, payload: tuple[str, bytes]) -> None:
        sha, data = payload
        _, created = photos.intake(self.user, sha, data, "image/jpeg")
        db.session.commit()
        assert created


def serve(method: str, path: str) -> None:
    """Be one measured process: report memory for the first call, then time calls on request.

    The parent alternates single calls between a naive and an intake process, so a
    burst of load from elsewhere on the machine lands on both alike.
    """
    data = Path(path).read_bytes()
    with tempfile.TemporaryDirectory() as directory:
        run = _Intake(Path(directory)) if method == "intake" else _Naive()
        run(run.prepare(images.jpeg(64, 48, orientation=6)))  # warm-up: plugins loaded, caches filled

        payload = run.prepare(data)
        exact = _reset_peak()
        baseline = _status("VmRSS")
        before_peak = _status("VmHWM")
        run(payload)
        peak = _status("VmHWM")

        payload = run.prepare(data)
        tracemalloc.start()
        run(payload)
        _, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        _answer({
            "method": method,
            "peak_rss_above_baseline_mb": round((peak - baseline) / MB, 1),
            "tracemalloc_peak_mb": round(python_peak / MB, 1),
            "baseline_rss_mb": round(baseline / MB, 1),
            "peak_exact": exact or peak > before_peak,
        })
        for command in sys.stdin:
            if command.strip() != "run":
                break
            payload = run.prepare(data)
            started, started_cpu = time.perf_counter(), time.process_time()
            run(payload)
            _answer({"s": time.perf_counter() - started, "cpu": time.process_time() - started_cpu})


def _answer(value: dict) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


# The parent: make the photos, run every case in its own process, report ---------------

CASES = (("12 MP camera JPEG", "camera_12mp"), ("2048 px device JPEG", "device_2048"))


class _Measured:
    """A fresh child process measuring one method on one photo."""

    def __init__(self, method: str, path: Path):
        # The child's log chatter (migrations) goes to a file, shown only if it fails.
        self.log = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.photos", "--serve", method, str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
            cwd=Path(__file__).resolve().parent.parent, env=os.environ | {"PYTHONHASHSEED": "0"},
        )
        self.result = self._read()
        self.times, self.cpu = [], []

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            self.log.seek(0)
            raise RuntimeError(f"benchmark child exited with {code}:\n{self.log.read()[-3000:]}")
        return json.loads(line)

    def call(self) -> None:
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        answer = self._read()
        self.times.append(answer["s"])
        self.cpu.append(answer["cpu"])

    def finish(self) -> dict:
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.log.close()
        return self.result | {
            "ms": round(statistics.median(self.times) * 1000, 1),
            "ms_min": round(min(self.times) * 1000, 1),
            "cpu_ms": round(statistics.median(self.cpu) * 1000, 1),
            "calls": len(self.times),
        }


def main() -> dict:
    report = {"goal": {"time_ratio_12mp": GOAL_TIME_RATIO, "peak_mb_12mp": GOAL_PEAK_MB}, "cases": [],
              "cpus": os.cpu_count(), "load_before": [round(x, 2) for x in os.getloadavg()]}
    print(f"Photo intake vs naive Pillow: {TIMED_CALLS} timed calls each, alternating between a fresh "
          f"process per method; median wall ms, median CPU ms, peak RSS above baseline")
    header = (f"{'photo':<22}{'method':<8}{'ms':>8}{'x naive':>9}{'cpu ms':>9}{'x naive':>9}"
              f"{'peak RSS MB':>13}{'tracemalloc MB':>16}")
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for label, maker in CASES:
            data = getattr(images, maker)()
            path = Path(directory) / f"{maker}.jpg"
            path.write_bytes(data)
            naive, intake = _Measured("naive", path), _Measured("intake", path)
            for turn in range(TIMED_CALLS):
                for measured in ((naive, intake) if turn % 2 == 0 else (intake, naive)):
                    measured.call()
            naive, intake = naive.finish(), intake.finish()
            ratio = round(intake["ms"] / naive["ms"], 3)
            report["cases"].append({
                "photo": label, "bytes": len(data), "naive": naive, "intake": intake, "time_ratio": ratio,
                "cpu_ratio": round(intake["cpu_ms"] / naive["cpu_ms"], 3),
            })
            rows.append((label, naive, intake, ratio))
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average before {report['load_before'][0]}, after {report['load_after'][0]} "
          f"on {report['cpus']} CPUs")
    print(header)
    for label, naive, intake, ratio in rows:
        cpu_ratio = f"{intake['cpu_ms'] / naive['cpu_ms']:.2f}"
        for result, shown, shown_cpu in ((naive, "", ""), (intake, f"{ratio:.2f}", cpu_ratio)):
            print(f"{label:<22}{result['method']:<8}{result['ms']:>8.1f}{shown:>9}{result['cpu_ms']:>9.1f}"
                  f"{shown_cpu:>9}{result['peak_rss_above_baseline_mb']:>13.1f}{result['tracemalloc_peak_mb']:>16.1f}")
    camera = report["cases"][0]
    met_time = camera["time_ratio"] <= GOAL_TIME_RATIO
    met_memory = camera["intake"]["peak_rss_above_baseline_mb"] <= GOAL_PEAK_MB
    report["met"] = {"time": met_time, "memory": met_memory}
    print(f"12 MP goals: time {camera['time_ratio']:.2f}x naive (goal <= {GOAL_TIME_RATIO}) "
          f"{'met' if met_time else 'NOT met'}; peak {camera['intake']['peak_rss_above_baseline_mb']:.1f} MB "
          f"above baseline (goal <= {GOAL_PEAK_MB}) {'met' if met_memory else 'NOT met'}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}")
    return report


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2], sys.argv[3])
    else:
        main()
