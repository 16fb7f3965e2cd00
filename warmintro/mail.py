"""Parse the import folder's `emails/` (mbox, .eml, jsonl) into clean, attributable records.

Pure functions on the standard library. The voice engine learns a champion's greeting, sign-off and
phrasing from these bodies, so `clean_body` removes what the champion did not write (quoted replies,
attributions, forwarded/original-message blocks, signature blocks, list and legal footers) and keeps
what they did, including the sign-off line itself.

Nothing here raises on bad input while iterating: a broken entry is yielded as an `EmailParseError`
so the importer can report every problem and reject the import as a whole.
"""

from __future__ import annotations

import codecs
import contextlib
import email
import email.policy
import hashlib
import json
import mailbox
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

__all__ = [
    "EmailParseError",
    "EmailRecord",
    "clean_body",
    "dedupe",
    "derive_message_id",
    "html_to_text",
    "iter_emails",
    "parse_eml_bytes",
]


@dataclass(frozen=True)
class EmailRecord:
    message_id: str  # without angle brackets, so ids from mbox headers and jsonl compare equal
    from_email: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime  # UTC, aware
    subject: str
    body: str
    in_reply_to: str | None


@dataclass(frozen=True)
class EmailParseError:
    """One bad entry: `line_or_index` is the 1-based line of a jsonl file or message of an mbox (1 for .eml)."""

    file: str
    line_or_index: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line_or_index}: {self.reason}"


class _Invalid(ValueError):
    """A reason an entry is rejected; becomes an EmailParseError."""


# --------------------------------------------------------------------------------------------------
# Folder walking


def iter_emails(path: Path, *, clean: bool = True) -> Iterator[EmailRecord | EmailParseError]:
    """Every email under `path` (the `emails/` folder, or one file), in a stable order.

    Reads `*.mbox`, `*.eml` and `*.jsonl` files (the contract names `emails.jsonl`), recursing into
    subfolders and skipping hidden files. `clean=False` keeps bodies as extracted (quotes and all).
    """
    path = Path(path)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in {".mbox", ".eml", ".jsonl"}
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    else:
        yield EmailParseError(str(path), 0, "no such file or folder")
        return
    for file in files:
        suffix = file.suffix.lower()
        if suffix == ".mbox":
            yield from _iter_mbox(file, clean)
        elif suffix == ".eml":
            yield _parse_eml_file(file, clean)
        elif suffix == ".jsonl":
            yield from _iter_jsonl(file, clean)
        else:
            yield EmailParseError(str(file), 0, f"unsupported file type {file.suffix!r}")


def _iter_mbox(file: Path, clean: bool) -> Iterator[EmailRecord | EmailParseError]:
    try:
        box = mailbox.mbox(str(file), create=False)
        keys = list(box.iterkeys())
    except Exception as exc:  # unreadable file: one error for the file
        yield EmailParseError(str(file), 0, f"cannot read mbox: {exc}")
        return
    if not keys and file.stat().st_size > 0:
        box.close()
        yield EmailParseError(str(file), 0, "no messages found (an mbox separates them with 'From ' lines)")
        return
    try:
        for index, key in enumerate(keys, start=1):
            try:
                raw = box.get_bytes(key, from_=True)
                from_line, _, data = raw.partition(b"\n")
                yield _record_from_bytes(data, clean, mbox_from_line=from_line.decode("latin-1"))
            except _Invalid as exc:
                yield EmailParseError(str(file), index, str(exc))
            except Exception as exc:  # a parser bug on odd input must not abort the whole import
                yield EmailParseError(str(file), index, f"unparseable message: {exc!r}")
    finally:
        box.close()


def _parse_eml_file(file: Path, clean: bool) -> EmailRecord | EmailParseError:
    try:
        return _record_from_bytes(file.read_bytes(), clean)
    except _Invalid as exc:
        return EmailParseError(str(file), 1, str(exc))
    except Exception as exc:
        return EmailParseError(str(file), 1, f"unparseable message: {exc!r}")


def parse_eml_bytes(data: bytes, *, clean: bool = True) -> EmailRecord:
    """One RFC 5322 message; raises ValueError when it has no usable sender or date."""
    return _record_from_bytes(data, clean)


