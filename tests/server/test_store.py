"""Share links: unguessable, expiring, and nothing kept but the file and its link."""

import pytest

from tryon.errors import InputError
from tryon.server.store import MediaStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_links_work_until_they_expire_then_the_file_is_gone(tmp_path):
    clock = Clock()
    store = MediaStore(tmp_path, ttl_s=60, clock=clock)
    media = store.put(b"\x89PNG fake", ".png")
    name = media.url.rsplit("/", 1)[1]
    assert store.get(name).path.read_bytes() == b"\x89PNG fake"
    clock.now += 59
    assert store.get(name) is not None
    clock.now += 2
    assert store.get(name) is None
    assert not media.path.exists()
    store.close()


def test_tokens_are_long_random_and_the_suffix_must_match(tmp_path):
    store = MediaStore(tmp_path, ttl_s=60)
    a, b = store.put(b"a", ".png"), store.put(b"b", ".mp4")
    assert a.token != b.token and len(a.token) >= 32
    assert store.get(f"{a.token}.mp4") is None  # the right token with the wrong type
    assert store.get("nothing.png") is None
    assert store.get("../links.sqlite3") is None
    store.close()


def test_only_the_media_and_its_link_are_stored(tmp_path):
    store = MediaStore(tmp_path, ttl_s=60)
    media = store.put(b"clip", ".mp4")
    files = sorted(p.name for p in (tmp_path / "media").iterdir())
    assert files == sorted([media.path.name, "links.sqlite3"])
    columns = store.db.columns("media")
    # nothing about the user: the link, its file, and the link's own life (made, expires, taken along)
    assert columns == ["token", "file", "content_type", "expires_at", "size", "created_at", "claimed"]
    store.close()


def test_a_full_store_deletes_the_oldest_unopened_media_then_refuses(tmp_path):
    store = MediaStore(tmp_path, ttl_s=60, max_bytes=1000)
    a, b, c = (store.put(bytes(300), ".png") for _ in range(3))
    store.claim(a.token)  # opened on a phone: kept
    d = store.put(bytes(300), ".png")  # 1200 > 1000: the oldest unopened (b) goes
    assert a.path.exists() and not b.path.exists() and c.path.exists() and d.path.exists()
    assert store.get(b.url.rsplit("/", 1)[1]) is None and store.used_bytes() == 900
    store.claim(c.token)
    store.claim(d.token)
    with pytest.raises(InputError, match="store is full"):
        store.put(bytes(300), ".png")  # everything left was opened: refused, nothing half-written
    with pytest.raises(InputError, match="larger than the whole media store"):
        store.put(bytes(2000), ".png")
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == sorted(
        [a.path.name, c.path.name, d.path.name, "links.sqlite3"])
    store.close()


def test_a_store_from_before_sizes_opens_and_counts(tmp_path):
    import sqlite3

    (tmp_path / "media").mkdir()
    db = sqlite3.connect(tmp_path / "media" / "links.sqlite3")
    db.execute("CREATE TABLE media (token TEXT PRIMARY KEY, file TEXT NOT NULL, content_type TEXT NOT NULL, "
               "expires_at REAL NOT NULL)")
    db.commit()
    db.close()
    store = MediaStore(tmp_path, ttl_s=60)
    store.put(bytes(10), ".png")
    assert store.used_bytes() == 10
    assert store.db.columns("media")[-3:] == ["size", "created_at", "claimed"]
    store.close()


def test_each_link_may_have_its_own_lifetime_and_the_next_expiry_is_known(tmp_path):
    clock = Clock()
    store = MediaStore(tmp_path, ttl_s=24 * 3600, clock=clock)
    assert store.next_expiry() is None
    day = store.put(b"day", ".png")
    kiosk = store.put(b"kiosk", ".mp4", ttl_s=15 * 60)
    assert kiosk.expires_at == clock.now + 15 * 60 and day.expires_at == clock.now + 24 * 3600
    assert store.next_expiry() == kiosk.expires_at
    clock.now += 15 * 60
    assert store.purge() == 1 and not kiosk.path.exists() and day.path.exists()
    assert store.get(kiosk.url.rsplit("/", 1)[1]) is None and store.next_expiry() == day.expires_at
    with pytest.raises(InputError, match="positive"):
        store.put(b"x", ".png", ttl_s=0)
    store.close()


def test_revoking_deletes_at_once_but_spares_links_claimed_by_a_phone(tmp_path):
    store = MediaStore(tmp_path, ttl_s=60)
    a, b, c = (store.put(bytes([i]), ".png") for i in range(3))
    store.claim(b.token)
    assert store.revoke([a.token, b.token, "unknown"], keep_claimed=True) == 1
    assert not a.path.exists() and store.get(a.url.rsplit("/", 1)[1]) is None
    assert b.path.exists() and store.get(b.url.rsplit("/", 1)[1]) is not None  # taken along: until it expires
    assert store.revoke([b.token, c.token]) == 2  # without keep_claimed: everything named goes
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == ["links.sqlite3"]
    store.close()


def test_two_servers_on_one_store_share_links_claims_and_room(tmp_path):
    """Two stores on one folder and database (two servers, SQLite here; PostgreSQL in tests/cluster): a link made
    through one opens through the other, a claim made through one spares the link in the other's reset, and the
    cap counts both servers' files."""
    one = MediaStore(tmp_path, ttl_s=60, max_bytes=1000)
    two = MediaStore(tmp_path, ttl_s=60, max_bytes=1000)
    a = one.put(bytes(300), ".png")
    b = one.put(bytes(300), ".mp4")
    name = a.url.rsplit("/", 1)[1]
    assert two.get(name).path.read_bytes() == bytes(300)
    two.claim(a.token)  # the phone's hand-off page was served by the other server
    assert one.revoke([a.token, b.token], keep_claimed=True) == 1  # the kiosk's reset
    assert two.get(name) is not None and two.get(b.url.rsplit("/", 1)[1]) is None
    c = one.put(bytes(300), ".png")
    d = two.put(bytes(300), ".png")
    e = two.put(bytes(300), ".png")  # 1200 > 1000: the oldest unclaimed (c, made on the other server) goes
    assert one.used_bytes() == 900 and not c.path.exists() and one.get(c.url.rsplit("/", 1)[1]) is None
    assert a.path.exists() and d.path.exists() and e.path.exists()
    one.close()
    two.close()
