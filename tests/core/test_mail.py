"""Email ingestion: MIME decoding, folder formats, and clean_body on hand-built and real list mail."""

from __future__ import annotations

import json
import mailbox
import re
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest

from warmintro.mail import (
    EmailParseError,
    EmailRecord,
    clean_body,
    dedupe,
    html_to_text,
    iter_emails,
    parse_eml_bytes,
)

REAL_LIST_MAIL = Path(__file__).resolve().parents[3] / "shared" / "data" / "email_voice" / "r-package-devel_by_author.jsonl"


def _headers(msg, **extra: str) -> None:
    msg["From"] = extra.pop("from_", "Jane Champion <Jane.Champion@Acme.example>")
    msg["To"] = extra.pop("to", "Bob <BOB@vendor.example>, carol@vendor.example")
    msg["Date"] = extra.pop("date", "Tue, 05 Mar 2024 09:30:00 -0500")
    msg["Subject"] = extra.pop("subject", "Quick question")
    msg["Message-ID"] = extra.pop("message_id", "<abc123@acme.example>")
    for key, value in extra.items():
        msg[key.replace("_", "-")] = value


def _parse(msg) -> EmailRecord:
    return parse_eml_bytes(msg.as_bytes())


# ------------------------------------------------------------------ MIME


def test_plain_message_fields() -> None:
    msg = EmailMessage()
    _headers(msg, cc="Dan <dan@vendor.example>", in_reply_to="<parent@vendor.example>")
    msg.set_content("Hi Bob,\n\nThat works for us.\n\nBest,\nJane\n")
    rec = _parse(msg)
    assert rec.message_id == "abc123@acme.example"
    assert rec.from_email == "jane.champion@acme.example"
    assert rec.from_name == "Jane Champion"
    assert rec.to == ("bob@vendor.example", "carol@vendor.example")
    assert rec.cc == ("dan@vendor.example",)
    assert rec.date == datetime(2024, 3, 5, 14, 30, tzinfo=UTC)
    assert rec.date.tzinfo is not None and rec.date.utcoffset().total_seconds() == 0
    assert rec.subject == "Quick question"
    assert rec.in_reply_to == "parent@vendor.example"
    assert rec.body == "Hi Bob,\n\nThat works for us.\n\nBest,\nJane"


def test_multipart_alternative_prefers_plain() -> None:
    msg = EmailMessage()
    _headers(msg)
    msg.set_content("Plain version.\n\nThanks,\nJane")
    msg.add_alternative("<html><body><p>HTML version.</p></body></html>", subtype="html")
    assert msg.get_content_type() == "multipart/alternative"
    assert _parse(msg).body == "Plain version.\n\nThanks,\nJane"


def test_html_only_converted_to_text() -> None:
    html = """<!DOCTYPE html><html><head><title>Ignored title</title>
      <style>p { color: red; }</style><script>alert("no");</script></head>
      <body><div>Hi&nbsp;Bob,</div><p>We cut onboarding   time
      by <b>40%</b> &amp; love it.</p><p>Line one<br>Line two</p>
      <ul><li>first</li><li>second</li></ul>
      <p>Cheers,<br>Jane</p>
      <div class="gmail_quote"><div class="gmail_attr">On Mon, Mar 4, 2024 at 10:00 AM Bob &lt;bob@vendor.example&gt; wrote:<br></div>
      <blockquote class="gmail_quote"><p>Would you be open to an intro?</p><p>Bob</p></blockquote></div>
      </body></html>"""
    msg = EmailMessage()
    _headers(msg)
    msg.set_content(html, subtype="html")
    body = _parse(msg).body
    assert body == (
        "Hi Bob,\n\nWe cut onboarding time by 40% & love it.\n\nLine one\nLine two\n\n"
        "- first\n- second\n\nCheers,\nJane"
    )
    for gone in ("alert", "color: red", "Ignored title", "Would you be open", "wrote:"):
        assert gone not in body


def test_html_to_text_marks_blockquotes_as_quotes() -> None:
    text = html_to_text("<p>Mine</p><blockquote><p>Theirs</p><blockquote>Deeper</blockquote></blockquote>")
    assert text.split("\n\n") == ["Mine", "> Theirs", "> > Deeper"]


