"""Accuracy on the shared corpus of real bounces (skips cleanly when ../shared/bounce-corpus is absent).

The thresholds are floors that catch regressions; bench/classify_corpus.py prints the figures.
"""

from __future__ import annotations

import importlib.util

from tests.bounces.conftest import REPO


def _bench():
    spec = importlib.util.spec_from_file_location("classify_corpus", REPO / "bench" / "classify_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_corpus_accuracy(corpus, capsys):
    figures = _bench().run(corpus, show=10)
    print(capsys.readouterr().out)
    assert figures["quarantined"] == 0
    assert figures["reason_accuracy"] >= 0.95
    assert figures["class_accuracy"] >= 0.96
    assert figures["hard_accuracy"] >= 0.97


def test_every_corpus_message_parses_without_crashing(corpus):
    from list_hygiene.bounces.dsn import UnparsableMessage, parse_message

    for path in sorted((corpus / "eml").glob("*.eml")):
        raw = path.read_bytes()
        parse_message(raw, path.name)
        try:  # a truncated copy may be quarantined, but must never crash with anything else
            parse_message(raw[: len(raw) // 3], path.name)
        except UnparsableMessage:
            pass
