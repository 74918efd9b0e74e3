"""`groundwork-kit attention`: maps and answers for every question of a release."""

from __future__ import annotations

import json
import os

import torch
from safetensors.torch import save as save_safetensors

from .answers import normalize_answer
from .capture import RowCapture
from .errors import KitError
from .loading import load_model, model_identity
from .progress import Progress
from .release import load_image, open_release
from .runfolder import RunFolder, canonical, parse_shard, shard_range, write_atomic


def settings_for(args, identity: dict, release) -> dict:
    return {
        "kind": "attention",
        "model": args.name or os.path.basename(os.path.normpath(args.model)),
        "model_config_sha256": identity["config_sha256"],
        "family": identity["family"],
        "release": {"version": release.version, "root_hash": release.root_hash},
        "dtype": args.dtype,
        "heads": args.heads,
        "max_new_tokens": args.max_new_tokens,
        "map_dtype": args.map_dtype,
        "baseline_prompt": None if args.no_baseline else args.baseline_prompt,
        "batch_size": args.batch_size,
        "chunk_size": args.chunk_size,
    }


class AttentionJob:
    """The model, its adapter and the capture, ready to answer batches of questions."""

    def __init__(self, adapter, heads: str = "all", max_new_tokens: int = 32, map_dtype=torch.float32,
                 baseline_prompt: str | None = "Write a general description of the image."):
        self.adapter = adapter
        self.model = adapter.model
        self.heads = heads
        self.max_new_tokens = max_new_tokens
        self.map_dtype = map_dtype
        self.baseline_prompt = baseline_prompt
        implementation = adapter.text_config()._attn_implementation
        self.capture = RowCapture(adapter.language_attention_modules(), implementation)

    def maps(self, prepared) -> list[torch.Tensor]:
        """One forward pass with capture: per row [layers, heads, rows, cols] float32."""
        with torch.inference_mode(), self.capture.active():
            self.capture.arm(prepared.positions)
            self.model(**self.adapter.forward_kwargs(self.to_device(prepared.inputs)), use_cache=False)
            return self.split(self.capture.take(), prepared)

    def answer(self, prepared) -> tuple[list[torch.Tensor], list[str]]:
        """Greedy generation; the maps come from its prompt (prefill) pass."""
        inputs = self.to_device(prepared.inputs)
        with torch.inference_mode(), self.capture.active():
            self.capture.arm(prepared.positions)
            out = self.model.generate(**self.adapter.forward_kwargs(inputs), do_sample=False,
                                      max_new_tokens=self.max_new_tokens, num_beams=1, top_p=None, top_k=None,
                                      temperature=None)
            maps = self.split(self.capture.take(), prepared)
        new = out[:, inputs["input_ids"].shape[1]:]
        tokenizer = getattr(self.adapter.processor, "tokenizer", self.adapter.processor)
        texts = [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
        return maps, texts

    def split(self, rows: torch.Tensor, prepared) -> list[torch.Tensor]:
        out = []
        for b, (r, c) in enumerate(prepared.grids):
            m = rows[:, b, :, : r * c].reshape(rows.shape[0], rows.shape[2], r, c)
            if self.heads == "mean":
                m = m.mean(dim=1)
            out.append(m.to(self.map_dtype).contiguous())
        return out

    def check_length(self, prepared) -> None:
        limit = getattr(self.adapter.text_config(), "max_position_embeddings", None)
        length = prepared.inputs["input_ids"].shape[1] + self.max_new_tokens
        if limit is not None and length > limit:
            raise KitError(f"the prompt ({prepared.inputs['input_ids'].shape[1]} tokens) and {self.max_new_tokens} new "
                           f"tokens exceed the model's {limit} positions")

    def to_device(self, inputs: dict) -> dict:
        device = self.model.device
        dtype = self.model.dtype
        moved = {}
        for k, v in inputs.items():
            if isinstance(v, torch.Tensor):
                v = v.to(device)
                if v.is_floating_point():
                    v = v.to(dtype)
            moved[k] = v
        return moved


def run_attention(args) -> None:
    release = open_release(args.release)
    shard = parse_shard(args.shard)
    identity = model_identity(args.model)
    settings = settings_for(args, identity, release)
    folder = RunFolder(args.out, settings, "attention")
    for note in folder.open():
        print(f"groundwork-kit: {note}")
    total = len(release.items)
    width = max(6, len(str(total)))
    todo = RunFolder.plan(shard_range(shard, total), folder.done_positions(), args.chunk_size)
    count = sum(len(c) for c in todo)
    if count:
        # Check every image of the share before loading the model.
        release.check_images([p for chunk in todo for p in chunk])
        adapter, info = load_model(args.model, device=args.device, dtype=args.dtype,
                                   attn_implementation=args.attn_implementation)
        write_atomic(os.path.join(folder.parts, "model-info.json"), canonical(info))
        job = AttentionJob(adapter, heads=args.heads, max_new_tokens=args.max_new_tokens,
                           map_dtype=torch.float16 if args.map_dtype == "float16" else torch.float32,
                           baseline_prompt=None if args.no_baseline else args.baseline_prompt)
        progress = Progress(count, "questions", enabled=not args.no_progress)
        for chunk in todo:
            tensors: dict[str, torch.Tensor] = {}
            lines: list[bytes] = []
            for start in range(chunk.start, chunk.stop, args.batch_size):
                items = release.items[start: min(start + args.batch_size, chunk.stop)]
                images = [load_image(release, item) for item in items]
                where = ", ".join(f"{item.where} (question {item.id})" for item in items)
                try:
                    prepared = adapter.prepare(images, [item.question for item in items])
                    job.check_length(prepared)
                    maps, texts = job.answer(prepared)
                except KitError as e:
                    raise KitError(f"{where}: {e}") from None
                except (ValueError, RuntimeError, IndexError) as e:
                    raise KitError(f"{where}: the model cannot take this question: {e}") from None
                for item, m, text in zip(items, maps, texts):
                    tensors[item.id] = m
                    normalized = normalize_answer(text, item.answer_type, item.options)
                    lines.append(json.dumps({"id": item.id, "answer": text, "normalized": normalized},
                                            ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
                if job.baseline_prompt is not None:
                    base = job.maps(adapter.prepare(images, [job.baseline_prompt] * len(items)))
                    for item, m in zip(items, base):
                        tensors[item.id + "/baseline"] = m
                progress.advance(len(items))
            write_atomic(os.path.join(folder.parts, folder.name("answers", chunk, "jsonl", width)), b"".join(lines))
            write_atomic(os.path.join(folder.path, folder.name("maps", chunk, "safetensors", width)),
                         save_safetensors(tensors, metadata={"positions": f"{chunk.start}-{chunk.stop}"}))
        progress.close()
    finish(folder, release, settings, identity, width)


def finish(folder: RunFolder, release, settings: dict, identity: dict, width: int) -> None:
    total = len(release.items)
    done = folder.done_positions()
    missing = total - len(done & set(range(total)))
    if missing:
        print(f"groundwork-kit: this share is done; {missing} of {total} question(s) of the release are not yet "
              f"in {folder.path} (other shards): the run that completes it writes submission.json and answers.jsonl")
        return
    # Answers in release order, from the chunks' parts.
    lines: list[bytes] = []
    chunks = sorted(folder.chunk_files())
    for first, end, _ in chunks:
        path = os.path.join(folder.parts, folder.name("answers", range(first, end), "jsonl", width))
        with open(path, "rb") as f:
            lines.append(f.read())
    info_path = os.path.join(folder.parts, "model-info.json")
    try:
        with open(info_path, "rb") as f:
            info = json.loads(f.read())
    except (OSError, ValueError) as e:
        raise KitError(f"{info_path}: cannot read the model's description ({e}): copy it from a shard's folder") from None
    layout = "layers_heads_rows_cols" if settings["heads"] == "all" else "layers_rows_cols"
    submission = {
        "format_version": 1,
        "model": settings["model"],
        "release": settings["release"],
        "layout": layout,
        "layers": info["layers"],
        "heads": info["heads"] if settings["heads"] == "all" else 1,
        "preprocessing": info["preprocessing"],
        "tensors": {"format": "safetensors",
                    "files": [os.path.basename(p) for _, _, p in chunks]},
        "baseline": settings["baseline_prompt"] is not None,
        "kit": {
            "family": identity["family"],
            "architecture": identity["architecture"],
            "model_config_sha256": identity["config_sha256"],
            "attn_implementation": info["attn_implementation"],
            "dtype": settings["dtype"],
            "map_dtype": settings["map_dtype"],
            "torch": info["torch"],
            "transformers": info["transformers"],
            "query": "the last token of the chat-templated prompt (add_generation_prompt=True), whose output "
                     "predicts the first answer token; softmax over all keys, columns of the image tokens",
            "baseline_prompt": settings["baseline_prompt"],
            "max_new_tokens": settings["max_new_tokens"],
            "answers": "greedy",
            "normalization": "groundwork_kit.answers (closed: yes/no; choice: option letter; open: null)",
        },
    }
    write_atomic(os.path.join(folder.path, "answers.jsonl"), b"".join(lines))
    write_atomic(os.path.join(folder.path, "submission.json"), canonical(submission))
    print(f"groundwork-kit: {total} question(s) done: {folder.path}/submission.json, answers.jsonl, "
          f"{len(chunks)} maps file(s); next: groundwork score {release.path} --attention {folder.path} --out RESULTS")
