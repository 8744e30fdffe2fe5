"""The course site (site/conf.py) builds, and its pages load and show their figures in a real browser.

The site is built with the documented command (``python -m sphinx -b html site DIR``) unless
SCRATCHLM_SITE_DIR names one that is already built (CI builds it once and passes it here). It is
served on 127.0.0.1 and opened in headless Chromium. One page of the check loads every page to
check in an iframe; after they have loaded, a script writes what the browser made of each (its
title, its text, and for every <img> whether it decoded and its size in pixels) into the page,
which Chromium's --dump-dom prints. A screenshot of a notebook page scrolled to its first figure
must show it.

Skips when Chromium or the site tool (the ``docs`` extra: Sphinx, MyST-NB, the book theme) is missing.
"""
import functools
import html
import importlib
import inspect
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_nb")
pytest.importorskip("sphinx_book_theme")
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = next(filter(None, map(shutil.which, ["chromium", "chromium-browser", "google-chrome"])), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium)")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALLEST_FIGURE_BYTES = 2_000   # a matplotlib figure with axes and text is tens of kB; a blank one is less


def figures_in(notebook_path: Path) -> int:
    notebook = nbformat.read(notebook_path, as_version=4)
    return sum("image/png" in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.get("outputs", []))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    prebuilt = os.environ.get("SCRATCHLM_SITE_DIR")
    if prebuilt:
        return Path(prebuilt).resolve()
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "site", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


# A page whose whole window is one site page, scrolled to its first figure once it has loaded.
SHOW_FIRST_FIGURE = """<!DOCTYPE html><html><head><title>figure</title></head>
<body style="margin: 0"><iframe id="page" src="/PAGE" style="border: 0; width: 100vw; height: 100vh"></iframe>
<script>
window.addEventListener("load", function () {
  var figure = document.getElementById("page").contentDocument.querySelector("img[src$='.png']");
  if (figure) { figure.scrollIntoView(); }
});
</script></body></html>"""


class _CheckHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site, and at /check?pages=a,b,... the page that loads those pages in iframes."""

    def do_GET(self):
        if self.path.startswith("/show-first-figure?page="):
            return self._send(SHOW_FIRST_FIGURE.replace("PAGE", html.escape(self.path.split("=", 1)[1])).encode())
        if not self.path.startswith("/check?pages="):
            return super().do_GET()
        pages = self.path.split("=", 1)[1].split(",")
        frames = "".join(f'<iframe src="/{html.escape(page)}" width="1200" height="20000"></iframe>' for page in pages)
        body = f"""<!DOCTYPE html><html><head><title>check</title></head><body>{frames}
