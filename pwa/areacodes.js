// Areas by the short code on their QR label. The rule is the server's
// (server/ids.py area_code_or_none); this mirrors it so a code is read the same offline.
// A label carries a URL to this app with the code in it (".../app/#/area/K7QM2X"); a
// person may also type the code printed under the QR.

export const ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
export const LENGTH = 6;
const MAX_INPUT = 32;

/**
 * The code `text` names as a person types it (any case, spaces or dashes between), or null.
 * @param {string} text
 * @returns {string|null}
 */
export function normalise(text) {
  if (typeof text !== "string" || text.length > MAX_INPUT) return null;
  const code = text.replace(/[\s-]/g, "").toUpperCase();
  if (code.length !== LENGTH || [...code].some((c) => !ALPHABET.includes(c))) return null;
  return code;
}

/**
 * The code in what a scan or a person gave: a label's URL (its "#/area/<code>") or the code itself.
 * @param {string} text
 * @returns {string|null}
 */
export function codeIn(text) {
  if (typeof text !== "string") return null;
  const inUrl = /#\/area\/([^/?#\s]+)\s*$/.exec(text.trim());
  return normalise(inUrl ? decodeURIComponent(inUrl[1]) : text);
}

/**
 * The area of `areas` (as bootstrap sent them) whose code `text` gives.
 * @param {Array<{code?: string}>} areas
 * @param {string} text
 * @returns {{area: object|null, code: string|null}} code null: not a code at all
 */
export function findArea(areas, text) {
  const code = codeIn(text);
  return { code, area: code ? areas.find((a) => a.code === code) || null : null };
}
