"""The outbox rules, run on the app's own modules in the browser (no server involved)."""

import pytest

pytestmark = pytest.mark.e2e

SCRIPT = """
async () => {
  const outbox = await import('/app/outbox.js');
  const db = await import('/app/db.js');
  const out = {};
  const rec = { id: 'f-1', title: 'first', server_version: 0 };
  await outbox.change('finding', rec, { title: 'first', kind: 'observation' });
  await outbox.change('finding', { ...rec, title: 'second' }, { title: 'second' });
  out.mergedBeforeSending = (await db.getAll('outbox')).map((op) => [op.seq, op.fields]);

  const first = await outbox.nextBatch();
  out.firstBatch = first.map((op) => [op.seq, op.base_version]);
  await outbox.change('finding', { ...rec, title: 'third' }, { title: 'third' });
  await outbox.change('audit', { id: 'a-1', status: 'in_progress', server_version: 4 }, { status: 'in_progress' });
  await outbox.change('audit', { id: 'a-1', status: 'submitted', server_version: 4 }, { status: 'submitted' });
  const ops = await db.getAll('outbox');
  out.frozen = ops.map((op) => [op.seq, op.sent, op.base_version, op.fields]);
  // The resend carries op 1 unchanged, and stops before op 2 (same record, base unknown):
  // skipping it would leave a gap in seq, which the server never steps over.
  const again = await outbox.nextBatch();
  out.secondBatch = again.map((op) => [op.seq, op.fields]);
  await outbox.acknowledge([{ op_id: again[0].op_id, status: 'applied', version: 7 }]);
  // Behind an answered op, the base is what that answer said.
  const third = await outbox.nextBatch();
  out.thirdBatch = third.map((op) => [op.seq, op.base_version]);
  // Results remove only the ops they answer; a lost answer's duplicate keeps its verdict.
  await outbox.acknowledge([{ op_id: third[1].op_id, status: 'duplicate', original_status: 'rejected', reason: 'no' }]);
  out.left = (await db.getAll('outbox')).map((op) => op.seq);
  out.attention = (await outbox.attention()).map((a) => [a.entity, a.status, a.reason]);
  out.record = await db.get('findings', 'f-1');
  return out;
}
"""


def test_ops_merge_until_sent_then_freeze_and_leave_only_when_answered(tablet, field):
    tablet.goto("/app/")
    tablet.wait_for_selector("body[data-ready='yes']")
    out = tablet.evaluate(SCRIPT)
    assert out["mergedBeforeSending"] == [[1, {"title": "second", "kind": "observation"}]]
    assert out["firstBatch"] == [[1, 0]]
    assert out["frozen"] == [
        [1, True, 0, {"title": "second", "kind": "observation"}],
        [2, False, None, {"title": "third"}],
        [3, False, 4, {"status": "in_progress"}],
        [4, False, None, {"status": "submitted"}],
    ]
    assert out["secondBatch"] == [[1, {"title": "second", "kind": "observation"}]]
    assert out["thirdBatch"] == [[2, 7], [3, 4]]
    assert out["left"] == [2, 4]
    assert out["attention"] == [["audit", "rejected", "no"]]
    # Op 2 on the finding is still unanswered, so the record stays marked as pending.
    assert out["record"]["server_version"] == 7 and out["record"]["_pending"] is True
