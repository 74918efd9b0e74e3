#!/usr/bin/env python3
"""Independent oracle for GroundworkGeometry's COCO mask code (tests only, never the product).

    geometry-crosscheck.py REQUEST.json RESPONSE.json

The Swift tests (Tests/GroundworkGeometryTests/CrossCheckTests.swift) write REQUEST.json with
masks, polygons, mask pairs and compressed strings, run this script with GROUNDWORK_PYTHON (a
python with pycocotools and numpy), and compare its answers to their own:

  masks[i]    {"height", "width", "bits"}   bits: row-major "0"/"1" string
      -> {"counts"        (numpy: column-major runs, starting with zeros),
          "compressed"    (pycocotools encode),
          "area", "bbox"  (pycocotools area / toBbox),
          "roundtrip"     (bits of pycocotools decode(frString(compressed)))}
  polygons[i] {"height", "width", "rings": [[x, y, ...], ...]}
      -> {"compressed", "area", "bits"}     (pycocotools frPyObjects + merge, i.e. COCO's
                                             annToRLE for a polygon segmentation)
  pairs[i]    [a, b]  indices into masks (same size)
      -> {"iou" (iscrowd=0), "union", "intersection"}   (pycocotools iou / merge)
  strings[i]  {"height", "width", "counts"}  a compressed string written by Swift
      -> {"bits", "area", "bbox"}           (pycocotools decode / area / toBbox)
"""

import json
import sys
from importlib import metadata

import numpy as np
from pycocotools import mask as mask_utils


def to_array(height, width, bits):
    flat = np.frombuffer(bits.encode("ascii"), dtype=np.uint8) - ord("0")
    return np.asfortranarray(flat.reshape(height, width).astype(np.uint8))


def to_bits(array):
    return "".join("1" if v else "0" for v in np.ascontiguousarray(array).reshape(-1))


def column_major_runs(array):
    """COCO runs computed with numpy, independently of pycocotools."""
    flat = array.reshape(-1, order="F").astype(np.int8)
    if flat.size == 0:
        return [0]
    changes = np.flatnonzero(np.diff(flat)) + 1
    edges = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(edges).tolist()
    if flat[0] == 1:
        runs = [0] + runs
    return [int(r) for r in runs]


def rle_from(height, width, compressed):
    return {"size": [height, width], "counts": compressed.encode("ascii")}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: geometry-crosscheck.py REQUEST.json RESPONSE.json")
    with open(sys.argv[1], encoding="utf-8") as handle:
        request = json.load(handle)

    masks_out = []
    encoded = []
    for item in request.get("masks", []):
        height, width = item["height"], item["width"]
        array = to_array(height, width, item["bits"])
        rle = mask_utils.encode(array)
        encoded.append(rle)
        compressed = rle["counts"].decode("ascii")
        decoded = mask_utils.decode(rle_from(height, width, compressed))
        masks_out.append(
            {
                "counts": column_major_runs(array),
                "compressed": compressed,
                "area": int(mask_utils.area(rle)),
                "bbox": [float(v) for v in mask_utils.toBbox(rle)],
                "roundtrip": to_bits(decoded),
            }
        )

    polygons_out = []
    for item in request.get("polygons", []):
        height, width = item["height"], item["width"]
        rles = mask_utils.frPyObjects(item["rings"], height, width)
        rle = mask_utils.merge(rles)
        polygons_out.append(
            {
                "compressed": rle["counts"].decode("ascii"),
                "area": int(mask_utils.area(rle)),
                "bits": to_bits(mask_utils.decode(rle)),
            }
        )

    pairs_out = []
    for a, b in request.get("pairs", []):
        first, second = encoded[a], encoded[b]
        iou = mask_utils.iou([first], [second], [0])
        pairs_out.append(
            {
                "iou": float(np.asarray(iou).reshape(-1)[0]),
                "union": mask_utils.merge([first, second], intersect=False)["counts"].decode("ascii"),
                "intersection": mask_utils.merge([first, second], intersect=True)["counts"].decode("ascii"),
            }
        )

    strings_out = []
    for item in request.get("strings", []):
        rle = rle_from(item["height"], item["width"], item["counts"])
        strings_out.append(
            {
                "bits": to_bits(mask_utils.decode(rle)),
                "area": int(mask_utils.area(rle)),
                "bbox": [float(v) for v in mask_utils.toBbox(rle)],
            }
        )

    response = {
        "numpy": np.__version__,
        "pycocotools": metadata.version("pycocotools"),
        "masks": masks_out,
        "polygons": polygons_out,
        "pairs": pairs_out,
        "strings": strings_out,
    }
    with open(sys.argv[2], "w", encoding="utf-8") as handle:
        json.dump(response, handle)


if __name__ == "__main__":
    main()
