"""Tiny models of each family, built in memory from their real transformers classes and configs
(random weights), with a byte-level tokenizer carrying the family's special tokens and chat
template, and the family's real (PIL) image processor; saved to a folder as a model release is.

Used by the tests and by bench.py (which asks for bigger sizes).
"""

from __future__ import annotations

import os

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast



def byte_vocab() -> dict[str, int]:
    # ByteLevel's printable mapping of the 256 bytes (GPT-2's bytes_to_unicode).
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): i for i, c in enumerate(cs)}


def make_tokenizer(specials: list[str], chat_template: str, **named) -> PreTrainedTokenizerFast:
    vocab = byte_vocab()
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, **named)
    fast.add_special_tokens({"additional_special_tokens": specials})
    fast.chat_template = chat_template
    return fast


LLAVA_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'user' %}USER: "
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}<image>\n{% endif %}{% endfor %}"
    "{% for c in message['content'] %}{% if c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}"
    "{% else %} ASSISTANT: {% for c in message['content'] %}{{ c['text'] }}{% endfor %}</s>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %} ASSISTANT:{% endif %}")

QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for c in message['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<start_of_turn>"
    "{% if message['role'] == 'assistant' %}model{% else %}{{ message['role'] }}{% endif %}\n"
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}<start_of_image>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")


def text_sizes(size: str) -> dict:
    if size == "tiny":
        return dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=8)
    # bench: a mid-size model (about 0.1 B parameters in the language model)
    return dict(hidden_size=768, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12,
                num_key_value_heads=4, head_dim=64)


def vision_sizes(size: str) -> dict:
    if size == "tiny":
        return dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2)
    return dict(hidden_size=256, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4)


