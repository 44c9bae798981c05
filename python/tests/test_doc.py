"""The examples in the package docstring run."""

from __future__ import annotations

import doctest

import connreq


def test_package_docstring_examples() -> None:
    result = doctest.testmod(connreq, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
