"""Settings read from the environment, with defaults that need nothing set."""

import json
import os
import secrets
import time
from pathlib import Path

MB = 1024 * 1024


def _secret_key(instance_path: Path) -> str:
    """Return GEMBA_SECRET_KEY, or the key kept in the instance folder, creating it once.

    Several gunicorn workers may start at the same moment: O_EXCL makes exactly one of
    them write the file and the others read what it wrote.
    """
    if key := os.environ.get("GEMBA_SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.01)
        raise RuntimeError(f"{path} exists but is empty") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _json(name: str) -> dict:
    value = os.environ.get(name)
    if not value:
        return {}
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError(f"{name} must be a JSON object")
    return parsed


def from_environment(instance_path: str, given: dict) -> dict:
    """Build the configuration for an app whose instance folder is `instance_path`.

    Settings in `given` (a test's config) win, and the instance folder is only touched
    for what `given` leaves open.
    """
    instance = Path(instance_path)
    if "SECRET_KEY" not in given or "SQLALCHEMY_DATABASE_URI" not in given or "GEMBA_PHOTO_DIR" not in given:
        instance.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("GEMBA_DATABASE_URL") or f"sqlite:///{instance / 'gemba.db'}"
    return {
        "SECRET_KEY": given.get("SECRET_KEY") or _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "GEMBA_PHOTO_DIR": os.environ.get("GEMBA_PHOTO_DIR") or str(instance / "photos"),
        # Where file bytes go (server/storage.py): "local" (GEMBA_PHOTO_DIR) or "s3", an
        # S3-compatible bucket shared by every process and host serving this register.
        "GEMBA_STORAGE": os.environ.get("GEMBA_STORAGE", "local"),
        "GEMBA_S3_ENDPOINT": os.environ.get("GEMBA_S3_ENDPOINT", ""),
        "GEMBA_S3_REGION": os.environ.get("GEMBA_S3_REGION", "us-east-1"),
        "GEMBA_S3_BUCKET": os.environ.get("GEMBA_S3_BUCKET", ""),
        "GEMBA_S3_PREFIX": os.environ.get("GEMBA_S3_PREFIX", ""),
        "GEMBA_S3_ACCESS_KEY": os.environ.get("GEMBA_S3_ACCESS_KEY", ""),
        "GEMBA_S3_SECRET_KEY": os.environ.get("GEMBA_S3_SECRET_KEY", ""),
        "COMPETENCE_EXPIRING_DAYS": _int("GEMBA_COMPETENCE_EXPIRING_DAYS", 30),
        "COMPETENCE_EXPIRED_NOTICE_DAYS": _int("GEMBA_COMPETENCE_EXPIRED_NOTICE_DAYS", 30),
        "DOCUMENT_REVIEW_NOTICE_DAYS": _int("GEMBA_DOCUMENT_REVIEW_NOTICE_DAYS", 30),
        "GEMBA_MAX_DOCUMENT_BYTES": _int("GEMBA_MAX_DOCUMENT_MB", 50) * MB,
        "GEMBA_MAX_PHOTO_BYTES": _int("GEMBA_MAX_PHOTO_MB", 20) * MB,
        "GEMBA_MAX_PHOTO_PIXELS": _int("GEMBA_MAX_PHOTO_MEGAPIXELS", 64) * 1_000_000,
        # What decoding one photo may hold in memory (imaging.decode_cost, known from the
        # header), and how many photos one process decodes at once: together they bound
        # photo intake's memory per process, whatever is uploaded and however many at once.
        "GEMBA_MAX_DECODE_BYTES": _int("GEMBA_MAX_DECODE_MB", 128) * MB,
        "GEMBA_INTAKE_CONCURRENCY": _int("GEMBA_INTAKE_CONCURRENCY", 2),
        "GEMBA_INTAKE_WAIT_SECONDS": _int("GEMBA_INTAKE_WAIT_SECONDS", 60),
        "GEMBA_MAX_SYNC_OPS": _int("GEMBA_MAX_SYNC_OPS", 500),
        # Signs trail checkpoints (services/checkpoints.py); unset: the instance folder's trail_key.
        "GEMBA_TRAIL_KEY": os.environ.get("GEMBA_TRAIL_KEY", ""),
        "GEMBA_TRAIL_HEAD_FILE": os.environ.get("GEMBA_TRAIL_HEAD_FILE") or str(instance / "trail_head"),
        "GEMBA_MAX_SYNC_BYTES": _int("GEMBA_MAX_SYNC_MB", 5) * MB,
        # The request body limit is the photo limit plus room for headers; the sync
        # endpoint checks its own, smaller limit.
        "MAX_CONTENT_LENGTH": (_int("GEMBA_MAX_PHOTO_MB", 20) + 1) * MB,
        "SMTP_HOST": os.environ.get("GEMBA_SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": _int("GEMBA_SMTP_PORT", 25),
        "SMTP_FROM": os.environ.get("GEMBA_SMTP_FROM", "gemba@localhost"),
        "REPEAT_WINDOW_DAYS": _int("GEMBA_REPEAT_WINDOW_DAYS", 365),
        # Where people reach the register, for links in emails (invitations, resets);
        # unset: the address the admin's own request came to.
        "BASE_URL": os.environ.get("GEMBA_BASE_URL", ""),
        # How long an invitation link and a password-reset link stay usable.
        "INVITATION_DAYS": _int("GEMBA_INVITATION_DAYS", 7),
        "RESET_HOURS": _int("GEMBA_RESET_HOURS", 24),
        # Notifications (services/notify.py, services/worker.py; links use BASE_URL): days before a due date that count as "soon";
        # days overdue before an action is escalated to the area's responsible person (and
        # twice that to the site's supervisors); the hour (UTC) of the daily digest; how
        # long a failing email or webhook is retried.
        "NOTIFY_DUE_SOON_DAYS": _int("GEMBA_NOTIFY_DUE_SOON_DAYS", 3),
        "NOTIFY_ESCALATE_DAYS": _int("GEMBA_NOTIFY_ESCALATE_DAYS", 14),
        "NOTIFY_DIGEST_HOUR": _int("GEMBA_NOTIFY_DIGEST_HOUR", 7),
        "NOTIFY_RETRY_HOURS": _int("GEMBA_NOTIFY_RETRY_HOURS", 48),
        "WEBHOOK_TIMEOUT": _int("GEMBA_WEBHOOK_TIMEOUT", 10),
        # A worker's claim on a batch; a worker killed mid-batch leaves it due again after this.
        "WORKER_LEASE_SECONDS": _int("GEMBA_WORKER_LEASE_SECONDS", 300),
        "SESSION_COOKIE_SECURE": os.environ.get("GEMBA_HTTPS", "") == "1",
        # Who may say where a request came from (server/proxies.py): unset trusts nobody's
        # X-Forwarded-For; a number trusts that many proxies in front; a list of addresses
        # or networks trusts exactly those.
        "GEMBA_TRUSTED_PROXIES": os.environ.get("GEMBA_TRUSTED_PROXIES", ""),
        # A field device may stay offline for weeks: its session outlives that (idle), but
        # not for ever (absolute); both are enforced on the server, not by the cookie.
        "SESSION_IDLE_DAYS": _int("GEMBA_SESSION_IDLE_DAYS", 30),
        "SESSION_MAX_DAYS": _int("GEMBA_SESSION_MAX_DAYS", 90),
        # API tokens expire after this many days unless created with another; 0: never.
        "TOKEN_DAYS": _int("GEMBA_TOKEN_DAYS", 365),
        # zxcvbn's score (0-4) a new password must reach: 3 is "safely unguessable"
        # against an online attack and resists a slow-hash offline one.
        "PASSWORD_MIN_SCORE": _int("GEMBA_PASSWORD_MIN_SCORE", 3),
        # Readiness thresholds, JSON: {"actions_overdue": {"amber": 1, "red": 5}, ...}
        # (services/readiness.py THRESHOLDS lists the signals and their defaults).
        "READINESS_THRESHOLDS": _json("GEMBA_READINESS_THRESHOLDS"),
    }


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the common short forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "gemba_session",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # CSRF is checked in one before_request hook so that bearer-token calls can skip it.
    "WTF_CSRF_CHECK_DEFAULT": False,
    "WTF_CSRF_TIME_LIMIT": None,
    # Guessing is throttled without locking the real person out (services/throttle.py).
    # One account from one client: this many failures are free, then each further one
    # waits twice as long as the last, from LOGIN_DELAY_SECONDS up to LOGIN_DELAY_CAP_SECONDS;
    # forgotten after LOGIN_FORGET_SECONDS without a failure, or at a successful sign-in.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_DELAY_SECONDS": 30,
    "LOGIN_DELAY_CAP_SECONDS": 15 * 60,
    "LOGIN_FORGET_SECONDS": 24 * 3600,
    # Within a window: failures on one account from clients that are not known devices
    # (many addresses guessing one password), and failures from one address on any
    # accounts (one address trying many). A known device is held by neither.
    "LOGIN_WINDOW_SECONDS": 15 * 60,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 20,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 30,
    # A browser that signed in successfully carries a signed cookie naming it for this long.
    "KNOWN_DEVICE_DAYS": 365,
    "KNOWN_DEVICE_COOKIE": "gemba_device",
    # How often a session's last-seen time and a token's last use are written at most.
    "SESSION_TOUCH_SECONDS": 5 * 60,
    "TOKEN_TOUCH_SECONDS": 60,
    "API_TITLE": "Gemba",
    "API_VERSION": "1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "PAGE_SIZE": 25,
    "REPEAT_WINDOW_DAYS": 365,
}
