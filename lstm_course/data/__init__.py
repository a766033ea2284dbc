"""Datasets for the course: memory tasks, time series and real text, all offline and seeded.

Every dataset returns ``Sample(x, y, mask, length)`` with time first; ``make_loader`` batches
them time-major, (T, B, ...). Nothing is generated, read or seeded on import: the corpus is
built on the first call of ``stdlib_docstring_corpus()``.
"""

from lstm_course.data.batching import make_loader, stream_batches, time_major_collate
from lstm_course.data.copy_tasks import CopyTask, RepeatCopyTask
from lstm_course.data.corpus import CorpusStats, corpus_stats, stdlib_docstring_corpus
from lstm_course.data.samples import Sample, SampleDataset
from lstm_course.data.tasks import AddingProblem, BinaryAddition, bits_to_int, int_to_bits
from lstm_course.data.text import CharSequenceDataset, TextSplits, Vocab, split_text
from lstm_course.data.timeseries import ARProcess, SineWaves, ar_optimal_mse

__all__ = [
    "ARProcess",
    "AddingProblem",
    "BinaryAddition",
    "CharSequenceDataset",
    "CopyTask",
    "CorpusStats",
    "RepeatCopyTask",
    "Sample",
    "SampleDataset",
    "SineWaves",
    "TextSplits",
    "Vocab",
    "ar_optimal_mse",
    "bits_to_int",
    "corpus_stats",
    "int_to_bits",
    "make_loader",
    "split_text",
    "stdlib_docstring_corpus",
    "stream_batches",
    "time_major_collate",
]
