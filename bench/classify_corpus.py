"""Benchmark the bounce classifier on a labelled corpus (not a timed test).

    .venv/bin/python bench/classify_corpus.py [CORPUS_DIR]

CORPUS_DIR holds eml/ and labels.jsonl (default: ../shared/bounce-corpus beside the repository).
Prints accuracy of reason, class and the hard flag per labelled recipient, the commonest misses,
and messages per second (parse + classify, after a warm-up of the classifier).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

from list_hygiene.bounces.classify import default_classifier
from list_hygiene.bounces.command import classify_records
from list_hygiene.bounces.dsn import UnparsableMessage, parse_message
from list_hygiene.bounces.mailbox import iter_messages
from list_hygiene.bounces.rules import read_seed

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "bounce-corpus"


def run(corpus: Path, show: int = 25, verbose: bool = False) -> dict[str, float]:
    labels = [json.loads(line) for line in (corpus / "labels.jsonl").read_text().splitlines() if line.strip()]
    classes = {row["reason"]: row["bounce_class"] for row in read_seed("bounce_reasons")}
    files = sorted({label["file"] for label in labels})
    default_classifier()  # warm-up: load seeds once, outside the timing

    started = time.perf_counter()
    records, quarantined = [], {}
    for name in files:
        # read as the command line does: a file that starts with an mbox "From " line is an mbox
        for source, raw in iter_messages(corpus / "eml" / name):
            try:
                records.extend(parse_message(raw, source))
            except UnparsableMessage as exc:
                quarantined[source] = exc.reason
    rows = classify_records(records, explain=verbose)
    elapsed = time.perf_counter() - started

    by_file: dict[str, list[dict]] = collections.defaultdict(list)
    for row in rows:
        by_file[Path(row["source"].split("#", 1)[0]).name].append(row)
    hits = collections.Counter()
    misses = collections.Counter()
    examples: dict[tuple[str, str], str] = {}
    for label in labels:
        got = by_file.get(label["file"], [])
        row = got[label["index"]] if label["index"] < len(got) else None
        reason = row["reason"] if row else "(missing)"
        hits["reason"] += reason == label["reason"]
        hits["class"] += classes.get(reason) == classes.get(label["reason"])
        hits["hard"] += bool(row and row["hard"]) == bool(label["hard"])
        if reason != label["reason"]:
            misses[(label["reason"], reason)] += 1
            examples.setdefault((label["reason"], reason), label["file"])
            if verbose:
                diagnostic = (row and row["diagnostic"] or "")[:300]
                print(
                    f"MISS {label['file']}#{label['index']} want={label['reason']} got={reason} "
                    f"rule={row and row.get('rule_id')} status={row and row['status']} diag={diagnostic!r}"
                )
    total = len(labels)
    figures = {
        "labels": total,
        "messages": len(files),
        "reason_accuracy": hits["reason"] / total,
        "class_accuracy": hits["class"] / total,
        "hard_accuracy": hits["hard"] / total,
        "messages_per_second": len(files) / elapsed if elapsed else float("inf"),
        "quarantined": len(quarantined),
    }
    print(f"corpus: {corpus} ({len(files)} messages, {total} labelled recipients, {len(rows)} records)")
    print(f"reason accuracy: {figures['reason_accuracy']:.4f}")
    print(f"class accuracy:  {figures['class_accuracy']:.4f}")
    print(f"hard accuracy:   {figures['hard_accuracy']:.4f}")
    print(f"speed: {figures['messages_per_second']:.0f} messages/s ({elapsed:.2f} s, parse + classify)")
    if quarantined:
        print(f"quarantined: {quarantined}")
    print("commonest misses (expected -> got: count, example):")
    for (want, got), count in misses.most_common(show):
        print(f"  {want:>15} -> {got:<15} {count:3d}  {examples[(want, got)]}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--show", type=int, default=25, help="how many kinds of miss to list")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss with its diagnostic")
    args = parser.parse_args(argv)
    if not (args.corpus / "labels.jsonl").exists():
        print(f"no labelled corpus at {args.corpus} (expected eml/ and labels.jsonl)", file=sys.stderr)
        return 2
    run(args.corpus, args.show, args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
