"""stepbox's own backends are read from its entry_points.txt as importlib.metadata reads them."""

from importlib.metadata import distribution

from stepbox.core.kernel import backend_lookup


def test_own_backends_are_importlibs():
    ours = backend_lookup.own_backends()
    theirs = {
        ep.name: ep.value for ep in distribution("stepbox").entry_points.select(group=backend_lookup.GROUP)
    }
    assert ours == theirs and set(ours) >= {"linux", "sim"}
    assert backend_lookup.load_backend("sim").__name__ == ours["sim"]


def test_entry_points_txt(tmp_path):
    path = tmp_path / "entry_points.txt"
    path.write_text(
        "[console_scripts]\nlinux = not.this\n\n# a comment\n"
        "[ stepbox.backends ]\n  linux=stepbox.backends.linux\nsim = stepbox.backends.sim  \n; another\n"
        "[other]\nsim = nor.this\n"
    )
    assert backend_lookup._entry_points(str(path), "stepbox.backends") == {
        "linux": "stepbox.backends.linux",
        "sim": "stepbox.backends.sim",
    }
    assert backend_lookup._entry_points(str(tmp_path / "missing.txt"), "stepbox.backends") == {}


def test_without_a_dist_info_importlib_finds_them(monkeypatch):
    """No stepbox-*.dist-info on the path searched: the full scan still finds the backend."""
    monkeypatch.setattr(backend_lookup, "own_backends", lambda: None)
    assert backend_lookup.load_backend("sim").__name__ == "stepbox.backends.sim"
