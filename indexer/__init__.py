"""Offline indexer: articles in, a versioned hybrid (BM25 + dense) index out.

The package also defines what the search service needs to read that index: the
on-disk layout (`indexer.layout`), the text analyzers (`indexer.analysis`), the
encoder (`indexer.encoder`) and the translator (`indexer.translation`). It never
imports `search`.
"""
