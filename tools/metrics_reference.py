#!/usr/bin/env python3
"""Reference implementation of Groundwork's grounding metrics, in numpy, written from the formulas.

An independent check of the Swift code (Sources/GroundworkMetrics), not a port of it: where the
Swift code sorts once and walks tie groups, this file uses mid-ranks (binary targets) or the
pairwise definition (coverage weights); where Swift slabs rectangles, this file rasterises on the
compressed grid of every edge. The metric definitions are those of the README's conventions table.

    metrics_reference.py crosscheck CASES.json OUT.json    # the Swift tests' cross-check
    metrics_reference.py score RELEASE_DIR SUBMISSION_DIR --mode per-question|batched [--limit N]

`score` is the benchmark's reference: every layer x head map of every groundable question, boxes
only, preprocessing pad_to_square / resize (what tools/bench-score generates). `per-question`
loops over the maps of each question as a study script would; `batched` vectorises each
metric over all layers x heads of a question at once. It prints one JSON line of timings.
"""
import json
import math
import sys
import time

import numpy as np

FLOOR = 1e-12
EPS = 1e-8
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5)
TOL = 1e-9
METRICS = ("attention_ratio@1", "kl_divergence@1", "js_divergence@1", "pointing_game@1",
           "energy_pointing_game@1", "relevance_rank_accuracy@1", "auroc@1", "nss@1", "miou@1", "cnr@1")


# ------------------------------------------------------------------ preprocessing

def smart_resize(height, width, factor, min_pixels, max_pixels):
    if max(height, width) / min(height, width) > 200:
        raise ValueError("aspect ratio above 200")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def grid(p, width, height):
    """(rows, cols, sx, sy, tx, ty, input_w, input_h): image (x, y) -> input (x*sx+tx, y*sy+ty)."""
    kind = p["kind"]
    f = p.get("patch_size", 14) * p.get("merge_size", 1)
    if kind == "none":
        return height, width, 1.0, 1.0, 0.0, 0.0, width, height
    if kind == "smart_resize":
        h, w = smart_resize(height, width, f, p["min_pixels"], p["max_pixels"])
        return h // f, w // f, w / width, h / height, 0.0, 0.0, w, h
    iw, ih = p["input_width"], p["input_height"]
    if kind == "resize":
        return ih // f, iw // f, iw / width, ih / height, 0.0, 0.0, iw, ih
    if kind == "pad_to_square":
        side = max(width, height)
        s = iw / side
        return ih // f, iw // f, s, s, ((side - width) // 2) * s, ((side - height) // 2) * s, iw, ih
    if kind == "center_crop":
        short, long = min(width, height), max(width, height)
        new_long = int(iw * long / short)
        nw, nh = (iw, new_long) if width <= height else (new_long, iw)
        return iw // f, iw // f, nw / width, nh / height, -float((nw - iw) // 2), -float((nh - iw) // 2), iw, iw
    raise ValueError(kind)


def target_weights(boxes, p, width, height, rule):
    """Per-cell weights of the union of boxes: overlap (0/1) or covered fraction.

    Independent method: every box is mapped to the input; all box and cell edges form a compressed
    grid; an elementary rectangle is covered when some box contains it; a cell's coverage sums the
    covered elementary rectangles inside it. Overlaps thinner than 1e-9 of a cell are ignored."""
    rows, cols, sx, sy, tx, ty, iw, ih = grid(p, width, height)
    cw, ch = iw / cols, ih / rows
    mapped = []
    for x0, y0, x1, y1 in boxes:
        bx0, bx1 = max(x0 * sx + tx, 0.0), min(x1 * sx + tx, float(iw))
        by0, by1 = max(y0 * sy + ty, 0.0), min(y1 * sy + ty, float(ih))
        if bx1 > bx0 and by1 > by0:
            mapped.append((bx0, by0, bx1, by1))
    w = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            cx0, cx1, cy0, cy1 = c * cw, (c + 1) * cw, r * ch, (r + 1) * ch
            inside = []
            for bx0, by0, bx1, by1 in mapped:
                ox = min(bx1, cx1) - max(bx0, cx0)
                oy = min(by1, cy1) - max(by0, cy0)
                if ox > TOL * cw and oy > TOL * ch:
                    inside.append((max(bx0, cx0), max(by0, cy0), min(bx1, cx1), min(by1, cy1)))
            if not inside:
                continue
            if rule == "overlap":
                w[r, c] = 1.0
                continue
            xs = sorted({v for b in inside for v in (b[0], b[2])})
            ys = sorted({v for b in inside for v in (b[1], b[3])})
            area = 0.0
            for i in range(len(xs) - 1):
                for j in range(len(ys) - 1):
                    mx, my = (xs[i] + xs[i + 1]) / 2, (ys[j] + ys[j + 1]) / 2
                    if any(b[0] <= mx < b[2] and b[1] <= my < b[3] for b in inside):
                        area += (xs[i + 1] - xs[i]) * (ys[j + 1] - ys[j])
            w[r, c] = min(1.0, area / (cw * ch))
    return rows, cols, w.reshape(-1)


