#!/usr/bin/env python3
"""Memory and speed of the kit's attention capture against eager `output_attentions`.

One mid-size random model per family (tests/tiny.py, size "bench": a 12-layer, 12-head language
model of width 768 with grouped-query attention, a 4-layer vision tower), on the CPU, with a prompt
of 2,048 tokens (image tokens included). For each family and mode a fresh process loads the model,
runs one plain SDPA forward pass (the baseline peak), then `--passes` passes of the mode:

- capture: the model in SDPA with the kit's row capture (what `groundwork-kit attention` does);
- eager: the model switched to eager attention with `output_attentions=True`, the image columns of
  the last row taken from the returned matrices (what scripts without the kit do).

Peak extra memory is the growth of the process's peak resident set over the baseline pass;
questions per second is passes / wall time of the prompt passes (no generation).

    .venv-kit/bin/python tools/model-kit/bench.py [--passes 3] [--tokens 2048] [--families llava,gemma3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "tests"))

FAMILIES = {
    # family: (builder keyword arguments, image size)
    "llava": ({"crop": 336}, (336, 336)),
    "qwen2_vl": ({"max_pixels": 28 * 28 * 1280}, (672, 672)),
    "gemma3": ({"image_size": 448, "tokens_per_side": 16}, (448, 448)),
}


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(folder: str, family: str, mode: str, tokens: int, passes: int) -> dict:
    import torch
    from PIL import Image

    from groundwork_kit.attention import AttentionJob
    from groundwork_kit.loading import load_model

    torch.manual_seed(0)
    adapter, info = load_model(folder)
    job = AttentionJob(adapter)
    size = FAMILIES[family][1]
    image = Image.fromarray((torch.rand(size[1], size[0], 3) * 255).to(torch.uint8).numpy())
    base = adapter.prepare([image], ["x"])
    filler = tokens - base.inputs["input_ids"].shape[1]
    prepared = adapter.prepare([image], ["x" + " y" * (filler // 2) + ("z" if filler % 2 else "")])
    length = prepared.inputs["input_ids"].shape[1]
    inputs = job.to_device(prepared.inputs)
    with torch.inference_mode():
        adapter.model(**inputs, use_cache=False)
    before = peak_rss()
    if mode == "eager":
        adapter.model.set_attn_implementation("eager")
    start = time.perf_counter()
    for _ in range(passes):
        if mode == "capture":
            maps = job.maps(prepared)[0]
        else:
            with torch.inference_mode():
                out = adapter.model(**inputs, use_cache=False, output_attentions=True)
            rows, cols = prepared.grids[0]
            positions = prepared.positions[0, : rows * cols]
            maps = torch.stack([a[0, :, -1, positions] for a in out.attentions]).reshape(
                len(out.attentions), -1, rows, cols)
            del out
    elapsed = time.perf_counter() - start
    return {"family": family, "mode": mode, "tokens": length, "image_tokens": int(prepared.positions.shape[1]),
            "layers": info["layers"], "heads": info["heads"], "map_shape": list(maps.shape),
            "extra_bytes": max(0, peak_rss() - before), "questions_per_second": passes / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated (default: all)")
    parser.add_argument("--worker", nargs=3, metavar=("FOLDER", "FAMILY", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(*args.worker, tokens=args.tokens, passes=args.passes)))
        return 0
    import tiny

    results = []
    with tempfile.TemporaryDirectory() as root:
        for family in args.families.split(","):
            kwargs = FAMILIES[family][0]
            folder = os.path.join(root, family)
            tiny.BUILDERS[family](folder, size="bench", **kwargs)
            row = {}
            for mode in ("capture", "eager"):
                out = subprocess.run([sys.executable, __file__, "--worker", folder, family, mode, "--passes",
                                      str(args.passes), "--tokens", str(args.tokens)],
                                     capture_output=True, text=True, check=True)
                row[mode] = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(row)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| family | prompt tokens (image) | layers x heads | eager extra memory | capture extra memory "
          "| capture / eager | capture q/s | eager q/s |")
    print("|---|---|---|---|---|---|---|---|")
    for row in results:
        c, e = row["capture"], row["eager"]
        ratio = c["extra_bytes"] / e["extra_bytes"] if e["extra_bytes"] else float("nan")
        print(f"| {c['family']} | {c['tokens']} ({c['image_tokens']}) | {c['layers']} x {c['heads']} "
              f"| {e['extra_bytes'] / 2**20:.0f} MiB | {c['extra_bytes'] / 2**20:.1f} MiB | {100 * ratio:.1f}% "
              f"| {c['questions_per_second']:.3f} | {e['questions_per_second']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
