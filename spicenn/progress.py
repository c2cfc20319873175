"""Progress for long work, one way everywhere: a bar on stderr when asked for, nothing
otherwise (tqdm is imported only when a bar is shown).

    with progress_bar(progress, total=len(tasks), desc="ngspice tiles", unit="task") as bar:
        for task in tasks:
            ...
            bar.update(1)

    for epoch in tracked(range(epochs), progress, desc="surrogate", unit="epoch"):
        ...
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class _Silent:
    """What a bar offers, doing nothing."""

    def update(self, n: float = 1) -> None:
        pass

    def set_postfix(self, **values: Any) -> None:
        pass


@contextlib.contextmanager
def progress_bar(enabled: bool, *, total: float | None, desc: str, unit: str = "it", initial: float = 0,
                 **options: Any) -> Iterator[Any]:
    """A bar for the block (closed however it ends), or a silent stand-in."""
    if not enabled:
        yield _Silent()
        return
    from tqdm import tqdm

    bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, **options)
    try:
        yield bar
    finally:
        bar.close()


def tracked(items: Iterable[T], enabled: bool, *, desc: str, unit: str = "it", total: int | None = None) -> Iterable[T]:
    """`items`, with a bar as they are consumed when `enabled`."""
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit, total=total)
