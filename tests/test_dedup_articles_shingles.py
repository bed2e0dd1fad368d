"""Shingles and MinHash for dedup-articles: what counts as the same text, and the hashing maths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vocclean.text.minhash import (
    band_keys,
    candidate_probability,
    distinct_values,
    jaccard,
    leading,
    lsh_params,
    signatures,
)
from vocclean.text.shingles import Shingler, shingle_strings, unit_strings


@pytest.fixture(scope="module")
def shingler() -> Shingler:
    return Shingler(5)


def shingle_set(shingler: Shingler, text: str) -> set[int]:
    return set(shingler.batch([text]).hashes.tolist())


def test_each_hanzi_is_a_unit_and_each_latin_word_is_one(shingler):
    assert unit_strings("新闻联播 Hello, World 2024年", shingler) == [
        "新",
        "闻",
        "联",
        "播",
        "hello",
        "world",
        "2024",
        "年",
    ]


def test_width_case_and_traditional_fold_to_the_same_units(shingler):
    assert unit_strings("ＡＢＣ１２ 國家發展", shingler) == unit_strings("abc12 国家发展", shingler)


def test_punctuation_and_whitespace_only_separate_units(shingler):
    assert unit_strings("会议强调，要 牢记（使命）。", shingler) == unit_strings(
        "会议强调要牢记使命", shingler
    )


def test_a_separator_between_latin_words_keeps_them_apart(shingler):
    assert unit_strings("hello world", shingler) != unit_strings("helloworld", shingler)


def test_exact_keys_equal_for_folded_equal_texts_and_differ_otherwise(shingler):
    keys = shingler.batch(["国家发展，abc。", "國家發展 ABC", "国家发展abd", ""]).keys
    assert keys[0] == keys[1]
    assert keys[0] != keys[2]
    assert keys[3] == 0 and keys[0] != 0


def test_exact_key_depends_on_unit_order(shingler):
    keys = shingler.batch(["甲乙丙丁戊己庚辛", "己庚辛甲乙丙丁戊"]).keys
    assert keys[0] != keys[1]


def test_lone_surrogates_are_separators_not_errors(shingler):
    assert unit_strings("a\udfffb", shingler) == ["a", "b"]
    assert shingler.batch(["\ud800", "a\udfffb"]).keys[0] == 0


def test_a_text_shorter_than_ngram_has_one_shingle_and_an_empty_text_none(shingler):
    batch = shingler.batch(["中文", "", "，。"])
    assert batch.offsets.tolist() == [0, 1, 1, 1]


def test_shingles_do_not_cross_text_boundaries(shingler):
    alone = [shingle_set(shingler, t) for t in ("甲乙丙丁戊己", "庚辛壬癸子丑")]
    batch = shingler.batch(["甲乙丙丁戊己", "庚辛壬癸子丑"])
    assert [set(batch.doc_hashes(i).tolist()) for i in range(2)] == alone


texts = st.lists(
    st.text(alphabet=st.sampled_from("国家發展中文字ab cD1２，。 \n"), max_size=40),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(texts)
def test_vectorised_shingles_match_the_python_reference(shingler, batch_texts):
    batch = shingler.batch(batch_texts)
    for i, text in enumerate(batch_texts):
        reference = shingle_strings(unit_strings(text, shingler), 5)
        hashes = batch.doc_hashes(i).tolist()
        assert len(hashes) == len(reference)
        # equal shingle strings hash equally, different ones (almost surely) differently
        assert len(set(hashes)) == len(set(reference))
        assert [hashes.index(h) for h in hashes] == [reference.index(s) for s in reference]


def test_jaccard_of_sorted_distinct_arrays():
    a = np.array([1, 2, 3, 4], dtype=np.uint32)
    b = np.array([3, 4, 5, 6], dtype=np.uint32)
    assert jaccard(a, b) == pytest.approx(2 / 6)
    assert jaccard(a, a) == 1.0
    assert jaccard(a, np.array([], dtype=np.uint32)) == 0.0


def test_distinct_values_are_sorted_and_unique_per_text():
    hashes = np.array([5, 3, 5, 9, 9, 1], dtype=np.uint32)
    values, counts = distinct_values(hashes, np.array([0, 3, 3, 6]))
    assert counts.tolist() == [2, 0, 2]
    assert values.tolist() == [3, 5, 1, 9]


def test_leading_keeps_the_first_shingles_of_each_text():
    hashes = np.arange(10, dtype=np.uint32)
    lead, offsets = leading(hashes, np.array([0, 7, 10]), 4)
    assert lead.tolist() == [0, 1, 2, 3, 7, 8, 9]
    assert offsets.tolist() == [0, 4, 7]


def test_signature_agreement_estimates_jaccard():
    rng = np.random.default_rng(3)
    pairs, estimates, truths = 40, [], []
    for k in range(pairs):
        pool = rng.integers(0, 2**32, 3000, dtype=np.uint32)
        shared = 200 + 20 * k
        a, b = pool[:1000], pool[1000 - shared : 2000 - shared]
        sig = signatures(np.concatenate([a, b]), np.array([0, 1000, 2000]), 128)
        estimates.append(np.mean(sig[0] == sig[1]))
        truths.append(shared / (2000 - shared))
    errors = np.array(estimates) - np.array(truths)
    assert abs(errors.mean()) < 0.025  # unbiased (4 standard errors)
    assert np.abs(errors).max() < 0.2  # about 4 standard deviations at 128 bins


def test_short_texts_are_densified_without_empty_bins():
    hashes = np.array([11, 22, 33], dtype=np.uint32) * np.uint32(2654435761)
    sig = signatures(hashes, np.array([0, 3]), 128)
    assert set(sig[0].tolist()) <= set(hashes.tolist())


def test_identical_sets_share_every_band_and_disjoint_sets_none():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 2**32, 500, dtype=np.uint32)
    c = rng.integers(0, 2**32, 500, dtype=np.uint32)
    sig = signatures(np.concatenate([a, a, c]), np.array([0, 500, 1000, 1500]), 128)
    keys = band_keys(sig, 32, 4)
    assert (keys[0] == keys[1]).all()
    assert not (keys[0] == keys[2]).any()


def test_lsh_parameters_are_derived_from_the_threshold():
    bands, rows = lsh_params(0.5, 128)
    assert (bands, rows) == (32, 4)
    assert candidate_probability(0.5, bands, rows) >= 0.85
    assert candidate_probability(0.6, bands, rows) >= 0.98
    assert lsh_params(0.8, 128)[1] > rows  # a higher threshold needs more rows per band
