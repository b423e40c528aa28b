/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function resetPage() {
  return <Page title="reset">Coming soon.</Page>;
}
