"""The accessibility gate (WCAG 2.1 A and AA, as RGAA requires) for the browser journeys.

- ``check_a11y``: axe-core, from tests/browser/node_modules (``make browser-deps``), injected
  into the page with the WCAG 2.0/2.1 A and AA rule tags; zero violations.
- Checks axe cannot do, or does more leniently:
  ``check_labels`` (every visible form field has a real label: axe also accepts a placeholder
  or a title), ``check_errors_described`` (a field marked ``aria-invalid="true"`` points with
  ``aria-describedby`` at its error text), ``check_focus_visible`` (every element reached with
  Tab shows a focus indicator that differs from its unfocused look).

Every check fails with an ``AssertionError`` naming the page, the rule and the elements.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
HTML_MAX = 300

# Shared by the scripts below: a short selector and the opening tag of an element.
_DESCRIBE_JS = """
const describe = (el) => {
  let sel = el.tagName.toLowerCase();
  if (el.id) sel += '#' + el.id;
  else if (el.getAttribute('name')) sel += '[name="' + el.getAttribute('name') + '"]';
  else if (el.classList.length) sel += '.' + Array.from(el.classList).join('.');
  const html = el.outerHTML.length > 300 ? el.outerHTML.slice(0, 300) + '…' : el.outerHTML;
  return {selector: sel, html: html};
};
const textOf = (el) => (el ? (el.textContent || '').replace(/\\s+/g, ' ').trim() : '');
const isVisible = (el) => {
  const style = getComputedStyle(el);
  return el.getClientRects().length > 0 && style.visibility !== 'hidden';
};
"""


def _short(html: str) -> str:
    return html if len(html) <= HTML_MAX else html[:HTML_MAX] + "…"


def run_axe(page: Page) -> list[dict[str, Any]]:
    """axe's violations for the WCAG 2.0/2.1 A and AA tags (see ``check_a11y``)."""
    if not AXE_JS.exists():
        raise AssertionError(
            f"axe-core is not installed at {AXE_JS}: run `make browser-deps` "
            "(npm ci in tests/browser)"
        )
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # The script tag did not run: a context without JavaScript (axe needs timers).
        return _run_axe_on_copy(page)
    result: dict[str, Any] = page.evaluate(
        """async (tags) => await axe.run(document, {
            runOnly: {type: 'tag', values: tags},
            resultTypes: ['violations'],
        })""",
        WCAG_TAGS,
    )
    return list(result["violations"])


def _run_axe_on_copy(page: Page) -> list[dict[str, Any]]:
    """Run axe on the document a page without JavaScript shows, in a context with JavaScript.

    The copy gets the very HTML the page holds, at the same URL (so its stylesheets load from
    the server and contrast is computed on the real styles); the page's own scripts are blocked
    so that nothing changes the document as a person without JavaScript sees it.
    """
    url, html = page.url, page.content()
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(bypass_csp=True, viewport=page.viewport_size)
    try:
        context.add_cookies(page.context.cookies())  # type: ignore[arg-type]
        copy = context.new_page()

        def serve_copy(route: Route) -> None:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

        copy.route(lambda u: u == url, serve_copy)
        copy.route(lambda u: urlsplit(u).path.endswith(".js"), lambda route: route.abort())
        copy.goto(url)
        return run_axe(copy)
    finally:
        context.close()


