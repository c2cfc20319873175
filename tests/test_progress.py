"""The one progress helper: a bar on stderr when asked for, silence otherwise."""

from spicenn.progress import progress_bar, tracked


def test_a_bar_is_shown_only_when_asked_for_and_closed_on_failure(capsys):
    with progress_bar(False, total=3, desc="quiet work") as bar:
        bar.update(1)
        bar.set_postfix(loss="1")
    assert list(tracked(range(3), False, desc="quiet loop")) == [0, 1, 2]
    assert capsys.readouterr().err == ""
    try:
        with progress_bar(True, total=3, desc="shown work", unit="task") as bar:
            bar.update(2)
            raise RuntimeError("stop")
    except RuntimeError:
        pass
    assert list(tracked(range(3), True, desc="shown loop")) == [0, 1, 2]
    err = capsys.readouterr().err
    assert "shown work" in err and "2/3" in err and "shown loop" in err
