"""gate/image/dockerfile.py and the Dockerfile-to-history matching of gate/image/layers.py: table tests."""

from __future__ import annotations

import pytest

from gate.errors import UsageError
from gate.image.config import HistoryEntry, ImageConfig
from gate.image.dockerfile import Build, expand, parse_dockerfile
from gate.image.layers import compatible, history_keyword, match_dockerfile
from testbed.images import IMAGES_DIR


def steps(build: Build) -> list[tuple[int, str]]:
    return [(step.line, step.keyword) for step in build.steps]


def test_the_testbed_app_dockerfile() -> None:
    build = parse_dockerfile((IMAGES_DIR / "app" / "Dockerfile").read_text(), "Dockerfile").final_build()
    assert (build.from_line, build.base, build.scratch) == (4, "container-gate-testbed/base:1", False)
    assert steps(build) == [(5, "COPY"), (6, "COPY"), (7, "RUN"), (8, "ARG"), (9, "LABEL"), (10, "CMD")]
    other = parse_dockerfile(
        (IMAGES_DIR / "app" / "Dockerfile").read_text(), "Dockerfile", {"BASE": "debian:12"}
    )
    assert other.final_build().base == "debian:12"


CASES: list[tuple[str, str, int, str | None, list[tuple[int, str]]]] = [
    (
        "continuations skip comment and empty lines",
        "FROM debian:12\nRUN apt-get update \\\n    # a comment inside\n    && apt-get install -y \\\n\n       curl\nCOPY a /b\n",
        1,
        "debian:12",
        [(2, "RUN"), (7, "COPY")],
    ),
    (
        "the escape directive",
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN dir `\n    c:\\\nCOPY a c:\\b\\\n",
        2,
        "mcr.microsoft.com/windows/servercore",
        [(3, "RUN"), (5, "COPY")],
    ),
    (
        "a directive after a comment is a comment",
        "# a comment\n# escape=`\nFROM x\nRUN a \\\n  b\n",
        3,
        "x",
        [(4, "RUN")],
    ),
    (
        "multi-stage: the final stage is built FROM an earlier one",
        "ARG GO=1.22\nFROM golang:${GO} AS build\nRUN go build -o /out/app\n"
        "FROM --platform=$BUILDPLATFORM debian:12-slim AS Base\nRUN apt-get install ca-certificates\n"
        "FROM base\nCOPY --from=build /out/app /usr/local/bin/app\n",
        4,
        "debian:12-slim",
        [(5, "RUN"), (7, "COPY")],
    ),
    (
        "multi-stage: FROM scratch",
        "FROM golang AS build\nRUN x\nFROM scratch\nCOPY --from=build /app /app\n",
        3,
        None,
        [(4, "COPY")],
    ),
    (
        "heredocs",
        "FROM debian\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n"
        "RUN <<-EOT bash\n\techo hi\n\tEOT\nCOPY <<CONF /etc/app.conf\nkey=value\nCONF\n"
        'RUN echo $((1<<2)) && cat <<< "x"\nRUN echo "<<NOT" done\nUSER app\n',
        1,
        "debian",
        [(2, "RUN"), (6, "RUN"), (9, "COPY"), (12, "RUN"), (13, "RUN"), (14, "USER")],
    ),
    (
        "CRLF line ends, lower-case instructions, tabs",
        "from alpine:3.19\r\nrun\tapk add curl \\\r\n  jq\r\nworkdir /app\r\n",
        1,
        "alpine:3.19",
        [(2, "RUN"), (4, "WORKDIR")],
    ),
    (
        "an ARG without a value leaves the base unknown",
        "ARG BASE\nFROM ${BASE}\nRUN x\n",
        2,
        None,
        [(3, "RUN")],
    ),
    (
        "a byte order mark before FROM (Windows editors write one)",
        "\ufeffFROM debian:12\nRUN x\n",
        1,
        "debian:12",
        [(2, "RUN")],
    ),
    (
        "a byte order mark before a parser directive",
        "\ufeff# escape=`\nFROM x\nRUN a `\n  b\n",
        2,
        "x",
        [(3, "RUN")],
    ),
    (
        "a continuation that ends the file",
        "FROM x\nRUN a\n\\\n",
        1,
        "x",
        [(2, "RUN")],
    ),
    (
        "variable defaults",
        "ARG REG=\nARG TAG=12\nFROM ${REG:-docker.io}/library/debian:${TAG:+bookworm}\n",
        3,
        "docker.io/library/debian:bookworm",
        [],
    ),
]


