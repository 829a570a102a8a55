"""``govsim serve``: a real server on a tiny results folder, driven by headless Chromium.

The end-to-end test starts ``govsim serve`` in a subprocess, loads the page in Debian's
Chromium through Playwright, picks an outcome, checks that the charts are drawn (a
screenshot that is not blank), downloads the effects CSV and checks its rows and provenance,
runs a lever in the live view, and checks that the server listens on 127.0.0.1 only and
returns no file from outside what it loaded. A second browser test opens a directory of
every other kind (run, sweep, case, calibration, sensitivity), checks its charts and a table
of its view, and scans the page and every drop-down's options for raw identifiers (lever,
outcome or parameter names). Without /usr/bin/chromium they are skipped, except on CI
(``CI=true``), where they fail.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from test_explorer_data import make_results
from test_text import raw_identifiers

from experiments import serve
from experiments.cli import main
from experiments.errors import BadInput
from experiments.explorer import data
from experiments.text import label

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 60.0
UI_TIMEOUT_MS = 30_000
OUTCOME = "funds_absorbed_eur"
SCREENSHOT_ENV = "GOVSIM_SCREENSHOT_DIR"
# paths a server that serves files outside its results must not answer with a file
ESCAPES = (
    "/../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/../../../../../../etc/passwd",
    "/static/public/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/jupyter/nbextensions/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/_solara/cdn/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
)
RESULT_FILES = ("manifest.json", "comparison.csv", "pathways.csv", "runs.csv")


def require_chromium() -> None:
    """Skip without Chromium, except on CI, where the browser test must run."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found (install Debian's chromium package)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def raw_get(port: int, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (http.client does not normalise ``..``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp*)."""
    found = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        table = Path("/proc/net") / name
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == "0A" and int(port_hex, 16) == port and len(address) == width:
                found.add(address)
    return found


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """``govsim serve`` on a folder with a directory of every kind: (url, root, log)."""
    root = make_results(tmp_path_factory.mktemp("results"), sweep=True, others=True)
    log = root.parent / "server.log"
    command = [sys.executable, "-m", "experiments.cli", "serve", str(root)]
    with open(log, "w") as out:
        process = subprocess.Popen(
            [*command, "--port", "0", "--no-browser"], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        url = ""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            lines = [w for w in log.read_text().split() if w.startswith("http://")]
            if lines:
                url = lines[0]
                port = int(url.rstrip("/").rsplit(":", 1)[1])
                try:
                    if raw_get(port, "/readyz")[0] == 200:
                        break
                except OSError:
                    pass
            time.sleep(0.2)
        else:
            pytest.fail(f"govsim serve did not start:\n{log.read_text()}")
        yield url, root, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def not_blank(png: Path) -> float:
    """The standard deviation of a screenshot's grey levels (0 for a blank image)."""
    with Image.open(png) as image:
        grey = np.asarray(image.convert("L"), dtype=float)
    return float(grey.std())


def test_serve_end_to_end(served: tuple[str, Path, Path], tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    # expect() has its own 5 s default, too short on a loaded machine; use the page's timeout
    expect.set_options(timeout=UI_TIMEOUT_MS)

    url, root, log = served
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    manifest = json.loads((root / "cmp" / "manifest.json").read_text())

    # 1. the server listens on 127.0.0.1 only
    assert url.startswith("http://127.0.0.1:")
    addresses = listening_addresses(port)
    if addresses:  # Linux: 0100007F is 127.0.0.1 in /proc/net/tcp
        assert addresses == {"0100007F"}

    # 2. no route returns a file: neither outside the results nor the results' own files
    secrets = [b"root:x:0:0", manifest["fingerprint_sha256"].encode(), b"mean_difference,"]
    for path in [*ESCAPES, *(f"/{n}" for n in RESULT_FILES), *(f"/cmp/{n}" for n in RESULT_FILES)]:
        status, body = raw_get(port, path)
        assert not any(s in body for s in secrets), f"{path} returned file content ({status})"
    for path in (f"/static/public/cmp/{n}" for n in RESULT_FILES):
        assert raw_get(port, path)[0] == 404

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.goto(url)

            # 3. the newest directory (the compare) is open; pick an outcome
            expect(page.get_by_text(f"run_id: {manifest['run_id']}")).to_be_visible()
            page.get_by_role("combobox").filter(has_text="outcome").click()
            page.get_by_role("option", name=label(OUTCOME), exact=True).click()
            caption = page.get_by_text(f"chart: effects on {label(OUTCOME)}")
            expect(caption).to_be_visible()

            # 4. the charts are drawn: images of real size, a screenshot that is not blank
            charts = page.locator("img.govsim-chart")
            expect(charts).to_have_count(2)
            for i in range(2):
                box = charts.nth(i).bounding_box()
                assert box is not None and box["width"] > 300 and box["height"] > 100
            chart_png = tmp_path / "effects_chart.png"
            charts.first.screenshot(path=str(chart_png))
            assert not_blank(chart_png) > 10.0
            shot = tmp_path / "explorer_screenshot.png"
            page.screenshot(path=str(shot), full_page=True)
            assert not_blank(shot) > 10.0
            if os.environ.get(SCREENSHOT_ENV):
                target = Path(os.environ[SCREENSHOT_ENV])
                target.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shot, target / "explorer_screenshot.png")

            # 5. the download holds the shown rows and where they come from
            with page.expect_download() as download:
                page.get_by_role("button", name="Download effects CSV").click()
            saved = download.value.path()
            assert download.value.suggested_filename.endswith(f"_effects_{OUTCOME}.csv")
            meta, table = data.read_export(Path(saved).read_text(encoding="utf-8"))
            for key in ("run_id", "command", "code_version"):
                assert meta[key] == str(manifest[key])
            assert meta["outcome"] == OUTCOME and meta["scenarios"] == "enhanced_financing"
            expected = pd.read_csv(root / "cmp" / "comparison.csv")
            expected = expected[expected["outcome"] == OUTCOME].reset_index(drop=True)
            pd.testing.assert_frame_equal(table, expected)

            # 6. the live view: a lever up, Run, and the result with its difference appears
            page.get_by_role("button", name="live run").click()
            slider = page.get_by_role("slider").first
            slider.focus()
            slider.press("End")
            expect(slider).to_have_attribute("aria-valuenow", "1")
            page.get_by_role("button", name="Run", exact=True).click()
            result = page.locator("#live-result")
            expect(result).to_contain_text("funds absorbed", timeout=60_000)
            expect(page.get_by_text("chart: live run against the baseline")).to_be_visible()
            funds_row = result.locator("tr", has_text="funds absorbed")
            difference = funds_row.locator("td").last.inner_text()
            assert float(difference) > 0.0  # more financing: more funds absorbed
            live_png = tmp_path / "live.png"
            page.locator("img.govsim-chart").first.screenshot(path=str(live_png))
            assert not_blank(live_png) > 10.0

            # 7. another results directory: a run, filtered to mission cities
            page.get_by_role("button", name="results").click()
            page.get_by_role("combobox").filter(has_text="results directory").click()
            page.get_by_role("option", name="run3", exact=True).click()
            page.get_by_role("button", name="mission", exact=True).click()
            expect(page.get_by_text("group mission")).to_be_visible()
        finally:
            browser.close()
    assert "Traceback" not in log.read_text()


# every kind of results directory: what to pick, a caption its view shows, the charts drawn,
# and a table cell it shows (as people read it)
KIND_PAGES = (
    ("run3", "chart: emissions total (t CO2e/yr) for", 1, None),
    ("sweep", "chart: distribution of", 2, None),
    ("case", "chart: effects on", 2, ("#case-effects", label("enhanced_financing"))),
    ("cal", "chart: fit to 3 targets", 1, ("#posterior-table", label("skill_turnover_per_year"))),
    ("sa", "chart: sensitivity of y", 1, ("#indices-table", "x1")),
)


def shown_texts(page: Any) -> list[str]:
    """The page's text and every option of its drop-downs (each opened and closed again)."""
    texts = [page.locator("body").inner_text()]
    pickers = page.get_by_role("combobox").filter(has_text=re.compile(r"\w"))
    for i in range(pickers.count()):
        picker = pickers.nth(i)
        if "results directory" in picker.inner_text():
            continue
        picker.click()
        options = page.get_by_role("option")
        options.first.wait_for()
        texts += options.all_inner_texts()
        close_menu(page)
    return texts


def close_menu(page: Any, tries: int = 3) -> None:
    """Close the open drop-down menu and wait until it is gone before the next click.

    A long menu closes with an animation; an Escape pressed while the menu is still opening can
    be lost (seen in CI simulations), so later tries click outside the menu before failing.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    overlay = page.locator(".v-overlay--active").last
    for attempt in range(tries):
        if attempt == 0:
            page.keyboard.press("Escape")
        else:  # the Escape was lost: a click outside the menu closes it too
            page.mouse.click(1, 1)
        try:
            overlay.wait_for(state="hidden", timeout=UI_TIMEOUT_MS // tries)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise


def test_serve_opens_every_kind_with_labels(served: tuple[str, Path, Path], tmp_path: Path) -> None:
    """Each results kind opens in its view, draws its charts and shows no raw identifier."""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)
    url, root, log = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(UI_TIMEOUT_MS)
            page.goto(url)
            expect(page.locator("img.govsim-chart")).to_have_count(2)  # the compare
            assert raw_identifiers(shown_texts(page)) == set(), "identifiers on the compare page"
            for name, caption, n_charts, cell in KIND_PAGES:
                page.get_by_role("combobox").filter(has_text="results directory").click()
                page.get_by_role("option", name=name, exact=True).click()
                expect(page.get_by_text(caption).first).to_be_visible()
                run_id = json.loads((root / name / "manifest.json").read_text())["run_id"]
                expect(page.get_by_text(f"run_id: {run_id}")).to_be_visible()
                charts = page.locator("img.govsim-chart")
                expect(charts).to_have_count(n_charts)
                shot = tmp_path / f"{name}.png"
                charts.first.screenshot(path=str(shot))
                assert not_blank(shot) > 10.0, name
                if cell is not None:
                    expect(page.locator(cell[0])).to_contain_text(cell[1])
                assert raw_identifiers(shown_texts(page)) == set(), f"identifiers on {name}"
            page.get_by_role("button", name="live run").click()
            expect(page.get_by_text(f"{label('enhanced_financing')} = 0.00")).to_be_visible()
            assert raw_identifiers(shown_texts(page)) == set(), "identifiers in the live view"
        finally:
            browser.close()
    assert "Traceback" not in log.read_text()


# --- the command without a browser ---------------------------------------------------------


def test_bad_results_dir_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(tmp_path / "missing"), "--no-browser"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["serve", str(tmp_path), "--no-browser"]) == 2
    assert "holds no govsim results" in capsys.readouterr().err
    assert main(["serve", str(tmp_path), "--port", "70000"]) == 2


def test_port_and_socket_helpers() -> None:
    assert serve.port_number("0") == 0 and serve.port_number("8765") == 8765
    for bad in ("-1", "65536", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            serve.port_number(bad)
    sock = serve.bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        assert serve.url_of(sock) == f"http://127.0.0.1:{port}/"
        with pytest.raises(BadInput, match=f"cannot listen on 127.0.0.1:{port}"):
            serve.bind("127.0.0.1", port)
    finally:
        sock.close()
    with socket.socket() as probe:  # the port is free again once closed
        probe.bind(("127.0.0.1", port))