def test_base64_body() -> None:
    msg = MIMEText("Grüße aus Köln — it went live on Monday.\n\nBest,\nJürgen", "plain", "utf-8")
    assert msg["Content-Transfer-Encoding"] == "base64"
    _headers(msg)
    rec = _parse(msg)
    assert rec.body == "Grüße aus Köln — it went live on Monday.\n\nBest,\nJürgen"


def test_quoted_printable_body() -> None:
    long_line = "The rollout = a success; " * 8  # long enough to need soft line breaks
    msg = EmailMessage()
    _headers(msg)
    msg.set_content(f"{long_line.strip()}\n\nCafé crème,\nJane", cte="quoted-printable")
    raw = msg.as_bytes()
    assert b"=3D" in raw and b"=\n" in raw  # really encoded, with soft breaks
    assert parse_eml_bytes(raw).body == f"{long_line.strip()}\n\nCafé crème,\nJane"


def test_latin1_body_qp() -> None:
    msg = MIMEText("Très bien, merci à toi.\n\nAmitiés,\nRené", "plain", "iso-8859-1")
    _headers(msg)
    assert _parse(msg).body == "Très bien, merci à toi.\n\nAmitiés,\nRené"


def _raw_8bit(charset: str, body: bytes, **headers: str) -> bytes:
    head = (
        "From: =?iso-8859-1?q?Ren=E9_Dupr=E9?= <rene@acme.example>\r\n"
        "To: bob@vendor.example\r\nDate: Wed, 06 Mar 2024 08:00:00 +0100\r\n"
        "Subject: =?utf-8?b?w4ljaGFuZ2UgcsOpdXNzaQ==?=\r\nMessage-ID: <r1@acme.example>\r\n"
        "MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: 8bit\r\n"
    )
    for key, value in headers.items():
        head += f"{key}: {value}\r\n"
    return head.encode("ascii") + b"\r\n" + body


def test_latin1_8bit_body_and_rfc2047_headers() -> None:
    rec = parse_eml_bytes(_raw_8bit("iso-8859-1", "Ça marche très bien.\r\n\r\nRené".encode("latin-1")))
    assert rec.body == "Ça marche très bien.\n\nRené"
    assert rec.from_name == "René Dupré"
    assert rec.from_email == "rene@acme.example"
    assert rec.subject == "Échange réussi"
    assert rec.date == datetime(2024, 3, 6, 7, 0, tzinfo=UTC)


def test_raw_8bit_headers() -> None:
    raw = (
        "From: Jürgen Groß <jg@acme.example>\nTo: bob@vendor.example\n"
        "Date: Wed, 06 Mar 2024 08:00:00 +0100\nSubject: Grüße\n\nHallo\n"
    ).encode()
    rec = parse_eml_bytes(raw)
    assert (rec.from_name, rec.subject) == ("Jürgen Groß", "Grüße")
    latin = parse_eml_bytes(raw.decode().encode("cp1252"))
    assert (latin.from_name, latin.subject, latin.body) == ("Jürgen Groß", "Grüße", "Hallo")


@pytest.mark.parametrize("declared", ["windows-1252", "iso-8859-1"])  # the latter often mislabels 1252
def test_windows1252_body(declared: str) -> None:
    text = "“It’s live” – thanks… €5 saved per seat.\r\n\r\nBest,\r\nJane"
    rec = parse_eml_bytes(_raw_8bit(declared, text.encode("cp1252")))
    assert rec.body == text.replace("\r\n", "\n")


def test_iso2022jp_body() -> None:
    msg = EmailMessage()
    _headers(msg, subject="=?iso-2022-jp?b?GyRCJDMkcyRLJEEkTxsoQg==?=")
    msg.set_content("こんにちは、導入は順調です。\n\nよろしく", charset="iso-2022-jp", cte="7bit")
    raw = msg.as_bytes()
    assert b"\x1b$B" in raw  # the JIS escape sequence: really iso-2022-jp on the wire
    rec = parse_eml_bytes(raw)
    assert rec.body == "こんにちは、導入は順調です。\n\nよろしく"
    assert rec.subject == "こんにちは"


@pytest.mark.parametrize("declared", ["x-unknown", "us-ascii", "unknown-8bit"])
def test_wrong_or_unknown_charset_falls_back(declared: str) -> None:
    rec = parse_eml_bytes(_raw_8bit(declared, "Naïve café ✓".encode()))
    assert rec.body == "Naïve café ✓"


