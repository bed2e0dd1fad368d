"""Bytes to text: BOM, strict UTF-8, then the best-scoring CJK reading.

Trying codecs in order fails on Chinese: Big5 bytes nearly always decode
without error as GB18030, and EUC-KR bytes always do. So every candidate that
could be right is decoded and the decoded texts are scored
(:func:`vocclean.text.hanzi.plausibility`); chardet 7 votes by adding its own
answer to the candidates and a small bonus to it, never by its confidence.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import chardet

from vocclean.text.hanzi import plausibility


class NotText(ValueError):
    """The bytes are not text in any encoding we know (an image, an archive, random bytes)."""


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    replaced_bytes: int = 0


@dataclass(frozen=True, slots=True)
class _Family:
    """Codecs that read the same script; the first that decodes strictly wins."""

    language: str
    codecs: tuple[str, ...]


# A GB2312/GBK answer decodes as GB18030 (its superset: 镕, 喆, 堃 are outside
# GB2312); Big5 as Big5-HKSCS, which reads plain Big5 identically.
_FAMILIES: dict[str, _Family] = {
    "gb18030": _Family("zh", ("gb18030",)),
    "big5hkscs": _Family("zh", ("big5hkscs", "cp950")),
    "utf-16-le": _Family("zh", ("utf-16-le",)),
    "utf-16-be": _Family("zh", ("utf-16-be",)),
    "utf-32-le": _Family("zh", ("utf-32-le",)),
    "utf-32-be": _Family("zh", ("utf-32-be",)),
    "shift_jis": _Family("ja", ("shift_jis", "cp932", "shift_jis_2004")),
    "euc_jp": _Family("ja", ("euc_jp", "euc_jis_2004")),
    "euc_kr": _Family("ko", ("euc_kr", "cp949")),
    "johab": _Family("ko", ("johab",)),
}
_FAMILY_OF_CODEC = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "big5hkscs": "big5hkscs",
    "cp950": "big5hkscs",
    "shift_jis": "shift_jis",
    "cp932": "shift_jis",
    "shift_jis_2004": "shift_jis",
    "shift_jisx0213": "shift_jis",
    "euc_jp": "euc_jp",
    "euc_jis_2004": "euc_jp",
    "euc_jisx0213": "euc_jp",
    "euc_kr": "euc_kr",
    "cp949": "euc_kr",
    "johab": "johab",
}
_ESCAPE_CODECS = (
    "iso2022_jp",
    "iso2022_jp_1",
    "iso2022_jp_2",
    "iso2022_jp_3",
    "iso2022_jp_ext",
    "iso2022_kr",
    "hz",
)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b\x08", "gzip archive"),
    (b"\x28\xb5\x2f\xfd", "zstd archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"\x7fELF", "ELF executable"),
)
_ASCII_RUNS = re.compile("[\x00-\x7f]+")
# Accented Latin letters (and combining accents): a CJK codec maps them from a block of its own
# (Big5-HKSCS's romanisation row, GBK's pinyin row, JIS X 0212), so a reading that has them is
# not junk; they count as letters, as ASCII letters would.
_LATIN_LETTERS = re.compile("[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0300-\u036f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_SAMPLE_CHARS = 20_000
_CHARDET_BONUS = 0.05
# Below this no CJK reading looks like writing and chardet's answer decides.
_MIN_CJK_SCORE = 0.5


def preferred_codec(name: str) -> str:
    """The codec vocclean decodes with for an encoding name (GBK -> gb18030, Big5 -> big5hkscs).

    LookupError for a name Python does not know; ValueError for a codec that does not decode bytes
    to text (base64, rot13, idna: a text codec decodes any bytes, with replacements)."""
    codec = codecs.lookup(name).name
    try:
        bytes(range(256)).decode(codec, "replace")
    except (LookupError, UnicodeError):
        raise ValueError(f"{name!r} does not decode bytes to text") from None
    family = _FAMILY_OF_CODEC.get(codec)
    if family in ("gb18030", "big5hkscs"):
        return family
    return codec


def decode_with_replacement(data: bytes, codec: str) -> Decoded:
    """Decode with ``codec``; each undecodable byte becomes U+FFFD and is counted."""
    try:
        return Decoded(data.decode(codec), codec)
    except UnicodeDecodeError:
        pass
    text = data.decode(codec, errors="surrogateescape")
    text, replaced = re.subn("[\udc80-\udcff]", "\ufffd", text)
    return Decoded(text, codec, replaced)


def _strict(data: bytes, family: _Family) -> tuple[str, str] | None:
    for codec in family.codecs:
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return None


def _chardet_codec(data: bytes) -> tuple[str | None, str | None]:
    guess = chardet.detect(data)
    name = guess.get("encoding")
    if not name:
        return None, None
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None, None
    return codec, guess.get("language")


def _signature(data: bytes) -> str | None:
    """Why ``data`` is a known binary format (an image, an archive...), not text in any encoding."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return f"binary data, not text ({kind} signature)"
    return None


