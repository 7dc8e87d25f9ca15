"""The media store on PostgreSQL (Debian's, started here): two servers' stores on one database and one folder."""

from __future__ import annotations

import threading

from tryon.server.store import MediaStore


def test_links_claims_and_the_cap_are_shared_through_postgresql(postgres_url, tmp_path):
    one = MediaStore(tmp_path, ttl_s=60, max_bytes=1000, database_url=postgres_url)
    two = MediaStore(tmp_path, ttl_s=60, max_bytes=1000, database_url=postgres_url)
    try:
        assert one.db.kind == "postgresql" and not (tmp_path / "media" / "links.sqlite3").exists()
        a = one.put(b"\x89PNG from one", ".png")
        name = a.url.rsplit("/", 1)[1]
        assert two.get(name).path.read_bytes() == b"\x89PNG from one"
        two.claim(a.token)
        b = two.put(bytes(300), ".mp4")
        assert one.revoke([a.token, b.token], keep_claimed=True) == 1
        assert two.get(name) is not None and not b.path.exists()
        assert one.used_bytes() == two.used_bytes() == a.size
        assert one.revoke([a.token]) == 1 and one.used_bytes() == 0
    finally:
        one.close()
        two.close()


def test_two_servers_making_room_at_once_keep_the_cap(postgres_url, tmp_path):
    """Each commit reads the total then deletes: under the room lock two servers never both decide on stale
    totals, so the store ends at or under its cap, with every file that has a link still on disk."""
    stores = [MediaStore(tmp_path, ttl_s=60, max_bytes=3000, database_url=postgres_url) for _ in range(2)]
    try:
        stores[0].revoke([r[0] for r in stores[0].db.execute("SELECT token FROM media").rows])

        def fill(store: MediaStore) -> None:
            for _ in range(15):
                store.put(bytes(500), ".png")

        threads = [threading.Thread(target=fill, args=(s,)) for s in (*stores, *stores)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert stores[0].used_bytes() == 3000  # six files of 500: full, never over
        files = [r[0] for r in stores[0].db.execute("SELECT file FROM media").rows]
        assert len(files) == 6 and all((tmp_path / "media" / f).exists() for f in files)
        assert len(list((tmp_path / "media").glob("*.png"))) == 6  # and no file without its link
    finally:
        for s in stores:
            s.close()
