/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function registerPage() {
  return <Page title="register">Coming soon.</Page>;
}
