"""The one interface every model family's adapter implements."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import KitError


@dataclass
class Prepared:
    """A batch ready for the model: its inputs, and per row the image-token positions and grid."""

    inputs: dict
    positions: torch.Tensor  # [batch, n] long: positions of the image tokens, in grid order
    grids: list[tuple[int, int]]  # per row: (rows, cols) of the token grid


class Adapter:
    """A model family: how to prompt it with an image, where its image tokens are, their grid, and
    the preprocessing descriptor `groundwork score` needs (schemas/attention-submission.schema.json).

    Subclasses set `family` and `architectures` and implement the methods below.
    """

    family = ""
    architectures: tuple[str, ...] = ()

    def __init__(self, model, processor):
        self.model = model
        self.processor = processor
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is not None:
            tokenizer.padding_side = "left"  # batches generate from one common last position
        self.check_processor()

    # The family's facts -------------------------------------------------------------------

    def check_processor(self) -> None:
        """Refuses, by name, processor settings the kit does not understand."""

    def preprocessing(self) -> dict:
        """The submission's `preprocessing` object, derived from the processor in use."""
        raise NotImplementedError

    def expected_grid(self, width: int, height: int) -> tuple[int, int]:
        """(rows, cols) of the token grid the descriptor predicts for a width x height image."""
        raise NotImplementedError

    def image_token_id(self) -> int:
        return int(self.model.config.image_token_id)

    def language_attention_modules(self) -> list[torch.nn.Module]:
        """The language model's self-attention modules, in layer order."""
        return [layer.self_attn for layer in self.language_layers()]

    def language_layers(self) -> list[torch.nn.Module]:
        return list(self.model.model.language_model.layers)

    def vision_layers(self) -> list[torch.nn.Module]:
        raise NotImplementedError

    def connector(self) -> torch.nn.Module:
        raise NotImplementedError

    def text_config(self):
        return self.model.config.text_config

    # Prompting ----------------------------------------------------------------------------

    def messages(self, text: str) -> list[dict]:
        return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]

    def prompt(self, text: str) -> str:
        return self.processor.apply_chat_template(self.messages(text), add_generation_prompt=True, tokenize=False)

    def processor_call(self, images, prompts) -> dict:
        return dict(self.processor(images=images, text=prompts, return_tensors="pt", padding=True))

    def prepare(self, images, texts: list[str]) -> Prepared:
        """Tokenises one prompt per image (left padding), finds each row's image tokens and checks
        their count against the grid the descriptor predicts."""
        prompts = [self.prompt(t) for t in texts]
        inputs = self.processor_call(images, prompts)
        ids = inputs["input_ids"]
        token = self.image_token_id()
        grids = [self.expected_grid(*image.size) for image in images]
        rows = []
        for b in range(ids.shape[0]):
            where = (ids[b] == token).nonzero().flatten()
            rows_, cols = grids[b]
            if where.numel() != rows_ * cols:
                raise KitError(
                    f"{self.family}: {where.numel()} image tokens for a {image_size(images[b])} image, but the "
                    f"preprocessing descriptor predicts a {rows_}x{cols} grid: the processor does something "
                    "the kit does not model")
            if where.numel() and int(where[-1] - where[0]) + 1 != where.numel():
                raise KitError(f"{self.family}: the image tokens are not one contiguous run")
            rows.append(where)
        if len({r.numel() for r in rows}) > 1:
            width = max(r.numel() for r in rows)
            # Rows of different grids (Qwen): pad the index with the last position; callers cut
            # each row back to its own grid.
            rows = [torch.cat([r, r[-1:].expand(width - r.numel())]) for r in rows]
        return Prepared(inputs=inputs, positions=torch.stack(rows), grids=grids)

    def forward_kwargs(self, inputs: dict) -> dict:
        return inputs


def image_size(image) -> str:
    return f"{image.size[0]}x{image.size[1]}"


def need(condition: bool, family: str, message: str) -> None:
    if not condition:
        raise KitError(f"{family}: the processor's {message}: the kit does not model this setting")
