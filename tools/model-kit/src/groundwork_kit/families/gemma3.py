"""Gemma 3 (`Gemma3ForConditionalGeneration`: MedGemma).

The SigLIP tower sees the image resized to a square (size x size, aspect not kept; pan-and-scan
is refused); its (size / patch)^2 patches are average-pooled by k x k into mm_tokens_per_image
image tokens, row-major: the descriptor is `resize` with merge_size k. The image tokens are
`config.image_token_id` (<image_soft_token>), between the begin/end-of-image markers, which are not
grid cells. `token_type_ids` (from the processor) make the image attend bidirectionally.
"""

from __future__ import annotations

import math

import transformers

from .base import Adapter, need
from .llava import size_get


class Gemma3Adapter(Adapter):
    family = "gemma3"
    architectures = ("Gemma3ForConditionalGeneration",)

    @staticmethod
    def load_processor(folder: str):
        return transformers.AutoProcessor.from_pretrained(folder, local_files_only=True)

    def check_processor(self) -> None:
        ip = self.processor.image_processor
        config = self.model.config
        need(not getattr(ip, "do_pan_and_scan", False), self.family, "do_pan_and_scan is on (crops are not modelled)")
        need(bool(getattr(ip, "do_resize", True)), self.family, "do_resize is false")
        height, width = size_get(ip.size, "height"), size_get(ip.size, "width")
        need(height is not None and height == width, self.family, f"size {ip.size} is not a square")
        self.input_size = height
        patch = config.vision_config.patch_size
        need(height == config.vision_config.image_size, self.family,
             f"size {height} differs from the vision tower's image_size {config.vision_config.image_size}")
        tokens = config.mm_tokens_per_image
        per_side = math.isqrt(tokens)
        need(per_side * per_side == tokens, self.family, f"mm_tokens_per_image {tokens} is not a square")
        patches = height // patch
        need(patches % per_side == 0 and height % patch == 0, self.family,
             f"{patches}x{patches} patches do not pool evenly into {per_side}x{per_side} tokens")
        self.merge = patches // per_side
        self.per_side = per_side
        need(getattr(self.processor, "image_seq_length", tokens) == tokens, self.family,
             f"image_seq_length {self.processor.image_seq_length} differs from mm_tokens_per_image {tokens}")

    def processor_call(self, images, prompts) -> dict:
        # One list of images per prompt; the processor's mm_token_type_ids come back as token_type_ids.
        return dict(self.processor(images=[[image] for image in images], text=prompts, return_tensors="pt",
                                   padding=True))

    def preprocessing(self) -> dict:
        return {"kind": "resize", "input_size": self.input_size, "patch_size": self.model.config.vision_config.patch_size,
                "merge_size": self.merge}

    def expected_grid(self, width: int, height: int) -> tuple[int, int]:
        return self.per_side, self.per_side

    def vision_layers(self):
        tower = self.model.model.vision_tower
        return list(getattr(tower, "vision_model", tower).encoder.layers)

    def connector(self):
        return self.model.model.multi_modal_projector