# ------------------------------------------------------------------ metrics on a batch of maps
# a: (B, N) float64 maps, w: (N,) weights in [0, 1], pointing: (N,) bool. Each returns (B,) values
# with NaN where undefined, and a parallel array of reasons ('' where defined).

def _undefined(values, mask, reason, reasons):
    values[mask] = np.nan
    reasons[mask & (reasons == "")] = reason


def attention_ratio(r, w):
    vals = np.full(r.shape[0], np.nan)
    reasons = np.full(r.shape[0], "", dtype=object)
    total = r.sum(1)
    neg = (r < 0).any(1)
    ok = ~neg & (total > 0)
    vals[ok] = ((r[ok] * w).sum(1) / w.sum()) / (total[ok] / r.shape[1])
    _undefined(vals, neg, "negative_values", reasons)
    _undefined(vals, ~neg & ~(total > 0), "zero_mass", reasons)
    return vals, reasons


def _distributions(r, w):
    p = r / r.sum(1, keepdims=True)
    return np.maximum(p, FLOOR), np.maximum(w / w.sum(), FLOOR)


def _divergence(r, w, formula):
    """A VGMED divergence of each row: undefined for negative or zero-mass maps."""
    vals = np.full(r.shape[0], np.nan)
    reasons = np.full(r.shape[0], "", dtype=object)
    neg = (r < 0).any(1)
    ok = ~neg & (r.sum(1) > 0)
    if ok.any():
        p, g = _distributions(r[ok], w)
        vals[ok] = formula(p, g)
    _undefined(vals, neg, "negative_values", reasons)
    _undefined(vals, ~ok & ~neg, "zero_mass", reasons)
    return vals, reasons


def kl_divergence(r, w):
    return _divergence(r, w, lambda p, g: (g * np.log(g / p)).sum(1))


def js_divergence(r, w):
    def js(p, g):
        m = (p + g) / 2
        return 0.5 * (p * np.log(p / m)).sum(1) + 0.5 * (g * np.log(g / m)).sum(1)
    return _divergence(r, w, js)


def pointing_game(a, pointing):
    top = a == a.max(1, keepdims=True)
    return (top & pointing).sum(1) / top.sum(1), np.full(a.shape[0], "", dtype=object)


def energy_pointing_game(a, w):
    vals = np.full(a.shape[0], np.nan)
    reasons = np.full(a.shape[0], "", dtype=object)
    pos = np.maximum(a, 0)
    total = pos.sum(1)
    ok = total > 0
    vals[ok] = (pos[ok] * w).sum(1) / total[ok]
    _undefined(vals, ~ok, "no_positive_mass", reasons)
    return vals, reasons


def relevance_rank_accuracy(a, w):
    k = int((w > 0).sum())
    kth = -np.sort(-a, axis=1)[:, k - 1:k]              # the K-th highest value per map
    above = a > kth
    tied = a == kth
    slots = k - above.sum(1)
    score = (above * w).sum(1) + slots / tied.sum(1) * (tied * w).sum(1)
    return score / w.sum(), np.full(a.shape[0], "", dtype=object)


