"""warmintro.warmup: what a long-running process builds once before it reports ready."""

from __future__ import annotations

from datetime import UTC, datetime

from warmintro.engines import graph as graph_module
from warmintro.engines.sentiment import default_classifier
from warmintro.importer.run import import_folder
from warmintro.warmup import Warmup

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_warmup_builds_the_shared_objects_and_reports_done(store, northwind):
    import_folder(store, northwind)
    graph_module.invalidate_graph()
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("no")

    warmup = Warmup(store, lambda: NOW, extra=[("broken", broken), ("after", lambda: ran.append("after"))])
    assert not warmup.done and warmup.status() == "warming up"
    warmup.start()
    assert warmup.wait(120)
    assert warmup.status() is None
    assert warmup.failed == {"broken": "RuntimeError"} and ran == ["after"]  # one failure stops nothing
    assert set(warmup.seconds) >= {"sentiment", "index_model", "scan", "graph", "total"}
    from vectorstore.embeddings import INDEX_MAX_LENGTH, INDEX_MODEL_ID, _models

    assert any(key[0] == INDEX_MODEL_ID and key[2] == INDEX_MAX_LENGTH for key in _models)  # shared, loaded
    assert default_classifier()._fitted is not None
    # the scan remembered every note it read, so the first request's scan embeds nothing
    assert default_classifier()._memo
    with store.session() as s:
        url = f"{s.get_bind().engine.url.render_as_string(hide_password=True)}#{id(s.get_bind().engine)}"
        cached = graph_module._cache[url][1]
        assert graph_module.get_graph(s, as_of=NOW) is cached
