"""The image-token count equals the grid the preprocessing descriptor predicts, for images of
several sizes and aspect ratios (Qwen's grid follows the image), and the descriptor is what
`groundwork score` accepts."""

import pytest
from PIL import Image

from conftest import FAMILIES
from groundwork_kit.loading import load_model

SIZES = [(56, 56), (100, 60), (60, 100), (333, 97), (97, 333), (512, 512), (31, 400), (800, 200), (29, 29)]


@pytest.mark.parametrize("family", FAMILIES)
def test_token_count_matches_descriptor(model_folders, family):
    adapter, info = load_model(model_folders[family])
    pre = info["preprocessing"]
    grids = set()
    for width, height in SIZES:
        image = Image.new("RGB", (width, height), (90, 30, 200))
        prepared = adapter.prepare([image], ["How many?"])
        rows, cols = prepared.grids[0]
        ids = prepared.inputs["input_ids"][0]
        assert int((ids == adapter.image_token_id()).sum()) == rows * cols
        grids.add((rows, cols))
        if pre["kind"] == "smart_resize":
            # The processor's own patch grid, merged.
            t, h, w = prepared.inputs["image_grid_thw"][0].tolist()
            assert (t, h // pre["merge_size"], w // pre["merge_size"]) == (1, rows, cols)
        else:
            side = pre["input_size"] // (pre["patch_size"] * pre["merge_size"])
            assert (rows, cols) == (side, side)
    if pre["kind"] == "smart_resize":
        assert len(grids) > 3  # the grid follows the image


def test_descriptors(model_folders):
    kinds = {f: load_model(model_folders[f])[1]["preprocessing"] for f in FAMILIES}
    assert kinds["llava"] == {"kind": "center_crop", "input_size": 56, "patch_size": 14, "merge_size": 1}
    assert kinds["llava_pad"]["kind"] == "pad_to_square" and kinds["llava_pad"]["input_size"] == 56
    assert kinds["qwen2_vl"] == {"kind": "smart_resize", "patch_size": 14, "merge_size": 2,
                                 "min_pixels": 3136, "max_pixels": 12544}
    assert kinds["gemma3"] == {"kind": "resize", "input_size": 112, "patch_size": 14, "merge_size": 2}