def auroc(a, w):
    b, n = a.shape
    reasons = np.full(b, "", dtype=object)
    binary = np.all((w == 0) | (w == 1))
    if binary:
        npos = w.sum()
        nneg = n - npos
        if nneg == 0:
            return np.full(b, np.nan), np.full(b, "no_background", dtype=object)
        order = np.argsort(a, axis=1, kind="stable")
        s = np.take_along_axis(a, order, 1)
        idx = np.broadcast_to(np.arange(n), (b, n))
        new_group = np.ones((b, n), bool)
        new_group[:, 1:] = s[:, 1:] != s[:, :-1]
        start = np.maximum.accumulate(np.where(new_group, idx, 0), axis=1)
        last = np.ones((b, n), bool)
        last[:, :-1] = new_group[:, 1:]
        end = np.minimum.accumulate(np.where(last, idx, n)[:, ::-1], axis=1)[:, ::-1]
        midrank = (start + end) / 2 + 1                   # 1-based mid-ranks of the sorted cells
        rank_pos = (midrank * w[order]).sum(1)
        return (rank_pos - npos * (npos + 1) / 2) / (npos * nneg), reasons
    # Coverage weights: the pairwise definition, self-pairs excluded.
    pos, neg = w, 1 - w
    pair = np.outer(pos, neg)
    np.fill_diagonal(pair, 0)
    denom = pair.sum()
    if denom <= 0:
        return np.full(b, np.nan), np.full(b, "no_background", dtype=object)
    vals = np.empty(b)
    for i in range(b):
        x = a[i]
        s = (x[:, None] > x[None, :]) + 0.5 * (x[:, None] == x[None, :])
        vals[i] = (pair * s).sum() / denom
    return vals, reasons


def nss(a, w):
    mu = a.mean(1, keepdims=True)
    sd = a.std(1, keepdims=True)
    const = (a.max(1) == a.min(1))
    z = np.where(sd > 0, (a - mu) / np.where(sd > 0, sd, 1), 0.0)
    vals = (z * w).sum(1) / w.sum()
    vals[const] = 0.0
    return vals, np.full(a.shape[0], "", dtype=object)


def miou(a, w):
    lo = a.min(1, keepdims=True)
    rng = a.max(1, keepdims=True) - lo
    b = np.where(rng > 0, (a - lo) / np.where(rng > 0, rng, 1), 0.0)
    total = np.zeros(a.shape[0])
    for t in THRESHOLDS:
        pred = (b > t).astype(float)
        total += np.minimum(pred, w).sum(1) / np.maximum(pred, w).sum(1)
    return total / len(THRESHOLDS), np.full(a.shape[0], "", dtype=object)


def cnr(a, w):
    b = a.shape[0]
    vals = np.full(b, np.nan)
    reasons = np.full(b, "", dtype=object)
    wout = 1 - w
    if wout.sum() <= 0:
        return vals, np.full(b, "no_background", dtype=object)
    mi = (a * w).sum(1) / w.sum()
    mo = (a * wout).sum(1) / wout.sum()
    vi = (w * (a - mi[:, None]) ** 2).sum(1) / w.sum()
    vo = (wout * (a - mo[:, None]) ** 2).sum(1) / wout.sum()
    num = np.abs(mi - mo)
    den = np.sqrt(vi + vo)
    const = a.max(1) == a.min(1)
    zero = (num == 0) | const
    ok = ~zero & (den > 0)
    vals[zero] = 0.0
    vals[ok] = num[ok] / den[ok]
    _undefined(vals, ~zero & ~(den > 0), "zero_variance", reasons)
    return vals, reasons


