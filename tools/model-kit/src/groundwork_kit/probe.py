"""`groundwork-kit probe`: layer features and linear probes ("Lost in the Hype"), curves.csv.

Examples: the release's classification items (question_type "classification" with a label: the
class is the label), in release order; a release without any uses its images with labels instead:
one example per distinct (image, label) where a question names the label and the image shows it
(the question has target regions, or a closed question answered "yes").

Features, per example (the image with the prompt "Describe the image." through the model's chat
template, batch of one): the mean over tokens of the output of every vision encoder layer, of the
connector (projector / patch merger), and of every language-model decoder layer over the image
tokens. Probes: per module and layer, standardisation then logistic regression
(scikit-learn, lbfgs, C=1, max_iter=2000, random_state=--seed) trained on the train part, accuracy
on the test part; test examples of a class never seen in training are left out (counted).
"""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import torch
from safetensors.numpy import load_file as load_safetensors
from safetensors.numpy import save as save_safetensors

from .answers import normalize_text
from .errors import KitError
from .loading import load_model, model_identity
from .progress import Progress
from .release import load_image, open_release
from .runfolder import RunFolder, canonical, parse_shard, shard_range, write_atomic

MODULES = ("vision", "connector", "llm")


def examples_of(release) -> tuple[list[tuple[int, str]], str]:
    """(item position, class) per example, and which rule chose them."""
    found = [(p, item.label) for p, item in enumerate(release.items)
             if item.question_type == "classification" and item.label]
    if found:
        return found, "classification items"
    seen = set()
    for p, item in enumerate(release.items):
        if not item.label:
            continue
        positive = item.has_regions or (item.answer_type == "closed" and normalize_text(item.answer) == "yes")
        key = (item.image_sha256, item.label)
        if positive and key not in seen:
            seen.add(key)
            found.append((p, item.label))
    return found, "images with labels"


