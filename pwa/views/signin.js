// Sign-in form: the first online sign-in, and signing in again after the session expired.
import { field, h, mount } from "./dom.js";

export function render(root, { email = "", expired = false, onSubmit }) {
  const emailInput = h("input", { type: "email", name: "email", autocomplete: "username", required: true, value: email });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "error", role: "alert" });
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { class: "card signin", novalidate: false },
    h("h2", {}, expired ? "Sign in again" : "Sign in"),
    expired ? h("p", {}, "Your session expired. Everything you captured is still on this device and will be sent once you sign in.") : null,
    field("Email", emailInput),
    field("Password", password),
    error,
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      await onSubmit(emailInput.value.trim(), password.value);
    } catch (e) {
      error.textContent = e.message || "Sign-in failed.";
      button.disabled = false;
      button.textContent = "Sign in";
    }
  });
  mount(root, form);
  (email ? password : emailInput).focus();
}
