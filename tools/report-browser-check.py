#!/usr/bin/env python3
"""Opens a `groundwork report` folder in Debian's chromium (Playwright, no browser download) and
checks it as a user would see it:

- the page renders with no console error, no uncaught exception, and no request outside its folder;
- on planted maps (--expect QUESTION:LAYER_INDEX:ROW:COL[:HEAD]), the hottest overlay pixel of a
  screenshot lies in the grid cell where the map peaks. The cell's place on the image is computed
  here, independently of Groundwork, from the submission's preprocessing (pad_to_square, resize,
  none) and the release's image size, so a flipped, transposed or shifted overlay fails;
- moving the layer slider (or choosing a head) changes the overlay, and the peak moves to that
  layer's (head's) cell;
- the overview and gallery screenshots are written to --screenshots for a person to look at.

Prints a JSON report; exits 1 when a check fails.

    report-browser-check.py REPORT_DIR --attention SUBMISSION_DIR --release RELEASE_DIR \
        --expect 1:0:2:5 --expect 1:1:3:4 --screenshots shots/
"""

import argparse
import io
import json
import os
import sys
import time

import numpy as np
from PIL import Image
from playwright.sync_api import sync_playwright


def grid_rect(pre, width, height):
    """The model input's rectangle in image pixels, and the grid's rows and cols (independent of
    Groundwork's code: LLaVA's expand2square pads (side - w) // 2 on the left and top)."""
    kind = pre["kind"]
    cell = pre.get("patch_size", 14) * pre.get("merge_size", 1)
    if kind == "none":
        return (0.0, 0.0, float(width), float(height)), height, width
    size = pre["input_size"]
    iw, ih = (size, size) if isinstance(size, int) else (size[0], size[1])
    if kind == "pad_to_square":
        side = max(width, height)
        px, py = (side - width) // 2, (side - height) // 2
        return (-px, -py, side - px, side - py), ih // cell, iw // cell
    if kind == "resize":
        return (0.0, 0.0, float(width), float(height)), ih // cell, iw // cell
    raise SystemExit(f"preprocessing {kind} is not supported by this check")


def release_items(release):
    items = {}
    for name in sorted(os.listdir(release)):
        if name.endswith(".jsonl") and name != "labels.jsonl":
            with open(os.path.join(release, name)) as f:
                for line in f:
                    if line.strip():
                        row = json.loads(line)
                        items[row["id"]] = row
    return items


