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
      // Signing in stores who the person is before it is done, and a sync event may redraw
      // the frame meanwhile: the navigation stays hidden until the route below is set, or
      // a screen tapped on in between would be replaced by the start screen.
      const loop = await app.syncLoop();
      app.state.signingIn = true;
      let user;
      try {
        user = await loop.signIn(email, password);
      } catch (error) {
        app.state.signingIn = expired; // back to the form as it was, with the error
        throw error;
      }
      app.state.signingIn = false;
      if (!expired || !location.hash) location.hash = user.role === "staff" ? "#/raise" : "#/audits";
      await app.render();
      app.askForPersistence();
      if (expired) loop.resume(); else loop.syncNow("signed-in");
    },
  });
}
