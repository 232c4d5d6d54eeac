"""Client addresses, the token bucket and the flood check, on a hand-moved clock."""

from __future__ import annotations

import threading

import pytest

from cssblog.ratelimit import FloodCheck, RateLimiter, client_address, masked, parse_networks
from tests.intake_helpers import Clock

PROXIES = parse_networks(["127.0.0.1", "::1", "10.0.0.0/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.5", "", "203.0.113.5"),
        ("203.0.113.5", "192.0.2.1", "203.0.113.5"),  # not a proxy: the header is the client's
        ("127.0.0.1", "192.0.2.1", "192.0.2.1"),
        ("127.0.0.1", "198.51.100.1, 192.0.2.1", "192.0.2.1"),  # rightmost untrusted hop
        ("127.0.0.1", "192.0.2.1, 10.1.2.3", "192.0.2.1"),  # through two of our proxies
        ("127.0.0.1", "10.9.9.9, 10.1.2.3", "10.9.9.9"),  # all trusted: the farthest
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", "not-an-ip", "127.0.0.1"),
        ("127.0.0.1", "192.0.2.1, junk", "127.0.0.1"),
        ("::1", "2001:db8::7", "2001:db8::7"),
        ("::ffff:127.0.0.1", "192.0.2.1", "192.0.2.1"),
        ("::1", "[2001:db8::8]", "2001:db8::8"),
    ],
)
def test_client_address(peer: str, forwarded: str, client: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_masked_addresses_name_a_network_not_a_person() -> None:
    assert masked("203.0.113.77") == "203.0.113.0/24"
    assert masked("2001:db8:1:2:3:4:5:6") == "2001:db8:1::/48"
    assert masked("garbage") == "-"


def test_the_bucket_allows_a_minutes_worth_then_one_at_a_time() -> None:
    clock = Clock()
    limiter = RateLimiter(6, clock=clock)
    assert [limiter.take("192.0.2.1") for _ in range(6)] == [0.0] * 6
    assert limiter.take("192.0.2.1") == pytest.approx(10.0)
    assert limiter.take("192.0.2.2") == 0.0
    clock.advance(10)
    assert limiter.take("192.0.2.1") == 0.0
    assert limiter.take("192.0.2.1") == pytest.approx(10.0)


def test_an_ipv6_client_is_limited_by_its_64() -> None:
    limiter = RateLimiter(1, clock=Clock())
    assert limiter.take("2001:db8:1:2::1") == 0.0
    assert limiter.take("2001:db8:1:2::ffff") > 0
    assert limiter.take("2001:db8:1:3::1") == 0.0


def test_no_limit_when_zero() -> None:
    limiter = RateLimiter(0, clock=Clock())
    assert all(limiter.take("192.0.2.1") == 0.0 for _ in range(1000))
    assert len(limiter) == 0


def test_the_buckets_stay_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock, max_keys=100)
    for i in range(1000):
        limiter.take(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter) == 100
    clock.advance(61)  # every bucket is full again: nothing to remember
    limiter.take("192.0.2.1")
    assert len(limiter) == 1


def test_the_flood_check_counts_addresses_and_emails() -> None:
    clock = Clock()
    flood = FloodCheck(15, clock=clock)
    assert flood.claim("192.0.2.1", "Ann@Example.org") == 0
    clock.advance(4)
    assert flood.claim("192.0.2.1", "bob@example.org") == pytest.approx(11)
    assert flood.claim("198.51.100.1", "ann@example.org ") == pytest.approx(11)
    assert flood.claim("198.51.100.1", "") == 0  # a new address, no email
    clock.advance(11)
    assert flood.claim("192.0.2.1", "ann@example.org") == 0


def test_the_flood_check_forgets_and_stays_bounded() -> None:
    clock = Clock()
    flood = FloodCheck(15, clock=clock, max_keys=50)
    for i in range(500):
        flood.claim(f"10.0.{i // 256}.{i % 256}", f"r{i}@example.org")
    assert len(flood) == 50
    clock.advance(15)
    flood.claim("192.0.2.1", "")
    assert len(flood) == 1
    assert FloodCheck(0, clock=clock).claim("192.0.2.1", "a@b") == 0


def test_the_flood_check_is_one_claim_at_a_time() -> None:
    flood = FloodCheck(15, clock=Clock())
    results: list[float] = []
    barrier = threading.Barrier(20)

    def claim() -> None:
        barrier.wait()
        results.append(flood.claim("192.0.2.1", "same@example.org"))

    threads = [threading.Thread(target=claim) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results)[:2] == [0, 15]
    assert results.count(0) == 1
