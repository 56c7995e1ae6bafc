"""Driving a page with the keyboard alone, counting every key pressed (issue 14: faster
entry). Selectors only, never English text: the journeys run in English and in Chinese."""

from __future__ import annotations

from tests.browser.pages import Tab


class Keyboard:
    """The keys a person presses on one tab; `presses` counts them all."""

    def __init__(self, tab: Tab):
        self.tab = tab
        self.page = tab.page
        self.presses = 0

    def press(self, key: str) -> Keyboard:
        self.page.keyboard.press(key)
        self.presses += 1
        return self

    def focused(self, selector: str) -> bool:
        return self.page.evaluate(
            "s => !!document.activeElement && document.activeElement.matches(s)", selector
        )

    def focus_is_visible(self) -> bool:
        """The focused element shows it: :focus-visible, with an outline or a focus ring."""
        return self.page.evaluate(
            """() => {
              const el = document.activeElement;
              if (!el || !el.matches(":focus-visible")) return false;
              const style = getComputedStyle(el);
              return style.outlineStyle !== "none" || style.boxShadow !== "none";
            }"""
        )

    def tab_to(self, selector: str, *, backwards: bool = False, limit: int = 40) -> Keyboard:
        """Press Tab (or Shift+Tab) until the focus is on `selector`."""
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(limit):
            self.press(key)
            if self.focused(selector):
                return self
        raise AssertionError(f"{selector} not reached with {limit} presses of {key}")

    def skip_to_main(self) -> Keyboard:
        """The skip link, the first stop of every page, then into the main content."""
        self.press("Tab")
        assert self.focused("a.skip-link"), "the first Tab does not reach the skip link"
        return self.press("Enter")

    def submit(self, step: str) -> Tab:
        """Enter on the focused submit button, recording the page it leads to."""
        assert self.focused('#capture-form button[type="submit"]')
        with self.page.expect_navigation():
            self.press("Enter")
        return self.tab.seen(step)
