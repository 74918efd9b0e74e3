#!/usr/bin/env python3
"""Drives `groundwork serve` in Debian's chromium (Playwright for Python, pointed at
/usr/bin/chromium: no browser download) and checks it as a reviewer would.

    tools/browser-check-serve.py --groundwork .build/debug/groundwork [--screenshots tools/screenshots]

Makes the demo project (`groundwork demo`), adds a flagged 16-bit CT rendered from pydicom-data's
CT_small.dcm, and copies the project twice (A for the browser, B for the CLI). Then:
- requests without the token, with a wrong one, or with `../` in the path are refused;
- a page of another origin (another port on 127.0.0.1, which counts as the same site) cannot
  change anything, even though the browser sends it the session cookie;
- a keyboard review (a, r, j, n) in project A, then the same decisions with `groundwork regions
  review` / `vqa review` in project B: the two databases' review columns are identical (the time
  aside), and the burned-in flag cleared in the browser equals `groundwork images flag clear`;
- two browsers on one item: the second, stale, gets a conflict, reloads, and the first's decision stands;
- no console error, no request outside the server; screenshots of the grid and the image page.
Prints 'N passed, M failed' and exits non-zero on any failure.
"""
import argparse
import http.server
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
REVIEWER = "Dr Browser"
results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    print(("ok    " if condition else "FAIL  ") + name + ("" if condition else f"  ({detail})"), flush=True)


