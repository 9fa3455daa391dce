"""Take the tutorial's screenshots (docs/images/*.png) of the reports and the project site in a
project folder where the tutorial ran, in headless Chromium:
`python docs/screenshots.py /tmp/tutorial/sample_project`.

The reports are self-contained, so the pictures show exactly what a reader's browser shows.
"""

from __future__ import annotations

import sys
from pathlib import Path

IMAGES = Path(__file__).with_name("images")


def newest(folder: Path, step: str, name: str, want: str = "") -> Path:
    """The newest report of a step (whose HTML holds ``want``, when given)."""
    reports = sorted((folder / ".mlready" / "runs" / step).glob(f"*/{name}"))
    chosen = [r for r in reports if want in r.read_text(encoding="utf-8")]
    if not chosen:
        raise SystemExit(f"no {name} under {folder} (run the tutorial there first)")
    return chosen[-1]


def site(folder: Path, page: str) -> Path:
    """A page of the project site (`mlready site` writes it; the tutorial runs it)."""
    path = folder / ".mlready" / "site" / page
    if not path.is_file():
        raise SystemExit(f"no {path} (run `mlready --spec {folder} site` first)")
    return path


def main(folder: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = {
        "training.png": newest(folder, "train", "training.html"),
        "validation.png": newest(folder, "validate-data", "validation.html", "batch_2026_08"),
        "drift.png": newest(folder, "check-drift", "drift.html", "Realized"),
        "readiness.png": newest(folder, "checklist-report", "checklist.html"),
        "site.png": site(folder, "index.html"),
        "site-runs.png": site(folder, "runs.html"),
        "site-drift.png": site(folder, "drift.html"),
        "site-registry.png": site(folder, "registry.html"),
    }
    IMAGES.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        for name, report in shots.items():
            page.goto(report.as_uri())
            page.screenshot(path=str(IMAGES / name))
            print(f"{IMAGES / name} <- {report}")
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "sample_project"))
