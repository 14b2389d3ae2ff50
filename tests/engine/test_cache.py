"""``engine.cache.LruCache``: bounded, least recently used out first, thread-safe;
checked against a plain Python model of an LRU."""

from __future__ import annotations

import threading
from collections import OrderedDict

from hypothesis import given, settings
from hypothesis import strategies as st

from arbordb.engine.cache import LruCache


def test_a_byte_budget_evicts_least_recently_used_first():
    cache: LruCache[str, bytes] = LruCache(10, weigh=len)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # a is now the most recently used
    cache.put("c", b"1234")  # 12 units > 10: b goes
    assert cache.get("b") is None
    assert cache.get("a") == b"1234" and cache.get("c") == b"1234"
    assert cache.units == 8 and cache.peak == 8


def test_a_value_heavier_than_max_unit_is_not_kept_and_evicts_nothing():
    cache: LruCache[str, bytes] = LruCache(100, weigh=len, max_unit=25)
    cache.put("small", b"x" * 10)
    cache.put("big", b"x" * 26)
    assert "big" not in cache and cache.get("small") == b"x" * 10


def test_peek_does_not_mark_an_entry_used():
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.peek("a") == 1
    cache.put("c", 3)
    assert "a" not in cache and "b" in cache


def test_discard_and_clear_give_back_their_units():
    cache: LruCache[str, bytes] = LruCache(100, weigh=len)
    cache.put_many([("a", b"12"), ("b", b"345")])
    cache.discard(["a", "missing"])
    assert cache.units == 3 and len(cache) == 1
    cache.clear()
    assert cache.units == 0 and len(cache) == 0


operations = st.lists(
    st.tuples(
        st.sampled_from(["get", "put", "peek", "discard"]), st.integers(0, 9), st.integers(1, 6)
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(operations, st.integers(1, 20))
def test_matches_a_plain_lru_model(ops, budget):
    cache: LruCache[int, bytes] = LruCache(budget, weigh=len)
    model: OrderedDict[int, bytes] = OrderedDict()
    for op, key, size in ops:
        if op == "get":
            expected = model.get(key)
            if expected is not None:
                model.move_to_end(key)
            assert cache.get(key) == expected
        elif op == "peek":
            assert cache.peek(key) == model.get(key)
        elif op == "discard":
            model.pop(key, None)
            cache.discard([key])
        else:
            value = bytes([key]) * size
            if size <= budget and key not in model:
                model[key] = value
                while sum(map(len, model.values())) > budget:
                    model.popitem(last=False)
            cache.put(key, value)
        assert list(cache._items) == list(model)
        assert cache.units == sum(map(len, model.values())) <= budget


def test_threads_sharing_a_cache_keep_its_accounting_exact():
    cache: LruCache[int, bytes] = LruCache(500, weigh=len)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for i in range(3000):
                key = (i * 7 + seed) % 97
                if cache.get(key) is None:
                    cache.put(key, bytes(key % 13 + 1))
                if i % 50 == 0:
                    cache.discard([key])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.units == sum(u for _, u in cache._items.values()) <= 500
    assert all(v == bytes(k % 13 + 1) for k, (v, _) in cache._items.items())


def test_an_empty_cache_is_still_truthy():
    assert LruCache(10)  # callers write `if cache:` for "a cache was given"


def test_get_or_make_makes_once_and_keeps_nothing_when_make_raises():
    cache: LruCache[str, int] = LruCache(4)
    calls: list[str] = []

    def make(key: str) -> int:
        calls.append(key)
        if key == "bad":
            raise ValueError(key)
        return len(key)

    assert cache.get_or_make("abc", make) == 3
    assert cache.get_or_make("abc", make) == 3
    assert calls == ["abc"]
    try:
        cache.get_or_make("bad", make)
    except ValueError:
        pass
    assert "bad" not in cache
