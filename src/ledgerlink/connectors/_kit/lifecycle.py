"""A connector's lifecycle: ``close()`` and ``with``, closing the HTTP clients it owns."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self


class Closable(Protocol):
    def close(self) -> None: ...


class ClosesClients:
    """``close()`` and the context-manager protocol for a connector: it closes what
    :meth:`_closing` names (its API client, its OAuth client), in that order."""

    def _closing(self) -> Sequence[Closable | None]:
        raise NotImplementedError

    def close(self) -> None:
        """Close the HTTP clients."""
        for owned in self._closing():
            if owned is not None:
                owned.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
