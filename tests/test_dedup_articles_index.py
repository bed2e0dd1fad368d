"""The compact structures behind dedup-articles: band runs, exact keys, union-find, stores."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vocclean.dedup_index import IdTable, KeyIndex, ShingleStore, SignatureFile, SortedRuns, UnionFind

batches = st.lists(st.lists(st.integers(0, 6), min_size=1, max_size=12), min_size=1, max_size=8)


@settings(max_examples=100, deadline=None)
@given(batches, st.lists(st.integers(0, 7), min_size=1, max_size=10))
def test_sorted_runs_find_every_stored_document_of_a_key(key_batches, queries):
    runs, stored, doc = SortedRuns(), [], 0
    for keys in key_batches:
        docs = np.arange(doc, doc + len(keys))
        runs.add(np.array(keys, dtype=np.uint32), docs)
        stored += list(zip(keys, docs.tolist(), strict=True))
        doc += len(keys)
    position, found = runs.lookup(np.array(sorted(queries), dtype=np.uint32), limit=1000)
    got = sorted(zip(position.tolist(), found.tolist(), strict=True))
    expected = sorted((i, d) for i, q in enumerate(sorted(queries)) for k, d in stored if k == q)
    assert got == expected


def test_sorted_runs_merge_into_few_runs():
    runs = SortedRuns()
    for start in range(0, 64_000, 1000):
        runs.add(np.arange(start, start + 1000, dtype=np.uint32), np.arange(start, start + 1000))
    assert len(runs.runs) <= 4
    assert runs.nbytes == 64_000 * 8


def test_sorted_runs_lookup_returns_the_earliest_documents_first_within_the_limit():
    runs = SortedRuns()
    runs.add(np.full(5, 7, dtype=np.uint32), np.array([9, 3, 5, 1, 7]))
    _, found = runs.lookup(np.array([7], dtype=np.uint32), limit=2)
    assert found.tolist() == [1, 3]


def test_key_index_finds_the_first_document_of_each_key():
    index = KeyIndex()
    index.add(np.array([30, 10], dtype=np.uint64), np.array([0, 1]))
    index.add(np.array([20], dtype=np.uint64), np.array([2]))
    assert index.lookup(np.array([10, 20, 30, 40], dtype=np.uint64)).tolist() == [1, 2, 0, -1]


def test_union_find_roots_are_the_earliest_documents():
    clusters = UnionFind()
    clusters.add(6)
    clusters.union(4, 2)
    clusters.union(5, 4)
    clusters.union(3, 1)
    assert clusters.find(5) == 2
    assert clusters.roots().tolist() == [0, 1, 2, 1, 2, 2]


def test_id_table_round_trips_unicode_ids():
    ids = IdTable()
    ids.extend(["a", "新闻-1", "", "x" * 100])
    assert [ids[i] for i in range(4)] == ["a", "新闻-1", "", "x" * 100]


def test_shingle_store_reads_back_each_document(tmp_path):
    store = ShingleStore(str(tmp_path))
    store.append(np.array([1, 2, 3, 7, 8], dtype=np.uint32), np.array([3, 0, 2]))
    store.append(np.array([9], dtype=np.uint32), np.array([1]))
    assert [store.get(i).tolist() for i in range(4)] == [[1, 2, 3], [], [7, 8], [9]]
    assert store.disk_bytes == 24
    store.close()


def test_signature_file_keeps_16_bits_per_bin(tmp_path):
    signatures = SignatureFile(3, str(tmp_path))
    signatures.append(np.array([[1, 2, 3], [70000, 5, 6]], dtype=np.uint32))
    assert signatures.read([1, 0]).tolist() == [[70000 % 65536, 5, 6], [1, 2, 3]]
    signatures.close()
