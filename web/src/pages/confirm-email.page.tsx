/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function confirm_emailPage() {
  return <Page title="confirm-email">Coming soon.</Page>;
}
