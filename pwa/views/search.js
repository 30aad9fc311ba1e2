// A search box over a live list: the query lives in `state` (the list is redrawn when data
// arrives) and the box keeps the focus across those redraws.
import { field, h } from "./dom.js";

export function searchBox(root, label, state, onChange) {
  const hadFocus = document.activeElement && document.activeElement.dataset.search === label;
  const input = h("input", { type: "search", value: state.query, autocomplete: "off", enterkeyhint: "search", "data-search": label });
  input.addEventListener("input", () => { state.query = input.value; onChange(); });
  const box = h("div", { class: "search", role: "search" }, field(label, input));
  if (hadFocus) queueMicrotask(() => { if (root.contains(input)) { input.focus(); input.setSelectionRange(input.value.length, input.value.length); } });
  return box;
}