def mean_tokens(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().float().reshape(-1, tensor.shape[-1]).mean(dim=0).cpu().numpy()


class FeatureJob:
    def __init__(self, adapter, prompt: str):
        self.adapter = adapter
        self.prompt = prompt
        self.vision = adapter.vision_layers()
        self.llm = adapter.language_layers()
        self.connector = adapter.connector()

    def features(self, image) -> dict[str, np.ndarray]:
        prepared = self.adapter.prepare([image], [self.prompt])
        rows, cols = prepared.grids[0]
        positions = prepared.positions[0, : rows * cols]
        out: dict[str, list] = {"vision": [None] * len(self.vision), "connector": [None],
                                "llm": [None] * len(self.llm)}
        hooks = []

        def keep(module_name, index, select=None):
            def hook(_, __, output):
                tensor = output[0] if isinstance(output, (tuple, list)) else output
                if hasattr(tensor, "last_hidden_state"):
                    tensor = tensor.last_hidden_state
                if select is not None:
                    tensor = tensor[0, select.to(tensor.device)]
                if out[module_name][index] is None:
                    out[module_name][index] = mean_tokens(tensor)
            return hook

        for i, layer in enumerate(self.vision):
            hooks.append(layer.register_forward_hook(keep("vision", i)))
        hooks.append(self.connector.register_forward_hook(keep("connector", 0)))
        for i, layer in enumerate(self.llm):
            hooks.append(layer.register_forward_hook(keep("llm", i, positions)))
        try:
            with torch.inference_mode():
                model = self.adapter.model
                inputs = {k: (v.to(model.device).to(model.dtype) if v.is_floating_point() else v.to(model.device))
                          if isinstance(v, torch.Tensor) else v for k, v in prepared.inputs.items()}
                model(**self.adapter.forward_kwargs(inputs), use_cache=False)
        finally:
            for h in hooks:
                h.remove()
        missing = [f"{m} {i}" for m in MODULES for i, v in enumerate(out[m]) if v is None]
        if missing:
            raise KitError(f"{self.adapter.family}: no output seen for layer(s) {', '.join(missing)}")
        return {m: np.stack(out[m]).astype(np.float32) for m in MODULES}


def run_probe(args) -> None:
    release = open_release(args.release)
    shard = parse_shard(args.shard)
    identity = model_identity(args.model)
    examples, rule = examples_of(release)
    if not examples:
        raise KitError(f"{args.release}: no classification items and no images with labels: nothing to probe")
    name = args.name or os.path.basename(os.path.normpath(args.model))
    settings = {
        "kind": "probe", "model": name, "model_config_sha256": identity["config_sha256"],
        "family": identity["family"], "release": {"version": release.version, "root_hash": release.root_hash},
        "dtype": args.dtype, "prompt": args.prompt, "examples": rule, "chunk_size": args.chunk_size,
    }
    folder = RunFolder(args.out, settings, "probe")
    for note in folder.open():
        print(f"groundwork-kit: {note}")
    total = len(examples)
    width = max(6, len(str(total)))
    todo = RunFolder.plan(shard_range(shard, total), folder.done_positions(), args.chunk_size)
    count = sum(len(c) for c in todo)
    if count:
        release.check_images([examples[e][0] for chunk in todo for e in chunk])
        adapter, info = load_model(args.model, device=args.device, dtype=args.dtype,
                                   attn_implementation=args.attn_implementation)
        write_atomic(os.path.join(folder.parts, "model-info.json"), canonical(info))
        job = FeatureJob(adapter, args.prompt)
        progress = Progress(count, "images", enabled=not args.no_progress)
        for chunk in todo:
            arrays: dict[str, np.ndarray] = {}
            for e in chunk:
                item = release.items[examples[e][0]]
                for module, values in job.features(load_image(release, item)).items():
                    arrays[f"{e}/{module}"] = values
                progress.advance(1)
            write_atomic(os.path.join(folder.parts, folder.name("features", chunk, "safetensors", width)),
                         save_safetensors(arrays, metadata={"positions": f"{chunk.start}-{chunk.stop}"}))
        progress.close()
    done = folder.done_positions()
    if len(done & set(range(total))) < total:
        print(f"groundwork-kit: this share is done; {total - len(done)} of {total} example(s) are not yet in "
              f"{folder.path} (other shards): the run that completes them trains the probes")
        return
    features: dict[str, np.ndarray] = {}
    for _, _, path in folder.chunk_files():
        features.update(load_safetensors(path))
    train_probes(folder, release, examples, features, settings, args, rule)


def train_probes(folder, release, examples, features, settings, args, rule) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    splits = [release.items[p].split for p, _ in examples]
    labels = [label for _, label in examples]
    train = [i for i, s in enumerate(splits) if s == args.train_split]
    train_classes = sorted({labels[i] for i in train})
    test_all = [i for i, s in enumerate(splits) if s == args.test_split]
    test = [i for i in test_all if labels[i] in train_classes]
    unseen = len(test_all) - len(test)
    if len(train_classes) < 2:
        raise KitError(f"{release.path}: the {args.train_split!r} part has {len(train)} example(s) of "
                       f"{len(train_classes)} class(es) ({rule}): a probe needs at least two classes")
    if not test:
        raise KitError(f"{release.path}: the {args.test_split!r} part has no example of a class seen in training "
                       f"({len(test_all)} example(s), {unseen} of unseen classes; {rule})")
    dataset = args.dataset or release.version
    rows = []
    details = []
    for module in MODULES:
        layers = features[f"0/{module}"].shape[0]
        for layer in range(layers):
            x = np.stack([features[f"{i}/{module}"][layer] for i in range(len(examples))]).astype(np.float64)
            probe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000, random_state=args.seed))
            probe.fit(x[train], [labels[i] for i in train])
            predicted = probe.predict(x[test])
            accuracy = float(np.mean([p == labels[i] for p, i in zip(predicted, test)]))
            rows.append([settings["model"], dataset, module, str(layer), f"{accuracy:.6g}"])
            details.append({"module": module, "layer": layer, "accuracy": accuracy})
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["model", "dataset", "module", "layer", "accuracy"])
    writer.writerows(rows)
    write_atomic(os.path.join(folder.path, "curves.csv"), text.getvalue().encode("utf-8"))
    report = {
        "model": settings["model"], "dataset": dataset, "examples": rule, "classes": train_classes,
        "train": {"split": args.train_split, "count": len(train)},
        "test": {"split": args.test_split, "count": len(test), "left_out_unseen_class": unseen},
        "probe": {"kind": "logistic_regression", "standardize": True, "C": 1.0, "solver": "lbfgs",
                  "max_iter": 2000, "seed": args.seed},
        "features": "mean over tokens of each layer's output (language model: over the image tokens)",
        "prompt": args.prompt, "layers": details,
    }
    write_atomic(os.path.join(folder.path, "probes.json"), canonical(report))
    zeros = [f"{d['module']} {d['layer']}" for d in details if d["accuracy"] == 0]
    print(f"groundwork-kit: probes trained on {len(train)} and scored on {len(test)} example(s) ({rule}): "
          f"{folder.path}/curves.csv; next: groundwork probe-health {folder.path}/curves.csv")
    if zeros:
        print(f"groundwork-kit: warning: accuracy 0 at {', '.join(zeros)}: probe-health refuses 0 (its growth "
              "factor takes a logarithm); more test examples are needed")
