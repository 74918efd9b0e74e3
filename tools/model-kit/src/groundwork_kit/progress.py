"""A progress bar with rate and ETA on standard error (tqdm), or nothing."""

from __future__ import annotations

import sys

from tqdm import tqdm


class Progress:
    def __init__(self, total: int, unit: str, enabled: bool = True):
        self.bar = tqdm(total=total, unit=" " + unit, file=sys.stderr, dynamic_ncols=True,
                        disable=not enabled, smoothing=0.1)

    def advance(self, n: int) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()
