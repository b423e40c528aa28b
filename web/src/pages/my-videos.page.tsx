/** Placeholder: replaced by the page's implementation. */
import { Page } from "../ui/components.js";

export default function my_videosPage() {
  return <Page title="my-videos">Coming soon.</Page>;
}
