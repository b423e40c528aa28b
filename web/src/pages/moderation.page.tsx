/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function moderationPage() {
  return <Page title="moderation">Coming soon.</Page>;
}
