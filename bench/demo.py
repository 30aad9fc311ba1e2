"""The demo build: how long `gemba demo` takes, next to floors measured in the same run.

    .venv/bin/python -m bench.demo

Every build goes into a fresh SQLite file and photo directory, with production password
hashing (scrypt at Werkzeug's default cost, as `gemba demo` does). Figures:

- build: `server.demo.build()` in-process, then commit - the whole organisation and its
  story through the services, photos painted and taken in; and building again, which
  must add nothing;
- floor: the organisation without its story - nine people (their password hashes are
  most of it) and the two checklists imported and published through the same services;
- photos: painting every photo the data file names (`scenes.photograph`), and taking the
  same bytes in through `photos.intake` in a fresh app: the share of the build that is
  photo evidence;
- command: `gemba demo` end to end in a subprocess (interpreter, imports, app, build,
  commit), next to `gemba demo --if-empty` on a database that has users (the process
  start alone).

In-process figures are the median of RUNS builds, alternating with the floor so that load
from elsewhere hits both alike; wall and CPU time (all threads) are shown, as CPU time is
steadier on a busy machine. The load average before and after is printed.

Goal (issue 9): the demo builds in a few seconds - at most GOAL_S wall in-process.
"""

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from flask_migrate import upgrade

from server import create_app
from server.demo import build, organisation_file, scenes
from server.extensions import db
from server.services import accounts, checklists, photos

OUT = Path(__file__).resolve().parent / "out" / "demo.json"
RUNS = 3
GOAL_S = 5.0


def _app(directory: Path):
    return create_app({
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'demo.db'}",
        "GEMBA_PHOTO_DIR": str(directory / "photos"),
    })


def _timed(work) -> dict:
    started, started_cpu = time.perf_counter(), time.process_time()
    work()
    return {"s": time.perf_counter() - started, "cpu": time.process_time() - started_cpu}


def _in_fresh_app(work) -> dict:
    with tempfile.TemporaryDirectory() as directory, _app(Path(directory)).app_context():
        upgrade()
        return _timed(work)


def _full_build() -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory() as directory, _app(Path(directory)).app_context():
        upgrade()
        first = _timed(lambda: (build(), db.session.commit()))
        again = _timed(lambda: (build(), db.session.commit()))
        return first, again


def _organisation_only() -> None:
    """The floor: the people and the checklists, through the services the builder calls."""
    data = organisation_file()
    for person in data["people"]:
        accounts.create_user(person["email"], person["role"], data["password"], name=person["name"])
    for filename in data["checklists"].values():
        checklists.publish(None, checklists.import_checklist(None, checklists.bundled_checklist(filename)))
    db.session.commit()


def _scenes(value) -> list[dict]:
    """Every photo scene the data file names, wherever it sits."""
    if isinstance(value, dict):
        found = [value] if "scene" in value else []
        return found + [scene for item in value.values() for scene in _scenes(item)]
    if isinstance(value, list):
        return [scene for item in value for scene in _scenes(item)]
    return []


def _photos() -> dict:
    taken = datetime.now(UTC)  # the moment changes the EXIF bytes, not the cost
    found = _scenes(organisation_file())
    painted = []
    paint = _timed(lambda: painted.extend(scenes.photograph(scene, f"bench/{n}", taken) for n, scene in enumerate(found)))

    def take_in():
        user = accounts.create_user("bench@example.test", "staff", "bench password", name="Bench")
        for data in painted:
            photos.intake(user, hashlib.sha256(data).hexdigest(), data, "image/jpeg")
        db.session.commit()

    intake = _in_fresh_app(take_in)
    return {"count": len(found), "bytes": sum(map(len, painted)), "paint": paint, "intake": intake}


def _command(*args: str, directory: Path) -> float:
    env = os.environ | {"GEMBA_DATABASE_URL": f"sqlite:///{directory / 'demo.db'}",
                        "GEMBA_PHOTO_DIR": str(directory / "photos"), "FLASK_APP": "server"}
    gemba = Path(sys.executable).with_name("gemba")
    started = time.perf_counter()
    subprocess.run([str(gemba), *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def _commands() -> dict:
    with tempfile.TemporaryDirectory() as directory:
        with _app(Path(directory)).app_context():
            upgrade()
        build_s = _command("demo", directory=Path(directory))
        start_s = _command("demo", "--if-empty", directory=Path(directory))
    return {"gemba_demo_s": build_s, "process_start_s": start_s}


def _median(runs: list[dict], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 3)


def main() -> None:
    load_before = os.getloadavg()
    builds, agains, floors = [], [], []
    for _ in range(RUNS):
        first, again = _full_build()
        builds.append(first)
        agains.append(again)
        floors.append(_in_fresh_app(_organisation_only))
    photo = _photos()
    command = _commands()
    load_after = os.getloadavg()
    result = {
        "build_s": _median(builds, "s"), "build_cpu_s": _median(builds, "cpu"),
        "again_s": _median(agains, "s"),
        "floor_organisation_s": _median(floors, "s"), "floor_organisation_cpu_s": _median(floors, "cpu"),
        "photos": photo["count"], "photo_mb": round(photo["bytes"] / 1e6, 1),
        "paint_s": round(photo["paint"]["s"], 3), "paint_cpu_s": round(photo["paint"]["cpu"], 3),
        "intake_s": round(photo["intake"]["s"], 3), "intake_cpu_s": round(photo["intake"]["cpu"], 3),
        **{key: round(value, 3) for key, value in command.items()},
        "goal_s": GOAL_S, "goal_met": _median(builds, "s") <= GOAL_S,
        "load_before": [round(v, 2) for v in load_before], "load_after": [round(v, 2) for v in load_after],
        "measured_on": date.today().isoformat(), "runs": RUNS,
    }
    print(f"load average before {result['load_before']}, after {result['load_after']}")
    print(f"build (median of {RUNS}):       {result['build_s']:.2f} s wall, {result['build_cpu_s']:.2f} s CPU"
          f"   goal <= {GOAL_S:.0f} s: {'met' if result['goal_met'] else 'NOT met'}")
    print(f"  again (adds nothing): {result['again_s']:.3f} s")
    print(f"floor: people + checklists: {result['floor_organisation_s']:.2f} s wall, "
          f"{result['floor_organisation_cpu_s']:.2f} s CPU")
    print(f"photos: {result['photos']} ({result['photo_mb']} MB) painted in {result['paint_s']:.2f} s "
          f"({result['paint_cpu_s']:.2f} s CPU), taken in in {result['intake_s']:.2f} s ({result['intake_cpu_s']:.2f} s CPU)")
    print(f"gemba demo: {result['gemba_demo_s']:.2f} s end to end; process start alone "
          f"(demo --if-empty) {result['process_start_s']:.2f} s")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
