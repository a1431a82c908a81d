"""``newswire checkworthy FILE``: score sentences for check-worthiness, one per line.

Prints one JSON object per input line, in order: ``{"text", "score", "checkworthy", "speaker",
"speaker_key"}`` (who the line says made the statement, found in the line alone, or null).
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
    from newswire.claims.attribution import PRONOUNS, attribute_sentence
    from newswire.claims.speakers import speaker_key

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
        who = attribute_sentence(text)  # each line on its own: a pronoun has no one to refer to
        speaker = who.speaker if who.speaker not in PRONOUNS else None
        record = {"text": text, "score": score, "checkworthy": score >= extractor.threshold,
                  "speaker": speaker, "speaker_key": speaker_key(speaker)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return 0
