"""-v / --mount / --tmpfs / --volumes-from read as dockerd 20.10 and the docker
CLI v28 read them.  The expected messages were recorded from them (the
live comparison is tests/engine/test_volumes_vs_docker.py); here they pin
the parser without a daemon."""

from __future__ import annotations

import pytest
from stepbox.core.container import mount_points as mp
from stepbox.core.container.config import ContainerConfig
from stepbox.core.container.errors import NoSuchContainer
from stepbox.core.container.flags import InvalidConfig
from stepbox.core.container.mount_flags import binds_and_volumes, parse_mount_flag, parse_volume_flag
from stepbox.core.container.mounting import plan_mount_points

REFUSED_BINDS = {
    "a:b:c:d": "invalid volume specification: 'a:b:c:d'",
    "/data:ro": "invalid volume specification: '/data:ro'",
    "/h:x": (
        "invalid volume specification: '/h:x': invalid mount config for type \"bind\": "
        "invalid mount path: 'x' mount path must be absolute"
    ),
    "/h:/x:bogus": "invalid mode: bogus",
    "/x:/y:rw,ro": "invalid mode: rw,ro",
    "name:/": (
        "invalid volume specification: 'name:/': invalid mount config for type \"volume\": "
        "invalid specification: destination can't be '/'"
    ),
    "/x:/y:nocopy": (
        "invalid volume specification: '/x:/y:nocopy': invalid mount config for type \"bind\": "
        "field VolumeOptions must not be specified"
    ),
}


@pytest.mark.parametrize("raw", sorted(REFUSED_BINDS))
def test_binds_refused_with_dockers_words(raw):
    with pytest.raises(InvalidConfig) as e:
        mp.parse_bind(raw)
    assert str(e.value) == REFUSED_BINDS[raw]


def test_binds_accepted():
    bind = mp.parse_bind("/srv/data/:/data:ro,rslave")
    assert (bind.type, bind.source, bind.destination, bind.rw, bind.propagation, bind.mode) == (
        "bind",
        "/srv/data",
        "/data",
        False,
        "rslave",
        "ro,rslave",
    )
    volume = mp.parse_bind("name:/data:nocopy")
    assert (volume.type, volume.name, volume.copy_data, volume.anonymous) == ("volume", "name", False, False)
    assert mp.parse_bind("/x:/y:z").rw
    assert mp.parse_bind("/x:/y").propagation == "rprivate"


REFUSED_MOUNTS = [
    (
        {"Type": "bind", "Source": "/nonexistent-i11", "Target": "/x"},
        "bind source path does not exist: /nonexistent-i11",
    ),
    (
        {"Type": "bind", "Source": "rel", "Target": "/x"},
        "invalid mount path: 'rel' mount path must be absolute",
    ),
    ({"Type": "bind", "Target": "/x"}, "field Source must not be empty"),
    (
        {"Type": "volume", "Target": "/x", "ReadOnly": True},
        "must not set ReadOnly mode when using anonymous volumes",
    ),
    ({"Type": "tmpfs", "Source": "x", "Target": "/x"}, "field Source must not be specified"),
    ({"Type": "foo", "Target": "/x"}, "mount type unknown"),
    (
        {"Type": "bind", "Source": "/tmp", "Target": "/x", "BindOptions": {"Propagation": "bogus"}},
        "invalid propagation mode: bogus",
    ),
    (
        {"Type": "bind", "Source": "/tmp", "Target": "x"},
        "invalid mount path: 'x' mount path must be absolute",
    ),
    ({"Type": "bind", "Source": "/tmp", "Target": "/"}, "invalid specification: destination can't be '/'"),
]


@pytest.mark.parametrize("spec,message", REFUSED_MOUNTS, ids=[m for _, m in REFUSED_MOUNTS])
def test_mounts_refused_with_dockers_words(spec, message):
    with pytest.raises(InvalidConfig) as e:
        mp.parse_mount(spec)
    assert str(e.value) == f'invalid mount config for type "{spec["Type"]}": {message}'


def test_tmpfs_options_as_mount_data():
    assert mp.tmpfs_data({"SizeBytes": 1 << 20, "Mode": 0o700}, False) == "mode=700,size=1m"
    assert mp.tmpfs_data({"SizeBytes": 1000}, True) == "ro,size=1000"
    merged = mp.merge_tmpfs_options(
        ["noexec", "nosuid", "nodev", "rprivate", "exec", "size=1m", "noexec", "size=2m"]
    )
    assert merged == ["nosuid", "nodev", "rprivate", "noexec", "size=2m"]
    with pytest.raises(InvalidConfig, match=r'invalid tmpfs option \["bogus" "1"\]'):
        mp.merge_tmpfs_options(["bogus=1"])


