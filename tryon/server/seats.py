"""Live seats and the limits that keep one client from taking them all.

An offer first gets a *pending* place: cheap to refuse, and dropped unless its connection comes up within the
connect timeout. A seat is taken only when the connection is up, so offers that never connect (their ICE
candidates stripped, say) hold no seat. Each client address may hold a few pending places and seats at most.

`SeatBook` is plain bookkeeping, used from the event loop only; `Bucket` is a token bucket for command rates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tryon.errors import TryOnError


class RefusedError(TryOnError):
    """An offer turned away; `status` is the HTTP status that says why (503: full, 429: this client's limit)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Ticket:
    """One offer's place: pending until `seated`. `client`: the address it came from ("" when unknown).
    `since_s`: when the offer was answered (None while it is still being answered)."""

    client: str
    since_s: float | None = None
    seated: bool = False


@dataclass
class SeatBook:
    seats: int
    seats_per_client: int
    pending: int
    pending_per_client: int
    tickets: dict[str, Ticket] = field(default_factory=dict)

    def count(self, seated: bool, client: str | None = None) -> int:
        return sum(1 for t in self.tickets.values()
                   if t.seated == seated and (client is None or t.client == client))

    def reserve(self, key: str, client: str) -> None:
        """A pending place for offer `key` from `client`; `RefusedError` when none may be had."""
        if self.count(True) >= self.seats:
            raise RefusedError(503, f"all {self.seats} live try-on seats are busy; try again shortly")
        if self.count(True, client) >= self.seats_per_client:
            raise RefusedError(429, f"this device already has {self.seats_per_client} live try-on "
                               f"session{'s' if self.seats_per_client > 1 else ''}; close one first")
        if self.count(False, client) >= self.pending_per_client:
            raise RefusedError(429, "too many connections from this device are starting at once; wait a moment")
        if self.count(False) >= self.pending:
            raise RefusedError(503, "too many sessions are starting at once; try again shortly")
        self.tickets[key] = Ticket(client)

    def answered(self, key: str, now_s: float) -> None:
        """The offer was answered: the connect timeout counts from now (building the session took its time)."""
        if key in self.tickets:
            self.tickets[key].since_s = now_s

    def seat(self, key: str) -> bool:
        """Turn `key`'s pending place into a seat; False (and the place released) when none is free."""
        ticket = self.tickets.get(key)
        if ticket is None:
            return False
        if ticket.seated:
            return True
        if self.count(True) >= self.seats or self.count(True, ticket.client) >= self.seats_per_client:
            del self.tickets[key]
            return False
        ticket.seated = True
        return True

    def release(self, key: str) -> None:
        self.tickets.pop(key, None)

    def overdue(self, now_s: float, timeout_s: float) -> list[str]:
        """Pending places older than `timeout_s`: offers whose connection never came up."""
        return [k for k, t in self.tickets.items()
                if not t.seated and t.since_s is not None and now_s - t.since_s > timeout_s]


class Bucket:
    """A token bucket: `capacity` commands at once, refilled at `per_s` a second. `take()` is False when empty."""

    def __init__(self, capacity: float, per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity, self.per_s, self._clock = float(capacity), float(per_s), clock
        self._tokens, self._at = float(capacity), clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.per_s)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
