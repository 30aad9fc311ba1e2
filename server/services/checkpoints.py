"""Signed checkpoints of the audit trail's head, so that removing the newest events shows.

The hash chain (`trail.verify_chain`) catches an event changed or removed in the middle,
but not the newest ones cut off the end: what is left is still a valid chain. A
checkpoint records how many events the trail held and the newest one's hash, signed with
HMAC-SHA256 under a key that is not in the database: GEMBA_TRAIL_KEY, or the instance
folder's `trail_key` file (made on first use, mode 0600). The latest checkpoint is also
written to a file outside the database (GEMBA_TRAIL_HEAD_FILE, by default the instance
folder's `trail_head`), and `gemba trail checkpoint` prints it as one line to keep
somewhere else again (a ticket, an email, a notary service): deleting checkpoint rows
along with events then shows too. `gemba trail verify` checks the chain reaches every
checkpoint it knows of: in the table, in the head file, and any `--anchor` line given.

Run `gemba trail checkpoint` periodically (cron or a systemd timer, e.g. every 15
minutes); each run that finds new events writes one.
"""

import hashlib
import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import Event, TrailCheckpoint, utcnow
from .serialise import lock_ordered_writes
from .trail import GENESIS, event_digest

PREFIX = "gemba-trail/1"


class NoTrailKey(Exception):
    """No GEMBA_TRAIL_KEY and no instance key file: checkpoints cannot be made or checked."""


def trail_key(create: bool = False) -> bytes:
    """The checkpoint key: GEMBA_TRAIL_KEY, else the instance folder's trail_key (made if `create`)."""
    if key := current_app.config.get("GEMBA_TRAIL_KEY"):
        return key.encode()
    path = Path(current_app.instance_path) / "trail_key"
    if not path.exists():
        if not create:
            raise NoTrailKey(f"No trail key: set GEMBA_TRAIL_KEY or keep {path} (made by `gemba trail checkpoint`).")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def head_file() -> Path:
    return Path(current_app.config.get("GEMBA_TRAIL_HEAD_FILE") or Path(current_app.instance_path) / "trail_head")


@dataclass(frozen=True)
class Anchor:
    """What a checkpoint says: `count` events, the newest hashing to `head`, signed at `at`."""

    count: int
    head: str
    at: datetime
    mac: str

    def line(self) -> str:
        return f"{PREFIX} count={self.count} head={self.head} at={self.at.isoformat()} mac={self.mac}"

    def signed_by(self, key: bytes) -> bool:
        return hmac.compare_digest(self.mac, _mac(key, self.count, self.head, self.at))

    @classmethod
    def parse(cls, line: str) -> "Anchor":
        """Read a printed checkpoint line. :raise ValueError: when it is not one."""
        parts = line.strip().split()
        if not parts or parts[0] != PREFIX:
            raise ValueError(f"Not a trail checkpoint line (it starts with {PREFIX}).")
        values = dict(part.split("=", 1) for part in parts[1:] if "=" in part)
        try:
            return cls(int(values["count"]), values["head"], datetime.fromisoformat(values["at"]), values["mac"])
        except (KeyError, ValueError) as exc:
            raise ValueError(f"Not a whole trail checkpoint line: {exc}") from None


def _mac(key: bytes, count: int, head: str, at: datetime) -> str:
    message = f"{PREFIX}|{count}|{head}|{at.isoformat()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _anchor(checkpoint: TrailCheckpoint) -> Anchor:
    return Anchor(checkpoint.event_count, checkpoint.head_hash, checkpoint.at, checkpoint.mac)


def latest() -> TrailCheckpoint | None:
    return db.session.scalar(select(TrailCheckpoint).order_by(TrailCheckpoint.id.desc()).limit(1))


def checkpoint(at: datetime | None = None) -> tuple[Anchor, bool]:
    """Sign the trail's current head; answer it and whether a new checkpoint was written
    (none when no event came since the last one). Writes the head file. Flushes."""
    lock_ordered_writes()  # no event is appended while the head is read
    key = trail_key(create=True)
    count = db.session.scalar(select(func.count()).select_from(Event))
    head = db.session.scalar(select(Event.hash).order_by(Event.id.desc()).limit(1)) or GENESIS
    last = latest()
    if last is not None and last.event_count == count and last.head_hash == head:
        anchor, written = _anchor(last), False
    else:
        moment = (at or utcnow()).replace(microsecond=0)
        anchor = Anchor(count, head, moment, _mac(key, count, head, moment))
        db.session.add(TrailCheckpoint(at=anchor.at, event_count=count, head_hash=head, mac=anchor.mac))
        db.session.flush()
        written = True
    _write_head_file(anchor)
    return anchor, written


def _write_head_file(anchor: Anchor) -> None:
    path = head_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".trail_head-")
    with os.fdopen(fd, "w") as f:
        f.write(anchor.line() + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def verify(anchors: list[Anchor] = (), batch: int = 1000) -> list[str]:
    """Check the chain and every checkpoint known (table, head file, `anchors`); answer the problems.

    A checkpoint must be signed with the key and the chain must hold `count` events with
    the `count`-th hashing to its head. An empty list means the trail holds.
    """
    problems = []
    try:
        key, no_key = trail_key(), None
    except NoTrailKey as exc:
        key, no_key = None, str(exc)
    known: list[tuple[str, Anchor]] = [(f"checkpoint {c.id} ({c.at.isoformat()})", _anchor(c))
                                       for c in db.session.scalars(select(TrailCheckpoint).order_by(TrailCheckpoint.id))]
    path = head_file()
    if path.exists():
        try:
            known.append((f"the head file {path}", Anchor.parse(path.read_text())))
        except ValueError as exc:
            problems.append(f"The head file {path} is damaged: {exc}")
    known += [(f"the anchor given ({anchor.at.isoformat()})", anchor) for anchor in anchors]
    if key is None and known:  # checkpoints exist but cannot be checked
        problems.append(no_key)
    if key is not None:
        for name, anchor in known:
            if not anchor.signed_by(key):
                problems.append(f"{name} is not signed with this server's trail key: forged, or the key changed.")
    wanted: dict[int, list[tuple[str, Anchor]]] = {}
    for name, anchor in known:
        wanted.setdefault(anchor.count, []).append((name, anchor))

    previous, last_id, position = GENESIS, 0, 0
    broken = None
    while broken is None:
        events = db.session.scalars(select(Event).where(Event.id > last_id).order_by(Event.id).limit(batch)).all()
        if not events:
            break
        for event in events:
            if event.prev_hash != previous or event_digest(event) != event.hash:
                broken = event
                break
            position += 1
            for name, anchor in wanted.pop(position, []):
                if anchor.head != event.hash:
                    problems.append(f"{name} says event {position} hashed to {anchor.head[:12]}..., but the trail's "
                                    f"event {position} (id {event.id}) hashes to {event.hash[:12]}...: events up to "
                                    "it were removed or rewritten.")
            previous, last_id = event.hash, event.id
    if broken is not None:
        problems.insert(0, f"Trail broken at event {broken.id} ({broken.action} on {broken.entity} {broken.entity_id}, "
                           f"{broken.at.isoformat()}): its content or its link to the event before it was changed, "
                           "or an event before it was removed.")
    else:
        for count, names in sorted(wanted.items()):
            for name, anchor in names:
                if count == 0 and anchor.head == GENESIS:
                    continue
                problems.append(f"{name} counted {count} events, but the trail holds {position}: "
                                f"the newest {count - position} were removed.")
    return problems
