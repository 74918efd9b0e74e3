"""Qwen2-VL, Qwen2.5-VL and (when transformers has it) Qwen3-VL: Lingshu, MedVLM-R1 and others.

The image is smart-resized (sides rounded to multiples of patch x merge, area within
min_pixels..max_pixels: the processor's size shortest_edge / longest_edge) and cut into
patch-size patches; `image_grid_thw` counts those patches, and merge x merge of them make one
image token, so the token grid is (h / merge) x (w / merge), row-major, and follows the image. The
vision start/end markers are not grid cells. The processors as shipped also want a video processor,
which needs torchvision: the kit builds an image-only processor from the folder's image processor,
tokenizer and chat template (without torchvision, transformers picks the PIL image processor,
which resamples slightly differently from the torchvision one).
"""

from __future__ import annotations

import json
import os

import transformers

from ..errors import KitError
from .base import Adapter, need
from .llava import size_get


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Qwen2-VL's smart_resize (also what groundwork score's smart_resize descriptor does)."""
    import math

    if max(height, width) / min(height, width) > 200:
        raise KitError(f"smart_resize: aspect ratio of {width}x{height} exceeds 200")
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def image_only(processor_class):
    class ImageOnly(processor_class):
        """The family's processor without its video slot (which needs torchvision)."""

        def check_argument_for_proper_class(self, argument_name, argument):
            if argument_name == "video_processor" and argument is None:
                return None
            return super().check_argument_for_proper_class(argument_name, argument)

    ImageOnly.__name__ = processor_class.__name__
    return ImageOnly


def chat_template(folder: str, tokenizer) -> str | None:
    path = os.path.join(folder, "chat_template.jinja")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return f.read()
    path = os.path.join(folder, "chat_template.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("chat_template")
    return tokenizer.chat_template


class QwenAdapter(Adapter):
    family = "qwen"
    architectures = ("Qwen2VLForConditionalGeneration", "Qwen2_5_VLForConditionalGeneration",
                     "Qwen3VLForConditionalGeneration")

    @staticmethod
    def load_processor(folder: str):
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            architectures = json.load(f).get("architectures") or []
        processor_class = (transformers.Qwen3VLProcessor if "Qwen3VLForConditionalGeneration" in architectures
                           else transformers.Qwen2VLProcessor)
        image_processor = transformers.AutoImageProcessor.from_pretrained(folder, local_files_only=True)
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
        template = chat_template(folder, tokenizer)
        if template is None:
            raise KitError(f"{folder}: no chat template (chat_template.jinja, chat_template.json or the tokenizer's)")
        return image_only(processor_class)(image_processor=image_processor, tokenizer=tokenizer,
                                           video_processor=None, chat_template=template)

    def check_processor(self) -> None:
        self.family = {"qwen2_vl": "qwen2_vl", "qwen2_5_vl": "qwen2_5_vl", "qwen3_vl": "qwen3_vl"}.get(
            self.model.config.model_type, self.model.config.model_type)
        ip = self.processor.image_processor
        vision = self.model.config.vision_config
        need(bool(getattr(ip, "do_resize", True)), self.family, "do_resize is false")
        self.patch = int(ip.patch_size)
        self.merge = int(ip.merge_size)
        need(self.patch == vision.patch_size, self.family,
             f"patch_size {self.patch} differs from the vision tower's {vision.patch_size}")
        need(self.merge == vision.spatial_merge_size, self.family,
             f"merge_size {self.merge} differs from the vision tower's spatial_merge_size {vision.spatial_merge_size}")
        self.min_pixels = size_get(ip.size, "shortest_edge")
        self.max_pixels = size_get(ip.size, "longest_edge")
        need(self.min_pixels is not None and self.max_pixels is not None, self.family,
             f"size {ip.size} has no shortest_edge/longest_edge (min/max pixels)")

    def preprocessing(self) -> dict:
        return {"kind": "smart_resize", "patch_size": self.patch, "merge_size": self.merge,
                "min_pixels": int(self.min_pixels), "max_pixels": int(self.max_pixels)}

    def expected_grid(self, width: int, height: int) -> tuple[int, int]:
        factor = self.patch * self.merge
        h, w = smart_resize(height, width, factor, int(self.min_pixels), int(self.max_pixels))
        return h // factor, w // factor

    def vision_layers(self):
        return list(self.model.model.visual.blocks)

    def connector(self):
        return self.model.model.visual.merger
