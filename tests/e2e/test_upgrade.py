"""A device that kept data under an older IndexedDB schema upgrades without losing any of it."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

# Version 1 of the schema exactly as the first release created it, with unsent work in it.
VERSION_1 = """
() => new Promise((resolve, reject) => {
  const request = indexedDB.open('gemba', 1);
  request.onupgradeneeded = () => {
    const db = request.result;
    db.createObjectStore('meta', { keyPath: 'key' });
    db.createObjectStore('areas', { keyPath: 'id' });
    db.createObjectStore('templates', { keyPath: 'id' });
    db.createObjectStore('audits', { keyPath: 'id' });
    db.createObjectStore('responses', { keyPath: 'id' }).createIndex('audit_id', 'audit_id');
    db.createObjectStore('findings', { keyPath: 'id' }).createIndex('audit_id', 'audit_id');
    db.createObjectStore('comments', { keyPath: 'id' }).createIndex('subject', 'subject');
    const outbox = db.createObjectStore('outbox', { keyPath: 'seq' });
    outbox.createIndex('op_id', 'op_id', { unique: true });
    outbox.createIndex('record', 'record');
    db.createObjectStore('photos', { keyPath: 'sha256' });
    db.createObjectStore('attention', { keyPath: 'op_id' });
  };
  request.onsuccess = () => {
    const db = request.result;
    const tx = db.transaction(['meta', 'outbox', 'photos', 'findings'], 'readwrite');
    tx.objectStore('meta').put({ key: 'user', value: { id: 'u-1', email: 'old@example.test', name: 'Old', role: 'staff' } });
    tx.objectStore('meta').put({ key: 'device_id', value: '6f1c2a9e-1111-4222-8333-944455556666' });
    tx.objectStore('findings').put({ id: 'f-1', title: 'Kept across the upgrade', _pending: true, server_version: 0 });
    tx.objectStore('outbox').put({ op_id: 'o-1', seq: 1, entity: 'finding', id: 'f-1', base_version: 0,
      fields: { title: 'Kept across the upgrade' }, at: new Date().toISOString(), record: 'finding:f-1', sent: true });
    const bytes = new Uint8Array([1, 2, 3, 4]).buffer;
    tx.objectStore('photos').put({ sha256: 'a'.repeat(64), bytes, size: 4, uploaded: false, attempted: false });
    tx.objectStore('photos').put({ sha256: 'b'.repeat(64), bytes: null, size: 9, uploaded: true });
    tx.oncomplete = () => { db.close(); resolve(); };
    tx.onerror = () => reject(tx.error);
  };
  request.onerror = () => reject(request.error);
})
"""


def test_version_1_data_survives_the_upgrade(tablet):
    tablet.goto("/app/manifest.webmanifest")  # same origin, none of the app's code
    tablet.evaluate(VERSION_1)
    tablet.goto("/app/#/sync")
    tablet.wait_for_selector("body[data-ready='yes']")
    expect(tablet.locator("#pending-summary")).to_contain_text("1 change and 1 photo unsent")
    queued = tablet.evaluate("() => import('/app/db.js').then((db) => db.getAll('photo_queue'))")
    assert [(p["sha256"][0], p["size"]) for p in queued] == [("a", 4)]
    assert tablet.evaluate("() => import('/app/db.js').then((db) => db.VERSION)") == 6
    stores = tablet.evaluate("() => import('/app/db.js').then(async (db) => Array.from((await db.open()).objectStoreNames))")
    assert {"photo_queue", "actions", "drafts", "documents", "acknowledgements", "pins", "pin_bytes"} <= set(stores)


# Version 4 of the schema (the release before the list's indexes), holding an auditor's
# audit with answers, one of them changed offline and not sent yet.
VERSION_4 = """
() => new Promise((resolve, reject) => {
  const request = indexedDB.open('gemba', 4);
  request.onupgradeneeded = () => {
    const db = request.result;
    db.createObjectStore('meta', { keyPath: 'key' });
    for (const name of ['areas', 'templates', 'audits', 'actions', 'drafts']) db.createObjectStore(name, { keyPath: 'id' });
    db.createObjectStore('responses', { keyPath: 'id' }).createIndex('audit_id', 'audit_id');
    db.createObjectStore('findings', { keyPath: 'id' }).createIndex('audit_id', 'audit_id');
    db.createObjectStore('comments', { keyPath: 'id' }).createIndex('subject', 'subject');
    const outbox = db.createObjectStore('outbox', { keyPath: 'seq' });
    outbox.createIndex('op_id', 'op_id', { unique: true });
    outbox.createIndex('record', 'record');
    db.createObjectStore('photos', { keyPath: 'sha256' });
    db.createObjectStore('attention', { keyPath: 'op_id' });
    db.createObjectStore('photo_queue', { keyPath: 'sha256' });
  };
  request.onsuccess = () => {
    const db = request.result;
    const names = ['meta', 'areas', 'templates', 'audits', 'responses', 'outbox'];
    const tx = db.transaction(names, 'readwrite');
    tx.objectStore('meta').put({ key: 'user', value: { id: 'u-4', email: 'v4@example.test', name: 'Four', role: 'auditor' } });
    tx.objectStore('meta').put({ key: 'seq', value: 3 });
    tx.objectStore('areas').put({ id: 'ar-4', site: 'Leeds', name: 'Goods in' });
    tx.objectStore('templates').put({ id: 't-4', name: 'Upgrade walk', status: 'published', questions: [
      { id: 'q-1', kind: 'yes_no_na', position: 1, section: 'A', text: 'One?' },
      { id: 'q-2', kind: 'yes_no_na', position: 2, section: 'A', text: 'Two?' },
      { id: 'q-3', kind: 'yes_no_na', position: 3, section: 'A', text: 'Three?' }] });
    tx.objectStore('audits').put({ id: 'a-4', template_id: 't-4', area_id: 'ar-4', auditor_id: 'u-4',
      planned_date: '2026-12-01', status: 'in_progress', server_version: 2 });
    tx.objectStore('responses').put({ id: 'r-1', audit_id: 'a-4', question_id: 'q-1', value: 'yes', photos: [], server_version: 1 });
    tx.objectStore('responses').put({ id: 'r-2', audit_id: 'a-4', question_id: 'q-2', value: 'no', photos: [],
      server_version: 1, _pending: true });
    tx.objectStore('outbox').put({ op_id: 'o-3', seq: 3, entity: 'response', id: 'r-2', base_version: 1,
      fields: { value: 'no' }, at: new Date().toISOString(), record: 'response:r-2', sent: false });
    tx.oncomplete = () => { db.close(); resolve(); };
    tx.onerror = () => reject(tx.error);
  };
  request.onerror = () => reject(request.error);
})
"""


def test_version_4_device_keeps_unsent_answers_and_lists_its_audits(tablet):
    tablet.goto("/app/manifest.webmanifest")
    tablet.evaluate(VERSION_4)
    tablet.goto("/app/#/audits")
    tablet.wait_for_selector("body[data-ready='yes']")
    card = tablet.locator(".audit-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Upgrade walk - Leeds / Goods in")
    expect(card).to_contain_text("2 of 3 answered")
    ops = tablet.evaluate("() => import('/app/db.js').then((db) => db.getAll('outbox'))")
    assert [(op["op_id"], op["fields"], op["sent"]) for op in ops] == [("o-3", {"value": "no"}, False)]
    # An answer saved after the upgrade updates the stored answer and joins its unsent op.
    saved = tablet.evaluate("""() => Promise.all([import('/app/db.js'), import('/app/records.js')]).then(async ([db, records]) => {
        const audit = await db.get('audits', 'a-4');
        await records.answer(audit, { id: 'q-2', kind: 'yes_no_na' }, { note: 'Blocked by pallets' });
        return { responses: (await db.byIndex('responses', 'audit_id', 'a-4')).length, ops: await db.getAll('outbox') };
    })""")
    assert saved["responses"] == 2
    assert [(op["op_id"], op["fields"]) for op in saved["ops"]] == [("o-3", {"value": "no", "note": "Blocked by pallets"})]
