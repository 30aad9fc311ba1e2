// A small harness for testing the field app's modules in the browser, driven from pytest
// (test_modules.py), in the manner of workbox's per-module tests: a file
// `test-<module>.mjs` imports the module under test from /app/ and registers one test per
// behaviour. A test fails by throwing (the assertions below throw AssertionError).
//
// pytest finds the tests by reading `test("...", ...)` calls that start a line, so write
// each name as one double-quoted string; a check compares that list with the page's.

const registered = [];

/**
 * Register a test.
 * @param {string} name what the module does, as a sentence
 * @param {() => (Promise<void>|void)} fn throws (or rejects) when the module does not
 */
export function test(name, fn) {
  if (registered.some((t) => t.name === name)) throw new Error(`Two tests are named "${name}".`);
  registered.push({ name, fn });
}

/** The tests registered so far, in order. */
export const tests = () => registered.slice();

export class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = "AssertionError";
  }
}

const show = (value) => {
  try {
    return JSON.stringify(value, (k, v) => (v instanceof Map ? { Map: [...v] } : v === undefined ? "undefined" : v));
  } catch (e) {
    return String(value);
  }
};

/** Throw unless `value` is truthy. */
export function ok(value, message = "expected a truthy value") {
  if (!value) throw new AssertionError(`${message} (got ${show(value)})`);
}

/** Throw unless `actual === expected`. */
export function equal(actual, expected, message = "") {
  if (actual !== expected) throw new AssertionError(`${message ? `${message}: ` : ""}expected ${show(expected)}, got ${show(actual)}`);
}

function same(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Map) return same([...a], [...b]);
  if (a instanceof ArrayBuffer) return same([...new Uint8Array(a)], [...new Uint8Array(b)]);
  if (ArrayBuffer.isView(a)) return same([...a], [...b]);
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same(a[k], b[k]));
}

/** Throw unless `actual` and `expected` have the same structure and values. */
export function deepEqual(actual, expected, message = "") {
  if (!same(actual, expected)) {
    throw new AssertionError(`${message ? `${message}: ` : ""}expected ${show(expected)}, got ${show(actual)}`);
  }
}

/**
 * Throw unless `promise` rejects with an error whose name or message matches `pattern`.
 * @returns {Promise<Error>} the error, for further checks
 */
export async function rejects(promise, pattern, message = "expected a rejection") {
  let error = null;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (!error) throw new AssertionError(message);
  if (pattern && !pattern.test(`${error.name}: ${error.message}`)) {
    throw new AssertionError(`${message}: ${error.name}: ${error.message} does not match ${pattern}`);
  }
  return error;
}

/** A promise with its resolve and reject at hand (to hold a step back, then let it go). */
export function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Wait until `predicate()` holds (polled every 10 ms); throw after `ms`. */
export async function until(predicate, message = "the condition", ms = 5000) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new AssertionError(`${message} never held within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Let every promise reaction already due run (a few turns of the microtask queue and one task). */
export function settle() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
