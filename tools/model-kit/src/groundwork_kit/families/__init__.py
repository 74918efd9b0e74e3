"""Model families, detected from config.json's `architectures`."""

from __future__ import annotations

from ..errors import KitError

FAMILIES = {
    "LlavaForConditionalGeneration": "llava",
    "Qwen2VLForConditionalGeneration": "qwen2_vl",
    "Qwen2_5_VLForConditionalGeneration": "qwen2_5_vl",
    "Qwen3VLForConditionalGeneration": "qwen3_vl",
    "Gemma3ForConditionalGeneration": "gemma3",
}


def supported() -> dict[str, str]:
    """The architectures this installation supports (Qwen3-VL only when transformers has it)."""
    import transformers

    return {a: f for a, f in FAMILIES.items() if hasattr(transformers, a)}


def family_of(config: dict, where: str) -> tuple[str, str]:
    architectures = config.get("architectures")
    if not isinstance(architectures, list) or not architectures:
        raise KitError(f"{where}: no \"architectures\" list, so the model family cannot be told "
                       f"(supported: {', '.join(sorted(supported()))})")
    known = supported()
    for architecture in architectures:
        if architecture in known:
            return architecture, known[architecture]
    extra = ""
    if any(a in FAMILIES for a in architectures):
        extra = " (the installed transformers does not have it)"
    raise KitError(f"{where}: model architecture {', '.join(map(str, architectures))} is not a supported family{extra}; "
                   f"supported: {', '.join(sorted(known))}")


def adapter_for_architecture(architecture: str):
    family = FAMILIES[architecture]
    if family == "llava":
        from .llava import LlavaAdapter
        return LlavaAdapter
    if family == "gemma3":
        from .gemma3 import Gemma3Adapter
        return Gemma3Adapter
    from .qwen import QwenAdapter
    return QwenAdapter
