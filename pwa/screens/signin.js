// Sign in: the first online sign-in, and again after the session expired offline.
import * as records from "../records.js";
import * as signinView from "../views/signin.js";

/**
 * Draw the sign-in form; once signed in, go on where the person was (or to their start
 * screen) and let the sync loop carry on.
 * @param {import("../app.js").App} app
 * @param {{expired: boolean}} params whether a known person's session expired
 */
export async function show(app, { expired }) {
  const me = await records.user();
  signinView.render(app.view, {
    email: me ? me.email : "",
    expired,
    onSubmit: async (email, password) => {
      const loop = await app.syncLoop();
      const user = await loop.signIn(email, password);
      app.state.signingIn = false;
      if (!expired || !location.hash) location.hash = user.role === "staff" ? "#/raise" : "#/audits";
      await app.render();
      app.askForPersistence();
      if (expired) loop.resume(); else loop.syncNow("signed-in");
    },
  });
}
