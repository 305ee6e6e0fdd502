"""Which files a `--data` argument names: a file as given, a directory as every data file under it (a partitioned
export, year=2025/province=H40/*.parquet), a glob as the files it matches; and the files of a directory left unread."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from harness.core.errors import P111Error

# The file names a directory or glob expands to; anything else there (a README, a compressed export) is named as
# unread, and a hidden file or a job's marker (.crc, _SUCCESS) is skipped without a word.
DATA_SUFFIXES = (".ndjson", ".jsonl", ".json", ".csv", ".parquet")


class DatasetError(P111Error):
    """A file that cannot be read or is not the kind of data it claims to be."""


def expand_paths(paths: Sequence[Path | str], unread: list[Path] | None = None) -> list[Path]:
    """Each path as given, a directory as every data file under it (sorted; hidden files skipped), a glob that names
    no existing file as the files it matches (`**` descends). A directory or glob that holds no data file is an
    error, so a mistyped partition does not pass for an empty year. `unread` receives the files of a directory left
    out for their names (a compressed export, `dossiers.ndjson.gz`, a `.txt`), to be said to the user, so that no data
    is left out unseen."""
    expanded: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            under = _files_under(path)
            found = [item for item in under if _is_data(item)]
            if unread is not None:
                unread.extend(item for item in under if not _is_data(item))
            if not found:
                raise DatasetError(f"{path}: thư mục không có tệp dữ liệu / no data file ({', '.join(DATA_SUFFIXES)}) "
                                   "in this directory")
            expanded.extend(found)
        elif not path.exists() and glob.has_magic(str(raw)):
            found = sorted(Path(match) for match in glob.glob(str(raw), recursive=True) if Path(match).is_file())
            if not found:
                raise DatasetError(f"{raw}: không có tệp nào khớp / no file matches this pattern")
            expanded.extend(found)
        else:
            expanded.append(path)
    return expanded


def _files_under(directory: Path) -> list[Path]:
    """Every file under `directory`, sorted, but hidden ones and markers (a part of its path starts with . or _)."""
    return sorted(
        item for item in directory.rglob("*")
        if item.is_file() and not any(part.startswith((".", "_")) for part in item.relative_to(directory).parts)
    )


def _is_data(path: Path) -> bool:
    return path.name.lower().endswith(DATA_SUFFIXES)
