/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function adminPage() {
  return <Page title="admin">Coming soon.</Page>;
}
