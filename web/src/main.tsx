/** The app's entry: restore the session from the refresh cookie, then render the shell. */
import { render } from "preact";
import { restore } from "./api/session.js";
import { App } from "./app.js";
import "./styles.css";

void restore();
render(<App />, document.getElementById("app")!);
