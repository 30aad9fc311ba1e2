// screens/signin.js: signing in, first time and after the session expired, against a fake
// sync loop; what matters is the order (who is here is known before the route is set).
import * as db from "/app/db.js";
import { show } from "/app/screens/signin.js";
import { deepEqual, equal, test, until } from "./harness.mjs";

const STAFF = { id: "u1", email: "staff@example.test", role: "staff" };

function fakeApp({ signingIn = false, refuse = null } = {}) {
  const app = {
    view: document.getElementById("view"),
    state: { signingIn, updateReady: false, offlineReady: false, storage: null, lowStorage: null },
    draws: [],
    loopCalls: [],
    signingInDuringSignIn: null,
    render: async () => { app.draws.push(location.hash); },
    askForPersistence: async () => {},
  };
  const loop = {
    signIn: async () => {
      app.signingInDuringSignIn = app.state.signingIn;
      if (refuse) throw new Error(refuse);
      await db.setMeta("user", STAFF); // the bootstrap stores who is here before it returns
      return STAFF;
    },
    syncNow: (reason) => { app.loopCalls.push(reason); },
    resume: () => { app.loopCalls.push("resume"); },
  };
  app.syncLoop = async () => loop;
  return app;
}

function submit(app, email = STAFF.email, password = "secret") {
  app.view.querySelector("input[type=email]").value = email;
  app.view.querySelector("input[type=password]").value = password;
  app.view.querySelector("form").requestSubmit();
}

test("the app counts as signing in until the start screen's route is set and drawn", async () => {
  history.replaceState(null, "", location.pathname + location.search);
  const app = fakeApp();
  await show(app, { expired: false });
  submit(app);
  await until(() => app.draws.length === 1, "a draw");
  equal(app.signingInDuringSignIn, true, "signing in, while the sync loop signed in");
  equal(app.state.signingIn, false, "after");
  deepEqual(app.draws, ["#/raise"], "staff start at raising a finding");
  deepEqual(app.loopCalls, ["signed-in"]);
});

test("a refused sign-in leaves the form with the reason, and the app as it was", async () => {
  const app = fakeApp({ refuse: "The email or password is not right." });
  await show(app, { expired: false });
  submit(app);
  await until(() => app.view.querySelector(".error").textContent, "an error shown");
  equal(app.view.querySelector(".error").textContent, "The email or password is not right.");
  equal(app.state.signingIn, false);
  deepEqual(app.draws, []);
});

test("signing in again after the session expired goes on where the person was", async () => {
  await db.setMeta("user", STAFF);
  history.replaceState(null, "", `${location.pathname}${location.search}#/audit/a1`);
  const app = fakeApp({ signingIn: true });
  await show(app, { expired: true });
  equal(app.view.querySelector("input[type=email]").value, STAFF.email, "the email is filled in");
  submit(app);
  await until(() => app.draws.length === 1, "a draw");
  deepEqual(app.draws, ["#/audit/a1"]);
  equal(app.state.signingIn, false);
  deepEqual(app.loopCalls, ["resume"]);
});

test("a refused sign-in after the session expired stays on the sign-in form", async () => {
  await db.setMeta("user", STAFF);
  const app = fakeApp({ signingIn: true, refuse: "No connection to the server." });
  await show(app, { expired: true });
  submit(app);
  await until(() => app.view.querySelector(".error").textContent, "an error shown");
  equal(app.state.signingIn, true, "still asking to sign in again");
});
