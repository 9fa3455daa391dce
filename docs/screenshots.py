"""Take the tutorial's screenshots (docs/images/*.png) of the reports and the project site in a
project folder where the tutorial ran, in headless Chromium:
`python docs/screenshots.py /tmp/tutorial/sample_project`.

The regression report comes from a starter project that predicts the sample data's
``monthly_charges`` (`mlready init --data ... --target monthly_charges`, then `mlready train`),
made in a temporary folder unless you name one where it was trained:
`python docs/screenshots.py /tmp/tutorial/sample_project /tmp/charges`.

The reports are self-contained, so the pictures show exactly what a reader's browser shows.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

IMAGES = Path(__file__).with_name("images")
WIDTH = 1100


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


def regression_project(sample: Path, folder: Path) -> Path:
    """A starter project predicting the sample data's monthly charges, trained once."""
    if not list((folder / ".mlready" / "runs" / "train").glob("*/training.html")):
        data = sample / "data" / "train.csv"
        for args in (
            ["init", str(folder), "--data", str(data), "--target", "monthly_charges", "--force"],
            ["--quiet", "--spec", str(folder), "train"],
        ):
            subprocess.run([sys.executable, "-m", "mlready", *args], check=True)
    return folder


def main(folder: Path, regression: Path | None = None) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch:
        charges = regression_project(folder, regression or Path(scratch) / "charges")
        training = newest(folder, "train", "training.html")
        # name: (page, the heading the picture starts at or None for the top, its height)
        shots: dict[str, tuple[Path, str | None, int]] = {
            "training.png": (training, None, 1400),
            "training-curves.png": (training, "Curves and confusion matrix", 900),
            "training-slices.png": (training, "Slices", 1000),
            "training-regression.png": (
                newest(charges, "train", "training.html"),
                "Residuals",
                470,
            ),
            "validation.png": (
                newest(folder, "validate-data", "validation.html", "batch_2026_08"),
                None,
                1400,
            ),
            "drift.png": (newest(folder, "check-drift", "drift.html", "Realized"), None, 1400),
            "readiness.png": (newest(folder, "checklist-report", "checklist.html"), None, 1400),
            "site.png": (site(folder, "index.html"), None, 1400),
            "site-runs.png": (site(folder, "runs.html"), None, 1400),
            "site-drift.png": (site(folder, "drift.html"), None, 1400),
            "site-registry.png": (site(folder, "registry.html"), None, 1400),
        }
        IMAGES.mkdir(exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": WIDTH, "height": 1400})
            for name, (report, heading, height) in shots.items():
                page.goto(report.as_uri())
                top = 0.0
                if heading is not None:
                    found = page.locator("h2", has_text=heading).first
                    box = found.bounding_box()
                    if box is None:
                        raise SystemExit(f"no heading {heading!r} in {report}")
                    top = max(box["y"] - 12, 0.0)
                # where the content ends: a short page is not padded to the window's height
                bottom = page.evaluate(
                    "Math.ceil(Math.max(...Array.from(document.body.children, "
                    "e => e.getBoundingClientRect().bottom)) + window.scrollY + 24)"
                )
                page.screenshot(
                    path=str(IMAGES / name),
                    full_page=True,
                    clip={"x": 0, "y": top, "width": WIDTH, "height": min(height, bottom - top)},
                )
                print(f"{IMAGES / name} <- {report}")
            browser.close()


if __name__ == "__main__":
    main(
        Path(sys.argv[1] if len(sys.argv) > 1 else "sample_project"),
        Path(sys.argv[2]) if len(sys.argv) > 2 else None,
    )
