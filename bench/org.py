"""An organisation of 5,000 people and 400 areas: the people list, and a 5,000-line import dry run.

    .venv/bin/python -m bench org

For SQLite (a temporary file) and PostgreSQL (a throwaway database on 127.0.0.1:5432):
- the register's people list (`GET /people`) and the API's (`GET /api/users`), signed in
  as an admin through the Flask test client, with a filter (part of a name, a role, a
  site, active) and a page deep in the list; p50/p95 of REQUESTS each, next to a floor
  of `GET /healthz` in the same run. Goal: p95 <= 150 ms.
- a dry run of a 5,000-line people CSV (`org_csv.check`: read, then check every line
  against the database), next to a floor of reading and checking the same CSV against
  the organisation already in memory (no database). Goal: <= 5 s.
"""

import json
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert

from bench.auth import database
from server import create_app
from server.extensions import db
from server.models import Area, Site, User
from server.models.accounts import user_site
from server.services import org_csv
from server.services.accounts import NO_PASSWORD
from tests import factories

OUT = Path(__file__).resolve().parent / "out" / "org.json"
PEOPLE, AREAS, SITES = 5_000, 400, 8
REQUESTS = int(os.environ.get("GEMBA_BENCH_ORG_REQUESTS", "100"))
LINES = 5_000
FIRST = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jo", "Kenji", "Lea"]
LAST = ["Smith", "Okafor", "Sato", "Novak", "Garcia", "Kowalski", "Ahmed", "Berg", "Rossi", "Silva"]
ROLES = ["staff"] * 14 + ["auditor"] * 4 + ["supervisor"] * 2


def seed() -> tuple[list[Site], list[Area]]:
    rng = random.Random(11)
    sites = [Site(id=uuid.uuid4(), name=f"Site {n}", timezone="Europe/London") for n in range(SITES)]
    db.session.add_all(sites)
    areas = [Area(id=uuid.uuid4(), site_id=sites[n % SITES].id, name=f"Area {n:03}") for n in range(AREAS)]
    db.session.add_all(areas)
    db.session.flush()
    users, links = [], []
    for n in range(PEOPLE):
        user_id = uuid.uuid4()
        home = areas[rng.randrange(AREAS)]
        users.append({"id": user_id, "email": f"person{n:05}@example.test", "role": rng.choice(ROLES),
                      "name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}", "home_area_id": home.id,
                      "active": rng.random() > 0.05, "password_hash": NO_PASSWORD})
        links.append({"user_id": user_id, "site_id": home.site_id})
    db.session.execute(insert(User), users)
    db.session.execute(insert(user_site), links)
    factories.user("admin", email="bench.admin@example.test")
    db.session.commit()
    return sites, areas


def people_csv(areas: list[Area]) -> str:
    rng = random.Random(5)
    rows = [",".join(org_csv.USER_COLUMNS)]
    for n in range(LINES):
        area = areas[rng.randrange(len(areas))]
        rows.append(f"new{n:05}@example.test,New Person {n},{rng.choice(ROLES)},{area.site.name} / {area.name},{area.site.name}")
    return "\n".join(rows) + "\n"


def timed(client, paths: list[str]) -> list[float]:
    times = []
    for i in range(REQUESTS):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def figures(times: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(statistics.quantiles(times, n=20)[18], 2)}


def run(kind: str) -> dict:
    with database(kind) as url, tempfile.TemporaryDirectory() as photos:
        app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "GEMBA_PHOTO_DIR": photos})
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            sites, areas = seed()
            seeded = time.perf_counter() - started
            site = sites[3].id
            text = people_csv(areas)
            # the dry run: read, then check against the database; the floor: the same against memory
            org = org_csv._Organisation()
            floor_times, dry_times = [], []
            for _ in range(3):
                started = time.perf_counter()
                lines, _ = org_csv.read("users", text)
                org_csv._check_users(lines, org)
                floor_times.append(time.perf_counter() - started)
                db.session.expire_all()
                started = time.perf_counter()
                result = org_csv.check("users", text)
                dry_times.append(time.perf_counter() - started)
            assert result.ok and result.count("add") == LINES, result.problems[:3]
            db.session.remove()
        client = app.test_client()
        login = client.post("/api/auth/login", json={"email": "bench.admin@example.test", "password": factories.PASSWORD})
        assert login.status_code == 200
        register = [f"/people?q=sato&role=staff&page=2", f"/people?site={site}&state=active&page=7",
                    "/people?page=150", "/people?q=person0123"]
        api = [f"/api/users?q=sato&role=staff&page=2", f"/api/users?site_id={site}&active=true&page=7",
               "/api/users?page=90", "/api/users?q=person0123"]
        results = {
            "seed_s": round(seeded, 2),
            "floor GET /healthz": figures(timed(client, ["/healthz"])),
            "GET /people (filter + page)": figures(timed(client, register)),
            "GET /api/users (filter + page)": figures(timed(client, api)),
            "dry run 5,000 lines (s)": round(min(dry_times), 3),
            "floor: read + check in memory (s)": round(min(floor_times), 3),
        }
        with app.app_context():
            db.engine.dispose()
        return results


def main() -> dict:
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {PEOPLE:,} people, {AREAS} areas, "
          f"{REQUESTS} requests per list")
    results = {"load_average": [round(x, 2) for x in load], "requests": REQUESTS}
    for kind in ("sqlite", "postgresql"):
        f = results[kind] = run(kind)
        for label in ("floor GET /healthz", "GET /people (filter + page)", "GET /api/users (filter + page)"):
            print(f"{kind:<10} {label:<32} p50 {f[label]['p50_ms']:7.2f} ms  p95 {f[label]['p95_ms']:7.2f} ms")
        print(f"{kind:<10} {'dry run of 5,000 lines':<32} {f['dry run 5,000 lines (s)']:.3f} s  "
              f"(floor, read + check in memory: {f['floor: read + check in memory (s)']:.3f} s)")
    after = os.getloadavg()
    results["load_after"] = [round(x, 2) for x in after]
    print(f"load average after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to bench/out/{OUT.name}")
    return results


if __name__ == "__main__":
    main()
