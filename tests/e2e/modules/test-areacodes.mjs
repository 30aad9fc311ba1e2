// areacodes.js: a code read as the server reads it (server/ids.py area_code_or_none).
import { codeIn, findArea, normalise } from "/app/areacodes.js";
import { deepEqual, equal, test } from "./harness.mjs";

test("a code is read as people type it", () => {
  deepEqual(["k7qm2x", " K7Q M2X ", "k7q-m2x", "K7QM2X"].map(normalise), Array(4).fill("K7QM2X"));
});

test("what cannot be a code is null", () => {
  deepEqual(["", "K7QM2", "K7QM2XX", "K7QM2O", "10IL0U", "K7QM2\u0000", "' OR 1=1", "Ｋ７ＱＭ２Ｘ", "K".repeat(5000), null, 7]
    .map(normalise), Array(11).fill(null));
});

test("a label's URL gives its code, and the code finds the area on the device", () => {
  equal(codeIn("https://gemba.example.test/app/#/area/K7QM2X"), "K7QM2X");
  equal(codeIn("https://gemba.example.test/app/#/area/nonsense"), null);
  equal(codeIn("https://elsewhere.example/"), null);
  const areas = [{ id: "a1", code: "K7QM2X" }, { id: "a2", code: "23456Z" }];
  deepEqual(findArea(areas, "23456z"), { code: "23456Z", area: areas[1] });
  deepEqual(findArea(areas, "ABCDEF"), { code: "ABCDEF", area: null });
  deepEqual(findArea(areas, "hello"), { code: null, area: null });
});
