"""Who is asking, and how often they may: client addresses behind trusted proxies, a token
bucket per address, and WordPress's flood check (one comment per address, and per email
address, every 15 seconds).

Memory is bounded: each table keeps at most ``max_keys`` entries, dropping the least recently
seen first, and forgets entries that no longer limit anything. The clock is passed in.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

MAX_KEYS = 10_000

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

__all__ = ["FloodCheck", "RateLimiter", "client_address", "masked", "parse_networks"]


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Addresses and CIDR networks (``"10.0.0.0/8"``), as networks."""
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def client_address(peer: str, forwarded_for: str, trusted: Iterable[IPNetwork]) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the rightmost
    address in ``X-Forwarded-For`` that is not a trusted proxy (addresses to its left were
    written by the client and prove nothing)."""
    networks = tuple(trusted)
    current = _address(peer)
    if current is None:
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()] if forwarded_for else []
    while _trusted(current, networks) and hops:
        previous = _address(hops.pop())
        if previous is None:
            break  # garbage: the proxy that passed it on is the last address known
        current = previous
    return str(current)


def masked(address: str) -> str:
    """An address shortened so it no longer names one person: ``/24`` (IPv4), ``/48`` (IPv6)."""
    ip = _address(address)
    if ip is None:
        return "-"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _address(text: str) -> IPAddress | None:
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    return mapped if mapped is not None else ip


def _trusted(ip: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(ip.version == n.version and ip in n for n in networks)


def _limit_key(address: str) -> str:
    """IPv6 clients get a /64 each, so they are limited by it."""
    ip = _address(address)
    if ip is not None and ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


class _Recent:
    """What was last seen of each key (when, and a number), least recently seen first; at most
    ``max_keys`` of them, none older than ``memory`` seconds. Subclasses hold ``_lock``."""

    def __init__(self, memory: float, clock: Callable[[], float], max_keys: int) -> None:
        self._memory = memory
        self._clock = clock
        self._max_keys = max_keys
        self._seen: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def _put(self, key: str, at: float, value: float = 0.0) -> None:
        self._seen.pop(key, None)
        self._seen[key] = (at, value)

    def _trim(self, now: float) -> None:
        while self._seen:
            at, _ = next(iter(self._seen.values()))
            if len(self._seen) <= self._max_keys and now - at < self._memory:
                break
            self._seen.popitem(last=False)


class RateLimiter(_Recent):
    """At most ``per_minute`` requests a minute from one client, in bursts of up to as many."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        super().__init__(60.0, clock, max_keys)  # after a minute, any bucket is full again
        self.per_minute = per_minute

    def take(self, address: str) -> float:
        """Count a request from ``address``: 0 if it may go on, else seconds to wait."""
        if self.per_minute <= 0:
            return 0.0
        key, now, rate = _limit_key(address), self._clock(), self.per_minute / 60.0
        with self._lock:
            at, tokens = self._seen.get(key, (now, float(self.per_minute)))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            if tokens >= 1:
                self._put(key, now, tokens - 1)
                wait = 0.0
            else:
                self._put(key, now, tokens)
                wait = (1 - tokens) / rate
            self._trim(now)
        return wait


class FloodCheck(_Recent):
    """WordPress's flood check: one comment per ``seconds`` from an address, or an email."""

    def __init__(
        self,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        super().__init__(seconds, clock, max_keys)
        self.seconds = seconds

    def claim(self, address: str, email: str) -> float:
        """Seconds to wait if ``address`` or ``email`` commented too recently; else 0, and the
        comment about to be written is counted."""
        if self.seconds <= 0:
            return 0.0
        keys = ["ip " + _limit_key(address)]
        if email.strip():
            keys.append("email " + email.strip().casefold())
        now = self._clock()
        with self._lock:
            last = [self._seen.get(k, (-math.inf, 0.0))[0] for k in keys]
            wait = max(at + self.seconds - now for at in last)
            if wait > 0:
                return wait
            for key in keys:
                self._put(key, now)
            self._trim(now)
        return 0.0