@pytest.mark.parametrize(
    ("text", "from_line", "base", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_parsing(text: str, from_line: int, base: str | None, expected: list[tuple[int, str]]) -> None:
    build = parse_dockerfile(text, "Dockerfile").final_build()
    assert (build.from_line, build.base, steps(build)) == (from_line, base, expected)


def test_arguments_are_joined_and_heredoc_bodies_left_out() -> None:
    build = parse_dockerfile(CASES[0][1], "Dockerfile").final_build()
    assert build.steps[0].arguments == "apt-get update     && apt-get install -y        curl"
    heredocs = parse_dockerfile(CASES[5][1], "Dockerfile").final_build().steps
    assert [s.heredoc for s in heredocs] == [True, True, True, False, False, False]
    assert heredocs[0].arguments == "<<EOF"
    windows = parse_dockerfile(CASES[1][1], "Dockerfile").final_build().steps
    assert windows[0].arguments == "dir     c:\\"


def test_each_instruction_knows_its_last_line() -> None:
    continued = parse_dockerfile(CASES[0][1], "Dockerfile").final_build().steps
    assert [(s.line, s.end_line) for s in continued] == [(2, 6), (7, 7)]
    heredocs = parse_dockerfile(CASES[5][1], "Dockerfile").final_build().steps
    assert [(s.line, s.end_line) for s in heredocs] == [(2, 5), (6, 8), (9, 11), (12, 12), (13, 13), (14, 14)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM x\nFORM y\n", "Dockerfile:2: unknown instruction 'FORM'"),
        ("# just a comment\n", "Dockerfile: no FROM instruction: not a Dockerfile"),
        ("# escape=|\nFROM x\n", "Dockerfile:1: escape must be \\ or `, not '|'"),
        ("# escape=`\n# escape=\\\nFROM x\n", "Dockerfile:2: parser directive escape given twice"),
        ("FROM a b\n", "Dockerfile:1: expected FROM [--platform=...] IMAGE [AS NAME], got 'a b'"),
        ("ENV A=1\nFROM x\n", "Dockerfile:1: ENV before the first FROM (only ARG may come first)"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_dockerfile(text, "Dockerfile")
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("variables", "text", "expected"),
    [
        ({"A": "1"}, "x${A}y$A", "x1y1"),
        ({}, "${A:-d}", "d"),
        ({"A": ""}, "${A:-d}|${A-d}", "d|"),
        ({"A": "v"}, "${A:+alt}|${B:+alt}", "alt|"),
        ({}, "$MISSING", None),
    ],
)
def test_expand(variables: dict[str, str], text: str, expected: str | None) -> None:
    assert expand(text, variables) == expected


@pytest.mark.parametrize(
    ("created_by", "keyword"),
    [
        ("/bin/sh -c #(nop)  ENV PATH=/usr/bin", "ENV"),
        ("/bin/sh -c #(nop) COPY dir:abc in /app ", "COPY"),
        ("/bin/sh -c #(nop) WORKDIR /app", "WORKDIR"),
        ("/bin/sh -c apt-get update", "RUN"),
        ("|1 Z=1 /bin/sh -c echo $Z", "RUN"),
        ("RUN /bin/sh -c pip install flask # buildkit", "RUN"),
        ("COPY . /app # buildkit", "COPY"),
        ("WORKDIR /app", "WORKDIR"),
        ("ENV A=1", "ENV"),
        ("apk add curl", "RUN"),  # legacy exec form: the command's words
        ("", ""),
    ],
)
def test_history_keywords(created_by: str, keyword: str) -> None:
    assert history_keyword(created_by) == keyword


def one_step(text: str) -> object:
    return parse_dockerfile(f"FROM x\n{text}\n", "Dockerfile").final_build().steps[0]


@pytest.mark.parametrize(
    ("created_by", "instruction", "fits"),
    [
        (
            "/bin/sh -c apt-get update &&     apt-get install -y curl",
            "RUN apt-get update && \\\n    apt-get install -y curl",
            True,
        ),
        ("/bin/sh -c apt-get update", "RUN apt-get upgrade", False),
        (
            "RUN /bin/sh -c pip install -r r.txt # buildkit",
            "RUN --mount=type=cache,target=/root/.cache pip install -r r.txt",
            True,
        ),
        ("|1 V=2 /bin/sh -c make V=$V", "RUN make V=$V", True),
        ("echo hi", 'RUN ["echo", "hi"]', True),
        (
            "/bin/sh -c #(nop) COPY dir:abc in /app/node_modules/ ",
            "COPY node_modules/ /app/node_modules/",
            True,
        ),
        ("/bin/sh -c #(nop) COPY dir:abc in /app/node_modules/ ", "COPY node_modules/ /app", False),
        ("/bin/sh -c #(nop) COPY dir:abc in / ", "COPY rootfs/ /", True),
        ("/bin/sh -c #(nop) COPY file:abc in /srv/x ", "COPY --chown=1:1 x /srv/x", True),
        ("COPY . /app # buildkit", "COPY . /app", True),
        ("COPY . . # buildkit", "COPY . .", True),  # a relative destination is not compared
        ("/bin/sh -c #(nop) ADD file:abc in / ", "ADD rootfs.tar.gz /", True),
        ("/bin/sh -c #(nop) ADD file:abc in / ", "COPY rootfs.tar.gz /", False),
        ("/bin/sh -c #(nop)  ENV A=1", "ENV A=1", True),
        ("/bin/sh -c #(nop)  ENV A=1", "LABEL A=1", False),
        ("RUN /bin/sh -c cat /x # buildkit", "RUN <<EOF\ncat /x\nEOF", True),
    ],
)
def test_compatible(created_by: str, instruction: str, fits: bool) -> None:
    assert compatible(HistoryEntry(created_by, False), one_step(instruction)) is fits  # type: ignore[arg-type]


def config(entries: list[tuple[str, bool]], layers: int | None = None) -> ImageConfig:
    count = sum(not empty for _, empty in entries) if layers is None else layers
    return ImageConfig(
        platform=None,
        diff_ids=tuple(f"sha256:{i:064x}" for i in range(count)),
        history=tuple(HistoryEntry(by, empty) for by, empty in entries),
        labels=(),
    )


BUILDKIT_BASE = [("/bin/sh -c #(nop) ADD file:abc in / ", False), ('/bin/sh -c #(nop)  CMD ["bash"]', True)]
BUILDKIT_APP = [
    ("WORKDIR /app", False),
    ("COPY requirements.txt . # buildkit", False),
    ("RUN /bin/sh -c pip install -r requirements.txt # buildkit", False),
    ("RUN /bin/sh -c true # buildkit", True),
    ("COPY . /app # buildkit", False),
    ("ENV PORT=8000", True),
    ('CMD ["python", "app.py"]', True),
]
BUILDKIT_DOCKERFILE = """\
# syntax=docker/dockerfile:1
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
RUN true
COPY . /app
ENV PORT=8000
CMD ["python", "app.py"]
"""


def test_a_buildkit_image_maps_every_own_layer() -> None:
    build = parse_dockerfile(BUILDKIT_DOCKERFILE, "Dockerfile").final_build()
    match = match_dockerfile(config(BUILDKIT_BASE + BUILDKIT_APP), build, "Dockerfile")
    assert match.warnings == ()
    assert match.base_layer_count == 1
    # Layer 0 is python's; WORKDIR made layer 1; `RUN true` (line 6) made none.
    assert match.lines == {1: 3, 2: 4, 3: 5, 4: 7}


def test_a_mismatch_maps_only_the_instructions_after_it() -> None:
    changed = BUILDKIT_DOCKERFILE.replace("RUN pip install", "RUN pip3 install")
    build = parse_dockerfile(changed, "Dockerfile").final_build()
    match = match_dockerfile(config(BUILDKIT_BASE + BUILDKIT_APP), build, "Dockerfile")
    assert match.base_layer_count is None
    assert match.lines == {4: 7}
    assert match.warnings == (
        "Dockerfile:5: RUN does not match the image history at that step "
        "('RUN /bin/sh -c pip install -r requirements.txt # buildkit'): only the last 4 instruction(s) are mapped to layers",
    )


def test_more_instructions_than_history() -> None:
    build = parse_dockerfile(BUILDKIT_DOCKERFILE, "Dockerfile").final_build()
    match = match_dockerfile(config(BUILDKIT_APP[2:]), build, "Dockerfile")
    assert match.base_layer_count is None
    assert match.warnings == (
        "Dockerfile: the final stage has 7 instructions, the image history only 5 steps: "
        "only the last 5 instruction(s) are mapped to layers",
    )


def test_from_scratch_with_earlier_history_is_a_mismatch() -> None:
    build = parse_dockerfile("FROM scratch\nCOPY rootfs/ /\n", "Dockerfile").final_build()
    history = [("/bin/sh -c #(nop) COPY dir:a in / ", False), ("/bin/sh -c #(nop) COPY dir:b in / ", False)]
    match = match_dockerfile(config(history), build, "Dockerfile")
    assert match.base_layer_count is None
    assert match.lines == {1: 2}
    assert "the build starts FROM scratch, yet the image history has 1 earlier steps" in match.warnings[0]
    exact = match_dockerfile(config(history[1:]), build, "Dockerfile")
    assert (exact.base_layer_count, exact.lines, exact.warnings) == (0, {0: 2}, ())


def test_without_a_usable_history_layers_are_counted() -> None:
    squashed = config([("squashed", False)], layers=4)
    build = parse_dockerfile("FROM debian\nENV A=1\nCOPY a /a\nRUN make\n", "Dockerfile").final_build()
    match = match_dockerfile(squashed, build, "Dockerfile")
    assert (match.base_layer_count, match.lines) == (2, {2: 3, 3: 4})
    assert "assumed each RUN, COPY and ADD of the final stage made one layer" in match.warnings[0]
    unsure = parse_dockerfile("FROM debian\nWORKDIR /app\nRUN make\n", "Dockerfile").final_build()
    refused = match_dockerfile(squashed, unsure, "Dockerfile")
    assert (refused.base_layer_count, refused.lines) == (None, {})
    assert "WORKDIR at line 2 may or may not have made a layer: no layer is mapped" in refused.warnings[0]
