// The page side of the module tests: import the test file named in ?module=, then let
// pytest list its tests and run them one by one (window.moduleTests).
import { tests } from "./harness.mjs";

const TIMEOUT_MS = 10_000;

async function run(name) {
  const found = tests().find((t) => t.name === name);
  if (!found) return { ok: false, error: `No test named "${name}" in this file.` };
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  try {
    await Promise.race([found.fn(), timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: `${error.name || "Error"}: ${error.message}`, stack: String(error.stack || "") };
  } finally {
    clearTimeout(timer);
  }
}

const file = new URLSearchParams(location.search).get("module") || "";
if (!/^test-[a-z0-9-]+\.mjs$/.test(file)) {
  window.moduleTests = { loadError: `Not a test file: "${file}"` };
} else {
  import(`./${file}`).then(
    () => { window.moduleTests = { names: tests().map((t) => t.name), run }; },
    (error) => { window.moduleTests = { loadError: `${error.name}: ${error.message}` }; },
  );
}
