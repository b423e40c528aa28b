/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function uploadPage() {
  return <Page title="upload">Coming soon.</Page>;
}
