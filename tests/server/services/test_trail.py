"""The audit trail: `gemba trail verify` finds an edited or removed event; the trail page filters."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from server.extensions import db
from server.models import Change, Event
from server.services import audit_review, feed, trail
from server.services.together import rows_together
from tests.register_helpers import RegisterPages, events, submitted_audit


@pytest.fixture
def history(make, commit):
    supervisor = make.user("supervisor", name="Quinn Patel")
    audit = submitted_audit()
    audit_review.return_audit(supervisor, audit, "Add the missing photo.")
    commit()
    return {"supervisor": supervisor, "audit": audit}


def verify(app):
    return app.test_cli_runner().invoke(args=["trail", "verify"])


def test_an_intact_trail_verifies(app, history):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "Trail intact" in result.output


def test_an_edited_event_is_named(app, history):
    returned = events("audit.returned")[0]
    # Someone with database access rewrites what the supervisor said.
    db.session.execute(text("UPDATE event SET changes = :c WHERE id = :id"),
                       {"c": '{"status": ["submitted", "approved"]}', "id": returned.id})
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1
    assert f"event {returned.id} " in result.output and "audit.returned" in result.output


def test_a_deleted_event_is_detected(app, history):
    ids = [e.id for e in events()]
    removed = ids[len(ids) // 2]
    db.session.execute(text("DELETE FROM event WHERE id = :id"), {"id": removed})
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1
    following = next(i for i in ids if i > removed)
    assert f"event {following} " in result.output


def test_the_trail_page_filters_by_actor_action_record_and_date(client, history, make):
    assert RegisterPages(client).sign_in(history["supervisor"]).status_code == 302
    everything = client.get("/trail").get_data(as_text=True)
    assert "audit.returned" in everything and "user.created" in everything
    by_actor = client.get(f"/trail?actor={history['supervisor'].id}").get_data(as_text=True)
    assert "audit.returned" in by_actor and "user.created" not in by_actor
    by_action = client.get("/trail?action=comment.").get_data(as_text=True)
    assert "comment.added" in by_action and "audit.returned" not in by_action
    by_record = client.get(f"/trail?entity=audit&entity_id={history['audit'].id}").get_data(as_text=True)
    assert "audit.returned" in by_record and "user.created" not in by_record
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert "No events match" in client.get(f"/trail?since={tomorrow}").get_data(as_text=True)
    bad = client.get("/trail?since=notadate")
    assert bad.status_code == 200 and "Not a valid date" in bad.get_data(as_text=True)


def test_the_trail_page_is_for_supervisors(client, make, commit):
    auditor = make.user("auditor")
    commit()
    assert RegisterPages(client).sign_in(auditor).status_code == 302
    assert client.get("/trail").status_code == 403


def test_the_trail_is_paginated(client, history, make, commit, app):
    app.config["PAGE_SIZE"] = 2  # 4 events a page
    for _ in range(6):
        make.user("staff")
    commit()
    assert RegisterPages(client).sign_in(history["supervisor"]).status_code == 302
    first = client.get("/trail").get_data(as_text=True)
    body = first.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert 'rel="next"' in first and body.count("<tr>") == 4


def test_chain_holds_when_a_savepoint_drops_the_newest_event(app, make):
    from server.extensions import db
    from server.services import trail

    user = make.user()
    trail.record(user, "test.kept", "user", user.id)
    savepoint = db.session.begin_nested()
    trail.record(user, "test.dropped", "user", user.id)
    savepoint.rollback()
    trail.record(user, "test.after", "user", user.id)
    db.session.commit()
    assert trail.verify_chain() is None


def test_rows_written_together_are_dropped_whole_when_the_block_fails(app, make, commit):
    actor = make.user("supervisor")
    trail.record(actor, "test.before", "user", actor.id)
    commit()
    with pytest.raises(RuntimeError):
        with db.session.begin_nested(), rows_together():
            trail.record(actor, "test.lost", "user", actor.id)
            feed.publish("user", actor.id, 7)
            raise RuntimeError("an op broke a rule")
    # What comes next chains to the last event written, not to the one that was dropped.
    with db.session.begin_nested(), rows_together():
        trail.record(actor, "test.kept", "user", actor.id)
        trail.record(actor, "test.kept", "user", actor.id, {"n": 2})
    commit()

    actions = db.session.scalars(select(Event.action).where(Event.action.like("test.%")).order_by(Event.id)).all()
    assert actions == ["test.before", "test.kept", "test.kept"]
    assert db.session.scalar(select(func.count()).select_from(Change).where(Change.version == 7)) == 0
    assert trail.verify_chain() is None
    assert verify(app).exit_code == 0


# --- signed checkpoints: deleting the newest events shows --------------------------------

def run(app, *args):
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["trail", *args])
    db.session.rollback()
    return result


def _checkpoint(app) -> str:
    result = run(app, "checkpoint")
    assert result.exit_code == 0, result.output
    line = result.output.strip().splitlines()[0]
    assert line.startswith("gemba-trail/1 count=")
    return line


def _delete_newest(count: int) -> None:
    newest = [e.id for e in events()][-count:]
    db.session.execute(text("DELETE FROM event WHERE id IN (%s)" % ",".join(str(i) for i in newest)))
    db.session.commit()


def test_checkpoint_prints_the_signed_head_and_verify_agrees(app, history):
    line = _checkpoint(app)
    total = db.session.scalar(select(func.count()).select_from(Event))
    head = db.session.scalar(select(Event.hash).order_by(Event.id.desc()).limit(1))
    assert f"count={total} " in line and f"head={head} " in line
    result = run(app, "verify", "--anchor", line)
    assert result.exit_code == 0, result.output
    assert "1 signed checkpoint" in result.output
    # nothing new: the same head, no second row
    assert _checkpoint(app) == line


def test_deleting_the_newest_events_is_detected(app, history):
    _checkpoint(app)
    _delete_newest(2)
    assert trail.verify_chain() is None  # the chain alone cannot tell
    result = run(app, "verify")
    assert result.exit_code == 1
    assert "the newest 2 were removed" in result.output


def test_deleting_events_and_checkpoint_rows_still_shows_through_the_head_file_and_an_anchor(app, history):
    line = _checkpoint(app)
    _delete_newest(1)
    db.session.execute(text("DELETE FROM trail_checkpoint"))
    db.session.commit()
    result = run(app, "verify")
    assert result.exit_code == 1 and "head file" in result.output
    # and with the head file gone too, the line kept elsewhere still tells
    from pathlib import Path
    Path(app.config["GEMBA_TRAIL_HEAD_FILE"]).unlink()
    assert run(app, "verify").exit_code == 0  # nothing on the server remembers
    result = run(app, "verify", "--anchor", line)
    assert result.exit_code == 1 and "the newest 1 were removed" in result.output


def test_a_checkpoint_forged_without_the_key_is_refused(app, history):
    _checkpoint(app)
    _delete_newest(1)
    # Someone with database access rewrites the checkpoint to match what is left...
    total = db.session.scalar(select(func.count()).select_from(Event))
    head = db.session.scalar(select(Event.hash).order_by(Event.id.desc()).limit(1))
    db.session.execute(text("UPDATE trail_checkpoint SET event_count = :c, head_hash = :h"), {"c": total, "h": head})
    db.session.commit()
    from pathlib import Path
    Path(app.config["GEMBA_TRAIL_HEAD_FILE"]).unlink()
    result = run(app, "verify")
    # ...but cannot sign it without the key, which is not in the database.
    assert result.exit_code == 1 and "not signed with this server's trail key" in result.output


def test_events_after_the_checkpoint_verify_and_a_new_checkpoint_covers_them(app, history, make, commit):
    first = _checkpoint(app)
    audit_review.approve(make.user("supervisor"), submitted_audit())
    commit()
    assert run(app, "verify", "--anchor", first).exit_code == 0
    second = _checkpoint(app)
    assert second != first
    _delete_newest(1)
    result = run(app, "verify", "--anchor", first)
    assert result.exit_code == 1  # the second checkpoint (table and head file) still tells


def test_a_bad_anchor_line_is_a_usage_error(app, history):
    result = run(app, "verify", "--anchor", "nonsense")
    assert result.exit_code == 2 and "checkpoint line" in result.output
