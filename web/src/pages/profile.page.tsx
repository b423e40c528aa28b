/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function profilePage() {
  return <Page title="profile">Coming soon.</Page>;
}
