"""The captured last rows equal eager attention (output_attentions=True) at the same positions."""

import pytest
import torch
from PIL import Image

from conftest import FAMILIES
from groundwork_kit.attention import AttentionJob
from groundwork_kit.loading import load_model

SIZES = [(100, 60), (45, 90)]


def images(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [Image.fromarray((torch.rand(h, w, 3, generator=g) * 255).to(torch.uint8).numpy()) for w, h in SIZES]


@pytest.mark.parametrize("family", FAMILIES)
def test_capture_equals_eager(model_folders, family):
    folder = model_folders[family]
    adapter, info = load_model(folder, attn_implementation="sdpa")
    assert info["attn_implementation"] == "sdpa"
    eager, _ = load_model(folder, attn_implementation="eager")
    job = AttentionJob(adapter, heads="all")
    for batch in ([images()[0]], images(1)):  # one image, then a padded batch of two
        prepared = adapter.prepare(batch, ["Is there a liver lesion?", "Where?"][: len(batch)])
        maps = job.maps(prepared)
        with torch.inference_mode():
            out = eager.model(**job.to_device(prepared.inputs), output_attentions=True, use_cache=False)
        assert len(out.attentions) == info["layers"] and len(maps) == len(batch)
        for b, (rows, cols) in enumerate(prepared.grids):
            positions = prepared.positions[b, : rows * cols]
            reference = torch.stack([a[b, :, -1, positions] for a in out.attentions])  # [layers, heads, n]
            got = maps[b].reshape(info["layers"], info["heads"], rows * cols)
            assert got.shape == reference.shape
            torch.testing.assert_close(got, reference.float(), atol=1e-5, rtol=0)
            assert reference.sum() > 0


def test_capture_leaves_attention_interface_as_it_was(model_folders):
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

    adapter, _ = load_model(model_folders["llava"])
    before = ALL_ATTENTION_FUNCTIONS["sdpa"]
    job = AttentionJob(adapter)
    job.maps(adapter.prepare([images()[0]], ["q"]))
    assert ALL_ATTENTION_FUNCTIONS["sdpa"] is before
    assert "sdpa" not in ALL_ATTENTION_FUNCTIONS._local_mapping
