#!/usr/bin/env python3
"""Decode every image of a Groundwork export exactly as the format's harness does, and check that
the pixels agree with the rows: the decoded size is the row's width x height (the frame of every
box), and an image is not clipped by Pillow's convert("RGB") (at most 5% of its samples at 255;
not checked for jsonl's stored files, lossless on purpose).

    check-harness-pixels.py EXPORT_DIR            # the format is read from manifest.json

How each harness opens an image (what this script imitates):
- hf: `datasets` decodes an Image feature with PIL.Image.open; models call .convert("RGB"). The
  rows are data/<split>/metadata.parquet (read with pyarrow).
- vlmevalkit: decode_base64_to_image: base64 -> PIL.Image.open -> .convert("RGB") (an index
  column value of 64 characters or fewer refers to another row's image).
- coco: torchvision's CocoDetection: PIL.Image.open(root/file_name).convert("RGB").
- vgmed: the study's scripts: PIL.Image.open(path).convert("RGB").
- jsonl: Groundwork's lossless export: ImageOps.exif_transpose(PIL.Image.open(path)), as its
  README says, unless the manifest says --pixels model.
Prints one line per problem and exits 1 if there is any; prints a summary and exits 0 otherwise.
"""
import base64
import csv
import glob
import io
import json
import os
import sys

import numpy as np
from PIL import Image, ImageOps

csv.field_size_limit(sys.maxsize)


def harness_open(data_or_path, exif_transpose=False):
    image = Image.open(data_or_path if isinstance(data_or_path, str) else io.BytesIO(data_or_path))
    if exif_transpose:
        image = ImageOps.exif_transpose(image)
    return image


def clipped_fraction(image):
    array = np.asarray(image.convert("RGB"))
    return float((array == 255).mean())


def main(folder):
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    fmt = manifest["format"]
    pixels = manifest["parameters"].get("pixels", "original")
    problems = []
    checked = 0

    def check(name, image, width, height):
        nonlocal checked
        checked += 1
        if image.size != (width, height):
            problems.append(f"{name}: decoded {image.size[0]}x{image.size[1]}, the row says {width}x{height}")
        # jsonl with the stored files is lossless on purpose: 16-bit stays 16-bit.
        fraction = 0.0 if (fmt == "jsonl" and pixels != "model") else clipped_fraction(image)
        if fraction > 0.05:
            problems.append(f"{name}: convert('RGB') clips {fraction:.0%} of the samples to 255 (mode {image.mode})")

    if fmt == "hf":
        # ImageFolder metadata: metadata.parquet beside the images (metadata.jsonl with --images none).
        for metadata in sorted(glob.glob(os.path.join(folder, "data", "*", "metadata.*"))):
            base = os.path.dirname(metadata)
            if metadata.endswith(".parquet"):
                import pyarrow.parquet as pq

                rows = pq.read_table(metadata).to_pylist()
            else:
                rows = [json.loads(line) for line in open(metadata)]
            for row in rows:
                if row.get("file_name"):
                    check(row["file_name"], harness_open(os.path.join(base, row["file_name"])), row["width"], row["height"])
    elif fmt == "vlmevalkit":
        for tsv in sorted(glob.glob(os.path.join(folder, "*.tsv"))):
            rows = list(csv.DictReader(open(tsv, newline=""), delimiter="\t"))
            images = {row["index"]: row.get("image") for row in rows}
            for row in rows:
                value = row.get("image")
                if value is None:
                    continue
                if len(value) <= 64:
                    value = images[value]
                image = harness_open(base64.b64decode(value)).convert("RGB")
                check(f"{os.path.basename(tsv)} row {row['index']}", image, int(row["width"]), int(row["height"]))
    elif fmt == "coco":
        for document in sorted(glob.glob(os.path.join(folder, "annotations", "*.json"))):
            for entry in json.load(open(document))["images"]:
                path = os.path.join(folder, "images", entry["file_name"])
                if os.path.exists(path):
                    check(entry["file_name"], harness_open(path).convert("RGB"), entry["width"], entry["height"])
    elif fmt == "jsonl":
        for split in sorted(glob.glob(os.path.join(folder, "*.jsonl"))):
            if os.path.basename(split) == "labels.jsonl":
                continue
            for line in open(split):
                row = json.loads(line)
                if row.get("image"):
                    image = harness_open(os.path.join(folder, row["image"]), exif_transpose=pixels != "model")
                    check(row["image"], image, row["width"], row["height"])
    elif fmt == "vgmed":
        # Rows name images by VGMED's conventions (<split>/VGMED_<type>.jsonl and
        # <split>/without_box/<type>.jsonl); each row has the size the model sees, the frame of
        # its [x0, y0, x1, y1] boxes, which must lie inside the decoded image.
        for split in sorted(glob.glob(os.path.join(folder, "**", "*.jsonl"), recursive=True)):
            for line in open(split):
                row = json.loads(line)
                reference = row["image"]
                if isinstance(reference, int):
                    path = os.path.join(folder, "val2014", "COCO_val2014_%012d.jpg" % reference)
                elif "/" in reference:
                    path = os.path.join(folder, reference)
                else:
                    path = os.path.join(folder, "imgs", reference, "source.jpg")
                if not os.path.exists(path):
                    continue
                image = harness_open(path).convert("RGB")
                check(f"{os.path.relpath(split, folder)} {reference}", image, row["width"], row["height"])
                for box in row.get("bbox") or []:
                    if min(box[0], box[1]) < 0 or box[2] > image.size[0] or box[3] > image.size[1] or box[0] >= box[2] or box[1] >= box[3]:
                        problems.append(f"{reference}: box {box} is not an [x0, y0, x1, y1] box inside the decoded {image.size}")
    else:
        problems.append(f"unknown format {fmt}")

    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"{fmt} (--pixels {pixels}): {checked} image(s) decoded as the harness does, sizes agree with the rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
