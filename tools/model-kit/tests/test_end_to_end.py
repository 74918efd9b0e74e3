"""End to end with the real CLI: the demo's release -> groundwork-kit attention -> groundwork score
(exit 0, every groundable question scored, answers read); probe -> probe-health; kill and resume
and sharded runs give byte-identical files; bad input is refused by name with nothing written."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from groundwork_kit.cli import main

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def groundwork_binary() -> str:
    path = os.environ.get("GROUNDWORK_BIN") or os.path.join(REPO, ".build", "debug", "groundwork")
    if not os.path.isfile(path):
        if os.environ.get("GROUNDWORK_BIN"):
            pytest.fail(f"GROUNDWORK_BIN={path} does not exist")
        pytest.skip(f"no groundwork binary at {path} (swift build, or set GROUNDWORK_BIN)")
    return path


def kit(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "groundwork_kit.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="session")
def demo_release(tmp_path_factory):
    binary = groundwork_binary()
    root = tmp_path_factory.mktemp("demo") / "demo"
    subprocess.run([binary, "demo", str(root)], check=True, capture_output=True)
    return str(root / "exports" / "jsonl-1.0.0")


def release_items(release):
    items = []
    for name in sorted(os.listdir(release)):
        if name.endswith(".jsonl") and name != "labels.jsonl":
            with open(os.path.join(release, name)) as f:
                items += [json.loads(line) for line in f if line.strip()]
    return items


def files_of(folder):
    out = {}
    for base, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(base, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


ATTENTION = ["--max-new-tokens", "3", "--chunk-size", "2", "--no-progress"]


@pytest.mark.parametrize("family", ["llava", "qwen2_vl", "gemma3"])
def test_release_to_score(model_folders, demo_release, tmp_path, family):
    binary = groundwork_binary()
    run = tmp_path / "run"
    result = kit("attention", demo_release, "--model", model_folders[family], "--out", str(run), *ATTENTION)
    assert result.returncode == 0, result.stderr
    submission = json.loads((run / "submission.json").read_text())
    assert submission["baseline"] is True and submission["kit"]["attn_implementation"] == "sdpa"
    items = release_items(demo_release)
    answers = [json.loads(line) for line in (run / "answers.jsonl").read_text().splitlines()]
    assert sorted(a["id"] for a in answers) == sorted(i["id"] for i in items)
    scored = subprocess.run([binary, "score", demo_release, "--attention", str(run), "--out", str(tmp_path / "scores"),
                             "--json"], capture_output=True, text=True)
    assert scored.returncode == 0, scored.stderr + scored.stdout
    summary = json.loads((tmp_path / "scores" / "summary.json").read_text())
    groundable = sum(1 for i in items if i["groundable"])
    assert summary["counts"]["scored"] == groundable and summary["counts"]["failed"] == 0
    assert summary["answers"]["answered"] == len(items)


def test_kill_and_resume_and_shards_are_byte_identical(model_folders, demo_release, tmp_path):
    args = ["attention", demo_release, "--model", model_folders["qwen2_vl"], *ATTENTION]
    whole = tmp_path / "whole"
    assert kit(*args, "--out", str(whole)).returncode == 0
    reference = files_of(whole)
    assert sum(1 for name in reference if name.startswith("maps-")) == 8

    killed = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "groundwork_kit.cli", *args, "--out", str(killed)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and not (killed.exists() and any(n.startswith("maps-") for n in os.listdir(killed))):
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = files_of(killed)
    assert "submission.json" not in partial, "the run finished before it was killed"
    assert 1 <= sum(1 for n in partial if n.startswith("maps-")) < 8
    resumed = kit(*args, "--out", str(killed))
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout
    assert files_of(killed) == reference

    sharded = tmp_path / "sharded"
    first = kit(*args, "--out", str(sharded), "--shard", "1/2")
    assert first.returncode == 0 and "not yet" in first.stdout
    assert not (sharded / "submission.json").exists()
    assert kit(*args, "--out", str(sharded), "--shard", "0/2").returncode == 0
    assert files_of(sharded) == reference


def make_classification_release(folder, per_class=(6, 3)):
    """A two-class release in the jsonl export layout: bright vs dark images, classification items."""
    os.makedirs(os.path.join(folder, "images"))
    rng = np.random.default_rng(0)
    lines = {"train": [], "test": []}
    n = 0
    for split, count in zip(("train", "test"), per_class):
        for label, level in (("Cyst", 200), ("Polyp", 40)):
            for _ in range(count):
                n += 1
                pixels = np.clip(rng.normal(level, 25, (64, 80, 3)), 0, 255).astype(np.uint8)
                image = Image.fromarray(pixels)
                path = os.path.join(folder, "images", f"{n}.png")
                image.save(path)
                sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
                lines[split].append({
                    "id": str(n), "split": split, "image": f"images/{n}.png", "image_sha256": sha, "width": 80,
                    "height": 64, "modality": "US", "body_part": None, "source": "synthetic", "license": "CC0-1.0",
                    "question": "Which of the following best describes this image?", "answer": label,
                    "answer_type": "choice", "options": ["Cyst", "Polyp"], "correct_option": ["Cyst", "Polyp"].index(label),
                    "question_type": "classification", "label": label, "groundable": False, "language": "en",
                    "template_id": "classification", "status": "reviewed", "regions": []})
    files = []
    for split, rows in lines.items():
        with open(os.path.join(folder, f"{split}.jsonl"), "w") as f:
            for row in rows:
                f.write(json.dumps(row, sort_keys=True) + "\n")
        files.append({"path": f"{split}.jsonl"})
    manifest = {"release": {"version": "2.0.0"}, "root_hash": "ab" * 32, "format": "jsonl", "files": files}
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    return folder


@pytest.mark.parametrize("family", ["llava", "qwen2_vl", "gemma3"])
def test_probe_to_probe_health(model_folders, tmp_path, family):
    binary = groundwork_binary()
    release = make_classification_release(str(tmp_path / "release"))
    run = tmp_path / "probe"
    result = kit("probe", release, "--model", model_folders[family], "--out", str(run), "--no-progress",
                 "--chunk-size", "4")
    assert result.returncode == 0, result.stderr
    rows = (run / "curves.csv").read_text().splitlines()
    assert rows[0] == "model,dataset,module,layer,accuracy"
    modules = [r.split(",")[2] for r in rows[1:]]
    assert modules == ["vision"] * 2 + ["connector"] + ["llm"] * 2
    report = json.loads((run / "probes.json").read_text())
    assert report["train"]["count"] == 12 and report["test"]["count"] == 6 and report["classes"] == ["Cyst", "Polyp"]
    health = subprocess.run([binary, "probe-health", str(run / "curves.csv"), "--json"], capture_output=True, text=True)
    assert health.returncode == 0, health.stderr + health.stdout


def test_probe_on_demo_uses_images_with_labels(model_folders, demo_release, tmp_path):
    result = kit("probe", demo_release, "--model", model_folders["llava"], "--out", str(tmp_path / "p"), "--no-progress")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "p" / "probes.json").read_text())
    assert report["examples"] == "images with labels" and report["train"]["count"] == 7


def test_bad_inputs_are_refused_by_name(model_folders, demo_release, tmp_path, capsys):
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    out = tmp_path / "out"
    assert main(["attention", demo_release, "--model", str(bert), "--out", str(out)]) == 1
    assert "BertModel is not a supported family" in capsys.readouterr().err
    assert not out.exists() or not os.listdir(out)

    # A release with an image missing: named, and no chunk written.
    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", demo_release, str(broken)], check=True)
    victim = sorted(os.listdir(broken / "images"))[-1]  # whichever question uses it, nothing is written
    os.remove(broken / "images" / victim)
    out = tmp_path / "out2"
    assert main(["attention", str(broken), "--model", model_folders["llava"], "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert victim in err and "question" in err
    assert not [n for n in os.listdir(out) if n.startswith("maps-")] and not (out / "parts" / "model-info.json").exists()

    # Not a run folder: refused, untouched.
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    assert main(["attention", demo_release, "--model", model_folders["llava"], "--out", str(stranger)]) == 1
    assert "not a groundwork-kit run" in capsys.readouterr().err
    assert os.listdir(stranger) == ["notes.txt"]

    # Resuming with other settings: refused by name.
    run = tmp_path / "run"
    assert main(["attention", demo_release, "--model", model_folders["llava"], "--out", str(run), "--shard", "0/8",
                 "--max-new-tokens", "2", "--no-progress"]) == 0
    assert main(["attention", demo_release, "--model", model_folders["llava"], "--out", str(run), "--shard", "1/8",
                 "--max-new-tokens", "3", "--no-progress"]) == 1
    assert "max_new_tokens" in capsys.readouterr().err

    assert main(["attention", demo_release, "--model", model_folders["llava"], "--out", str(run), "--shard", "8/8"]) == 1
    assert "K counted from 0" in capsys.readouterr().err
