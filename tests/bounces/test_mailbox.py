"""Reading .eml files, maildir folders, mbox files and folders of them."""

from __future__ import annotations

import mailbox

import pytest
from tests.bounces.conftest import dsn_message

from list_hygiene.bounces.mailbox import MailboxError, iter_messages


def test_eml_file(tmp_path):
    path = tmp_path / "one.eml"
    path.write_bytes(dsn_message([("a@example.com", "failed", "5.1.1", "550 user unknown")]))
    assert [source for source, _ in iter_messages(path)] == [str(path)]


def test_maildir(tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(dsn_message([("a@example.com", "failed", "5.1.1", "550 user unknown")]))
    box.add(dsn_message([("b@example.com", "failed", "5.2.2", "552 full")]))
    box.close()
    assert len(list(iter_messages(tmp_path / "Maildir"))) == 2


def test_mbox_numbers_messages(tmp_path):
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    for address in ("a@example.com", "b@example.com"):
        box.add(mailbox.mboxMessage(dsn_message([(address, "failed", "5.1.1", "550 user unknown")])))
    box.close()
    sources = [source for source, _ in iter_messages(path)]
    assert sources == [f"{path}#1", f"{path}#2"]


def test_folder_of_files_is_sorted_and_recursive(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.eml").write_bytes(b"From: x@example.com\n\nhi\n")
    (tmp_path / "1.eml").write_bytes(b"From: y@example.com\n\nhi\n")
    assert [s.split("/")[-1] for s, _ in iter_messages(tmp_path)] == ["1.eml", "2.eml"]


def test_missing_path(tmp_path):
    with pytest.raises(MailboxError):
        list(iter_messages(tmp_path / "nope"))
