/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function loginPage() {
  return <Page title="login">Coming soon.</Page>;
}
