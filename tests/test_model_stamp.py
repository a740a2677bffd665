"""The model file's stamp: start-up trusts it only while the file's stat is unchanged,
and a changed model file is still caught."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

import indexer.model_stamp as model_stamp
from indexer.errors import ModelLoadError
from indexer.model_stamp import STAMP_SUFFIX, sha256_matches, write_stamp
from indexer.onnx_encoder import CONFIG_FILE, OnnxEncoder, OnnxModelConfig

pytestmark = pytest.mark.fast


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every full hash taken, by path."""
    taken: list[Path] = []
    real = model_stamp.file_sha256

    def counting(path: Path) -> str:
        taken.append(path)
        return real(path)

    monkeypatch.setattr(model_stamp, "file_sha256", counting)
    return taken


def _model(tmp_path: Path, content: bytes = b"weights " * 1000) -> tuple[Path, str]:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    return path, hashlib.sha256(content).hexdigest()


def test_the_first_check_hashes_and_stamps_later_ones_do_not(
    tmp_path: Path, hashes: list[Path]
) -> None:
    path, sha256 = _model(tmp_path)
    assert sha256_matches(path, sha256)
    assert sha256_matches(path, sha256)
    assert sha256_matches(path, sha256)
    assert hashes == [path]
    stamp = json.loads((tmp_path / f"model.onnx{STAMP_SUFFIX}").read_text(encoding="utf-8"))
    assert stamp["sha256"] == sha256 and stamp["size"] == path.stat().st_size


def test_a_stamp_written_at_export_spares_even_the_first_hash(
    tmp_path: Path, hashes: list[Path]
) -> None:
    path, sha256 = _model(tmp_path)
    write_stamp(path, sha256)
    assert sha256_matches(path, sha256)
    assert hashes == []


def test_a_replaced_file_of_the_same_size_and_mtime_is_hashed_and_rejected(
    tmp_path: Path, hashes: list[Path]
) -> None:
    path, sha256 = _model(tmp_path)
    assert sha256_matches(path, sha256)
    before = path.stat()
    other = tmp_path / "other.onnx"
    other.write_bytes(b"WEIGHTS " * 1000)  # same size
    os.utime(other, ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime
    os.replace(other, path)
    assert not sha256_matches(path, sha256)
    assert not sha256_matches(path, sha256)  # a mismatch is never stamped
    assert hashes == [path, path, path]


def test_a_file_edited_in_place_is_hashed_and_rejected(tmp_path: Path, hashes: list[Path]) -> None:
    path, sha256 = _model(tmp_path)
    assert sha256_matches(path, sha256)
    with path.open("ab") as handle:
        handle.write(b"appended")
    assert not sha256_matches(path, sha256)
    assert hashes == [path, path]


def test_a_wrong_expected_hash_is_not_answered_from_the_stamp(
    tmp_path: Path, hashes: list[Path]
) -> None:
    path, sha256 = _model(tmp_path)
    write_stamp(path, sha256)
    assert not sha256_matches(path, "0" * 64)
    assert hashes == [path]


@pytest.mark.parametrize("stamp_text", ["", "not json", "[]", '{"sha256": 5}'])
def test_a_damaged_stamp_means_a_full_hash(
    tmp_path: Path, hashes: list[Path], stamp_text: str
) -> None:
    path, sha256 = _model(tmp_path)
    (tmp_path / f"model.onnx{STAMP_SUFFIX}").write_text(stamp_text, encoding="utf-8")
    assert sha256_matches(path, sha256)
    assert hashes == [path]


def test_a_read_only_directory_only_costs_the_hash(
    tmp_path: Path, hashes: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, sha256 = _model(tmp_path)

    def refuse(*_: object, **__: object) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(Path, "write_text", refuse)
    assert sha256_matches(path, sha256)
    assert sha256_matches(path, sha256)
    assert hashes == [path, path]


def test_the_encoder_refuses_a_changed_model_file_despite_its_stamp(tmp_path: Path) -> None:
    path, sha256 = _model(tmp_path)
    OnnxModelConfig(("input_ids", "attention_mask"), ("mean",), True, 128, 4).write(
        tmp_path / CONFIG_FILE
    )
    write_stamp(path, sha256)
    path.write_bytes(b"WEIGHTS " * 1001)
    with pytest.raises(ModelLoadError, match="does not match the sha256"):
        OnnxEncoder(tmp_path, model_ref="test", expected_sha256=sha256)
