"""Keyboard-only journeys: reach things with Tab, act with Enter, Space and typing.

    with keyboard_only(page) as kb:
        kb.activate(page.get_by_role("link", name="Consulter le référentiel"))
        kb.tab_to(page.get_by_label("Adresse e-mail"))
        kb.type("candidat.cos.vae@demo.cqp.fr")

Inside the block, any mouse press on the page (``click()``, ``page.mouse``…) makes the block
fail when it ends: a journey that needs the mouse is not keyboard-accessible. Do not use
``fill()`` or ``focus()`` either: they move focus without the keyboard (``kb.type`` types
into the focused field). Needs JavaScript (the mouse watch runs in the page).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from playwright.sync_api import Locator, Page

_binding_ids = itertools.count()

_WATCH_MOUSE_JS = """
(() => {
  if (window.__BINDING__installed) return;
  window.__BINDING__installed = true;
  const report = (event) => {
    // A click made with Enter or Space has detail 0; a mouse click has detail >= 1.
    if (!event.isTrusted || (event.type === 'click' && event.detail === 0)) return;
    const el = event.target;
    const what = el && el.tagName ? el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + ' "' + (el.textContent || '').trim().slice(0, 60) + '"' : String(el);
    window.__BINDING__(event.type + ' on ' + what);
  };
  for (const type of ['mousedown', 'pointerdown', 'click', 'dblclick', 'contextmenu'])
    window.addEventListener(type, report, true);
})();
"""

_DESCRIBE_FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '(nothing: the document)';
  const name = (el.getAttribute('aria-label') || el.textContent || el.value || '')
    .replace(/\\s+/g, ' ').trim().slice(0, 60);
  return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (name ? ' "' + name + '"' : '');
}"""


class KeyboardOnly:
    """Drives a page with the keyboard alone; keeps the focus path for failure messages."""

    def __init__(self, page: Page, *, max_tabs: int = 150) -> None:
        self.page = page
        self.max_tabs = max_tabs

    def focused(self) -> str:
        """A short description of the focused element."""
        return str(self.page.evaluate(_DESCRIBE_FOCUS_JS))

    def is_focused(self, target: Locator) -> bool:
        return bool(target.evaluate("(el) => el === document.activeElement"))

    def tab_to(self, target: Locator, *, backwards: bool = False) -> None:
        """Press Tab (Shift+Tab) until ``target`` has focus; fail naming the focus path."""
        target.wait_for(state="visible")
        key = "Shift+Tab" if backwards else "Tab"
        path: list[str] = []
        for _ in range(self.max_tabs):
            self.page.keyboard.press(key)
            if self.is_focused(target):
                return
            path.append(self.focused())
        raise AssertionError(
            f"{target} not reached with {self.max_tabs} × {key}; focus went through:\n  "
            + "\n  ".join(path)
        )

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        """Type into the focused element, key by key."""
        self.page.keyboard.type(text)

    def activate(self, target: Locator, *, key: str = "Enter") -> None:
        """Tab to ``target`` and press Enter (Space for checkboxes and some buttons)."""
        self.tab_to(target)
        self.page.keyboard.press(key)


@contextmanager
def keyboard_only(page: Page, *, max_tabs: int = 150) -> Iterator[KeyboardOnly]:
    """A ``KeyboardOnly`` driver; the block fails if the mouse was used on the page inside it."""
    name = f"__keyboardOnlyMouse{next(_binding_ids)}"
    mouse_events: list[str] = []
    watching = True

    def on_mouse(_source: Any, what: str) -> None:
        if watching:
            mouse_events.append(what)

    page.expose_binding(name, on_mouse)
    script = _WATCH_MOUSE_JS.replace("__BINDING__", name)
    page.add_init_script(script)  # every document loaded from now on
    page.evaluate(script)  # and the one already there
    try:
        yield KeyboardOnly(page, max_tabs=max_tabs)
        page.evaluate("() => 0")  # let the page's pending reports reach Python
    finally:
        watching = False
    assert not mouse_events, "the mouse was used during a keyboard-only journey:\n  " + "\n  ".join(
        mouse_events
    )