def _iter_jsonl(file: Path, clean: bool) -> Iterator[EmailRecord | EmailParseError]:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        yield EmailParseError(str(file), 0, f"cannot read: {exc}")
        return
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield EmailParseError(str(file), lineno, f"not UTF-8: {exc}")
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield EmailParseError(str(file), lineno, f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        try:
            yield _record_from_json(obj, clean)
        except _Invalid as exc:
            yield EmailParseError(str(file), lineno, str(exc))


# --------------------------------------------------------------------------------------------------
# Records


def _record_from_json(obj: Any, clean: bool) -> EmailRecord:
    if not isinstance(obj, dict):
        raise _Invalid("each line must be a JSON object")
    sender = obj.get("from")
    if not isinstance(sender, str) or not sender.strip():
        raise _Invalid("'from' is required")
    from_name, from_email = _one_address(sender, field="from")
    to = _json_addresses(obj.get("to"), "to")
    cc = _json_addresses(obj.get("cc"), "cc")
    if "date" not in obj or obj["date"] in (None, ""):
        raise _Invalid("'date' is required")
    when = _parse_date(obj["date"])
    subject = obj.get("subject") or ""
    if not isinstance(subject, str):
        raise _Invalid("'subject' must be a string")
    body = obj.get("body")
    if not isinstance(body, str):
        raise _Invalid("'body' is required and must be a string")
    if _looks_like_html(body):
        body = html_to_text(body)
    body = _normalise_newlines(body)
    message_id = _message_id_value(obj.get("message_id"), "message_id")
    in_reply_to = _message_id_value(obj.get("in_reply_to"), "in_reply_to")
    subject = _unfold(_decode_words(subject))
    return EmailRecord(
        message_id=message_id or derive_message_id(from_email, when, subject, body),
        from_email=from_email,
        from_name=from_name,
        to=to,
        cc=cc,
        date=when,
        subject=subject,
        body=clean_body(body) if clean else body,
        in_reply_to=in_reply_to,
    )


def _json_addresses(value: Any, field: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items: list[Any] = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise _Invalid(f"'{field}' must be a list of email addresses")
    out: list[str] = []
    for item in items:
        if _BARE_ADDRESS_RE.fullmatch(item) and _valid_address(item):
            out.append(item.lower())
            continue
        # One item may itself be "A <a@x>, b@y": structured input is checked strictly.
        for name, addr in getaddresses([_deobfuscate(item)]):
            if not name and not addr:
                continue
            if not _valid_address(addr):
                raise _Invalid(f"'{field}' has an invalid address: {item!r}")
            out.append(addr.lower())
    return _unique(out)


def _message_id_value(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid(f"'{field}' must be a string")
    return _normalise_message_id(value)


def _record_from_bytes(data: bytes, clean: bool, mbox_from_line: str | None = None) -> EmailRecord:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    raw = _raw_headers(msg)

    senders = _header_addresses(raw.get("from") or raw.get("sender") or "")
    if not senders:
        raise _Invalid("no sender address (From:)")
    from_name, from_email = senders[0]

    when: datetime | None = None
    if raw.get("date"):
        try:
            when = _parse_date(raw["date"])
        except _Invalid:
            when = None
    if when is None and mbox_from_line:
        when = _date_from_mbox_line(mbox_from_line)
    if when is None:
        raise _Invalid(f"missing or unparseable Date: {raw.get('date', '')!r}")

    to = _unique([a for _, a in _header_addresses(raw.get("to", ""))])
    cc = _unique([a for _, a in _header_addresses(raw.get("cc", ""))])
    subject = _unfold(_decode_words(raw.get("subject", "")))

    body = _normalise_newlines(_extract_body(msg))
    if mbox_from_line is not None:
        # mbox writers escape body lines starting with "From " as ">From "; they are not quotes.
        body = re.sub(r"(?m)^>(>*From )", r"\1", body)

    message_id = _normalise_message_id(raw.get("message-id", ""))
    in_reply_to = _normalise_message_id(raw.get("in-reply-to", ""))
    if in_reply_to is None and raw.get("references"):
        refs = re.findall(r"<([^<>\s]+)>", raw["references"])
        in_reply_to = refs[-1] if refs else None
    return EmailRecord(
        message_id=message_id or derive_message_id(from_email, when, subject, body),
        from_email=from_email,
        from_name=from_name,
        to=to,
        cc=cc,
        date=when,
        subject=subject,
        body=clean_body(body) if clean else body,
        in_reply_to=in_reply_to,
    )


def _raw_headers(msg: Message) -> dict[str, str]:
    """First value of each header, undecoded: we decode addresses and encoded words ourselves."""
    out: dict[str, str] = {}
    for name, value in msg.raw_items():  # type: ignore[attr-defined]
        key = name.lower()
        if key not in out:
            out[key] = _fix_surrogates(str(value))
    return out


def derive_message_id(from_email: str, when: datetime, subject: str, body: str) -> str:
    """A stable id for a message without Message-ID: the same email always gets the same id."""
    key = "\x1f".join([from_email.lower(), when.astimezone(UTC).isoformat(), subject, body])
    return f"{hashlib.sha1(key.encode('utf-8', 'surrogatepass')).hexdigest()}@derived.warmintro"


def dedupe(records: Iterable[EmailRecord]) -> list[EmailRecord]:
    """First occurrence of each message_id, in order (the same mail is often in several exports)."""
    seen: set[str] = set()
    out: list[EmailRecord] = []
    for rec in records:
        if rec.message_id in seen:
            continue
        seen.add(rec.message_id)
        out.append(rec)
    return out


# --------------------------------------------------------------------------------------------------
# Headers


_ADDRESS_RE = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+$")
# A bare address that getaddresses would hand back unchanged: skips its parser (the import's hot path).
_BARE_ADDRESS_RE = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Mailing-list archives (pipermail) obfuscate "user@host" as "user at host".
_OBFUSCATED_RE = re.compile(r"([\w.+'-]+) at ((?:[\w-]+\.)+[A-Za-z]{2,})\b")


def _valid_address(addr: str) -> bool:
    return len(addr) <= 254 and bool(_ADDRESS_RE.match(addr))  # 254: RFC 5321's path limit


def _deobfuscate(value: str) -> str:
    return value if "@" in value else _OBFUSCATED_RE.sub(r"\1@\2", value)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _fix_surrogates(value: str) -> str:
    # Raw 8-bit header bytes arrive as surrogate escapes; most are UTF-8, the rest Windows-1252.
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    return _decode_bytes(raw, None)


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words -> text, tolerating unknown charsets and broken encodings."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        parts: list[str] = []
        for chunk, charset in decode_header(value):
            if isinstance(chunk, bytes):
                parts.append(_decode_bytes(chunk, charset))
            else:
                parts.append(chunk)
        return "".join(parts)


def _unfold(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def _header_addresses(value: str) -> list[tuple[str, str]]:
    """(name, lower-cased address) pairs; malformed entries in real mail are dropped, not fatal."""
    out: list[tuple[str, str]] = []
    for name, addr in getaddresses([_deobfuscate(value)]):
        addr = addr.strip().lower()
        if not _valid_address(addr):
            continue
        out.append((_unfold(_decode_words(name)).strip("'\" "), addr))
    return out


# The usual sender of an export, "First Last <user@host>": plain words (letters, single spaces, hyphens,
# apostrophes) and a bare address, which getaddresses would hand back unchanged; anything else is parsed.
_NAMED_ADDRESS_RE = re.compile(r"([A-Za-z]+(?:[ '-][A-Za-z]+)*) <(" + _BARE_ADDRESS_RE.pattern + ")>")


def _one_address(value: str, field: str) -> tuple[str, str]:
    if _BARE_ADDRESS_RE.fullmatch(value) and _valid_address(value):
        return "", value.lower()
    named = _NAMED_ADDRESS_RE.fullmatch(value)
    if named and _valid_address(named.group(2)):
        return named.group(1), named.group(2).lower()
    return _parsed_one_address(value, field)


def _parsed_one_address(value: str, field: str) -> tuple[str, str]:
    pairs = [(n, a) for n, a in getaddresses([_deobfuscate(value)]) if n or a]
    if len(pairs) != 1 or not _valid_address(pairs[0][1].strip()):
        raise _Invalid(f"'{field}' is not one email address: {value!r}")
    name, addr = pairs[0]
    return _unfold(_decode_words(name)).strip("'\" "), addr.strip().lower()


def _normalise_message_id(value: str) -> str | None:
    value = _unfold(value)
    if not value:
        return None
    bracketed = re.search(r"<([^<>\s]+)>", value)
    result = bracketed.group(1) if bracketed else value.strip("<> ")
    if len(result) > _MAX_ID_LENGTH:
        # The store keys emails by id (512 chars); a pathological header is hashed, still stable.
        result = f"{hashlib.sha1(result.encode('utf-8', 'surrogatepass')).hexdigest()}@hashed.warmintro"
    return result or None


_MAX_ID_LENGTH = 500


def _parse_date(value: Any) -> datetime:
    """ISO 8601 (date or datetime), RFC 2822, or unix seconds -> aware UTC; no zone means UTC."""
    if isinstance(value, bool):
        raise _Invalid(f"invalid date {value!r}")
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise _Invalid(f"invalid date {value!r}") from exc
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"invalid date {value!r}")
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                parsed = None
    if parsed is None:
        raise _Invalid(f"invalid date {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _date_from_mbox_line(line: str) -> datetime | None:
    # "From sender@example.com Thu Jan  4 10:00:00 2024" (asctime, no zone -> UTC)
    match = re.search(r"(\w{3})\s+(\w{3})\s+(\d{1,2})\s+(\d{1,2}:\d{2}:\d{2})\s+(\d{4})", line)
    if not match:
        return None
    try:
        parsed = datetime.strptime(" ".join(match.groups()[1:]), "%b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC)


# --------------------------------------------------------------------------------------------------
# Bodies


# Declared-charset fallbacks: ISO-8859-1 and US-ASCII labels very often hide Windows-1252 text.
_CP1252_FIRST = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "l1", "iso8859-1", "8859-1"}


def _decode_bytes(raw: bytes, charset: str | None) -> str:
    """Decode with the declared charset, then UTF-8, then Windows-1252; latin-1 never fails."""
    candidates: list[str] = []
    label = (charset or "").strip().strip('"').lower()
    if label in _CP1252_FIRST:
        candidates += ["utf-8", "cp1252"] if label in {"us-ascii", "ascii"} else ["cp1252"]
    elif label:
        # unknown-8bit, x-unknown, typos: no candidate, fall through to guessing
        with contextlib.suppress(LookupError):
            candidates.append(codecs.lookup(label).name)
    candidates += ["utf-8", "cp1252"]
    for name in dict.fromkeys(candidates):
        try:
            return raw.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("latin-1")


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)  # undoes base64 / quoted-printable
    if payload is None:
        payload = b""
    if not isinstance(payload, bytes):
        payload = str(payload).encode("utf-8", "surrogateescape")
    text = _decode_bytes(payload, part.get_content_charset())
    if part.get_content_subtype() == "plain" and str(part.get_param("format") or "").lower() == "flowed":
        delsp = str(part.get_param("delsp") or "").lower() == "yes"
        text = _unflow(_normalise_newlines(text), delsp)
    return text


def _extract_body(msg: Message) -> str:
    """Prefer text/plain, else text/html converted to text; attachments are ignored."""
    part: Message | None = None
    try:
        part = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    except Exception:
        part = None
    if part is None:
        # get_body gives up on some malformed trees; take the first inline text part instead.
        for candidate in msg.walk():
            if candidate.is_multipart() or candidate.get_content_maintype() != "text":
                continue
            if (candidate.get_content_disposition() or "inline") == "attachment":
                continue
            part = candidate
            break
    if part is None:
        return ""
    text = _part_text(part)
    if part.get_content_subtype() == "html":
        return html_to_text(text)
    return text


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: join soft-broken lines (ending in a space), keep quote depth."""
    out: list[str] = []
    pending: str | None = None
    pending_depth = -1
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        soft = content.endswith(" ") and content != "-- "
        if soft and delsp:
            content = content[:-1]
        if pending is not None and depth == pending_depth:
            content = pending + content
        elif pending is not None:
            out.append(">" * pending_depth + (" " if pending_depth else "") + pending)
        pending = None
        if soft:
            pending, pending_depth = content, depth
        else:
            out.append(">" * depth + (" " if depth else "") + content)
    if pending is not None:
        out.append(">" * pending_depth + (" " if pending_depth else "") + pending)
    return "\n".join(out)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_like_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html", "<body", "<div", "<p>", "<p ", "<table"))


class _HTMLText(HTMLParser):
    """HTML -> plain text: drops scripts/styles, keeps paragraph breaks, marks <blockquote> with '>'."""

    _SKIP = {"script", "style", "head", "title", "noscript", "template", "svg"}
    _BLOCK = {
        "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "table", "thead",
        "tbody", "tfoot", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "address",
        "figure", "form", "fieldset", "center", "hr",
    }  # fmt: skip
    _LINE = {"li", "tr", "dt", "dd"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._cur: list[str] = []
        self._cur_depth = 0
        self._skip = 0
        self._quote = 0
        self._pre = 0

    def _flush(self, force: bool = False) -> None:
        text = "".join(self._cur).strip()
        if text or force:
            prefix = "> " * self._cur_depth if text else ""
            self.lines.append(prefix + text)
        self._cur = []

    def _paragraph(self) -> None:
        self._flush()
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "br":
            self._flush(force=True)
        elif tag == "blockquote":
            self._paragraph()
            self._quote += 1
        elif tag in self._BLOCK:
            self._paragraph()
            if tag == "pre":
                self._pre += 1
        elif tag in self._LINE:
            self._flush()
            if tag == "li":
                self._add("- ")
        elif tag in {"td", "th"} and self._cur:
            self._add(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "blockquote":
            self._paragraph()
            self._quote = max(0, self._quote - 1)
        elif tag in self._BLOCK:
            self._paragraph()
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag in self._LINE:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._flush(force=True)
        elif tag == "hr":
            self._paragraph()

    def _add(self, text: str) -> None:
        if not self._cur or not "".join(self._cur).strip():
            self._cur_depth = self._quote
        self._cur.append(text)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            first, *rest = data.split("\n")
            self._add(first)
            for line in rest:
                self._flush(force=True)
                self._add(line)
            return
        self._add(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        self._flush()
        joined = "\n".join(line.rstrip() for line in self.lines)
        return re.sub(r"\n{3,}", "\n\n", joined).strip("\n")


def html_to_text(html: str) -> str:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return parser.text().replace("\xa0", " ")


# --------------------------------------------------------------------------------------------------
# clean_body

_I = re.IGNORECASE
_SIG_DELIMITER = re.compile(r"^\s{0,8}--\s?$")  # "-- " (RFC 3676), also indented (Outlook quoting)
_QUOTE = re.compile(r"^\s*>")
_ATTRIBUTION_END = re.compile(
    r"\b(wrote|writes|a [ée?]crit|escribi[óo?]|ha scritto|schreef|skrev|napisa[łl])[\s?\xa0]*:\s*$", _I
)
_ATTRIBUTION_DE = re.compile(r"^\s*Am\s.{4,200}\bschrieb\b.*:\s*$")
_ATTRIBUTION_START = re.compile(r"^\s*(On|Le|El|Il|Op|Den|W dniu)\s.*\d", _I)
# "On Mon, Apr 16, 2018 at 9:40 AM, Name" whose "wrote:" line was lost (list archives drop it). With a
# weekday and a time it is always an attribution; with only one of them, only when nothing but a
# blank line, a quote or a snip marker follows (so "On 3 May we shipped 1.2." stays).
_ATTRIBUTION_STRONG = re.compile(r"^\s*On\s+(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s.{0,40}\d{1,2}:\d{2}")
_ATTRIBUTION_DANGLING = re.compile(
    r"^\s*On\s(?=.*(\d{1,2}:\d{2}|\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,)).{4,200}(?<![.!?:;])$"
)
_ENDS_WITH_TIME = re.compile(r"(\d{1,2}:\d{2}(:\d{2})?|[+-]\d{4}|\b[AP]M|GMT|UTC|\(\w+\))\s*$")
_SNIP = re.compile(r"^\s*(\[\s*(\.\.\.|…|snip\w*)\s*\]|\.\.\.|…|<snip\w*>)\s*$", _I)
_CUT_MARKERS = [
    re.compile(r"^[\s\-_=*?]*Original Message[\s\-_=*?]*$", _I),
    re.compile(r"^[\s\-_=*?>]*(Forwarded message|Begin forwarded message:?|Weitergeleitete Nachricht)[\s\-_=*?:]*$", _I),
    re.compile(r"^\s*You received this message because you are subscribed to", _I),
    re.compile(r"^\s*To unsubscribe from this group", _I),
    re.compile(r"^\s*PLEASE do read the posting guide", _I),
    # Legal footers (not own sentences that merely start with "Disclaimer: I ...").
    re.compile(r"^\s*CONFIDENTIALITY( NOTICE)?\s*[:\-]", _I),
    re.compile(r"^\s*DISCLAIMER\b"),
    re.compile(r"^\s*Disclaimer\s*:\s*(https?://|www\.)", _I),
    re.compile(r"^\s*Privileged\s*(/|and|&)\s*Confidential", _I),
    re.compile(r"^\s*(This|The) (e-?mail|message|communication|transmission)\b.{0,60}\b(and any (files|attachments)"
               r"|is confidential|may contain (legally )?(privileged|confidential)|(is|are) intended (solely|only)"
               r"|(is|are) for the (sole|exclusive) use)", _I),
    re.compile(r"^\s*(This|The) (e-?mail|message) and any attachments", _I),
    re.compile(r"^\s*The information (contained )?in this (e-?mail|message|communication)", _I),
    re.compile(r"^\s*If you (are not|have received this).{0,40}(intended recipient|in error)", _I),
]  # fmt: skip
_REMOVE_LINES = [
    re.compile(r"^\s*\[\[alternative (HTML|text/enriched) version deleted\]\]\s*$", _I),
    re.compile(r"^\s*\[\[elided .* spam\]\]\s*$", _I),
    re.compile(r"^\s*(Sent from|Envoy[ée] de mon|Enviado desde mi|Von meinem) .{0,40}"
               r"(iPhone|iPad|Android|BlackBerry|Samsung|Galaxy|mobile|smartphone|Mobile|phone|tablet)\b.{0,30}$", _I),
    re.compile(r"^\s*Sent (from|with|via) (Gmail|Outlook|Yahoo|AOL|Mail for Windows|ProtonMail|Proton Mail"
               r"|Superhuman|Spark|BlueMail|my .{1,30})\b.{0,40}$", _I),
    re.compile(r"^\s*Get (Outlook|BlueMail|TypeApp) for \w+\s*$", _I),
]  # fmt: skip


def _any_of(patterns: list[re.Pattern[str]]) -> re.Pattern[str]:
    """One pattern that matches where any of `patterns` matches (each keeps its own case rule): one regex call
    per line instead of one per pattern, which was most of the cost of cleaning 100k bodies."""
    parts = [f"(?i:{p.pattern})" if p.flags & re.IGNORECASE else f"(?:{p.pattern})" for p in patterns]
    return re.compile("|".join(parts))


_CUT_ANY = _any_of(_CUT_MARKERS)
_REMOVE_ANY = _any_of(_REMOVE_LINES)
_ENDS_SENTENCE = re.compile(r"[.!?]\s*$")
_ENDS_CLAUSE = re.compile(r"[.!?:;,]\s*$")
_MAILING_LIST_END = re.compile(r"\bmailing list\s*$", _I)
_LISTINFO_URL = re.compile(r"https?://\S*(listinfo|mailman)", _I)
_HEADER_FROM = re.compile(r"^\s*\*?From\s*:\*?\s+\S", _I)
_HEADER_FOLLOW = re.compile(r"^\s*\*?(Sent|Date|To|Subject|Cc)\s*:\*?\s*", _I)
_LIST_FOOTER_RULE = re.compile(r"^\s*_{10,}\s*$")
_LIST_FOOTER_TEXT = re.compile(r"(mailing list|/listinfo/|/mailman/|posting[- ]guide)", _I)
_SEPARATOR = re.compile(r"^\s*([_\-=*~#.]\s*){3,}$")


def _attribution_span(lines: list[str], i: int) -> int:
    """How many lines starting at `i` form a reply attribution ("On <date>, <name> wrote:"), or 0."""
    line = lines[i]
    if len(line) <= 300 and (_ATTRIBUTION_END.search(line) or _ATTRIBUTION_DE.match(line)):
        return 1
    if _ATTRIBUTION_START.match(line) and not _ENDS_SENTENCE.search(line):
        # Clients wrap long attributions: "On 20 April 2017 at 22:30, Name <addr>\nwrote:"; a finished
        # sentence ("On 3 servers it fails.") is the author's own line, not the start of one.
        joined = line
        for j in range(i + 1, min(i + 4, len(lines))):
            if not lines[j].strip():
                break
            joined += " " + lines[j].strip()
            if len(joined) > 400:
                break
            if _ATTRIBUTION_END.search(lines[j]) or _ATTRIBUTION_DE.match(joined):
                return j - i + 1
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    if _ATTRIBUTION_STRONG.match(line) and len(line) <= 200:
        after = lines[i + 2] if i + 2 < len(lines) else ""
        # "On Sat, 10 Dec 2022 14:00:22 -0800\nRoy Mendelssohn via R-package-devel": the name wrapped.
        if (
            _ENDS_WITH_TIME.search(line)
            and nxt.strip()
            and len(nxt) < 80
            and not _ENDS_CLAUSE.search(nxt)
            and not after.strip()
        ):
            return 2
        return 1
    if _ATTRIBUTION_DANGLING.match(line) and (not nxt.strip() or _QUOTE.match(nxt) or _SNIP.match(nxt)):
        return 1
    return 0


def _is_header_block(lines: list[str], i: int) -> bool:
    """An Outlook-style quoted header: "From: ..." followed closely by "Sent:/Date:/To:/Subject:"."""
    if not _HEADER_FROM.match(lines[i]):
        return False
    follow = 0
    for j in range(i + 1, min(i + 6, len(lines))):
        if _HEADER_FOLLOW.match(lines[j]):
            follow += 1
        elif lines[j].strip():
            # A wrapped From: value may continue on the next line; anything else ends the block.
            if follow == 0 and j == i + 1:
                continue
            break
    return follow >= 1


def _is_list_footer(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _LIST_FOOTER_RULE.match(line):
        nxt = [ln for ln in lines[i + 1 : i + 4] if ln.strip()][:2]
        return any(_LIST_FOOTER_TEXT.search(ln) for ln in nxt)
    # "Foo at example.org mailing list" followed by its listinfo URL, without the rule above.
    if _MAILING_LIST_END.search(line) and "@" in _deobfuscate(line) and len(line) < 120:
        nxt = [ln for ln in lines[i + 1 : i + 3] if ln.strip()][:1]
        return any(_LISTINFO_URL.search(ln) for ln in nxt)
    return False


def clean_body(text: str) -> str:
    """The author's own words: no quoted replies, attributions, signature block or footers.

    The sign-off ("Best,\\nJohn") is kept: only what follows a "-- " signature delimiter is dropped.
    Everything after an Outlook "-----Original Message-----" / "From: ... Sent: ..." block, a
    forwarded-message marker, a mailing-list footer or a legal notice is dropped too, since it is
    never the author's text. Inline replies between quoted lines are kept.
    """
    lines = [ln.rstrip() for ln in _normalise_newlines(text).replace("\xa0", " ").split("\n")]
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _QUOTE.match(line):
            i += 1
            continue
        if (
            _SIG_DELIMITER.match(line)
            or _CUT_ANY.match(line)
            or _is_header_block(lines, i)
            or _is_list_footer(lines, i)
        ):
            break
        span = _attribution_span(lines, i)
        if span:
            i += span
            continue
        if _REMOVE_ANY.match(line):
            i += 1
            continue
        out.append(line)
        i += 1
    # Drop separator rules and blank lines left dangling at the end (Outlook's "____" before From:).
    while out and (not out[-1].strip() or _SEPARATOR.match(out[-1])):
        out.pop()
    while out and not out[0].strip():
        out.pop(0)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))