def wait_js(page, expression, timeout=15.0):
    """Polls `expression` in the page until it is truthy (wait_for_function would evaluate a string
    in the page, which the app's Content-Security-Policy forbids; evaluate goes through DevTools)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(expression):
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {expression}")


def run(args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=600, **kwargs)


def make_projects(groundwork, work):
    run([groundwork, "demo", os.path.join(work, "demo")])
    project = os.path.join(work, "demo", "project")
    # A flagged 16-bit CT: pydicom-data's CT_small.dcm marked as carrying burned-in annotation.
    import pydicom
    from pydicom.data import get_testdata_file

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.BurnedInAnnotation = "YES"
    dicom = os.path.join(work, "ct-burned-in.dcm")
    ds.save_as(dicom)
    run([groundwork, "import", "images", dicom, "--project", project, "--source", "pydicom-data",
         "--license", "MIT", "--render-bits", "16"])
    a, b = os.path.join(work, "A"), os.path.join(work, "B")
    shutil.copytree(project, a)
    shutil.copytree(project, b)
    return a, b


def start_server(groundwork, project, *extra):
    process = subprocess.Popen([groundwork, "serve", "--port", "0", "--json", "--project", project, *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line:
        raise SystemExit("serve printed nothing: " + process.stderr.read())
    return process, json.loads(line)


def stop_server(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def review_columns(project):
    db = sqlite3.connect(os.path.join(project, "groundwork.sqlite"))
    try:
        regions = db.execute("SELECT id, status, reviewed_by, review_version FROM region ORDER BY id").fetchall()
        questions = db.execute("SELECT id, status, reviewed_by, review_version FROM vqa_item ORDER BY id").fetchall()
        flags = db.execute(
            "SELECT id, review_flag, review_reason, flag_reviewed_by, flag_version FROM image ORDER BY id").fetchall()
        return regions, questions, flags
    finally:
        db.close()


def raw_get(port, path, headers=None):
    """GET with the path sent as is (urllib would not clean up `..`)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        for k, v in (headers or {}).items():
            head += f"{k}: {v}\r\n"
        s.sendall((head + "\r\n").encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


class AttackerPage(http.server.BaseHTTPRequestHandler):
    """Another origin on this machine: a page that tries to change the project."""
    target = ""

    def do_GET(self):
        body = f"""<!doctype html><html><body>
<form id="f" method="POST" action="{self.target}/api/regions/1/review" enctype="text/plain">
<input name='{{"status": "rejected", "version": 0, "reviewer": "attacker", "x": "' value='"}}'></form>
<script>
window.results = [];
fetch("{self.target}/api/regions/1/review", {{method: "POST", credentials: "include",
  headers: {{"Content-Type": "application/json"}},
  body: JSON.stringify({{status: "rejected", version: 0, reviewer: "attacker"}})}})
  .then(r => window.results.push("fetch " + r.status), e => window.results.push("fetch blocked"));
fetch("{self.target}/api/regions/1/review", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "text/plain"}},
  body: JSON.stringify({{status: "rejected", version: 0, reviewer: "attacker"}})}})
  .then(r => window.results.push("no-cors sent"), e => window.results.push("no-cors blocked"));
</script></body></html>"""
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--groundwork", required=True)
    parser.add_argument("--screenshots", help="folder for serve-grid.png and serve-image.png")
    args = parser.parse_args()
    groundwork = os.path.abspath(args.groundwork)
    work = tempfile.mkdtemp(prefix="groundwork-serve-browser-")
    try:
        a, b = make_projects(groundwork, work)
        process, ready = start_server(groundwork, a)
        try:
            browse(ready, a, b, groundwork, args.screenshots, work)
        finally:
            stop_server(process)
        compare(groundwork, a, b)
        read_only(groundwork, b)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failed = sum(1 for _, ok in results if not ok)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


decisions = []  # (table, id, status) made in the browser, in order


def browse(ready, a, b, groundwork, screenshots, work):
    url, port = ready["url"], ready["port"]
    token = url.split("token=")[1]
    origin = f"http://127.0.0.1:{port}"

    # Refusals, outside the browser: no token, a wrong one, `../` paths.
    for path in ["/", "/api/images", "/api/images/1/view", "/objects/../groundwork.sqlite", "/no/such"]:
        status, data = raw_get(port, path)
        check(f"no token: GET {path} is 403", status == 403, status)
    status, _ = raw_get(port, "/api/images", {"X-Groundwork-Token": "wrong"})
    check("a wrong token is 403", status == 403, status)
    for path in ["/objects/../groundwork.sqlite", "/objects/..%2Fgroundwork.sqlite", "/../groundwork.sqlite",
                 "/objects/%2e%2e/%2e%2e/etc/passwd", "/app.js/../../groundwork.sqlite"]:
        status, data = raw_get(port, path, {"X-Groundwork-Token": token})
        check(f"with the token, GET {path} reaches no file", status in (400, 404) and b"SQLite format" not in data,
              status)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        errors, foreign = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(origin) and not r.url.startswith("data:") and not r.url.startswith("blob:") else None)

        # Without the token, the browser gets 403 too.
        response = page.goto(origin + "/")
        check("the browser without the token gets 403", response.status == 403, response.status)
        page.wait_for_timeout(300)
        errors.clear()  # the refused page's own 403s (it and its favicon) are expected

        page.goto(url)
        check("the token in the URL is swapped for a cookie", page.url == origin + "/#/" or page.url == origin + "/",
              page.url)
        page.wait_for_selector(".card")
        cards = page.locator(".card").count()
        db = sqlite3.connect(os.path.join(a, "groundwork.sqlite"))
        images = db.execute("SELECT count(*) FROM image").fetchone()[0]
        db.close()
        check("the grid shows every image", cards == images, (cards, images))
        page.select_option('select[data-filter="flag"]', "flagged")
        wait_js(page, "document.querySelectorAll('.card').length === 1")
        check("the burned-in filter finds the flagged CT", page.locator(".card").count() == 1)
        page.select_option('select[data-filter="flag"]', "")
        wait_js(page, f"document.querySelectorAll('.card').length === {images}")
        wait_js(page, "[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        if screenshots:
            page.screenshot(path=os.path.join(screenshots, "serve-grid.png"))

        # Keyboard review of image 1, then image 2.
        page.fill("#reviewer", REVIEWER)
        page.locator('.card[data-image="1"]').click()
        page.wait_for_selector(".item.focused")
        wait_js(page, "document.getElementById('pixels').complete && document.getElementById('pixels').naturalWidth > 0")
        plan = ["a", "r", "j", "a", "a", "r"]
        for key in plan:
            focused = page.locator(".item.focused").get_attribute("data-item")
            kind, item = focused.split("-")
            page.keyboard.press(key)
            if key in ("a", "r"):
                status = "reviewed" if key == "a" else "rejected"
                page.wait_for_selector(f'[data-item="{focused}"] [data-status="{status}"]')
                decisions.append(("region" if kind == "region" else "vqa", int(item), status))
        page.keyboard.press("n")
        wait_js(page, "location.hash.startsWith('#/image/2')")
        page.wait_for_selector(".item.focused")
        focused = page.locator(".item.focused").get_attribute("data-item")
        page.keyboard.press("a")
        page.wait_for_selector(f'[data-item="{focused}"] [data-status="reviewed"]')
        kind, item = focused.split("-")
        decisions.append(("region" if kind == "region" else "vqa", int(item), "reviewed"))
        page.keyboard.press("p")
        wait_js(page, "location.hash.startsWith('#/image/1')")
        page.wait_for_selector(".item.focused")
        wait_js(page, "document.getElementById('pixels').complete && document.getElementById('pixels').naturalWidth > 0")
        page.locator(".item").nth(2).click()
        if screenshots:
            page.evaluate("document.getElementById('toast').className = ''")
            page.screenshot(path=os.path.join(screenshots, "serve-image.png"))

        # The flagged CT: window presets, full resolution, then clear its flag.
        flagged = json.loads(page.evaluate(
            "fetch('/api/images?flag=flagged').then(r => r.text())"))["images"][0]["id"]
        page.goto(f"{origin}/#/image/{flagged}")
        page.wait_for_selector("#flag[data-flag=flagged]")
        options = page.locator("#window option").all_inner_texts()
        check("a 16-bit CT offers window presets", any(o.startswith("Lung") for o in options) and len(options) >= 8,
              options)
        sizes = []
        for preset in ["stored", "lung", "bone"]:
            page.select_option("#window", preset)
            wait_js(page, 
                f"document.getElementById('pixels').src.endsWith('window={preset}') && document.getElementById('pixels').complete && document.getElementById('pixels').naturalWidth > 0")
            sizes.append(page.evaluate("[document.getElementById('pixels').naturalWidth, document.getElementById('pixels').naturalHeight]"))
        check("every window renders at full resolution (128 × 128)", all(s == [128, 128] for s in sizes), sizes)
        page.keyboard.press("1")
        check("1 zooms to full resolution", page.inner_text("#zoom-level") == "100%", page.inner_text("#zoom-level"))
        page.keyboard.press("+")
        check("+ zooms in", page.inner_text("#zoom-level") == "125%", page.inner_text("#zoom-level"))
        page.keyboard.press("0")
        if screenshots:
            page.select_option("#window", "lung")
            page.wait_for_timeout(300)
            page.evaluate("document.getElementById('toast').className = ''")
            page.screenshot(path=os.path.join(screenshots, "serve-flagged-ct.png"))
        page.keyboard.press("c")
        page.wait_for_selector("#flag[data-flag=cleared]")
        check("c clears the burned-in flag", True)
        global cleared_image
        cleared_image = flagged

        # Two browsers on one item: the stale one gets a conflict and reloads.
        other = browser.new_context(viewport={"width": 1400, "height": 900})
        page2 = other.new_page()
        page2.goto(url)
        page2.wait_for_selector(".card")
        page2.fill("#reviewer", "Dr Second")
        page2.goto(f"{origin}/#/image/3")
        page2.wait_for_selector(".item.focused")
        page2.evaluate("document.activeElement.blur()")
        page.goto(f"{origin}/#/image/3")
        page.wait_for_selector(".item.focused")
        first = page.locator(".item.focused").get_attribute("data-item")
        page.keyboard.press("a")
        page.wait_for_selector(f'[data-item="{first}"] [data-status="reviewed"]')
        decisions.append(("region" if first.startswith("region") else "vqa", int(first.split("-")[1]), "reviewed"))
        page2.keyboard.press("r")
        page2.wait_for_selector("#toast.error")
        check("the second browser is told of the conflict", "Conflict" in page2.inner_text("#toast"),
              page2.inner_text("#toast"))
        page2.wait_for_selector(f'[data-item="{first}"] [data-status="reviewed"]')
        check("the second browser reloads and shows the first's decision", True)
        other.close()

        # Another origin (same site: 127.0.0.1, another port) cannot change anything.
        AttackerPage.target = origin
        attacker = http.server.HTTPServer(("127.0.0.1", 0), AttackerPage)
        threading.Thread(target=attacker.serve_forever, daemon=True).start()
        before = review_columns(a)
        evil = context.new_page()
        evil.goto(f"http://127.0.0.1:{attacker.server_port}/")
        wait_js(evil, "window.results.length === 2")
        evil.evaluate("document.getElementById('f').submit()")
        evil.wait_for_load_state()
        time.sleep(0.5)
        body = evil.content()
        check("a cross-origin form post is refused", "403" in body, body[:200])
        check("cross-origin requests changed nothing", review_columns(a) == before)
        attacker.shutdown()
        evil.close()

        check("no console error", not errors, errors)
        check("no request outside the server", not foreign, foreign)
        browser.close()


cleared_image = None


def compare(groundwork, a, b):
    """Makes the browser's decisions with the CLI in project B: the review columns must be equal."""
    for table, item, status in decisions:
        command = "regions" if table == "region" else "vqa"
        run([groundwork, command, "review", str(item), "--status", status, "--reviewer", REVIEWER,
             "--project", b])
    # The conflict test's decision was made by the same reviewer name.
    run([groundwork, "images", "flag", "clear", str(cleared_image), "--reviewer", REVIEWER, "--project", b])
    ra, qa, fa = review_columns(a)
    rb, qb, fb = review_columns(b)
    check(f"{len(decisions)} keyboard decisions were made", len(decisions) >= 6, decisions)
    check("regions: the browser's review equals groundwork regions review", ra == rb,
          [x for x in zip(ra, rb) if x[0] != x[1]])
    check("questions: the browser's review equals groundwork vqa review", qa == qb,
          [x for x in zip(qa, qb) if x[0] != x[1]])
    check("flags: the browser's clear equals groundwork images flag clear", fa == fb,
          [x for x in zip(fa, fb) if x[0] != x[1]])
    db = sqlite3.connect(os.path.join(a, "groundwork.sqlite"))
    times = db.execute("SELECT count(*) FROM region WHERE reviewed_at LIKE '____-__-__T__:__:__.___Z'").fetchone()[0]
    db.close()
    check("each decision records when (ISO 8601 UTC)", times >= 1, times)


def read_only(groundwork, project):
    with open(os.path.join(project, "groundwork.sqlite"), "rb") as f:
        before = f.read()
    process, ready = start_server(groundwork, project, "--read-only")
    try:
        port = ready["port"]
        token = ready["url"].split("token=")[1]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/regions/1/review", method="POST",
            data=json.dumps({"status": "draft", "version": 1, "reviewer": "x"}).encode(),
            headers={"X-Groundwork-Token": token, "Content-Type": "application/json",
                     "Origin": f"http://127.0.0.1:{port}"})
        try:
            urllib.request.urlopen(request, timeout=10)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
        check("--read-only refuses a change with the token", status == 403, status)
    finally:
        stop_server(process)
    with open(os.path.join(project, "groundwork.sqlite"), "rb") as f:
        check("--read-only left the database byte-identical", f.read() == before)


if __name__ == "__main__":
    main()
