"""Draw the web app's icons (static/icons/*.png) from one SVG, rasterised by Chromium.

    .venv/bin/python scripts/make_icons.py

The icon is the character 政 in white on the theme colour. Chromium (Debian's
/usr/bin/chromium, driven by Playwright) draws it with the Noto Sans CJK font, so
no image library is needed; the PNGs are committed and this script is only run
again when the design changes.

- icon-192.png, icon-512.png ("any"): a rounded square on a transparent ground.
- maskable-512.png ("maskable"): full bleed, the glyph inside the central 80 %
  circle that every launcher mask keeps (https://w3c.github.io/manifest/#icon-masks).
"""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
THEME = "#1f4e79"
FONT = "'Noto Sans CJK SC', 'Noto Sans CJK JP', sans-serif"


def icon_svg(size: int, *, maskable: bool) -> str:
    """The icon at `size` pixels. Maskable: square corners and a smaller glyph."""
    radius = 0 if maskable else size * 0.18
    glyph = size * (0.46 if maskable else 0.62)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'viewBox="0 0 {size} {size}">'
            f'<rect width="{size}" height="{size}" rx="{radius}" fill="{THEME}"/>'
            f'<text x="50%" y="50%" dy="0.35em" text-anchor="middle" fill="#fff" '
            f'font-family="{FONT}" font-weight="700" font-size="{glyph}">政</text></svg>')


def render(page, svg: str, size: int, target: Path) -> None:
    page.set_viewport_size({"width": size, "height": size})
    page.set_content(f'<html><body style="margin:0">{svg}</body></html>')
    page.evaluate("document.fonts.ready")
    page.locator("svg").screenshot(path=str(target), omit_background=True)


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page()
        for name, size, maskable in (("icon-192.png", 192, False), ("icon-512.png", 512, False),
                                     ("maskable-512.png", 512, True)):
            render(page, icon_svg(size, maskable=maskable), size, ICONS / name)
            print(ICONS / name)
        browser.close()


if __name__ == "__main__":
    main()