def test_attachments_ignored() -> None:
    msg = MIMEMultipart("mixed")
    _headers(msg)
    alt = MIMEMultipart("alternative")
    alt.attach(MIMEText("See the deck attached.\n\nJane", "plain", "utf-8"))
    alt.attach(MIMEText("<p>See the deck attached.</p><p>Jane</p>", "html", "utf-8"))
    msg.attach(alt)
    pdf = MIMEApplication(b"%PDF-1.4 binary", _subtype="pdf")
    pdf.add_header("Content-Disposition", "attachment", filename="deck.pdf")
    msg.attach(pdf)
    notes = MIMEText("SECRET attached notes", "plain", "utf-8")
    notes.add_header("Content-Disposition", "attachment", filename="notes.txt")
    msg.attach(notes)
    assert _parse(msg).body == "See the deck attached.\n\nJane"


def test_format_flowed_is_unwrapped() -> None:
    raw = _raw_8bit(
        "utf-8; format=flowed",
        b"This sentence was soft \r\nwrapped by the client.\r\n\r\n> quoted soft \r\n> line\r\n\r\nBest,\r\nJane",
    )
    rec = parse_eml_bytes(raw, clean=False)
    assert rec.body == "This sentence was soft wrapped by the client.\n\n> quoted soft line\n\nBest,\nJane"


def test_missing_message_id_is_derived_and_stable() -> None:
    msg = EmailMessage()
    _headers(msg)
    del msg["Message-ID"]
    msg.set_content("Hello there.")
    first, second = _parse(msg), _parse(msg)
    assert first.message_id == second.message_id
    assert re.fullmatch(r"[0-9a-f]{40}@derived\.warmintro", first.message_id)
    del msg["Subject"]
    msg["Subject"] = "Another subject"
    assert _parse(msg).message_id != first.message_id


def test_overlong_message_id_is_hashed() -> None:
    msg = EmailMessage()
    _headers(msg, message_id="<" + "x" * 600 + "@acme.example>")
    msg.set_content("hi")
    first = _parse(msg).message_id
    assert re.fullmatch(r"[0-9a-f]{40}@hashed\.warmintro", first) and first == _parse(msg).message_id


def test_obfuscated_archive_addresses() -> None:
    raw = (
        b"From: alexandre.courtiol at gmail.com (Alexandre Courtiol)\n"
        b"To: r-package-devel at r-project.org\nDate: Wed, 10 Aug 2016 16:34:13 +0200\n"
        b"Subject: [R-pkg-devel] Selective LazyData?\n\nDear all,\nAlex\n"
    )
    rec = parse_eml_bytes(raw)
    assert (rec.from_email, rec.from_name) == ("alexandre.courtiol@gmail.com", "Alexandre Courtiol")
    assert rec.to == ("r-package-devel@r-project.org",)


def test_message_without_sender_or_date_is_rejected() -> None:
    with pytest.raises(ValueError, match="sender"):
        parse_eml_bytes(b"To: a@b.example\nDate: Tue, 05 Mar 2024 09:30:00 +0000\n\nhi\n")
    with pytest.raises(ValueError, match="Date"):
        parse_eml_bytes(b"From: a@b.example\nDate: not a date\n\nhi\n")


# ------------------------------------------------------------------ files and folders


def _mbox_message(n: int, **kw: str) -> mailbox.mboxMessage:
    msg = EmailMessage()
    _headers(msg, message_id=f"<m{n}@acme.example>", subject=f"Message {n}", **kw)
    msg.set_content(f"Body {n}.\n\nFrom the team we say thanks.\n\n-- \nJane | Acme")
    return mailbox.mboxMessage(msg)


def test_mbox_three_messages(tmp_path: Path) -> None:
    box = mailbox.mbox(str(tmp_path / "export.mbox"))
    box.add(_mbox_message(1))
    second = _mbox_message(2)
    del second["Message-ID"]
    box.add(second)
    third = _mbox_message(3)
    del third["Date"]
    third.set_from("jane@acme.example", time.gmtime(1_700_000_000))
    box.add(third)
    box.flush()
    box.close()
    assert (tmp_path / "export.mbox").read_bytes().count(b"\n>From the team") == 3  # mbox escaping

    items = list(iter_emails(tmp_path))
    assert all(isinstance(i, EmailRecord) for i in items), items
    assert [r.subject for r in items] == ["Message 1", "Message 2", "Message 3"]
    assert items[0].message_id == "m1@acme.example"
    assert items[1].message_id.endswith("@derived.warmintro")
    assert items[2].date == datetime.fromtimestamp(1_700_000_000, tz=UTC)  # from the "From " line
    # The body line starting with "From " was escaped by the mbox writer, not a quote: it survives.
    assert items[0].body == "Body 1.\n\nFrom the team we say thanks."


