"""Reading an exported release folder (`groundwork export VERSION --format jsonl --out DIR`).

The folder holds `manifest.json` (release version, root hash, the file list) and one
`<split>.jsonl` per part (schemas/export-jsonl-item.schema.json). Items are taken in the order
`groundwork score` takes them: split files sorted by name, lines in file order. That order defines
the positions `--shard K/N` divides.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from .errors import KitError


@dataclass
class Item:
    """One question of the release, as far as the kit needs it."""

    id: str
    split: str
    image: str | None
    image_sha256: str
    width: int
    height: int
    modality: str | None
    question: str
    answer: str
    answer_type: str
    options: list[str] | None
    correct_option: int | None
    question_type: str
    label: str | None
    groundable: bool
    has_regions: bool
    where: str = field(default="", compare=False)


@dataclass
class Release:
    path: str
    version: str
    root_hash: str
    split_files: list[str]
    items: list[Item]

    def image_path(self, item: Item) -> str:
        if item.image is None:
            raise KitError(
                f"{item.where}: question {item.id} has no image in the export (exported with --images none, "
                f"or its source is restricted; image_sha256 {item.image_sha256}): export the release with images")
        return os.path.join(self.path, item.image)

    def check_images(self, positions) -> None:
        """Every image of these items is there (before any model is loaded); all missing ones are named."""
        missing = []
        for p in positions:
            item = self.items[p]
            path = self.image_path(item)
            if not os.path.isfile(path):
                missing.append(f"{item.where}: question {item.id}: image {path} is missing")
        if missing:
            raise KitError(f"{len(missing)} image(s) missing:\n  " + "\n  ".join(missing))


REQUIRED = {
    "id": str, "split": str, "image_sha256": str, "width": int, "height": int, "question": str,
    "answer": str, "answer_type": str, "question_type": str, "groundable": bool,
}


def open_release(path: str) -> Release:
    """Opens a jsonl release folder; every malformed line is reported at once (file:line: problem)."""
    manifest_path = os.path.join(path, "manifest.json")
    try:
        with open(manifest_path, "rb") as f:
            manifest = json.loads(f.read())
    except FileNotFoundError:
        raise KitError(f"{manifest_path}: not found ({path} is not an exported release folder)") from None
    except (OSError, ValueError) as e:
        raise KitError(f"{manifest_path}: {e}") from None
    if not isinstance(manifest, dict):
        raise KitError(f"{manifest_path}: not a JSON object")
    version = (manifest.get("release") or {}).get("version") if isinstance(manifest.get("release"), dict) else None
    root_hash = manifest.get("root_hash")
    if not isinstance(version, str) or not version:
        raise KitError(f"{manifest_path}: /release/version is missing")
    if not isinstance(root_hash, str) or len(root_hash) != 64:
        raise KitError(f"{manifest_path}: /root_hash is missing or not 64 hex digits")
    if manifest.get("format", "jsonl") != "jsonl":
        raise KitError(f"{manifest_path}: the release was exported as {manifest.get('format')}: "
                       "export it with --format jsonl")
    files = manifest.get("files")
    if not isinstance(files, list):
        raise KitError(f"{manifest_path}: /files is missing")
    splits = sorted(
        e["path"] for e in files
        if isinstance(e, dict) and isinstance(e.get("path"), str) and e["path"].endswith(".jsonl")
        and "/" not in e["path"] and e["path"] != "labels.jsonl")
    items: list[Item] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for name in splits:
        file_path = os.path.join(path, name)
        try:
            with open(file_path, "rb") as f:
                lines = f.read().split(b"\n")
        except OSError as e:
            problems.append(f"{file_path}: {e}")
            continue
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            where = f"{name}:{number}"
            try:
                row = json.loads(raw)
            except ValueError as e:
                problems.append(f"{where}: not JSON ({e})")
                continue
            if not isinstance(row, dict):
                problems.append(f"{where}: not a JSON object")
                continue
            bad = [k for k, t in REQUIRED.items() if not isinstance(row.get(k), t) or (t is int and isinstance(row.get(k), bool))]
            if bad:
                problems.append(f"{where}: missing or mistyped {', '.join('/' + k for k in bad)}")
                continue
            if row["width"] < 1 or row["height"] < 1:
                problems.append(f"{where}: /width and /height must be positive")
                continue
            if row["id"] in seen:
                problems.append(f"{where}: question id {row['id']} also at {seen[row['id']]}")
                continue
            seen[row["id"]] = where
            image = row.get("image")
            options = row.get("options")
            items.append(Item(
                id=row["id"], split=row["split"], image=image if isinstance(image, str) else None,
                image_sha256=row["image_sha256"], width=row["width"], height=row["height"],
                modality=row.get("modality"), question=row["question"], answer=row["answer"],
                answer_type=row["answer_type"], options=options if isinstance(options, list) else None,
                correct_option=row.get("correct_option") if isinstance(row.get("correct_option"), int) else None,
                question_type=row["question_type"], label=row.get("label"), groundable=row["groundable"],
                has_regions=bool(row.get("regions")), where=where))
    if problems:
        raise KitError(f"{path}: {len(problems)} problem(s) in the release:\n  " + "\n  ".join(problems))
    return Release(path=path, version=version, root_hash=root_hash, split_files=splits, items=items)


def load_image(release: Release, item: Item) -> Image.Image:
    """The image as displayed (EXIF orientation applied, as `PIL.ImageOps.exif_transpose`), in RGB.

    16-bit images (a jsonl export keeps the stored file) go to 8-bit through the export's own
    window for `--pixels model`: the 0.5th-99.5th percentile of the samples, rounded and clipped.
    The size must be the row's width x height (the frame of the regions), else it is an error.
    """
    path = release.image_path(item)
    try:
        with Image.open(path) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except FileNotFoundError:
        raise KitError(f"{item.where}: question {item.id}: image {path} is missing") from None
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise KitError(f"{item.where}: question {item.id}: cannot read image {path}: {e}") from None
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        samples = np.asarray(image, dtype=np.float64)
        low, high = np.percentile(samples, [0.5, 99.5])
        if high <= low:
            scaled = np.zeros_like(samples)
        else:
            scaled = np.round((samples - low) * 255.0 / (high - low))
        image = Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), mode="L")
    image = image.convert("RGB")
    if image.size != (item.width, item.height):
        raise KitError(
            f"{item.where}: question {item.id}: image {path} is {image.size[0]}x{image.size[1]} as displayed, "
            f"the release says {item.width}x{item.height}")
    return image
