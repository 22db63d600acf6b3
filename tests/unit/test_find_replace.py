"""Replace a text everywhere in one transcript: one correction (one undo), found by search
at once, the case kept or not as asked. In-process on SQLite."""

from __future__ import annotations

from tests.api_app import ApiApp
from tests.search_checks import completed, found


def test_replace_everywhere_is_one_correction(tmp_path):
    api = ApiApp(tmp_path)
    key = api.user("clerk@example.kz")
    job = completed(
        api,
        key,
        [
            ("ru", "Договор подписан. Договор вступает в силу."),
            ("ru", "Свидетель молчит."),
            ("ru", "По договору аренды."),
            ("ru", "Конец заседания."),
        ],
    )
    url = f"/api/v1/transcriptions/{job}"
    with api.client(key) as c:
        r = c.post(f"{url}/replace", json={"find": "ДОГОВОР", "replace": "контракт"})
        assert r.status_code == 200, r.text
        assert r.json() == {"replaced": 3, "segments": 2}
        texts = [s["text"] for s in c.get(url).json()["result"]["segments"]]
        assert texts == [
            "контракт подписан. контракт вступает в силу.",
            "Свидетель молчит.",
            "По контракту аренды.",
            "Конец заседания.",
        ]
        assert found(api, key, "контракт") == [(job, 2), (job, 0)]
        assert found(api, key, "договор") == []
        # Matching the case: only what is written so.
        r = c.post(f"{url}/replace", json={"find": "Конец", "replace": "КОНЕЦ", "match_case": True})
        assert r.json() == {"replaced": 1, "segments": 1}
        r = c.post(f"{url}/replace", json={"find": "конец", "replace": "x", "match_case": True})
        assert r.json() == {"replaced": 0, "segments": 0}
        history = c.get(f"{url}/history").json()["items"]
        assert [h["action"] for h in history] == ["replace", "replace"]
        # One undo takes a whole replacement back.
        assert c.post(f"{url}/undo").status_code == 200
        assert c.post(f"{url}/undo").status_code == 200
        texts = [s["text"] for s in c.get(url).json()["result"]["segments"]]
        assert texts[0] == "Договор подписан. Договор вступает в силу."
        assert texts[2] == "По договору аренды."
        assert found(api, key, "договор") == [(job, 2), (job, 0)]
        assert c.post(f"{url}/replace", json={"find": "", "replace": "x"}).status_code == 422
        assert c.post(f"{url}/replace", json={"find": "  ", "replace": "x"}).status_code == 422