def decode(png_bytes, lut):
    """Each pixel's colour-map index (nearest entry) and its distance to that entry."""
    pixels = np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB"), dtype=np.int32)
    h, w, _ = pixels.shape
    flat = pixels.reshape(-1, 3)
    best = np.zeros(len(flat), dtype=np.int32)
    dist = np.full(len(flat), 1 << 30, dtype=np.int64)
    table = np.asarray(lut, dtype=np.int32).reshape(256, 3)
    for i in range(256):
        d = ((flat - table[i]) ** 2).sum(axis=1)
        better = d < dist
        best[better] = i
        dist[better] = d[better]
    return best.reshape(h, w), np.sqrt(dist).reshape(h, w)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--attention", help="the submission folder of the report's first model")
    parser.add_argument("--release", help="the release folder (image sizes)")
    parser.add_argument("--expect", action="append", default=[],
                        help="QUESTION:LAYER_INDEX:ROW:COL[:HEAD] (HEAD -1 or absent: the mean over heads)")
    parser.add_argument("--screenshots", help="folder for overview.png and gallery.png")
    parser.add_argument("--chromium", default=os.environ.get("GROUNDWORK_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--timing-runs", type=int, default=0, help="also time N fresh page loads")
    args = parser.parse_args()

    root = os.path.realpath(args.report)
    base = "file://" + root + "/"
    failures = []
    console_errors = []
    outside = []
    checks = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console_errors.append(str(e)))
        page.on("request", lambda r: outside.append(r.url)
                if not (r.url.startswith(base) or r.url.startswith("data:")) else None)

        started = time.perf_counter()
        page.goto(base + "index.html")
        page.wait_for_function("window.GW_READY === true", timeout=30000)
        open_ms = (time.perf_counter() - started) * 1000
        if args.screenshots:
            os.makedirs(args.screenshots, exist_ok=True)
            page.screenshot(path=os.path.join(args.screenshots, "overview.png"), full_page=False)

        started = time.perf_counter()
        page.click("nav button[data-tab=gallery]")
        page.wait_for_selector(".card")
        page.wait_for_function(
            "[...document.querySelectorAll('.card .view canvas')].slice(0, 2).every(c => c.dataset.layer !== undefined)"
            " || document.querySelectorAll('.card .view canvas').length === 0", timeout=30000)
        gallery_ms = (time.perf_counter() - started) * 1000
        page.wait_for_timeout(300)
        if args.screenshots:
            page.screenshot(path=os.path.join(args.screenshots, "gallery.png"), full_page=False)

        if args.expect:
            submission = json.load(open(os.path.join(args.attention, "submission.json")))
            items = release_items(args.release)
            lut = page.evaluate("GW.colormap()")
            # Opacity 1, no fading and no outlines: the overlay's colours are the colour map's, unblended.
            page.evaluate("""() => {
                const o = document.getElementById('opacity'); o.value = 100; o.dispatchEvent(new Event('input'));
                const r = document.getElementById('show-regions'); r.checked = false; r.dispatchEvent(new Event('change'));
                const f = document.getElementById('fade'); f.checked = false; f.dispatchEvent(new Event('change'));
            }""")
            previous = {}
            for spec in args.expect:
                parts = spec.split(":")
                qid, layer_index, row, col = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
                head = int(parts[4]) if len(parts) > 4 else -1
                page.evaluate("""([i, h]) => {
                    const s = document.getElementById('layer'); s.value = i; s.dispatchEvent(new Event('input'));
                    const e = document.getElementById('head');
                    if (e.value !== String(h)) { e.value = String(h); e.dispatchEvent(new Event('change')); } }""",
                              [layer_index, head])
                selector = f".card[data-question='{qid}'] .panel[data-model='0'] .view"
                page.wait_for_function(
                    "([sel, layer, head]) => { const c = document.querySelector(sel + ' canvas');"
                    " return c && c.dataset.layer === String(layer) && c.dataset.head === String(head); }",
                    arg=[selector, page.evaluate(f"GW.state.data.models[0].summary.parameters.layers[{layer_index}]"),
                         head])
                view = page.locator(selector)
                view.scroll_into_view_if_needed()
                shot = view.screenshot()
                box = view.bounding_box()
                item = items[qid]
                (gx0, gy0, gx1, gy1), rows, cols = grid_rect(submission["preprocessing"], item["width"], item["height"])
                index, dist = decode(shot, lut)
                h, w = index.shape
                sx, sy = w / item["width"], h / item["height"]
                cx0 = (gx0 + (gx1 - gx0) * col / cols) * sx
                cx1 = (gx0 + (gx1 - gx0) * (col + 1) / cols) * sx
                cy0 = (gy0 + (gy1 - gy0) * row / rows) * sy
                cy1 = (gy0 + (gy1 - gy0) * (row + 1) / rows) * sy
                usable = dist < 12
                top = index[usable].max() if usable.any() else -1
                ys, xs = np.nonzero(usable & (index == top))
                mx, my = (xs.mean() + 0.5, ys.mean() + 0.5) if len(xs) else (-1, -1)
                margin = 1.5
                inside = ((xs + 0.5 >= cx0 - margin) & (xs + 0.5 <= cx1 + margin)
                          & (ys + 0.5 >= cy0 - margin) & (ys + 0.5 <= cy1 + margin))
                ok = (top >= 250 and len(xs) > 0 and cx0 <= mx <= cx1 and cy0 <= my <= cy1
                      and inside.mean() >= 0.98)
                check = {"question": qid, "layer_index": layer_index, "head": head, "cell": [row, col],
                         "expected_px": [round(cx0, 1), round(cy0, 1), round(cx1, 1), round(cy1, 1)],
                         "hottest_index": int(top), "hottest_pixels": int(len(xs)),
                         "hottest_centre_px": [round(float(mx), 1), round(float(my), 1)],
                         "share_inside": round(float(inside.mean()) if len(xs) else 0, 3),
                         "view_px": [round(box["width"]), round(box["height"])], "ok": bool(ok)}
                if qid in previous:
                    changed = previous[qid] != shot
                    check["changed_from_previous"] = changed
                    if not changed:
                        failures.append(f"question {qid}: moving the layer slider or the head did not change the overlay")
                previous[qid] = shot
                checks.append(check)
                if not ok:
                    failures.append(f"question {qid}, layer index {layer_index}: the hottest overlay pixels are not "
                                    f"in cell ({row}, {col}): {check}")
                if args.screenshots:
                    with open(os.path.join(args.screenshots, f"overlay-{qid}-{layer_index}-{head}.png"), "wb") as f:
                        f.write(shot)

        timings = []
        for _ in range(args.timing_runs):
            fresh = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.perf_counter()
            fresh.goto(base + "index.html")
            fresh.wait_for_function("window.GW_READY === true", timeout=60000)
            t1 = time.perf_counter()
            fresh.click("nav button[data-tab=gallery]")
            fresh.wait_for_selector(".card")
            fresh.wait_for_function(
                "[...document.querySelectorAll('.card .view canvas')].slice(0, 4).every(c => c.dataset.layer !== undefined)",
                timeout=60000)
            t2 = time.perf_counter()
            # Scroll to the bottom of what is loaded, three times: more cards and chunks load.
            for _ in range(3):
                fresh.mouse.wheel(0, 20000)
                fresh.wait_for_timeout(150)
            t3 = time.perf_counter()
            cards = fresh.evaluate("document.querySelectorAll('.card').length")
            timings.append({"overview_ms": round((t1 - t0) * 1000), "gallery_ms": round((t2 - t1) * 1000),
                            "scroll_ms": round((t3 - t2) * 1000), "cards_after_scroll": cards})
            fresh.close()
        browser.close()

    if console_errors:
        failures.append(f"console errors: {console_errors}")
    if outside:
        failures.append(f"requests outside the report folder: {outside}")
    result = {"open_ms": round(open_ms), "gallery_ms": round(gallery_ms), "console_errors": console_errors,
              "outside_requests": outside, "checks": checks, "timings": timings, "failures": failures}
    print(json.dumps(result, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
