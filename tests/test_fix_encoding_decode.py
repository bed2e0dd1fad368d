"""fix-encoding, bytes to text: BOM, strict UTF-8, CJK candidates scored, chardet voting, binary rejected."""

from __future__ import annotations

import contextlib
import random
import re

import pytest

from tests.conftest import FIXTURES
from vocclean.text.decode import NotText, decode_bytes, preferred_codec

SAMPLES = FIXTURES / "fix_encoding"
XWLB = (SAMPLES / "xwlb_20220924-02.utf8.txt").read_text(encoding="utf-8")
TW = (SAMPLES / "tw_ltn.utf8.txt").read_text(encoding="utf-8")

# chardet_testdata folders of CJK and Unicode encodings (EUC-TW has no Python codec).
CJK_AND_UTF_FOLDERS = [
    "Big5",
    "CP932",
    "CP949",
    "EUC-JP",
    "EUC-KR",
    "GB2312",
    "Johab",
    "SHIFT_JIS",
    "UTF-16",
    "UTF-16BE",
    "UTF-16LE",
    "UTF-32",
    "UTF-32BE",
    "UTF-32LE",
    "iso-2022-jp",
    "iso-2022-kr",
    "utf-8",
    "utf-8-sig",
]


def test_gb18030_file_decodes_to_its_text():
    decoded = decode_bytes((SAMPLES / "xwlb_20220924-02.gb18030.txt").read_bytes())
    assert (decoded.text, decoded.encoding) == (XWLB, "gb18030")


def test_big5_file_decodes_as_big5hkscs():
    decoded = decode_bytes((SAMPLES / "tw_ltn.big5.txt").read_bytes())
    assert (decoded.text, decoded.encoding) == (TW, "big5hkscs")


def test_utf16_without_bom_is_found_by_scoring():
    decoded = decode_bytes((SAMPLES / "xwlb_20220924-02.utf-16le-nobom.txt").read_bytes())
    assert (decoded.text, decoded.encoding) == (XWLB, "utf-16-le")


def test_bom_decides_and_is_removed():
    decoded = decode_bytes((SAMPLES / "xwlb_20220924-02.utf-16-bom.txt").read_bytes())
    assert decoded.text == XWLB
    assert decode_bytes(b"\xef\xbb\xbf" + XWLB.encode()).text == XWLB


def test_strict_utf8_comes_first():
    assert decode_bytes(XWLB.encode()).encoding == "utf-8"


def test_gbk_answer_decodes_as_gb18030_so_names_outside_gb2312_survive():
    text = "朱镕基、张喆和王堃出席会议。"
    decoded = decode_bytes(text.encode("gb18030"))
    assert (decoded.text, decoded.encoding) == (text, "gb18030")
    assert preferred_codec("GB2312") == preferred_codec("gbk") == "gb18030"
    assert preferred_codec("big5") == "big5hkscs"


def test_forced_encoding_replaces_and_counts_undecodable_bytes():
    decoded = decode_bytes("中国".encode("gbk") + b"\xff\xff" + "人民".encode("gbk"), encoding="gbk")
    assert decoded.text == "中国\ufffd\ufffd人民"
    assert (decoded.encoding, decoded.replaced_bytes) == ("gb18030", 2)


def test_png_is_rejected_as_binary():
    with pytest.raises(NotText, match="binary data, not text"):
        decode_bytes((SAMPLES / "not_text.png").read_bytes())


def test_random_bytes_are_rejected_as_binary():
    data = random.Random(3).randbytes(4000)
    with pytest.raises(NotText, match=r"binary data, not text \((NUL bytes|control ratio)"):
        decode_bytes(data)


def test_short_gb18030_and_big5_excerpts_are_told_apart():
    """The hard case for detectors: 8-40 characters, where chardet alone often answers EUC-JP."""
    rng = random.Random(5)
    cases = []
    for text, codec in ((XWLB, "gb18030"), (TW, "big5hkscs")):
        for _ in range(40):
            start, length = rng.randrange(0, len(text) - 40), rng.randrange(8, 40)
            piece = text[start : start + length]
            if not piece.isascii():
                cases.append((piece, codec))
    right = sum(decode_bytes(piece.encode(codec)).text == piece for piece, codec in cases)
    assert right >= 0.95 * len(cases)


CPYTHON_CJK = [
    "big5",
    "big5hkscs",
    "cp949",
    "euc_jisx0213",
    "euc_jp",
    "euc_kr",
    "gb18030",
    "gb2312",
    "gbk",
    "hz",
    "iso2022_jp",
    "iso2022_kr",
    "johab",
    "shift_jis",
    "shift_jisx0213",
]


@pytest.mark.shared_data
@pytest.mark.parametrize("name", CPYTHON_CJK)
def test_cpython_cjkencodings_file_decodes_to_its_utf8_twin(shared_data, name):
    folder = shared_data / "cpython_cjkencodings"
    decoded = decode_bytes((folder / f"{name}.txt").read_bytes())
    assert decoded.text == (folder / f"{name}-utf8.txt").read_text(encoding="utf-8")


def _expected_codec(data: bytes, folder: str) -> str:
    """The folder's codec, or the file's own ``Expect:`` header (chardet's convention) when it decodes."""
    header = re.search(rb"Expect:\s*([A-Za-z0-9_-]+)", data[:1000])
    if header:
        try:
            data.decode(header.group(1).decode())
            return header.group(1).decode()
        except (LookupError, UnicodeDecodeError):
            pass
    return folder


@pytest.mark.shared_data
def test_chardet_testdata_cjk_and_utf_files_decode_as_their_folder_codec(shared_data):
    files = [
        path
        for folder in CJK_AND_UTF_FOLDERS
        for path in sorted((shared_data / "chardet_testdata" / folder).iterdir())
    ]
    assert len(files) == 180
    right = 0
    for path in files:
        data = path.read_bytes()
        with contextlib.suppress(NotText):
            right += decode_bytes(data).text == data.decode(_expected_codec(data, path.parent.name))
    assert right / len(files) >= 0.98
