/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function historyPage() {
  return <Page title="history">Coming soon.</Page>;
}
