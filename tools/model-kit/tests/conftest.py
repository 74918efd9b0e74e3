import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))
import tiny  # noqa: E402

FAMILIES = ["llava", "llava_pad", "qwen2_vl", "qwen2_5_vl", "qwen3_vl", "gemma3"]


def build(name: str, folder: str) -> str:
    if name == "llava_pad":
        return tiny.build_llava(folder, pad=True)
    if name == "qwen2_5_vl":
        return tiny.build_qwen2_vl(folder, version="2.5")
    if name == "qwen3_vl":
        return tiny.build_qwen2_vl(folder, version="3")
    return tiny.BUILDERS[name](folder)


@pytest.fixture(scope="session")
def model_folders(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("models")
    return {name: build(name, str(root / name)) for name in FAMILIES}
