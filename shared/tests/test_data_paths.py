"""A service's default data paths (its SQLite database, the dev issuer's keys) are the checkout's,
from whatever folder the service is started: otherwise a second, empty database appears in the
folder it was started from, and events go there."""
from parcours_shared.checkout import checkout_path, data_path
from parcours_shared.engine import create_db_engine


def test_a_relative_sqlite_path_is_the_checkout_s_whatever_the_current_folder(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine = create_db_engine("sqlite:///data/where-am-i.sqlite3")
    try:
        assert engine.url.database == checkout_path("data", "where-am-i.sqlite3")
    finally:
        engine.dispose()
    assert not (tmp_path / "data").exists()


def test_absolute_paths_are_kept():
    assert data_path("/srv/parcours/intake.sqlite3") == "/srv/parcours/intake.sqlite3"


def test_parcours_home_says_where_relative_data_paths_are(tmp_path, monkeypatch):
    monkeypatch.setenv("PARCOURS_HOME", str(tmp_path))
    assert data_path("data/intake.sqlite3") == str(tmp_path / "data" / "intake.sqlite3")
