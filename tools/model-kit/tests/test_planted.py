"""Planted attention: weights set so that the prompt's last token attends to the image token of one
known patch of pixels; the captured map must peak at that cell in the grid orientation
`groundwork score` uses (row 0 at the top, [rows, cols]). Catches transposed, flipped and
off-by-one grids, through the real processor, vision tower and connector.

Set-up: the vision tower cannot mix tokens (attention outputs and position embeddings zeroed), so
black patches give identical image tokens and the white one an outlier; layer 0's key of head 0
reads that outlier's direction and its query is constant on the slowest rotary pair (so rotary
embedding barely matters). Which token is the outlier is found from the features, never assumed.
"""

import pytest
import torch
from PIL import Image

from groundwork_kit.attention import AttentionJob
from groundwork_kit.loading import load_model

# family: (image size, (row, col) to plant, cell side in image pixels); the sizes are ones the
# family's preprocessing keeps as they are, and the grids are not square where it can be.
CASES = {
    "llava": ((56, 56), (1, 3), 14),
    "llava_pad": ((56, 56), (3, 0), 14),
    "qwen2_vl": ((112, 84), (2, 1), 28),  # 3 rows x 4 cols
    "qwen2_5_vl": ((84, 112), (3, 2), 28),  # 4 rows x 3 cols
    "qwen3_vl": ((128, 96), (1, 3), 32),  # 3 rows x 4 cols of 32-pixel cells
    "gemma3": ((112, 112), (3, 1), 28),
}


def neutralise_vision(model):
    with torch.no_grad():
        for name, module in model.model.named_modules():
            if not (name.startswith("vision_tower") or name.startswith("visual")):
                continue
            if name.endswith("out_proj") or name.endswith("attn.proj"):
                module.weight.zero_()
                if module.bias is not None:
                    module.bias.zero_()
            if name.endswith("position_embedding") or name.endswith("pos_embed"):
                module.weight.zero_()


def plant(adapter, prepared, job):
    model = adapter.model
    layer = adapter.language_layers()[0]
    attn = layer.self_attn
    seen = {}
    hook = layer.input_layernorm.register_forward_hook(lambda m, i, o: seen.setdefault("x", o.detach().clone()))
    with torch.inference_mode():
        model(**job.to_device(prepared.inputs), use_cache=False)
    hook.remove()
    x = seen["x"][0].float()
    image = x[prepared.positions[0]]
    median = image.median(dim=0).values
    outlier = int((image - median).norm(dim=1).argmax())
    others = torch.cat([image[:outlier], image[outlier + 1:]])
    assert (others - others[0]).abs().max() < 1e-4, "black patches should give identical tokens"
    x_b, x_p, x_last = others[0], image[outlier], x[-1]
    head_dim = attn.head_dim
    slow = head_dim // 2 - 1  # the rotary pair with the lowest frequency: dims slow, slow + head_dim/2
    normed = hasattr(attn, "q_norm")  # Gemma 3 and Qwen3 normalise q and k per head
    q_value, k_value = (1e-4, 1e-4) if normed else (10.0, 50.0 / (attn.scaling * 10.0))
    perp = x_p - (x_p @ x_b) / (x_b @ x_b) * x_b
    with torch.no_grad():
        for proj, rows in ((attn.q_proj, range(0, head_dim)), (attn.k_proj, range(0, head_dim))):
            proj.weight[list(rows)] = 0
            if proj.bias is not None:
                proj.bias[list(rows)] = 0
        attn.q_proj.weight[slow] = q_value * x_last / (x_last @ x_last)
        attn.k_proj.weight[slow] = k_value * perp / (perp @ x_p)
        if normed:
            # Tiny values stay in the norm's linear range (eps dominates), and the query's scale
            # comes back through q_norm's weight (Gemma's norm scales by 1 + weight, Qwen3's by weight).
            offset = 1.0 if "Gemma" in type(attn.q_norm).__name__ else 0.0
            attn.q_norm.weight.fill_(1.0 - offset)
            attn.k_norm.weight.fill_(1.0 - offset)
            attn.q_norm.weight[slow] = 1e4 - offset
    return outlier


@pytest.mark.parametrize("family", list(CASES))
def test_planted_peak(model_folders, family):
    (width, height), (row, col), side = CASES[family]
    adapter, _ = load_model(model_folders[family])
    neutralise_vision(adapter.model)
    pixels = torch.zeros(height, width, 3, dtype=torch.uint8)
    pixels[row * side:(row + 1) * side, col * side:(col + 1) * side] = 255
    image = Image.fromarray(pixels.numpy())
    job = AttentionJob(adapter, heads="all")
    prepared = adapter.prepare([image], ["Where is the lesion?"])
    rows, cols = prepared.grids[0]
    assert (rows, cols) == (height // side, width // side)
    plant(adapter, prepared, job)
    maps = job.maps(prepared)[0]  # [layers, heads, rows, cols]
    head0 = maps[0, 0]
    peak = divmod(int(head0.argmax()), cols)
    assert peak == (row, col), f"peak at {peak}, planted at {(row, col)}"
    # A clear peak, not a tie: at least 20 times any other image cell.
    others = torch.cat([head0.flatten()[: row * cols + col], head0.flatten()[row * cols + col + 1:]])
    assert head0[row, col] > 20 * others.max()
