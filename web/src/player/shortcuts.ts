/**
 * The player's keyboard shortcuts, page-wide (not only while focus is inside the player, as
 * media-chrome's own hotkeys are): space/k play-pause, j/l −/+10 s, ←/→ −/+5 s, f fullscreen,
 * m mute, c captions. Keys meant for something else are left alone: anything while typing in a
 * field, space and Enter on a focused button or link (they activate it), arrows on a slider or
 * in a menu (they move it).
 */
export type Shortcut = { kind: "toggle-play" } | { kind: "seek-by"; seconds: number } | { kind: "fullscreen" } | { kind: "mute" } | { kind: "captions" };

const KEYS: Record<string, Shortcut> = {
  " ": { kind: "toggle-play" },
  k: { kind: "toggle-play" },
  j: { kind: "seek-by", seconds: -10 },
  l: { kind: "seek-by", seconds: 10 },
  ArrowLeft: { kind: "seek-by", seconds: -5 },
  ArrowRight: { kind: "seek-by", seconds: 5 },
  f: { kind: "fullscreen" },
  m: { kind: "mute" },
  c: { kind: "captions" },
};

/** The element a key event is really for: inside a shadow root, the innermost one. */
function targetOf(e: KeyboardEvent): Element | null {
  const first = e.composedPath()[0];
  return first instanceof Element ? first : e.target instanceof Element ? e.target : null;
}

function isTyping(el: Element): boolean {
  if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  return el instanceof HTMLElement && el.isContentEditable;
}

const ACTIVATES = "button, a[href], summary, [role='button'], [role='menuitem'], [role='menuitemradio'], [role='menuitemcheckbox'], [role='checkbox'], [role='tab'], [role='switch']";
const MOVES = "[role='slider'], [role='menu'], [role='menuitem'], [role='menuitemradio'], [role='listbox'], [role='option'], [role='radiogroup'], [role='tablist'], input[type='range']";

/** Every element from the target out through shadow hosts: a button inside a control's shadow root counts as that control. */
function* outward(el: Element): Generator<Element> {
  let node: Element | null = el;
  while (node) {
    yield node;
    const root = node.getRootNode();
    node = node.parentElement ?? (root instanceof ShadowRoot ? root.host : null);
  }
}
const within = (el: Element, selector: string, tags: RegExp) => {
  for (const node of outward(el)) if (node.matches(selector) || tags.test(node.localName)) return true;
  return false;
};

export function shortcutFor(e: KeyboardEvent): Shortcut | null {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return null;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const action = KEYS[key];
  if (!action) return null;
  // Shift+letter is someone typing a capital or another shortcut, not ours (space excepted).
  if (e.shiftKey && key !== " ") return null;
  const el = targetOf(e);
  if (el) {
    if (isTyping(el)) return null;
    if (key === " " && within(el, ACTIVATES, /-button$|menu-item$/)) return null;
    if (key.startsWith("Arrow") && within(el, MOVES, /-range$|-menu$|menu-item$/)) return null;
  }
  return action;
}
