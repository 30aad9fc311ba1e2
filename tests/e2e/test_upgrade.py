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
    assert tablet.evaluate("() => import('/app/db.js').then((db) => db.VERSION)") == 5
    stores = tablet.evaluate("() => import('/app/db.js').then(async (db) => Array.from((await db.open()).objectStoreNames))")
    assert {"photo_queue", "actions", "drafts", "documents", "acknowledgements", "pins", "pin_bytes"} <= set(stores)
