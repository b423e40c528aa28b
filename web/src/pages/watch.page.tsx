/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function watchPage() {
  return <Page title="watch">Coming soon.</Page>;
}
