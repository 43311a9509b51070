"""The Dockerfile parser: every instruction, both forms, continuations,
directives, and errors that say where."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stepbox.core.dockerfile import instructions as ins
from stepbox.core.dockerfile.errors import DockerfileError
from stepbox.core.dockerfile.parser import parse_dockerfile


def only(text: str) -> ins.Instruction:
    """The single instruction after ``FROM busybox``."""
    df = parse_dockerfile("FROM busybox\n" + text + "\n")
    assert len(df.stages[0].instructions) == 1
    return df.stages[0].instructions[0]


# ------------------------------------------------------------------- FROM


def test_from_forms_and_stages():
    df = parse_dockerfile(
        "FROM busybox AS Build\nRUN true\nfrom scratch\nFROM --platform=linux/amd64 build as final\n"
    )
    assert [s.source.base for s in df.stages] == ["busybox", "scratch", "build"]
    assert [s.name for s in df.stages] == ["build", None, "final"]  # names are lower-cased
    assert df.stages[2].source.platform == "linux/amd64"
    assert df.total_steps() == 4


def test_from_arguments_are_checked():
    with pytest.raises(DockerfileError, match="FROM requires either one or three arguments"):
        parse_dockerfile("FROM a b\n")
    with pytest.raises(DockerfileError, match="invalid name for build stage"):
        parse_dockerfile("FROM a AS 1abc\n")
    with pytest.raises(DockerfileError, match="duplicate name x"):
        parse_dockerfile("FROM a AS x\nFROM b AS x\n")


def test_meta_args_before_from_and_nothing_else():
    df = parse_dockerfile("ARG A=1\nARG B\nFROM x:${A}\n")
    assert [a.pairs for a in df.meta_args] == [[("A", "1")], [("B", None)]]
    with pytest.raises(DockerfileError, match=r"Dockerfile:1: no build stage"):
        parse_dockerfile("RUN x\nFROM a\n")


# ----------------------------------------------------------- exec / shell


@pytest.mark.parametrize("keyword,cls", [("RUN", ins.Run), ("CMD", ins.Cmd), ("ENTRYPOINT", ins.Entrypoint)])
def test_exec_and_shell_forms(keyword, cls):
    exec_form = only(f'{keyword} ["echo", "a b"]')
    assert isinstance(exec_form, cls) and exec_form.json and exec_form.args == ["echo", "a b"]
    shell_form = only(f"{keyword} echo $HOME  &&  ls")
    assert not shell_form.json and shell_form.args == ["echo $HOME  &&  ls"]


def test_not_json_is_shell_form():
    run = only("RUN [ -f /etc/passwd ] && echo yes")
    assert not run.json and run.args == ["[ -f /etc/passwd ] && echo yes"]


def test_json_with_non_strings_is_an_error():
    with pytest.raises(DockerfileError, match="not a string"):
        only('CMD ["a", 1]')


def test_shell_needs_json():
    assert only('SHELL ["/bin/bash", "-c"]').args == ["/bin/bash", "-c"]
    with pytest.raises(DockerfileError, match="SHELL requires the arguments to be in JSON form"):
        only("SHELL /bin/bash -c")


# --------------------------------------------------------------- key=value


def test_env_both_forms():
    assert only('ENV A=1 B="two words" C=\'x\'').pairs == [("A", "1"), ("B", '"two words"'), ("C", "'x'")]
    assert only("ENV OLD several   words here").pairs == [("OLD", "several   words here")]
    with pytest.raises(DockerfileError, match="ENV must have two arguments"):
        only("ENV ALONE")
    with pytest.raises(DockerfileError, match="can't find = in"):
        only("ENV A=1 B")


def test_label_and_arg():
    assert only('LABEL "a b"=c d=e').pairs == [('"a b"', "c"), ("d", "e")]
    assert only("ARG X").pairs == [("X", None)]
    assert only("ARG X=1 Y=").pairs == [("X", "1"), ("Y", "")]


# ----------------------------------------------------------- the others


def test_simple_instructions():
    assert only("EXPOSE 80 443/udp").ports == ["80", "443/udp"]
    assert only("VOLUME /a /b").paths == ["/a", "/b"]
    assert only('VOLUME ["/c d"]').paths == ["/c d"]
    assert only("WORKDIR /srv/app").path == "/srv/app"
    assert only("USER nobody:nogroup").user == "nobody:nogroup"
    assert only("STOPSIGNAL SIGKILL").signal == "SIGKILL"
    assert only("MAINTAINER Jane <j@x>").maintainer == "Jane <j@x>"


def test_copy_and_add():
    copy = only("COPY --from=build --chown=1:2 --chmod=640 a b /dst/")
    assert (copy.sources, copy.dest, copy.from_, copy.chown, copy.chmod) == (
        ["a", "b"],
        "/dst/",
        "build",
        "1:2",
        "640",
    )
    assert only('COPY ["a b", "/c d/"]').sources == ["a b"]
    add = only("ADD x.tar /")
    assert isinstance(add, ins.Add) and add.sources == ["x.tar"]
    with pytest.raises(DockerfileError, match="Unknown flag: from"):
        only("ADD --from=x a b")
    with pytest.raises(DockerfileError, match="COPY requires at least two arguments"):
        only("COPY onlyone")
    with pytest.raises(DockerfileError, match="Missing a value on flag: --chown"):
        only("COPY --chown a b")


def test_healthcheck():
    hc = only("HEALTHCHECK --interval=1m30s --timeout=500ms --retries=2 CMD curl -f x")
    assert hc.test == ["CMD-SHELL", "curl -f x"]
    assert (hc.interval, hc.timeout, hc.retries) == (90 * 10**9, 500 * 10**6, 2)
    assert only('HEALTHCHECK CMD ["true"]').test == ["CMD", "true"]
    assert only("HEALTHCHECK NONE").test == ["NONE"]
    with pytest.raises(DockerfileError, match="Unknown type"):
        only("HEALTHCHECK RUN x")
    with pytest.raises(DockerfileError, match="--retries must be at least 1"):
        only("HEALTHCHECK --retries=0 CMD x")
    with pytest.raises(DockerfileError, match="cannot be less than 1ms"):
        only("HEALTHCHECK --interval=1us CMD x")


def test_onbuild():
    ob = only("ONBUILD RUN make install")
    assert ob.expression == "RUN make install" and isinstance(ob.trigger, ins.Run)
    with pytest.raises(DockerfileError, match="Chaining ONBUILD"):
        only("ONBUILD ONBUILD RUN x")
    with pytest.raises(DockerfileError, match="FROM isn't allowed as an ONBUILD trigger"):
        only("ONBUILD FROM x")


# ------------------------------------------------- lines and directives


def test_continuations_comments_and_indentation():
    df = parse_dockerfile(
        "FROM busybox\n"
        "RUN echo a \\\n"
        "# a comment inside is dropped\n"
        "    b \\\n"
        "\n"  # an empty continuation line: skipped, with a warning
        "  c\n"
        "   # an indented comment\n"
        "   ENV X=1\n"
    )
    run, env = df.stages[0].instructions
    assert run.args == ["echo a     b   c"]
    assert run.line.start == 2 and run.line.end == 6
    assert env.pairs == [("X", "1")] and env.line.start == 8
    assert any("Empty continuation line" in w for w in df.warnings)


def test_escape_directive():
    df = parse_dockerfile("# escape=`\nFROM busybox\nRUN dir c:\\ `\n  && echo ok\n")
    assert df.escape == "`"
    assert df.stages[0].instructions[0].args == ["dir c:\\   && echo ok"]


def test_directive_names_in_any_case():
    # moby lower-cases the name; the value keeps its case.  (This crashed with
    # an AttributeError before: the name was matched lower-cased, then the
    # value looked up again in the line as written.)
    df = parse_dockerfile("# Escape=`\n# SYNTAX=Docker/Dockerfile:1\nFROM busybox\n")
    assert df.escape == "`" and df.directives.syntax == "Docker/Dockerfile:1"


def test_directives_only_at_the_top():
    df = parse_dockerfile("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\n")
    assert df.escape == "`" and df.directives.syntax == "docker/dockerfile:1"
    df = parse_dockerfile("# a comment\n# escape=`\nFROM a\n")
    assert df.escape == "\\"  # after a comment it is just a comment
    df = parse_dockerfile("\n# escape=`\nFROM a\n")
    assert df.escape == "\\"  # and after a blank line too
    with pytest.raises(DockerfileError, match=r"Dockerfile:1: invalid ESCAPE"):
        parse_dockerfile("# escape=x\nFROM a\n")
    with pytest.raises(DockerfileError, match="only one escape parser directive"):
        parse_dockerfile("# escape=`\n# escape=\\\nFROM a\n")


def test_errors_name_file_line_and_text():
    with pytest.raises(DockerfileError) as info:
        parse_dockerfile("FROM busybox\n\nRUNN echo\n", "my.Dockerfile")
    assert str(info.value) == 'my.Dockerfile:3: unknown instruction: RUNN (line: "RUNN echo")'
    assert info.value.line == 3


def test_error_on_a_continued_line_names_its_first_line():
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: Unknown flag: bogus"):
        parse_dockerfile("FROM a\nCOPY --bogus=1 \\\n  a b\n")


def test_empty_dockerfile():
    with pytest.raises(DockerfileError, match="no instructions"):
        parse_dockerfile("# only a comment\n\n")


def test_bom_and_crlf():
    df = parse_dockerfile("\ufeffFROM a\r\nENV A=1\r\n")
    assert df.stages[0].instructions[0].pairs == [("A", "1")]


def test_target_selects_stages():
    df = parse_dockerfile("FROM a AS one\nFROM b AS two\nFROM c\n")
    assert [s.name for s in df.stages_until("two")] == ["one", "two"]
    assert df.total_steps(df.stages_until("one")) == 1
    with pytest.raises(DockerfileError, match="failed to reach build target nope"):
        df.stages_until("nope")


# ---------------------------------------------------------------- property

WORD = st.text(
    st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="-_./$"),
    min_size=1,
    max_size=8,
)


@given(
    st.lists(WORD, min_size=1, max_size=6),
    st.lists(st.sampled_from(["", "# note", "   # indented"]), max_size=6),
)
def test_continued_lines_join_back(words, interruptions):
    """However a RUN is cut into continued lines (with comments between),
    it parses to the same command text."""
    lines = []
    for i, word in enumerate(words):
        last = i == len(words) - 1
        lines.append(("RUN " if i == 0 else " ") + word + ("" if last else " \\"))
        if not last and i < len(interruptions) and interruptions[i]:
            lines.append(interruptions[i])
    df = parse_dockerfile("FROM a\n" + "\n".join(lines) + "\nENV AFTER=1\n")
    run, env = df.stages[0].instructions
    expected = "  ".join(words)  # " \\" + " word": two spaces
    assert run.args == [expected]
    assert env.line.start == len(lines) + 2


def test_an_escaped_escape_does_not_continue_the_line():
    """Docker continues a line only when its last escape is not preceded by
    another one: ``a\\\\`` and even ``a\\\\\\`` end the instruction."""
    df = parse_dockerfile("FROM a\nENV A=x\\\\\nENV B=y\\\\\\\nENV C=z\\\n  D=more\n")
    pairs = [i.pairs for i in df.stages[0].instructions]
    # (B: parseWords drops a lone escape at the very end of the line)
    assert pairs == [[("A", "x\\\\")], [("B", "y\\\\")], [("C", "z"), ("D", "more")]]
