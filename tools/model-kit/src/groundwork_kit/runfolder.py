"""The output folder of a run: resumable, shardable, never half-written.

Layout of `--out RUN`:

- `kit-run.json`: the settings that decide the outputs (model, family, prompts, dtype, ...). A
  re-run with other settings is refused by name; with the same settings it resumes.
- `maps-<first>-<end>.safetensors` (attention) or `parts/features-<first>-<end>.npz` (probe): one
  chunk of the release's items at positions first ..< end (release order, as `groundwork score`
  counts them), written to a hidden `.partial` file and published by one rename, so a kill leaves
  no half-written chunk. A re-run skips the positions chunks already hold.
- `parts/answers-<first>-<end>.jsonl`: that chunk's answers, published before its maps.
- At the end, when every position of the release is done (one run, or the last of N shards in one
  folder), `answers.jsonl` and `submission.json` are written (also atomically).

`--shard K/N` (K from 0, as `groundwork score --shard`) takes positions K*T//N ..< (K+1)*T//N.
"""

from __future__ import annotations

import json
import os
import re

from .errors import KitError

RUN_FILE = "kit-run.json"
CHUNK_RE = re.compile(r"^(?:maps|features|answers)-(\d+)-(\d+)\.(?:safetensors|npz|jsonl)$")


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text or "")
    if not match:
        raise KitError(f"--shard {text!r}: expected K/N with 0 <= K < N (K counted from 0, as groundwork score)")
    k, n = int(match.group(1)), int(match.group(2))
    if n < 1 or k >= n:
        raise KitError(f"--shard {text}: expected K/N with 0 <= K < N (K counted from 0, as groundwork score)")
    return k, n


def shard_range(shard: tuple[int, int], total: int) -> range:
    k, n = shard
    return range(k * total // n, (k + 1) * total // n)


def canonical(value) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_atomic(path: str, data: bytes) -> None:
    folder, name = os.path.split(path)
    partial = os.path.join(folder, "." + name + ".partial")
    with open(partial, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, path)


class RunFolder:
    """One run's output folder (see the module doc)."""

    def __init__(self, path: str, settings: dict, kind: str):
        self.path = path
        self.kind = kind
        self.parts = os.path.join(path, "parts")
        self.settings = settings

    def open(self) -> list[str]:
        """Creates the folder or checks it is this run's; returns notes to print."""
        notes: list[str] = []
        run_file = os.path.join(self.path, RUN_FILE)
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise KitError(f"--out {self.path}: exists and is not a folder")
        if os.path.isdir(self.path) and os.listdir(self.path):
            if not os.path.isfile(run_file):
                raise KitError(
                    f"--out {self.path}: the folder is not empty and holds no {RUN_FILE}, so it is not a "
                    "groundwork-kit run: choose another folder (nothing was changed)")
            try:
                with open(run_file, "rb") as f:
                    recorded = json.loads(f.read())
            except (OSError, ValueError) as e:
                raise KitError(f"{run_file}: {e}") from None
            if not isinstance(recorded, dict) or recorded.get("kind") != self.kind:
                raise KitError(f"{run_file}: the folder holds a run of another kind "
                               f"({recorded.get('kind') if isinstance(recorded, dict) else '?'}), not {self.kind}")
            differing = sorted(k for k in set(recorded) | set(self.settings)
                               if recorded.get(k) != self.settings.get(k))
            if differing:
                shown = "; ".join(f"{k}: {recorded.get(k)!r} there, {self.settings.get(k)!r} now" for k in differing)
                raise KitError(f"--out {self.path}: the run there was made with other settings ({shown}): "
                               "use the same settings to resume, or another --out")
            for name in os.listdir(self.path) + (os.listdir(self.parts) if os.path.isdir(self.parts) else []):
                if name.startswith(".") and name.endswith(".partial"):
                    for folder in (self.path, self.parts):
                        leftover = os.path.join(folder, name)
                        if os.path.isfile(leftover):
                            os.remove(leftover)
                            notes.append(f"removed {leftover}, left by a killed run")
            done = len(self.done_positions())
            if done:
                notes.append(f"resuming: {done} question(s) already done in {self.path}")
        else:
            os.makedirs(self.path, exist_ok=True)
            write_atomic(run_file, canonical(self.settings))
        os.makedirs(self.parts, exist_ok=True)
        return notes

    def chunk_files(self) -> list[tuple[int, int, str]]:
        """The published chunks that hold this run's results: (first, end, path)."""
        found = []
        folder = self.path if self.kind == "attention" else self.parts
        prefix = "maps-" if self.kind == "attention" else "features-"
        for name in sorted(os.listdir(folder)):
            match = CHUNK_RE.match(name)
            if match and name.startswith(prefix):
                found.append((int(match.group(1)), int(match.group(2)), os.path.join(folder, name)))
        return found

    def done_positions(self) -> set[int]:
        done: set[int] = set()
        for first, end, _ in self.chunk_files():
            done.update(range(first, end))
        return done

    @staticmethod
    def plan(positions: range, done: set[int], chunk: int) -> list[range]:
        """The chunks still to do within `positions`: maximal runs of positions not done, cut every
        `chunk` positions from the run's start (so a killed run resumes with the same chunks)."""
        chunks: list[range] = []
        start = None
        for p in list(positions) + [None]:
            if p is not None and p not in done:
                if start is None:
                    start = p
                continue
            if start is not None:
                end = p if p is not None else positions.stop
                for first in range(start, end, chunk):
                    chunks.append(range(first, min(first + chunk, end)))
                start = None
        return chunks

    def name(self, prefix: str, chunk: range, extension: str, width: int) -> str:
        return f"{prefix}-{chunk.start:0{width}d}-{chunk.stop:0{width}d}.{extension}"