<script>
window.addEventListener("load", function () {{
  var report = [].map.call(document.querySelectorAll("iframe"), function (frame) {{
    var page = frame.contentDocument;
    return {{
      page: frame.getAttribute("src"),
      title: page.title,
      text: page.body ? page.body.innerText.slice(0, 20000) : "",
      images: [].map.call(page.querySelectorAll("img"), function (image) {{
        return {{src: image.getAttribute("src"), complete: image.complete,
                 width: image.naturalWidth, height: image.naturalHeight}};
      }})
    }};
  }});
  var out = document.createElement("pre");
  out.id = "report";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
}});
</script></body></html>""".encode()
        self._send(body)

    def _send(self, body: bytes):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_CheckHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def chromium(tmp_path, *arguments) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"  # a fresh profile each run
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def page_of(notebook_path: Path) -> str:
    return f"notebooks/{notebook_path.stem}.html"


@pytest.fixture(scope="module")
def browser_report(server, tmp_path_factory):
    pages = ["index.html", "docs/course.html", "api/scratchlm.layers.html", "api/scratchlm.layers.lstm.html",
             *map(page_of, NOTEBOOKS)]
    result = chromium(tmp_path_factory.mktemp("chromium"), "--virtual-time-budget=20000", "--dump-dom",
                      f"{server}/check?pages={','.join(pages)}")
    assert result.returncode == 0, result.stderr[-3000:]
    start = result.stdout.index('<pre id="report">') + len('<pre id="report">')
    report = json.loads(html.unescape(result.stdout[start:result.stdout.index("</pre>", start)]))
    return {entry["page"].lstrip("/"): entry for entry in report}


def test_there_is_a_page_for_every_notebook_and_docs_page(site):
    for notebook in NOTEBOOKS:
        assert (site / page_of(notebook)).is_file(), notebook.name
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert (site / "docs" / f"{page.stem}.html").is_file(), page.name


def test_pages_load_in_the_browser(browser_report):
    assert "scratchlm" in browser_report["index.html"]["title"]
    assert "Course material" in browser_report["docs/course.html"]["text"]
    assert "scratchlm.layers.lstm" in browser_report["api/scratchlm.layers.html"]["text"]
    # the API page is generated from the module's docstring: its summary and its equations are on it
    docstring = inspect.getdoc(importlib.import_module("scratchlm.layers.lstm"))
    summary, rest = docstring.split("\n\n", 1)
    text = browser_report["api/scratchlm.layers.lstm.html"]["text"].replace("\u2019", "'")
    assert " ".join(summary.split()) in " ".join(text.split())
    assert rest.strip().splitlines()[0].strip() in text
    for notebook in NOTEBOOKS:
        entry = browser_report[page_of(notebook)]
        heading = nbformat.read(notebook, as_version=4).cells[0].source.splitlines()[0].lstrip("# ").strip()
        assert heading.split()[-1] in entry["text"], f"{notebook.name}: its heading is not on the page"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_figures_render(notebook, browser_report, site):
    expected = figures_in(notebook)
    assert expected >= 1, f"{notebook.name} was committed without its figures: run notebooks/build_notebooks.py --execute"
    page = page_of(notebook)
    images = [image for image in browser_report[page]["images"] if image["src"].endswith(".png")]
    assert len(images) >= expected, f"{page}: {len(images)} figures shown, the notebook has {expected}"
    for image in images:
        assert image["complete"] and image["width"] >= 100 and image["height"] >= 50, f"{page}: {image} did not render"
        data = (site / Path(page).parent / image["src"]).resolve().read_bytes()
        assert data.startswith(PNG_SIGNATURE), f"{image['src']} is not a PNG"
        assert len(data) >= SMALLEST_FIGURE_BYTES, f"{image['src']} is only {len(data)} bytes"


def test_a_notebook_figure_is_on_screen(server, tmp_path):
    """A screenshot of the first notebook page, scrolled to its first figure, shows the figure:
    the page is not blank, and a good part of it is coloured (a page of text and code is black,
    grey and white with a few coloured words; a matplotlib figure has coloured lines or bars)."""
    matplotlib_image = pytest.importorskip("matplotlib.image")
    shot = tmp_path / "page.png"
    result = chromium(tmp_path, "--hide-scrollbars", "--window-size=1280,1000", "--virtual-time-budget=10000",
                      f"--screenshot={shot}", f"{server}/show-first-figure?page={page_of(NOTEBOOKS[0])}")
    assert result.returncode == 0 and shot.is_file(), result.stderr[-3000:]
    if os.environ.get("SCRATCHLM_SITE_SCREENSHOT"):
        shutil.copy(shot, os.environ["SCRATCHLM_SITE_SCREENSHOT"])
    pixels = matplotlib_image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (1000, 1280)
    background = np.median(pixels.reshape(-1, 3), axis=0)
    drawn = np.any(np.abs(pixels - background) > 0.1, axis=-1).mean()
    assert drawn > 0.02, f"only {drawn:.1%} of the screenshot differs from the background colour"
    coloured = (pixels.max(axis=-1) - pixels.min(axis=-1) > 0.25).mean()
    assert coloured > 0.01, f"only {coloured:.2%} of the screenshot is coloured: is the figure there?"
