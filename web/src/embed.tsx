/** The bare player page at `/embed/{id}`: only the player, for other sites to frame. */
import { render } from "preact";
import "./styles.css";

const id = window.location.pathname.split("/").filter(Boolean)[1] ?? "";
render(<p>Player for {id}</p>, document.getElementById("app")!);
