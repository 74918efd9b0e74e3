"""LLaVA (`LlavaForConditionalGeneration`: LLaVA-1.5, the Hugging Face ports of LLaVA-Med).

The image tokens are the vision tower's patches without CLS (`vision_feature_select_strategy`
"default"), (crop / patch)^2 of them, row-major. The descriptor follows the image processor:
`do_pad` (the original LLaVA repository's expand2square) then resize and crop to a square is
`pad_to_square`; resize of the shortest edge then a centre crop of the same size (the llava-hf
processors, CLIP's) is `center_crop`; a resize to height x width without crop is `resize`.
"""

from __future__ import annotations

import transformers

from .base import Adapter, need


def size_get(size, key):
    if size is None:
        return None
    if isinstance(size, dict):
        return size.get(key)
    return getattr(size, key, None)


class LlavaAdapter(Adapter):
    family = "llava"
    architectures = ("LlavaForConditionalGeneration",)

    @staticmethod
    def load_processor(folder: str):
        return transformers.AutoProcessor.from_pretrained(folder, local_files_only=True)

    def check_processor(self) -> None:
        config = self.model.config
        p = self.processor
        need(config.vision_feature_select_strategy == "default", self.family,
             f"model's vision_feature_select_strategy is {config.vision_feature_select_strategy!r} (only \"default\", "
             "CLS dropped, is understood: with \"full\" the CLS token is no grid cell)")
        need(getattr(p, "vision_feature_select_strategy", "default") in (None, "default"), self.family,
             f"vision_feature_select_strategy is {p.vision_feature_select_strategy!r}, not \"default\"")
        need(getattr(p, "num_additional_image_tokens", 0) == 1, self.family,
             f"num_additional_image_tokens is {getattr(p, 'num_additional_image_tokens', None)!r}; the CLIP tower adds "
             "one (CLS), so it must be 1 or the token counts disagree")
        layer = config.vision_feature_layer
        need(isinstance(layer, int), self.family, f"vision_feature_layer is {layer!r} (one layer expected)")
        patch = config.vision_config.patch_size
        need(getattr(p, "patch_size", patch) == patch, self.family,
             f"patch_size {p.patch_size} differs from the vision tower's {patch}")
        self.input_size, self.kind = self._geometry()

    def _geometry(self) -> tuple[int, str]:
        ip = self.processor.image_processor
        size, crop = ip.size, getattr(ip, "crop_size", None)
        do_crop = bool(getattr(ip, "do_center_crop", False))
        do_pad = bool(getattr(ip, "do_pad", False))
        need(bool(getattr(ip, "do_resize", True)), self.family, "do_resize is false")
        short = size_get(size, "shortest_edge")
        height, width = size_get(size, "height"), size_get(size, "width")
        crop_side = size_get(crop, "height") if do_crop else None
        if do_crop:
            need(size_get(crop, "height") == size_get(crop, "width"), self.family,
                 f"crop_size {crop} is not square")
        if short is not None:
            need(not do_crop or crop_side == short, self.family,
                 f"shortest_edge {short} differs from crop_size {crop_side} (cropping a resized band is not modelled)")
            need(do_crop or do_pad, self.family, "size has shortest_edge but there is no crop (input not square)")
            side = short
        else:
            need(height is not None and height == width, self.family, f"size {size} is not a square")
            need(not do_crop or crop_side == height, self.family, f"size {size} differs from crop_size {crop}")
            side = height
        vision = self.model.config.vision_config.image_size
        need(side == vision, self.family, f"input size {side} differs from the vision tower's image_size {vision}")
        patch = self.model.config.vision_config.patch_size
        need(side % patch == 0, self.family, f"input size {side} is not a multiple of patch_size {patch}")
        if do_pad:
            return side, "pad_to_square"
        if short is not None:
            return side, "center_crop"
        return side, "resize"

    def preprocessing(self) -> dict:
        descriptor = {"kind": self.kind, "input_size": self.input_size,
                      "patch_size": self.model.config.vision_config.patch_size, "merge_size": 1}
        if self.kind == "pad_to_square":
            mean = self.processor.image_processor.image_mean
            descriptor["fill"] = [int(x * 255) for x in mean] if mean else 0
        return descriptor

    def expected_grid(self, width: int, height: int) -> tuple[int, int]:
        side = self.input_size // self.model.config.vision_config.patch_size
        return side, side

    def vision_layers(self):
        tower = self.model.model.vision_tower
        return list(getattr(tower, "vision_model", tower).encoder.layers)

    def connector(self):
        return self.model.model.multi_modal_projector
