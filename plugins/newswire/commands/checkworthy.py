"""``newswire checkworthy FILE``: score sentences for check-worthiness, one per line.

Prints one JSON object per input line, in order: ``{"text", "score", "checkworthy"}``.
``score`` is the model's P(check-worthy) in [0, 1]; ``checkworthy`` compares it with
the threshold stored with the model (or ``--threshold``). ``-`` reads stdin.
Imports the model lazily, so ``newswire --help`` stays fast; never imports Airflow or torch.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers) -> None:
    """Add the ``checkworthy`` sub-command to the ``newswire`` parser."""
    parser = subparsers.add_parser(
        "checkworthy",
        help="score sentences (one per line) for check-worthiness",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("file", metavar="FILE", help="text file, one sentence per line ('-' for stdin)")
    parser.add_argument("--threshold", type=float, default=None, help="override the model's threshold")
    parser.add_argument("--model-dir", default=None, help="model folder (default: the packaged model)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from newswire.claims import ClaimExtractor

    if args.file == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            with open(args.file, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError) as err:
            print(f"newswire checkworthy: cannot read {args.file}: {err}", file=sys.stderr)
            return 2
    extractor = ClaimExtractor(args.model_dir, threshold=args.threshold, threads=args.threads, prefilter=False)
    scores = extractor.score(lines)
    out = sys.stdout
    for text, score in zip(lines, scores):
        score = round(score, 4)
        record = {"text": text, "score": score, "checkworthy": score >= extractor.threshold}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return 0