def _binary_reason(data: bytes) -> str | None:
    signature = _signature(data)
    if signature:
        return signature
    controls = len(_CONTROL_BYTES.findall(data[:65536]))
    sample = min(len(data), 65536)
    if b"\x00" in data[:65536]:
        return f"binary data, not text (NUL bytes; control ratio {controls / sample:.3f})"
    if controls >= 2 and controls > 0.01 * sample:
        return f"binary data, not text (control ratio {controls / sample:.3f})"
    return None


def _escape_encoded(data: bytes) -> Decoded | None:
    """7-bit ISO-2022 or HZ text, which is also valid ASCII."""
    if b"\x1b" not in data and b"~{" not in data:
        return None
    codec, _ = _chardet_codec(data)
    if codec not in _ESCAPE_CODECS:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    if text == data.decode("ascii"):
        return None
    return Decoded(text, codec)


def _candidates(data: bytes, chardet_family: str | None) -> list[str]:
    names = ["gb18030", "big5hkscs"]
    if len(data) % 2 == 0:
        names += ["utf-16-le", "utf-16-be"]
    if len(data) % 4 == 0 and b"\x00" in data:
        names += ["utf-32-le", "utf-32-be"]
    if chardet_family and chardet_family not in names:
        names.append(chardet_family)
    return names


def _reading_score(text: str, family_name: str, language: str) -> float:
    """Plausibility of one reading; ASCII-compatible readings are judged on their non-ASCII part.

    ASCII bytes read the same in every ASCII-compatible codec, so they only
    dilute the difference; UTF-16/32 readings are judged whole. Accented Latin
    letters count as letters (:data:`_LATIN_LETTERS`), whatever the language.
    """
    sample = text[:_SAMPLE_CHARS]
    if family_name.startswith("utf-"):
        return plausibility(sample, language)
    sample = _ASCII_RUNS.sub("", sample)
    rest = _LATIN_LETTERS.sub("", sample)
    letters = len(sample) - len(rest)
    if not letters:
        return plausibility(sample, language)
    return (plausibility(rest, language) * len(rest) + letters) / len(sample)


def _best_cjk(data: bytes, chardet_family: str | None) -> tuple[float, Decoded] | None:
    """The best-scoring strict CJK reading of ``data`` and its score, or None."""
    best: tuple[float, Decoded] | None = None
    for name in _candidates(data, chardet_family):
        family = _FAMILIES[name]
        decoded = _strict(data, family)
        if decoded is None:
            continue
        text, codec = decoded
        score = _reading_score(text, name, family.language)
        if name == chardet_family:
            score += _CHARDET_BONUS
        if best is None or score > best[0]:
            best = (score, Decoded(text, codec))
    return best


def decode_bytes(data: bytes, encoding: str | None = None) -> Decoded:
    """Decode a plain-text file's bytes; raise :class:`NotText` for binary data.

    Order: ``encoding`` if given (undecodable bytes replaced and counted; a file signature such
    as PNG's still rejects);
    a BOM; strict UTF-8 (or 7-bit ISO-2022/HZ); then the best-scoring of the
    CJK candidates (GB18030, Big5-HKSCS, BOM-less UTF-16/32, and chardet's
    answer with a small bonus) when it looks like writing; then chardet's
    non-CJK answer (Latin, Cyrillic...); as a last resort GB18030 with
    replacement.
    """
    if encoding:  # the file's signature still counts: control bytes may be the codec's (UTF-16)
        signature = _signature(data)
        if signature:
            raise NotText(signature)
        return decode_with_replacement(data, preferred_codec(encoding))
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return decode_with_replacement(data[len(bom) :], codec)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        if text.isascii():
            escaped = _escape_encoded(data)
            if escaped:
                return escaped
        return Decoded(text, "utf-8")

    chardet_codec, _ = _chardet_codec(data)
    chardet_family = _FAMILY_OF_CODEC.get(chardet_codec or "")
    best = _best_cjk(data, chardet_family)
    if best is not None and best[0] >= _MIN_CJK_SCORE:
        return best[1]
    reason = _binary_reason(data)
    if reason:
        raise NotText(reason)
    if chardet_codec and chardet_codec not in ("ascii", "utf-8"):
        return decode_with_replacement(data, preferred_codec(chardet_codec))
    if best is not None and best[0] > 0:
        return best[1]
    return decode_with_replacement(data, "gb18030")
