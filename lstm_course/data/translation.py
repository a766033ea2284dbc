"""Synthetic translation tasks, generated offline: dates to ISO, copying and reversing strings.

All are string-to-string pairs for ``PairDataset``.

* **Dates.** A date written the way people write it, in one of several formats, is translated
  to ISO 8601: "Tuesday, 3 March 1998", "Mar 3, 1998", "03/03/1998" -> "1998-03-03". The
  word order differs between the formats, and the target puts the year first, so the model
  has to *reorder*, as translation between languages does.
* **Copy.** A string of digits and itself, "40271" -> "40271": the alignment is monotone
  (target symbol i comes from source symbol i), like most words between English and French.
  The first target symbol then depends on the *first* source symbol, the one the encoder read
  longest ago: the case Sutskever et al.'s reversed source was made for.
* **Reversal.** A string of digits and its reverse, "40271" -> "17204". Every target symbol
  depends on one source symbol, at the mirrored position: without attention the encoder has
  to squeeze the whole string into one vector, and that breaks down with length (Bahdanau et
  al.'s length curve).
"""

import datetime

import numpy as np

from lstm_course.data._checks import check_int, check_seed

MONTHS = (
    "January February March April May June July August September October November December"
).split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

# Each format turns a date into text; the names say what the text looks like.
DATE_FORMATS = {
    "3 March 1998": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "March 3, 1998": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "Mar 3, 1998": lambda d: f"{MONTHS[d.month - 1][:3]} {d.day}, {d.year}",
    "3 mar 98": lambda d: f"{d.day} {MONTHS[d.month - 1][:3].lower()} {d.year % 100:02d}",
    "03/03/1998": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    "03.03.98": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year % 100:02d}",
    "Tuesday, 3 March 1998": lambda d: (
        f"{DAYS[d.weekday()]}, {d.day} {MONTHS[d.month - 1]} {d.year}"
    ),
    "TUE 3 MAR 1998": lambda d: (
        f"{DAYS[d.weekday()][:3].upper()} {d.day} {MONTHS[d.month - 1][:3].upper()} {d.year}"
    ),
}
# Two-digit years are read as 1950-2049, so the range of dates is limited to that.
FIRST_DATE, LAST_DATE = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)


def random_dates(n, seed=0):
    """n dates drawn uniformly from 1950-01-01 .. 2049-12-31."""
    n = check_int("n", n, minimum=1)
    rng = np.random.default_rng(check_seed(seed))
    span = (LAST_DATE - FIRST_DATE).days
    return [FIRST_DATE + datetime.timedelta(days=int(k)) for k in rng.integers(0, span + 1, n)]


def date_pairs(n, formats=None, seed=0):
    """n (human-readable date, ISO date) pairs, each in a format drawn at random.

    Args:
        n: number of pairs. formats: names from ``DATE_FORMATS`` (default: all).
        seed: the dates and the formats are drawn from it.
    Returns:
        a list of (source, target) str, e.g. ("Mar 3, 1998", "1998-03-03").
    """
    formats = list(DATE_FORMATS) if formats is None else list(formats)
    unknown = [f for f in formats if f not in DATE_FORMATS]
    if unknown or not formats:
        raise ValueError(
            f"formats must be names from DATE_FORMATS {list(DATE_FORMATS)}, "
            f"got {unknown or formats}"
        )
    dates = random_dates(n, seed)
    rng = np.random.default_rng(check_seed(seed) + 1)
    chosen = rng.integers(0, len(formats), n)
    return [
        (DATE_FORMATS[formats[k]](d), d.isoformat()) for d, k in zip(dates, chosen, strict=True)
    ]


def _digit_strings(n, min_len, max_len, alphabet, seed):
    """n random strings over ``alphabet``, lengths uniform in [min_len, max_len]."""
    n = check_int("n", n, minimum=1)
    min_len = check_int("min_len", min_len, minimum=1)
    max_len = check_int("max_len", max_len, minimum=min_len)
    if not isinstance(alphabet, str) or len(set(alphabet)) < 2:
        raise ValueError(f"alphabet must be a str of at least 2 distinct symbols, got {alphabet!r}")
    rng = np.random.default_rng(check_seed(seed))
    symbols = np.array(sorted(set(alphabet)))
    lengths = rng.integers(min_len, max_len + 1, n)
    return ["".join(symbols[rng.integers(0, len(symbols), length)]) for length in lengths]


def copy_pairs(n, min_len, max_len, alphabet="0123456789", seed=0):
    """n (string, the same string) pairs, lengths uniform in [min_len, max_len].

    Args:
        as ``reversal_pairs``; the strings are the ones it draws with the same arguments.
    """
    return [(s, s) for s in _digit_strings(n, min_len, max_len, alphabet, seed)]


def reversal_pairs(n, min_len, max_len, alphabet="0123456789", seed=0):
    """n (string, reversed string) pairs, lengths uniform in [min_len, max_len].

    Args:
        n: number of pairs. min_len, max_len: the range of lengths (1 <= min <= max).
        alphabet: the symbols, drawn uniformly and independently. seed: the generator's seed.
    """
    return [(s, s[::-1]) for s in _digit_strings(n, min_len, max_len, alphabet, seed)]
