"""`groundwork-kit`: the command line."""

from __future__ import annotations

import argparse
import sys

from .errors import KitError

SHARD_HELP = ("K/N: do only the K-th of N contiguous shares of the release's questions, K counted from 0 "
              "(0/4 ... 3/4), positions K*T//N ..< (K+1)*T//N in release order, as `groundwork score --shard`. "
              "Shards may write into one folder (or be copied into one); the run that completes the release "
              "writes submission.json and answers.jsonl")


def common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("release", help="an exported release folder (groundwork export VERSION --format jsonl)")
    parser.add_argument("--model", required=True, help="the model folder (config.json, weights, processor files)")
    parser.add_argument("--out", required=True, help="the run folder: created, or resumed when it holds this run")
    parser.add_argument("--device", choices=["cpu", "cuda", "mps"], default="cpu", help="default: cpu")
    parser.add_argument("--dtype", choices=["bfloat16", "float16", "float32"], default="float32",
                        help="the model's dtype (default float32); the capture computes in float32")
    parser.add_argument("--attn-implementation", choices=["sdpa", "flash_attention_2"], default="sdpa",
                        help="how the model runs attention (default sdpa); maps are captured either way")
    parser.add_argument("--batch-size", type=positive, default=1, help="questions per forward pass (default 1)")
    parser.add_argument("--chunk-size", type=positive, default=16,
                        help="questions per published file: the unit a kill can lose (default 16)")
    parser.add_argument("--shard", default="0/1", help=SHARD_HELP)
    parser.add_argument("--name", help="the model's name in the results (default: the model folder's name)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groundwork-kit",
        description="Attention maps, answers and layer features out of vision-language models "
                    "(LLaVA, Qwen2-VL/2.5-VL/3-VL, Gemma 3), for groundwork score and probe-health.")
    sub = parser.add_subparsers(dest="command", required=True)
    attention = sub.add_parser(
        "attention", help="attention maps and answers: a submission for groundwork score",
        description="For every question: the attention of the prompt's last token (the last token of the "
                    "chat-templated prompt, whose output predicts the first answer token) over the image "
                    "tokens, per layer and head, for the question and for the baseline prompt; and the "
                    "model's greedy answer. Writes submission.json, maps-*.safetensors and answers.jsonl.")
    common(attention)
    attention.add_argument("--heads", choices=["all", "mean"], default="all",
                           help="all: [layers, heads, rows, cols]; mean: heads averaged, [layers, rows, cols]")
    attention.add_argument("--max-new-tokens", type=positive, default=32, help="answer length bound (default 32)")
    attention.add_argument("--map-dtype", choices=["float32", "float16"], default="float32",
                           help="dtype of the stored maps (default float32; float16 halves the files)")
    attention.add_argument("--baseline-prompt", default="Write a general description of the image.",
                           help="the generic prompt of the baseline maps (default: the VGMED study's)")
    attention.add_argument("--no-baseline", action="store_true", help="no baseline maps")
    probe = sub.add_parser(
        "probe", help="layer features and linear probes: curves.csv for groundwork probe-health",
        description="Mean-pools the hidden states of every layer of the vision encoder, the connector and "
                    "the language model (over its image tokens) for the release's classification items "
                    "(or, without any, its images with labels), trains a logistic-regression probe per "
                    "layer on the train part and scores it on the test part.")
    common(probe)
    probe.add_argument("--train-split", default="train", help="the part probes are trained on (default train)")
    probe.add_argument("--test-split", default="test", help="the part probes are scored on (default test)")
    probe.add_argument("--seed", type=int, default=0, help="the probes' seed (default 0)")
    probe.add_argument("--dataset", help="the dataset column of curves.csv (default: the release's version)")
    probe.add_argument("--prompt", default="Describe the image.", help="the text beside the image")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "attention":
            from .attention import run_attention
            run_attention(args)
        else:
            from .probe import run_probe
            run_probe(args)
    except KitError as e:
        print(f"groundwork-kit: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("groundwork-kit: interrupted; finished chunks are kept, re-run the same command to resume",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
