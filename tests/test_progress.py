"""verify.progress: a live rich bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from verify.progress import Bar, progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_at_each_fraction_and_no_carriage_return() -> None:
    stream = io.StringIO()
    with progress(100, "regime", stream=stream, lines=4) as bar:
        for k in range(1, 101):
            bar(k)
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and len(lines) == 5  # the first, then every quarter
    assert lines[-1].startswith("regime [" + "#" * 30 + "] 100/100 | ")


def test_close_prints_the_final_count_once() -> None:
    stream = io.StringIO()
    bar = Bar(10, "sweep", stream=stream, lines=2)
    bar(0, note="cases")
    bar(3, note="cases | 1 failed")
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[-1].startswith("sweep [#########") and "3/10 cases" in lines[1]
    bar.close()  # nothing new: nothing printed
    assert len(stream.getvalue().splitlines()) == 2


def test_total_can_be_given_later() -> None:
    stream = io.StringIO()
    with progress(0, "theorems", stream=stream, lines=1) as bar:
        bar(2, total=4)
        bar(4, total=4)
    assert stream.getvalue().splitlines()[-1].startswith("theorems [" + "#" * 30 + "] 4/4")


def test_live_bar_on_a_terminal() -> None:
    stream = _Terminal()
    with progress(10, "backprop", stream=stream) as bar:
        for k in range(11):
            bar(k, note="cells")
    text = stream.getvalue()
    assert "backprop" in text and "10/10" in text and "cells" in text
    assert text.endswith("\n") or "\x1b[?25h" in text  # the display ended (cursor restored)
