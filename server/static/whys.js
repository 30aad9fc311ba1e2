// The five whys form (templates/_workflow.html): each "because" is carried into the next
// "why" as it is typed - the prompt above the next why shows it, and an empty next why is
// filled with it (as the server would fill it: fieldrules.carried_why). A why the person
// wrote themselves is never overwritten. Without this script the server still carries it.
const carried = (because) => {
  const text = because.trim().replace(/[.!?]+$/, "").trim();
  return text ? `Why: ${text.charAt(0).toLowerCase()}${text.slice(1)}?` : "";
};

for (const set of document.querySelectorAll("[data-carry-whys]")) {
  const steps = [...set.querySelectorAll(".why-step")].map((step) => {
    const [why, because] = step.querySelectorAll("input");
    return { why, because, prompt: step.querySelector(".carried") };
  });
  steps.forEach((step, i) => {
    const next = steps[i + 1];
    if (!next || !step.because || !next.why) return;
    let filled = next.why.value && next.why.value === carried(step.because.value) ? next.why.value : "";
    step.because.addEventListener("input", () => {
      const because = step.because.value.trim();
      const asked = carried(because);
      if (next.prompt) {
        next.prompt.textContent = because ? `Follows step ${i + 1}: because “${because}”` : `Follows the because of step ${i + 1}.`;
      }
      next.why.placeholder = asked;
      // Fill the next why only while it is empty or still holds what was carried before.
      if (!next.why.value || next.why.value === filled) {
        next.why.value = asked;
        filled = asked;
      }
    });
  });
}
