"""Take the README's screenshots of a running site (desktop and phone widths).

Usage: .venv/bin/python scripts/screenshots.py http://127.0.0.1:8000 docs/
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SHOTS = {
    "screenshot-desktop.png": ({"width": 1280, "height": 900}, "/?q=pdf+viewer"),
    "screenshot-phone.png": ({"width": 390, "height": 844}, "/?q=thunderb"),
}


def main(base_url: str, folder: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, (viewport, path) in SHOTS.items():
            page = browser.new_page(viewport=viewport, base_url=base_url, device_scale_factor=1)
            page.goto(path)
            page.screenshot(path=str(Path(folder) / name), full_page=False)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
