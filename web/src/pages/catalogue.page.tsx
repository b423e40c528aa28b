/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function cataloguePage() {
  return <Page title="catalogue">Coming soon.</Page>;
}