def test_mbox_bad_message_reports_index(tmp_path: Path) -> None:
    path = tmp_path / "bad.mbox"
    path.write_bytes(
        b"From a@b Thu Jan  4 10:00:00 2024\nFrom: a@b.example\nDate: Thu, 4 Jan 2024 10:00:00 +0000\n\nok\n\n"
        b"From x@y Thu Jan  4 10:00:00 2024\nSubject: no sender\n\nbroken\n"
    )
    items = list(iter_emails(path))
    assert isinstance(items[0], EmailRecord)
    assert isinstance(items[1], EmailParseError)
    assert items[1].line_or_index == 2 and items[1].file == str(path) and "sender" in items[1].reason


def test_file_without_mbox_separators_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "not-really.mbox"
    path.write_bytes(b"From: a@b.example\nDate: Thu, 4 Jan 2024 10:00:00 +0000\n\nan .eml renamed\n")
    (item,) = list(iter_emails(path))
    assert isinstance(item, EmailParseError) and "From " in item.reason


def test_eml_file(tmp_path: Path) -> None:
    msg = EmailMessage()
    _headers(msg, from_='"Doe, Jane" <JANE@ACME.EXAMPLE>')
    msg.set_content("Thanks!\n\nSent from my iPhone")
    (tmp_path / "one.eml").write_bytes(msg.as_bytes())
    (tmp_path / "broken.eml").write_bytes(b"Subject: nothing else\n\nbody")
    items = list(iter_emails(tmp_path))
    assert isinstance(items[0], EmailParseError) and items[0].file.endswith("broken.eml")
    rec = items[1]
    assert isinstance(rec, EmailRecord)
    assert (rec.from_name, rec.from_email, rec.body) == ("Doe, Jane", "jane@acme.example", "Thanks!")


