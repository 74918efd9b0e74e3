"""Finding a model folder's family and loading it, offline."""

from __future__ import annotations

import hashlib
import json
import os

import torch
import transformers

from .errors import KitError
from .families import adapter_for_architecture, family_of


def read_config(folder: str) -> tuple[dict, bytes]:
    path = os.path.join(folder, "config.json")
    try:
        with open(path, "rb") as f:
            raw = f.read()
        config = json.loads(raw)
    except FileNotFoundError:
        raise KitError(f"{path}: not found ({folder} is not a Hugging Face model folder)") from None
    except (OSError, ValueError) as e:
        raise KitError(f"{path}: {e}") from None
    if not isinstance(config, dict):
        raise KitError(f"{path}: not a JSON object")
    return config, raw


def model_identity(folder: str) -> dict:
    """The family (refused by name when unsupported) and the SHA-256 of config.json."""
    config, raw = read_config(folder)
    architecture, family = family_of(config, os.path.join(folder, "config.json"))
    return {"architecture": architecture, "family": family, "config_sha256": hashlib.sha256(raw).hexdigest()}


DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def load_model(folder: str, device: str = "cpu", dtype: str = "float32", attn_implementation: str = "sdpa"):
    """Loads the model and its processor from `folder` (no network) and wraps them in the family's
    adapter. Returns (adapter, info) with info recorded in submission.json."""
    identity = model_identity(folder)
    adapter_class = adapter_for_architecture(identity["architecture"])
    if device == "cuda" and not torch.cuda.is_available():
        raise KitError("--device cuda: torch sees no CUDA device")
    if device == "mps" and not torch.backends.mps.is_available():
        raise KitError("--device mps: torch sees no MPS device")
    try:
        processor = adapter_class.load_processor(folder)
        model_class = getattr(transformers, identity["architecture"])
        model = model_class.from_pretrained(folder, dtype=DTYPES[dtype], attn_implementation=attn_implementation,
                                            local_files_only=True)
    except (OSError, ValueError, ImportError) as e:
        raise KitError(f"{folder}: cannot load the model: {e}") from None
    model.to(device)
    model.eval()
    adapter = adapter_class(model, processor)
    return adapter, describe(adapter, dtype)


def describe(adapter, dtype: str) -> dict:
    text = adapter.text_config()
    return {
        "layers": len(adapter.language_layers()),
        "heads": int(text.num_attention_heads),
        "preprocessing": adapter.preprocessing(),
        "attn_implementation": text._attn_implementation,
        "dtype": dtype,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