def build_llava(folder: str, size: str = "tiny", crop: int = 56, pad: bool = False, seed: int = 0):
    torch.manual_seed(seed)
    specials = ["<image>"]
    tok = make_tokenizer(specials, LLAVA_TEMPLATE, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tok.add_special_tokens({"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>"})
    image_token_id = tok.convert_tokens_to_ids("<image>")
    t = text_sizes(size)
    text = transformers.LlamaConfig(vocab_size=len(tok), max_position_embeddings=8192,
                                    bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                                    pad_token_id=tok.pad_token_id, **t)
    vision = transformers.CLIPVisionConfig(image_size=crop, patch_size=14, projection_dim=32, **vision_sizes(size))
    config = transformers.LlavaConfig(vision_config=vision, text_config=text, image_token_id=image_token_id,
                                      vision_feature_layer=-2, vision_feature_select_strategy="default",
                                      projector_hidden_act="gelu")
    model = transformers.LlavaForConditionalGeneration(config).eval()
    if pad:
        image_processor = transformers.LlavaImageProcessorPil(size={"shortest_edge": crop},
                                                              crop_size={"height": crop, "width": crop}, do_pad=True)
    else:
        image_processor = transformers.CLIPImageProcessorPil(size={"shortest_edge": crop},
                                                             crop_size={"height": crop, "width": crop})
    processor = transformers.LlavaProcessor(image_processor=image_processor, tokenizer=tok, patch_size=14,
                                            vision_feature_select_strategy="default", num_additional_image_tokens=1,
                                            chat_template=LLAVA_TEMPLATE)
    save(folder, model, processor)
    return folder


def build_qwen2_vl(folder: str, size: str = "tiny", version: str = "2", max_pixels: int = 28 * 28 * 16, seed: int = 0):
    torch.manual_seed(seed)
    specials = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
    tok = make_tokenizer(specials, QWEN_TEMPLATE, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    ids = {s: tok.convert_tokens_to_ids(s) for s in specials}
    t = text_sizes(size)
    head_dim = t["head_dim"]
    section = [head_dim // 4, head_dim // 8, head_dim // 8] if size == "tiny" else [16, 8, 8]
    v = vision_sizes(size)
    common = dict(image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                  vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    text = dict(vocab_size=len(tok), max_position_embeddings=8192, eos_token_id=tok.eos_token_id,
                bos_token_id=None, pad_token_id=tok.pad_token_id, rope_parameters={"rope_type": "default", "mrope_section": section,
                                                                 "rope_theta": 10000.0}, **t)
    if version == "2":
        vision = dict(depth=v["num_hidden_layers"], embed_dim=v["hidden_size"], hidden_size=t["hidden_size"],
                      num_heads=v["num_attention_heads"], mlp_ratio=2, patch_size=14, spatial_merge_size=2,
                      temporal_patch_size=2)
        config = transformers.Qwen2VLConfig(text_config=text, vision_config=vision, **common)
        model = transformers.Qwen2VLForConditionalGeneration(config).eval()
    elif version == "3":
        text["rope_parameters"]["mrope_interleaved"] = True
        vision = dict(depth=v["num_hidden_layers"], hidden_size=v["hidden_size"], out_hidden_size=t["hidden_size"],
                      intermediate_size=v["intermediate_size"], num_heads=v["num_attention_heads"], patch_size=16,
                      spatial_merge_size=2, temporal_patch_size=2, num_position_embeddings=64,
                      deepstack_visual_indexes=[0])
        config = transformers.Qwen3VLConfig(text_config=text, vision_config=vision, **common)
        model = transformers.Qwen3VLForConditionalGeneration(config).eval()
    else:
        vision = dict(depth=v["num_hidden_layers"], hidden_size=v["hidden_size"], out_hidden_size=t["hidden_size"],
                      intermediate_size=v["intermediate_size"], num_heads=v["num_attention_heads"], patch_size=14,
                      spatial_merge_size=2, temporal_patch_size=2, fullatt_block_indexes=[v["num_hidden_layers"] - 1],
                      window_size=56)
        config = transformers.Qwen2_5_VLConfig(text_config=text, vision_config=vision, **common)
        model = transformers.Qwen2_5_VLForConditionalGeneration(config).eval()
    if version == "3":  # 16-pixel patches: the same number of tokens as 14-pixel ones at these bounds
        image_processor = transformers.Qwen2VLImageProcessorPil(patch_size=16, merge_size=2, min_pixels=32 * 32,
                                                                max_pixels=max_pixels * 32 * 32 // (28 * 28))
    else:
        image_processor = transformers.Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=max_pixels)
    # As Qwen's releases ship them: preprocessor_config.json, the tokenizer, chat_template.jinja (the
    # shipped processor class also wants a video processor, which needs torchvision).
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder)
    image_processor.save_pretrained(folder)
    tok.save_pretrained(folder)
    with open(os.path.join(folder, "chat_template.jinja"), "w") as f:
        f.write(QWEN_TEMPLATE)
    return folder


def build_gemma3(folder: str, size: str = "tiny", image_size: int = 112, tokens_per_side: int = 4, seed: int = 0):
    torch.manual_seed(seed)
    specials = ["<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>", "<image_soft_token>"]
    tok = make_tokenizer(specials, GEMMA_TEMPLATE, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                         extra_special_tokens={"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>",
                                               "image_token": "<image_soft_token>"})
    tok.add_special_tokens({"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>"})
    ids = {s: tok.convert_tokens_to_ids(s) for s in specials}
    t = text_sizes(size)
    text = transformers.Gemma3TextConfig(vocab_size=len(tok), max_position_embeddings=8192,
                                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                                         pad_token_id=tok.pad_token_id, sliding_window=512,
                                         query_pre_attn_scalar=t["head_dim"], **t)
    vision = transformers.SiglipVisionConfig(image_size=image_size, patch_size=14, **vision_sizes(size))
    config = transformers.Gemma3Config(text_config=text, vision_config=vision,
                                       mm_tokens_per_image=tokens_per_side ** 2,
                                       boi_token_index=ids["<start_of_image>"], eoi_token_index=ids["<end_of_image>"],
                                       image_token_index=ids["<image_soft_token>"])
    model = transformers.Gemma3ForConditionalGeneration(config).eval()
    # A fresh Gemma 3 projector starts at zeros (every image token alike): randomise it.
    with torch.no_grad():
        for p in model.model.multi_modal_projector.parameters():
            p.normal_(0, 0.5)
    image_processor = transformers.Gemma3ImageProcessorPil(size={"height": image_size, "width": image_size})
    processor = transformers.Gemma3Processor(image_processor=image_processor, tokenizer=tok,
                                             image_seq_length=tokens_per_side ** 2, chat_template=GEMMA_TEMPLATE)
    save(folder, model, processor)
    return folder


def save(folder: str, model, processor) -> None:
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)


BUILDERS = {"llava": build_llava, "qwen2_vl": build_qwen2_vl, "gemma3": build_gemma3}
