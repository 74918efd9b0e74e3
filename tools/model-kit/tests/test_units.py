"""Answer normalisation, shard arithmetic, chunk planning, release reading."""

import json

import pytest
from PIL import Image

from groundwork_kit.answers import normalize_answer, normalize_text
from groundwork_kit.errors import KitError
from groundwork_kit.release import load_image, open_release
from groundwork_kit.runfolder import RunFolder, parse_shard, shard_range


@pytest.mark.parametrize("answer,expected", [
    ("Yes.", "yes"), ("  \"No\" ", "no"), ("yes, there is a lesion", "yes"), ("No lesion is seen", "no"),
    ("Absent", "no"), ("present.", "yes"), ("Maybe", None), ("", None), ("The answer is yes", None),
])
def test_closed(answer, expected):
    assert normalize_answer(answer, "closed", None) == expected


OPTIONS = ["Liver", "Spleen", "Left kidney"]


@pytest.mark.parametrize("answer,expected", [
    ("B", "B"), ("(c)", "C"), ("B) spleen", "B"), ("b.", "B"), ("Option C", "C"), ("spleen", "B"),
    ("It is the left kidney.", "C"), ("D", None), ("liver or spleen", None), ("", None),
])
def test_choice(answer, expected):
    assert normalize_answer(answer, "choice", OPTIONS) == expected


def test_open_and_text():
    assert normalize_answer("The liver.", "open", None) is None
    assert normalize_text('  "Left   Kidney!" ') == "left kidney"


def test_shards_count_from_zero_like_score():
    assert parse_shard("0/4") == (0, 4) and parse_shard("3/4") == (3, 4)
    for bad in ("4/4", "1/0", "-1/2", "1", "a/b"):
        with pytest.raises(KitError):
            parse_shard(bad)
    ranges = [shard_range((k, 3), 16) for k in range(3)]
    assert [(r.start, r.stop) for r in ranges] == [(0, 5), (5, 10), (10, 16)]


def test_plan_skips_done_positions_and_keeps_chunk_boundaries():
    assert RunFolder.plan(range(0, 10), set(), 4) == [range(0, 4), range(4, 8), range(8, 10)]
    assert RunFolder.plan(range(0, 10), set(range(0, 4)), 4) == [range(4, 8), range(8, 10)]
    assert RunFolder.plan(range(0, 10), {4, 5, 6, 7}, 3) == [range(0, 3), range(3, 4), range(8, 10)]
    assert RunFolder.plan(range(5, 8), set(), 16) == [range(5, 8)]


def write_release(folder, rows, size=(30, 20)):
    (folder / "images").mkdir(parents=True)
    Image.new("RGB", size).save(folder / "images" / "a.png")
    (folder / "manifest.json").write_text(json.dumps(
        {"release": {"version": "1.0.0"}, "root_hash": "0" * 64, "format": "jsonl",
         "files": [{"path": "test.jsonl"}, {"path": "labels.jsonl"}, {"path": "images/a.png"}]}))
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def row(i, **extra):
    base = {"id": str(i), "split": "test", "image": "images/a.png", "image_sha256": "0" * 64, "width": 30,
            "height": 20, "question": "q?", "answer": "yes", "answer_type": "closed", "question_type": "localization",
            "groundable": True, "regions": [], "options": None, "correct_option": None, "label": "Liver"}
    base.update(extra)
    return base


def test_release_reports_every_bad_line(tmp_path):
    write_release(tmp_path, [row(1), row(1), row(2, width="wide"), row(3)])
    with open(tmp_path / "test.jsonl", "a") as f:
        f.write("{not json\n")
    with pytest.raises(KitError) as e:
        open_release(str(tmp_path))
    message = str(e.value)
    assert "test.jsonl:2" in message and "test.jsonl:3" in message and "/width" in message and "test.jsonl:5" in message


def test_image_size_must_match_the_release(tmp_path):
    write_release(tmp_path, [row(1, width=31)])
    release = open_release(str(tmp_path))
    with pytest.raises(KitError, match="30x20 as displayed, the release says 31x20"):
        load_image(release, release.items[0])


def test_sixteen_bit_images_are_windowed(tmp_path):
    write_release(tmp_path, [row(1)])
    import numpy as np
    ramp = (np.arange(600, dtype=np.uint16).reshape(20, 30) * 100)
    Image.fromarray(ramp).save(tmp_path / "images" / "a.png")
    release = open_release(str(tmp_path))
    image = load_image(release, release.items[0])
    pixels = np.asarray(image)
    assert image.mode == "RGB" and pixels.min() == 0 and pixels.max() == 255


def test_a_question_too_long_for_the_model_is_named(model_folders, tmp_path, capsys):
    from groundwork_kit.cli import main

    write_release(tmp_path / "r", [row(1), row(2, question="why " * 3000)])
    status = main(["attention", str(tmp_path / "r"), "--model", model_folders["llava"], "--out", str(tmp_path / "o"),
                   "--chunk-size", "1", "--no-progress", "--max-new-tokens", "2"])
    assert status == 1
    err = capsys.readouterr().err
    assert "test.jsonl:2 (question 2)" in err and "exceed the model's 8192 positions" in err
    # The first question's chunk was published; nothing of the second.
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert [n for n in names if n.startswith("maps-")] == ["maps-000000-000001.safetensors"]


def test_last_row_reads_every_mask_form():
    import torch

    from groundwork_kit.capture import last_row

    torch.manual_seed(0)
    q, k = torch.randn(2, 4, 5, 8), torch.randn(2, 2, 5, 8)  # 4 query heads over 2 key heads
    keep = torch.tensor([[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]])  # row 0 left-padded
    expanded = k.repeat_interleave(2, dim=1)
    scores = (q[:, :, -1:] @ expanded.transpose(-1, -2)).squeeze(2) * 0.3
    reference = torch.softmax(scores.masked_fill(keep[:, None, :] == 0, float("-inf")), dim=-1)
    four_d_bool = keep[:, None, None, :].expand(2, 1, 5, 5).bool()
    four_d_float = torch.zeros(2, 1, 5, 5).masked_fill(~four_d_bool, torch.finfo(torch.float32).min)
    for mask in (keep, four_d_bool, four_d_float):
        torch.testing.assert_close(last_row(q, k, mask, 0.3), reference)
    window = last_row(q, k, None, 0.3, sliding_window=2)
    assert (window[..., :3] == 0).all() and torch.allclose(window.sum(-1), torch.ones(2, 4))
