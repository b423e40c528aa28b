/**
 * Copies text for a person. The Clipboard API exists only in a secure context (HTTPS or
 * localhost) and may be refused; over plain HTTP on a LAN address the old way, selecting the
 * field that shows the text, is what is left. False: the person has to copy it by hand.
 */
export async function copyText(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission, page not focused): the field below.
  }
  if (!input) return false;
  input.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}