def format_violations(name: str, url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f'axe: {len(violations)} WCAG 2.1 A/AA rule(s) violated on "{name}" ({url}):']
    for violation in violations:
        lines.append(
            f"- {violation['id']} [{violation.get('impact') or 'no impact'}]: "
            f"{violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    at {target}: {_short(node['html'])}")
            summary = (node.get("failureSummary") or "").strip().replace("\n", "\n      ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


def check_a11y(page: Page, name: str) -> None:
    """Zero axe violations of WCAG 2.0/2.1 levels A and AA on the page as it is now.

    In a context without JavaScript, axe runs on a copy of the page's document in a context
    with it (see ``_run_axe_on_copy``).
    """
    violations = run_axe(page)
    assert not violations, format_violations(name, page.url, violations)


def _format_elements(title: str, name: str, url: str, problems: list[dict[str, str]]) -> str:
    lines = [f'{title} on "{name}" ({url}):']
    for problem in problems:
        lines.append(f"- {problem['selector']}: {problem.get('why', '')}".rstrip(": "))
        lines.append(f"    {problem['html']}")
    return "\n".join(lines)


def check_labels(page: Page, name: str) -> None:
    """Every visible form field (input except hidden and buttons, select, textarea) has a label:
    a ``<label>`` (``for`` or wrapping) with text, ``aria-labelledby`` pointing at existing
    elements with text, or a non-empty ``aria-label``. A placeholder or a title is not a label.
    """
    problems: list[dict[str, str]] = page.evaluate(
        "() => {"
        + _DESCRIBE_JS
        + """
        const notFields = new Set(['hidden', 'submit', 'button', 'reset', 'image']);
        const problems = [];
        for (const el of document.querySelectorAll('input, select, textarea')) {
          if (el.tagName === 'INPUT' && notFields.has(el.type)) continue;
          if (!isVisible(el)) continue;
          const byLabel = Array.from(el.labels || []).some((label) => textOf(label) !== '');
          const byAriaLabel = (el.getAttribute('aria-label') || '').trim() !== '';
          const ids = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
          const refs = ids.map((id) => document.getElementById(id));
          const byLabelledby = ids.length > 0 && refs.every(Boolean)
            && refs.some((ref) => textOf(ref) !== '');
          if (!(byLabel || byAriaLabel || byLabelledby)) {
            problems.push({...describe(el),
              why: 'no label (label[for] or wrapping, aria-labelledby, aria-label)'});
          }
        }
        return problems;
        }"""
    )
    assert not problems, _format_elements("form fields without a label", name, page.url, problems)


def check_errors_described(page: Page, name: str) -> None:
    """Every element with ``aria-invalid="true"`` has ``aria-describedby`` naming existing
    elements, at least one of which holds text (the French error message next to the field).
    """
    problems: list[dict[str, str]] = page.evaluate(
        "() => {"
        + _DESCRIBE_JS
        + """
        const problems = [];
        for (const el of document.querySelectorAll('[aria-invalid="true"]')) {
          const ids = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
          const missing = ids.filter((id) => !document.getElementById(id));
          let why = '';
          if (ids.length === 0) why = 'aria-invalid="true" without aria-describedby';
          else if (missing.length)
            why = 'aria-describedby names missing ids: ' + missing.join(', ');
          else if (!ids.some((id) => textOf(document.getElementById(id)) !== ''))
            why = 'aria-describedby points only at elements without text';
          if (why) problems.push({...describe(el), why: why});
        }
        return problems;
        }"""
    )
    assert not problems, _format_elements(
        "invalid fields not tied to their error message", name, page.url, problems
    )


_FOCUS_STYLE_JS = """
const focusLook = (el) => {
  const s = getComputedStyle(el);
  const outline = (s.outlineStyle === 'none' || parseFloat(s.outlineWidth) === 0)
    ? 'none' : [s.outlineStyle, s.outlineWidth, s.outlineColor].join(' ');
  return 'outline: ' + outline + '; box-shadow: ' + s.boxShadow;
};
"""

_FOCUSABLE = (
    "a[href], area[href], button, input, select, textarea, summary, iframe, "
    "[tabindex], [contenteditable='true']"
)


def _focus_start_of_document(page: Page) -> None:
    """Put the sequential focus navigation starting point at the top, as after a page load."""
    page.evaluate(
        """() => { const mark = document.createElement('span'); mark.tabIndex = -1;
                   document.body.prepend(mark); mark.focus(); mark.remove(); }"""
    )


def check_focus_visible(page: Page, name: str, *, max_tabs: int = 100) -> int:
    """Tab through the page from its start (at most ``max_tabs`` stops): every element that
    takes focus must look different focused (outline or box-shadow) than unfocused. Returns how
    many elements were reached.
    """
    page.evaluate(
        "(selector) => {"
        + _FOCUS_STYLE_JS
        + """
        if (document.activeElement) document.activeElement.blur();
        window.__unfocusedLook = new WeakMap();
        for (const el of document.querySelectorAll(selector))
          window.__unfocusedLook.set(el, focusLook(el));
        }""",
        _FOCUSABLE,
    )
    _focus_start_of_document(page)
    seen: list[dict[str, str]] = []
    problems: list[dict[str, str]] = []
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        state: dict[str, Any] | None = page.evaluate(
            "() => {"
            + _DESCRIBE_JS
            + _FOCUS_STYLE_JS
            + """
            const el = document.activeElement;
            if (!el || el === document.body || el === document.documentElement) return null;
            if (el.__focusSeen) return {repeat: true};
            el.__focusSeen = true;
            const before = window.__unfocusedLook.get(el);
            const after = focusLook(el);
            return {...describe(el), before: before || after, after: after,
                    unknown: before === undefined};
            }"""
        )
        if state is None or state.get("repeat"):
            break
        seen.append(state)
        if not state["unknown"] and state["before"] == state["after"]:
            problems.append({**state, "why": f"focused looks unfocused ({state['after']})"})
    page.evaluate("() => document.querySelectorAll('*').forEach((el) => delete el.__focusSeen)")
    _focus_start_of_document(page)  # leave the next Tab where a fresh page would
    assert seen, f'check_focus_visible: Tab reached no element on "{name}" ({page.url})'
    assert not problems, _format_elements(
        "focus not visible (WCAG 2.4.7)", name, page.url, problems
    )
    return len(seen)


def check_page_a11y(page: Page, name: str) -> None:
    """The whole gate for a page: axe, labels, errors tied to fields, visible focus."""
    check_a11y(page, name)
    check_labels(page, name)
    check_errors_described(page, name)
    check_focus_visible(page, name)
