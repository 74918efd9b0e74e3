"""The last query row of every language-model layer's attention, without seq x seq matrices.

Hugging Face attention modules compute their queries and keys (projection, rotary embedding),
then hand them to the attention function of the model's implementation (`sdpa`,
`flash_attention_2`, ...) looked up by name in `ALL_ATTENTION_FUNCTIONS`. While a `RowCapture` is
active, that entry is wrapped: for the language model's attention modules, and only while armed
(the prompt's forward pass), the wrapper computes

    p = softmax(scaling * q_last . K^T  [softcap]  [+ mask row])

in float32 from the very query and key tensors the implementation receives (rotary embedding
applied, grouped-query heads mapped to their key head as `repeat_kv` does, the module's scaling,
logit soft-capping, and the mask's last row or the sliding window), keeps the columns of the image
tokens, and then calls the real implementation unchanged. Memory is layers x heads x image
tokens; the model itself keeps running with SDPA or flash attention.
"""

from __future__ import annotations

import contextlib

import torch
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS


def last_row(query: torch.Tensor, key: torch.Tensor, attention_mask, scaling, softcap=None,
             sliding_window=None) -> torch.Tensor:
    """Attention probabilities of the last query over all keys: [batch, heads, keys], float32.

    query [b, h, q, d]; key [b, kv, k, d] with h a multiple of kv (head i reads key head i // (h/kv)).
    """
    b, h, _, d = query.shape
    kv = key.shape[1]
    rep = h // kv
    q = query[:, :, -1, :].float().reshape(b, kv, rep, d)
    k = key.float()
    scores = torch.einsum("bgrd,bgsd->bgrs", q, k).reshape(b, h, -1)
    scores = scores * (scaling if scaling is not None else d ** -0.5)
    if softcap is not None:
        scores = torch.tanh(scores / softcap) * softcap
    keys = scores.shape[-1]
    if attention_mask is not None:
        if attention_mask.dim() == 2:
            # A padding mask [batch, keys] (1 = a real token), as flash attention receives it.
            row = attention_mask[:, None, :keys].bool()
        else:
            row = attention_mask[..., -1, :keys]
            if row.dim() == 2:
                row = row[:, None, :]
        if row.dtype == torch.bool:
            scores = scores.masked_fill(~row, float("-inf"))
        else:
            scores = scores + row.float()
    elif sliding_window is not None and keys > sliding_window:
        # No mask handed over: causal, and the last query (position keys-1) sees keys > keys-1-window.
        scores[..., : keys - sliding_window] = float("-inf")
    return torch.softmax(scores, dim=-1)


class RowCapture:
    """Captures, per armed forward pass, the last row over given key positions for every layer.

    `modules` are the language model's attention modules in layer order. Arm with the image-token
    positions of each batch row (a [batch, n] long tensor); after the pass `rows` holds one
    [batch, heads, n] float32 tensor per layer (on the CPU) and the capture disarms itself.
    """

    def __init__(self, modules: list[torch.nn.Module], implementation: str):
        if implementation == "eager":
            raise ValueError("row capture needs a non-eager attention implementation (sdpa, flash_attention_2, ...)")
        self.index = {id(m): i for i, m in enumerate(modules)}
        self.layers = len(modules)
        self.implementation = implementation
        self.positions: torch.Tensor | None = None
        self.rows: list[torch.Tensor | None] = []
        self.armed = False

    def arm(self, positions: torch.Tensor) -> None:
        self.positions = positions
        self.rows = [None] * self.layers
        self.armed = True

    def take(self) -> torch.Tensor:
        """[layers, batch, heads, n] of the last armed pass."""
        if self.armed or any(r is None for r in self.rows):
            missing = [i for i, r in enumerate(self.rows) if r is None]
            raise RuntimeError(f"attention capture saw no call for layer(s) {missing}: the model's attention "
                               "modules did not go through the attention interface")
        return torch.stack(self.rows)

    @contextlib.contextmanager
    def active(self):
        original = ALL_ATTENTION_FUNCTIONS[self.implementation]
        had_local = self.implementation in ALL_ATTENTION_FUNCTIONS._local_mapping
        capture = self

        def wrapper(module, query, key, value, attention_mask, *args, **kwargs):
            layer = capture.index.get(id(module))
            if capture.armed and layer is not None and capture.rows[layer] is None:
                probs = last_row(query, key, attention_mask, kwargs.get("scaling"), kwargs.get("softcap"),
                                 kwargs.get("sliding_window"))
                index = capture.positions.to(probs.device)[:, None, :].expand(-1, probs.shape[1], -1)
                capture.rows[layer] = torch.gather(probs, 2, index).cpu()
                if all(r is not None for r in capture.rows):
                    capture.armed = False
            return original(module, query, key, value, attention_mask, *args, **kwargs)

        ALL_ATTENTION_FUNCTIONS[self.implementation] = wrapper
        try:
            yield self
        finally:
            if had_local:
                ALL_ATTENTION_FUNCTIONS[self.implementation] = original
            else:
                del ALL_ATTENTION_FUNCTIONS[self.implementation]