def test_volumes_from_modes():
    assert mp.parse_volumes_from("c") == ("c", "rw")
    assert mp.parse_volumes_from("c:ro") == ("c", "ro")
    for bad in ("c:bogus", "c:rshared", "c:nocopy"):
        with pytest.raises(InvalidConfig, match="invalid mode: " + bad.split(":")[1]):
            mp.parse_volumes_from(bad)


def _plan(**config):
    def find(name):
        raise NoSuchContainer(name)

    return plan_mount_points(ContainerConfig(image="busybox", **config), {}, find)


def test_two_mounts_on_one_destination_are_refused():
    for config in (
        {"binds": ("/tmp:/x", "/var:/x/")},
        {"binds": ("v1:/x",), "mounts": ({"Type": "volume", "Source": "v2", "Target": "/x"},)},
        {"binds": ("/tmp:/x",), "tmpfs": {"/x": ""}},
    ):
        with pytest.raises(InvalidConfig, match="Duplicate mount point: /x"):
            _plan(**config)
    # --tmpfs and --mount type=tmpfs on one place: dockerd 20.10 takes both
    _plan(tmpfs={"/x": ""}, mounts=({"Type": "tmpfs", "Target": "/x"},))
    with pytest.raises(InvalidConfig, match="No such container: nonexist"):
        _plan(volumes_from=("nonexist",))
    with pytest.raises(InvalidConfig, match="invalid mount path: 'x' mount path must be absolute"):
        _plan(tmpfs={"x": ""})


def test_an_image_volume_gives_way_to_a_mount_there():
    points = plan_mount_points(
        ContainerConfig(image="busybox", binds=("named:/data",), volumes=("/anon",)),
        {"Volumes": {"/data": {}, "/cache": {}}},
        lambda name: None,
    )
    by_destination = {p.destination: p for p in points}
    assert by_destination["/data"].name == "named" and by_destination["/data"].mode == "z"
    assert by_destination["/anon"].anonymous and by_destination["/cache"].anonymous
    assert by_destination["/cache"].copy_data and by_destination["/cache"].mode == ""


REFUSED_BY_THE_CLI = {
    ":/x": "invalid spec: :/x: empty section between colons",
    "/x:": "invalid spec: /x:: empty section between colons",
    "/a:/b:ro:x": "invalid spec: /a:/b:ro:x: too many colons",
}


@pytest.mark.parametrize("spec", sorted(REFUSED_BY_THE_CLI))
def test_volume_flag_syntax(spec):
    with pytest.raises(InvalidConfig) as e:
        parse_volume_flag(spec)
    assert str(e.value) == REFUSED_BY_THE_CLI[spec]


def test_volume_flags_become_binds_and_volumes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    binds, volumes = binds_and_volumes(["./data:/data", "/x", "/x", "name:/n:ro", "v:/d"])
    assert binds == [f"{tmp_path}/data:/data", "name:/n:ro", "v:/d"]
    assert volumes == ["/x"]


def test_mount_flag_as_the_docker_cli_reads_it():
    assert parse_mount_flag("type=bind,src=/tmp,dst=/x,readonly,bind-propagation=rslave") == {
        "Type": "bind",
        "Source": "/tmp",
        "Target": "/x",
        "ReadOnly": True,
        "BindOptions": {"Propagation": "rslave"},
    }
    assert parse_mount_flag("type=tmpfs,dst=/x,tmpfs-size=1m,tmpfs-mode=700") == {
        "Type": "tmpfs",
        "Target": "/x",
        "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 0o700},
    }
    assert parse_mount_flag("src=v,dst=/x,volume-nocopy,volume-label=a=b") == {
        "Type": "volume",
        "Source": "v",
        "Target": "/x",
        "VolumeOptions": {"NoCopy": True, "Labels": {"a": "b"}},
    }
    for value, message in (
        ("type=bind,src=/tmp", "target is required"),
        ("type=bind,src=/tmp,dst=/x,bogus=1", "unexpected key 'bogus' in 'bogus=1'"),
        ("type=bind,src=/tmp,dst=/x,volume-nocopy", "cannot mix 'volume-*' options with mount type 'bind'"),
        ("type=tmpfs,dst=/x,tmpfs-size=-5", "invalid value for tmpfs-size: -5"),
    ):
        with pytest.raises(InvalidConfig) as e:
            parse_mount_flag(value)
        assert str(e.value) == f'invalid argument "{value}" for "--mount" flag: {message}'