def test_jsonl_with_bad_lines(tmp_path: Path) -> None:
    good = {
        "message_id": "<j1@acme.example>",
        "from": "Jane Champion <JANE@acme.example>",
        "to": ["Bob <bob@vendor.example>"],
        "cc": [],
        "date": "2024-03-05T09:30:00-05:00",
        "subject": "Re: intro",
        "body": "Happy to help.\n\n> Would you intro us?\n\nBest,\nJane",
        "in_reply_to": "j0@vendor.example",
    }
    lines = [
        json.dumps(good),
        "",  # blank lines are skipped, but still counted
        "{not json",
        json.dumps({**good, "message_id": "j3", "from": ""}),
        json.dumps({**good, "message_id": "j4", "to": ["not an address"]}),
        json.dumps({**good, "message_id": "j5", "date": "yesterday"}),
        json.dumps({**good, "message_id": None, "date": "2024-03-06", "body": "<p>Hi</p><p>Jane</p>"}),
        json.dumps(["not", "an", "object"]),
    ]
    (tmp_path / "emails.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(iter_emails(tmp_path))
    errors = [i for i in items if isinstance(i, EmailParseError)]
    records = [i for i in items if isinstance(i, EmailRecord)]
    assert [(e.line_or_index, e.file.endswith("emails.jsonl")) for e in errors] == [
        (3, True), (4, True), (5, True), (6, True), (8, True)
    ]  # fmt: skip
    assert "JSON" in errors[0].reason and "from" in errors[1].reason and "to" in errors[2].reason
    assert "date" in errors[3].reason and "object" in errors[4].reason
    first, html = records
    assert first.message_id == "j1@acme.example" and first.in_reply_to == "j0@vendor.example"
    assert first.from_email == "jane@acme.example" and first.to == ("bob@vendor.example",)
    assert first.date == datetime(2024, 3, 5, 14, 30, tzinfo=UTC)
    assert first.body == "Happy to help.\n\nBest,\nJane"
    assert html.date == datetime(2024, 3, 6, tzinfo=UTC)  # a date alone is midnight UTC
    assert html.body == "Hi\n\nJane" and html.message_id.endswith("@derived.warmintro")


def test_folder_mixes_formats_in_stable_order(tmp_path: Path) -> None:
    folder = tmp_path / "emails"
    (folder / "2023").mkdir(parents=True)
    msg = EmailMessage()
    _headers(msg, message_id="<e1@acme.example>")
    msg.set_content("eml body")
    (folder / "2023" / "a.eml").write_bytes(msg.as_bytes())
    box = mailbox.mbox(str(folder / "b.mbox"))
    box.add(_mbox_message(7))
    box.close()
    (folder / "emails.jsonl").write_text(
        json.dumps({"message_id": "e1@acme.example", "from": "jane@acme.example", "date": "2024-01-01",
                    "body": "same id as the eml"}) + "\n", encoding="utf-8")  # fmt: skip
    (folder / "README.txt").write_text("not mail")
    (folder / ".hidden.eml").write_text("garbage")
    items = list(iter_emails(folder))
    assert [getattr(i, "message_id", i) for i in items] == [
        "e1@acme.example",
        "m7@acme.example",
        "e1@acme.example",
    ]
    assert [r.message_id for r in dedupe(items)] == ["e1@acme.example", "m7@acme.example"]
    assert dedupe(items)[0].body == "eml body"  # first occurrence wins


def test_missing_folder_is_an_error_value(tmp_path: Path) -> None:
    (item,) = list(iter_emails(tmp_path / "nope"))
    assert isinstance(item, EmailParseError)


# ------------------------------------------------------------------ clean_body


def test_clean_body_strips_quotes_and_attribution_keeps_inline_answers() -> None:
    text = (
        "Sounds good, see answers inline.\n\n"
        "On Mon, Mar 4, 2024 at 10:00 AM Bob Vendor <bob@vendor.example>\nwrote:\n"
        "> Can you make the intro?\n> > nested quote\n"
        "Yes, this week.\n"
        "> And the case study?\n"
        "Also yes.\n\nBest,\nJane"
    )
    assert clean_body(text) == "Sounds good, see answers inline.\n\nYes, this week.\nAlso yes.\n\nBest,\nJane"
    own = "On 3 servers the import fails.\nAs Bob wrote:\n> it needs a restart\nIt did not help."
    assert clean_body(own) == "On 3 servers the import fails.\nIt did not help."


@pytest.mark.parametrize(
    "attribution",
    [
        "On Tue, 5 Mar 2024, Bob Vendor wrote:",
        "On 2024-03-05 10:00, Bob Vendor <bob@vendor.example> wrote:",
        "Am 05.03.24 um 10:00 schrieb Bob Vendor:",
        "Le 05/03/2024 à 10:00, Bob Vendor a écrit :",
        "Bob Vendor <bob@vendor.example> writes:",
        "On Thu, Aug 31, 2023 at 9:42 AM Thomas Petzoldt <",  # wrapped, its "wrote:" line lost
    ],
)
def test_clean_body_attribution_variants(attribution: str) -> None:
    text = f"Thanks, will do.\n\nCheers,\nJane\n\n{attribution}\n\n> earlier text\n"
    assert clean_body(text) == "Thanks, will do.\n\nCheers,\nJane"


def test_clean_body_outlook_blocks() -> None:
    original = "Agreed.\n\nRegards,\nJane\n\n-----Original Message-----\nFrom: Bob\nSent: Monday\n\nOld text"
    assert clean_body(original) == "Agreed.\n\nRegards,\nJane"
    header = (
        "Agreed.\n\nKind regards,\nJane\n\n________________________________\n"
        "From: Bob Vendor <bob@vendor.example>\nSent: Monday, March 4, 2024 10:00 AM\n"
        "To: Jane <jane@acme.example>\nSubject: intro\n\nUnquoted old text from Bob.\n"
    )
    assert clean_body(header) == "Agreed.\n\nKind regards,\nJane"
    forwarded = "FYI below.\n\nJane\n\n---------- Forwarded message ---------\nFrom: X <x@y.example>\nhello"
    assert clean_body(forwarded) == "FYI below.\n\nJane"


def test_clean_body_signature_block_and_mobile_footer() -> None:
    text = "Works for me.\n\nBest,\nJohn\n\n-- \nJohn Smith | VP Ops | Acme\n+1 555 0100\n"
    assert clean_body(text) == "Works for me.\n\nBest,\nJohn"
    assert clean_body("Yes!\n\nThanks,\nJohn\n\nSent from my iPhone") == "Yes!\n\nThanks,\nJohn"
    assert clean_body("Yes!\nJohn\n\nGet Outlook for iOS") == "Yes!\nJohn"


def test_clean_body_list_and_legal_footers() -> None:
    listed = (
        "Use R CMD check --as-cran.\n\nBest,\nUwe\n\n"
        "______________________________________________\n"
        "R-package-devel at r-project.org mailing list\n"
        "https://stat.ethz.ch/mailman/listinfo/r-package-devel\n\n"
        "\t[[alternative HTML version deleted]]\n"
    )
    assert clean_body(listed) == "Use R CMD check --as-cran.\n\nBest,\nUwe"
    for legal in (
        "CONFIDENTIALITY NOTICE: This email message is for the sole use of the intended recipient(s).",
        "This email and any attachments are confidential and intended solely for the addressee.",
        "This e-mail is confidential and may also be legally privileged. If you",
        "The information contained in this message may be privileged.",
    ):
        assert clean_body(f"See you Tuesday.\n\nBest,\nAna\n\n{legal}\nMore legalese.") == (
            "See you Tuesday.\n\nBest,\nAna"
        )
    own = "Disclaimer: I am not CRAN, just another package author.\n\nMichael"
    assert clean_body(own) == own  # an own sentence, not a legal footer


def test_clean_body_keeps_plain_text_untouched() -> None:
    text = (
        "Hi team,\n\nOn Monday we shipped 1.2.\nThe -- flag is gone.\nSent the phone number to Bob.\n"
        "As the docs say:\n\nThanks a lot,\nPriya"
    )
    assert clean_body(text) == text
    assert clean_body("") == ""


# ------------------------------------------------------------------ real list mail


def _real_rows(n: int = 300) -> list[dict]:
    if not REAL_LIST_MAIL.exists():
        pytest.skip(f"{REAL_LIST_MAIL} not available")
    with REAL_LIST_MAIL.open(encoding="utf-8") as fh:
        return [json.loads(line) for _, line in zip(range(n), fh, strict=False)]


_SIGN_OFF = re.compile(
    r"^(best( regards| wishes)?|cheers|thanks( again| a lot)?|many thanks|kind regards|regards|"
    r"all the best|thank you|sincerely|best,\s*\w+|cheers,\s*\w+)[,.!]?\s*$",
    re.I,
)


def test_clean_body_on_real_list_mail() -> None:
    rows = _real_rows()
    assert len(rows) == 300
    dirty = sum("wrote:" in r["body_own_text"] or "mailing list\n" in r["body_own_text"] for r in rows)
    assert dirty > 20  # the sample really contains attributions and list footers to remove
    sign_offs = 0
    for row in rows:
        raw = row["body_own_text"]
        cleaned = clean_body(raw)
        assert clean_body(cleaned) == cleaned  # idempotent: re-cleaning stored bodies is safe
        lines = cleaned.split("\n")
        for line in lines:
            assert not line.startswith(">"), (row["message_id"], line)
            assert not re.search(r"wrote\s*:\s*$", line), (row["message_id"], line)
            assert not re.match(r"^\s*--\s?$", line), row["message_id"]
            assert "[[alternative HTML version deleted]]" not in line
            # The list footer (quoted CRAN mails may mention the list URL in a sentence; that stays).
            assert not re.fullmatch(r"\S+ at r-project\.org mailing list", line), row["message_id"]
            assert line.strip() != "https://stat.ethz.ch/mailman/listinfo/r-package-devel", row["message_id"]
        # Every sign-off the author wrote above their "-- " signature block survives cleaning.
        raw_lines = raw.split("\n")
        cut = next((i for i, ln in enumerate(raw_lines) if re.match(r"^\s*--\s?$", ln)), len(raw_lines))
        for line in raw_lines[:cut]:
            if _SIGN_OFF.match(line.strip()):
                sign_offs += 1
                assert line.rstrip() in lines, (row["message_id"], line)
    assert sign_offs > 50


def test_real_list_mail_known_message() -> None:
    rows = _real_rows()
    row = next(r for r in rows if r["message_id"].startswith("<CAERMt4d9HDLoxwYkDJfC_dKr1NsG"))
    cleaned = clean_body(row["body_own_text"])
    assert cleaned.endswith("that does not help.\nBest\nAlex")
    assert "Courtiol" not in cleaned  # attribution and signature block gone
    assert "sites.google.com" not in cleaned


def test_real_list_mail_through_jsonl_import(tmp_path: Path) -> None:
    # The archive rows mapped onto the contract's jsonl shape (written to tmp, not the repo).
    rows = _real_rows(60)
    with (tmp_path / "emails.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            sender = f"{r['author']} <{r['author_key'].replace(' ', '.')}@lists.example>"
            fh.write(json.dumps({"message_id": r["message_id"], "from": sender, "to": [], "cc": [],
                                 "date": r["date"], "subject": r["subject"], "body": r["body_own_text"]}) + "\n")  # fmt: skip
    items = list(iter_emails(tmp_path))
    assert all(isinstance(i, EmailRecord) for i in items)
    assert len(items) == 60
    assert items[0].date == datetime(2016, 8, 10, 14, 34, 13, tzinfo=UTC)
    assert items[0].message_id == rows[0]["message_id"].strip("<>")
    assert items[0].body.endswith("look for it.\nAlex")


def _address_values() -> list[str]:
    """Senders as exports write them: W3C archive addresses under Enron employee and R-devel author names,
    in the usual and in unusual shapes, plus odd ones."""
    data = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "relationship_graph"
    addresses = [ln.split(" ", 1)[1].strip() for ln in
                 (data / "w3c_email_benson" / "addresses-email-W3C.txt").read_text(encoding="utf-8").splitlines()[:3000]]
    names = [ln.split("\t")[1] for ln in (data / "enron_perry_wolfe" / "employees.txt").read_text(encoding="utf-8").splitlines()]
    voice = data.parent / "email_voice" / "r-package-devel_by_author.jsonl"
    names += sorted({json.loads(ln)["author"] for ln in voice.read_text(encoding="utf-8").splitlines()[:3000]})
    names += ["O'Brien Jr", "Mary-Jane  Doe", "Dr. Who", "José Núñez", "Smith, John", "a at b", "=?utf-8?q?Zo=C3=AB?=",
              "'Quoted'", "Anne - Marie", "X", "Ann O'", "Bob (work)"]
    shapes = ["{n} <{a}>", "{a}", "\"{n}\" <{a}>", "{n}<{a}>", "{n} <{A}>", " {n} <{a}> ", "{n} <{a}>, {n} <{a}>",
              "{n} <{a}", "{n} {a}", "<{a}>"]
    values = []
    for i, addr in enumerate(addresses):
        name = names[i % len(names)]
        values.append(shapes[i % len(shapes)].format(n=name, a=addr, A=addr.upper()))
        values.append(f"{name} <{addr}>")
    values += ["Ann <a..b@x.com>", "Ann <a@b>", "Ann <a@-b.com>", "Ann <" + "a" * 250 + "@b.com>", "Ann <>", "Ann"]
    return values


def test_named_sender_shortcut_matches_the_address_parser() -> None:
    from warmintro import mail

    values = _address_values()
    shortcut = 0
    for value in values:
        try:
            expected: object = mail._parsed_one_address(value, "from")
        except mail._Invalid as exc:
            expected = str(exc)
        try:
            got: object = mail._one_address(value, "from")
        except mail._Invalid as exc:
            got = str(exc)
        assert got == expected, value
        shortcut += bool(mail._NAMED_ADDRESS_RE.fullmatch(value))
    assert shortcut > len(values) / 3  # the shortcut is exercised, not only the parser


def test_generated_emails_parse_the_same_without_the_shortcut(tmp_path: Path, monkeypatch) -> None:
    from warmintro import mail
    from warmintro.demo.generator import generate_workspace

    generate_workspace(tmp_path / "w", accounts=30, seed=11, emails=600)
    folder = tmp_path / "w" / "emails"
    fast = list(mail.iter_emails(folder))
    monkeypatch.setattr(mail, "_NAMED_ADDRESS_RE", re.compile(r"(?!)"))
    assert list(mail.iter_emails(folder)) == fast and len(fast) == 600