def all_metrics(a, w, pointing, relative=None):
    """Every metric on the maps a (B, N); VGMED's three read the relative maps."""
    r = a if relative is None else relative
    return {
        "attention_ratio@1": attention_ratio(r, w),
        "kl_divergence@1": kl_divergence(r, w),
        "js_divergence@1": js_divergence(r, w),
        "pointing_game@1": pointing_game(a, pointing),
        "energy_pointing_game@1": energy_pointing_game(a, w),
        "relevance_rank_accuracy@1": relevance_rank_accuracy(a, w),
        "auroc@1": auroc(a, w),
        "nss@1": nss(a, w),
        "miou@1": miou(a, w),
        "cnr@1": cnr(a, w),
    }


def relative_map(a, baseline):
    return a / np.maximum(baseline, EPS)


# ------------------------------------------------------------------ cross-check

def crosscheck(cases_path, out_path):
    cases = json.load(open(cases_path))
    out = {"maps": [], "grids": []}
    for case in cases["maps"]:
        a = np.array(case["map"], dtype=np.float64)[None, :]
        w = np.array(case["weights"], dtype=np.float64)
        rel = None if case.get("baseline") is None else relative_map(a, np.array(case["baseline"])[None, :])
        results = all_metrics(a, w, w > 0, rel)
        out["maps"].append({k: (None if math.isnan(v[0][0]) else float(v[0][0]), v[1][0]) for k, v in results.items()})
    for case in cases["grids"]:
        try:
            rows, cols, w = target_weights(case["boxes"], case["preprocessing"], case["width"], case["height"], case["rule"])
            out["grids"].append({"rows": rows, "cols": cols, "weights": w.tolist()})
        except ValueError as error:
            out["grids"].append({"error": str(error)})
    json.dump(out, open(out_path, "w"))


# ------------------------------------------------------------------ benchmark reference

def _read_json_lines(path):
    with open(path) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def score(release, submission_dir, mode, limit=None):
    from safetensors import safe_open
    sub = json.load(open(f"{submission_dir}/submission.json"))
    pre = dict(sub["preprocessing"])
    size = pre.get("input_size", 0)
    pre["input_width"], pre["input_height"] = (size, size) if isinstance(size, int) else size
    manifest = json.load(open(f"{release}/manifest.json"))
    splits = sorted(f["path"] for f in manifest["files"]
                    if f["path"].endswith(".jsonl") and "/" not in f["path"] and f["path"] != "labels.jsonl")
    handles = [safe_open(f"{submission_dir}/{name}", framework="np") for name in sub["tensors"]["files"]]
    where = {}
    for h in handles:
        for key in h.keys():
            where[key] = h
    maps = 0
    nbytes = 0
    checksum = 0.0
    start = time.perf_counter()
    questions = 0
    for split in splits:
        for item in _read_json_lines(f"{release}/{split}"):
            if not item["groundable"] or not item["regions"]:
                continue
            if limit is not None and questions >= limit:
                break
            questions += 1
            boxes = [r["geometry"]["box"] for r in item["regions"]]
            rows, cols, w = target_weights(boxes, pre, item["width"], item["height"], "overlap")
            t = where[item["id"]].get_tensor(item["id"])
            nbytes += t.nbytes
            x = t.astype(np.float64).reshape(-1, rows * cols)
            pointing = w > 0
            if mode == "batched":
                results = all_metrics(x, w, pointing)
                maps += x.shape[0]
                checksum += sum(float(np.nansum(v[0])) for v in results.values())
            else:
                for i in range(x.shape[0]):
                    results = all_metrics(x[i:i + 1], w, pointing)
                    maps += 1
                    checksum += sum(float(np.nansum(v[0])) for v in results.values())
    seconds = time.perf_counter() - start
    print(json.dumps({"mode": mode, "questions": questions, "maps": maps, "bytes": nbytes,
                      "seconds": seconds, "checksum": checksum}))


def main(argv):
    if len(argv) >= 3 and argv[0] == "crosscheck":
        crosscheck(argv[1], argv[2])
    elif len(argv) >= 3 and argv[0] == "score":
        mode = argv[argv.index("--mode") + 1] if "--mode" in argv else "batched"
        limit = int(argv[argv.index("--limit") + 1]) if "--limit" in argv else None
        score(argv[1], argv[2], mode, limit)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
