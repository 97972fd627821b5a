"""A hostile file system: links, FIFOs, folders and unreadable files wherever hks reads or
writes, the output folder's own tricks, and two edits at once (docs/security.md, "Files")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.errors import InputError
from tests.conftest import ROOT, hks_command, hks_process, write
from tests.policy.test_policy import OWN_PACK

ORG = "llm_config:\n  provider: openai\n  model: gpt-5.4-mini\n"
WORKSPACE = "llm_override:\n  temperature: 0.5\n"
PACK = OWN_PACK.replace("anthropic}", "google}")  # valid, and the config passes it
SECRET_MARK = "sk-proj-MarkerThatMustNeverBePrinted0123456789abcdef"


def config(root: Path) -> Path:
    return write(root, {"org.yaml": ORG, "workspaces/app.yaml": WORKSPACE})


def fifo(path: Path, outside: Path) -> None:
    os.mkfifo(path)


def dangling(path: Path, outside: Path) -> None:
    path.symlink_to(path.parent / "missing.yaml")


def looping(path: Path, outside: Path) -> None:
    path.symlink_to(path.name)


def folder(path: Path, outside: Path) -> None:
    path.mkdir()


def link_outside(path: Path, outside: Path) -> None:
    path.symlink_to(outside)


KINDS: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "fifo": (fifo, "REPO-013"),
    "dangling link": (dangling, "REPO-013"),
    "looping link": (looping, "REPO-013"),
    "folder": (folder, "REPO-013"),
    "link outside the repository": (link_outside, "REPO-012"),
}
# Every file hks validate reads, and what a valid one holds (the link outside leads to one).
INPUTS = {
    "org.yaml": ORG,
    "workspaces/other.yaml": WORKSPACE,
    "policies/pack.yaml": PACK,
    "policies/waivers.yaml": "waivers: []\n",
}


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("name", sorted(INPUTS))
def test_every_input_that_is_not_a_file_of_the_repository_is_an_error_naming_it(
    tmp_path: Path, name: str, kind: str
) -> None:
    repo = config(tmp_path / "repo")
    outside = write(tmp_path, {"outside.yaml": INPUTS[name]}) / "outside.yaml"
    plant, rule = KINDS[kind]
    target = repo / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    plant(target, outside)
    result = subprocess.run(
        [*hks_command(), "validate", "-C", str(repo)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{repo / name}: error[{rule}]" in result.stdout, result.stdout
    assert "Traceback" not in result.stderr


def test_a_workspace_folder_that_is_a_link_outside_is_refused(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"org.yaml": ORG})
    elsewhere = write(tmp_path / "elsewhere", {"app.yaml": WORKSPACE})
    (repo / "workspaces").symlink_to(elsewhere)
    result = hks_process("validate", "-C", str(repo))
    assert result.returncode == 1
    assert f"{repo / 'workspaces'}: error[REPO-012]" in result.stdout


def test_a_link_inside_the_repository_is_read(tmp_path: Path) -> None:
    repo = config(tmp_path / "repo")
    write(repo, {"shared/other.yaml": WORKSPACE})
    (repo / "workspaces" / "other.yaml").symlink_to(repo / "shared" / "other.yaml")
    result = hks_process("validate", "-C", str(repo))
    assert result.returncode == 0, result.stdout


# ---- the rendered folder: render --check reads it, render replaces it ----


@pytest.fixture
def rendered(tmp_path: Path) -> tuple[Path, Path]:
    repo = config(tmp_path / "repo")
    out = repo / "rendered"
    result = hks_process("render", "-C", str(repo), "-o", str(out))
    assert result.returncode == 0, result.stderr
    return repo, out


def tree(folder: Path) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*")):
        found[str(path.relative_to(folder))] = (
            "link:" + os.readlink(path) if path.is_symlink()
            else "dir" if path.is_dir() else path.read_text() if path.is_file() else "special"
        )
    return found


def plant_secret_outside(tmp_path: Path) -> Path:
    return write(tmp_path, {"environ": f"OPENAI_API_KEY={SECRET_MARK}\n"}) / "environ"


FOREIGN: dict[str, Callable[[Path, Path], None]] = {
    "link to a file outside": lambda out, secret: (out / "platform" / "environ.yaml").symlink_to(secret),
    "link to a folder outside": lambda out, secret: (out / "etc").symlink_to(secret.parent),
    "fifo": lambda out, secret: os.mkfifo(out / "platform" / "pipe.yaml"),
    "git checkout": lambda out, secret: write(out, {".git/HEAD": "ref: refs/heads/main\n"}),
    "readme": lambda out, secret: write(out, {"README.md": "# ours\n"}),
    "yaml file hks did not list": lambda out, secret: write(out, {"platform/extra.yaml": "kind: ConfigMap\n"}),
}


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_render_check_reports_what_hks_did_not_write_and_never_reads_through_a_link(
    tmp_path: Path, rendered: tuple[Path, Path], kind: str
) -> None:
    repo, out = rendered
    FOREIGN[kind](out, plant_secret_outside(tmp_path))
    result = subprocess.run(
        [*hks_command(), "render", "-C", str(repo), "-o", str(out), "--check"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "not written by hks: " in result.stdout
    assert SECRET_MARK not in result.stdout + result.stderr


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_render_replaces_only_a_folder_holding_nothing_but_what_hks_wrote(
    tmp_path: Path, rendered: tuple[Path, Path], kind: str
) -> None:
    repo, out = rendered
    FOREIGN[kind](out, plant_secret_outside(tmp_path))
    before = tree(out)
    result = hks_process("render", "-C", str(repo), "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert "refusing to replace it" in result.stderr
    assert tree(out) == before
    assert [p.name for p in out.parent.iterdir() if ".hks-" in p.name] == []


def test_render_replaces_its_own_folder_after_a_workspace_is_removed(rendered: tuple[Path, Path]) -> None:
    repo, out = rendered
    (repo / "workspaces" / "app.yaml").unlink()
    assert hks_process("render", "-C", str(repo), "-o", str(out)).returncode == 0
    assert not any("app" in name for name in tree(out))


def test_an_output_folder_that_is_a_link_is_refused_with_nothing_changed(
    tmp_path: Path, rendered: tuple[Path, Path]
) -> None:
    repo, out = rendered
    link = tmp_path / "link"
    link.symlink_to(out)
    before = tree(out)
    result = hks_process("render", "-C", str(repo), "-o", str(link))
    assert result.returncode == 2
    assert "is a link" in result.stderr
    assert link.is_symlink() and os.readlink(link) == str(out)
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if ".hks-" in p.name] == []
    check = hks_process("render", "-C", str(repo), "-o", str(link), "--check")
    assert check.returncode == 1 and "is a link" in check.stderr


@pytest.mark.parametrize("inside", ["workspaces", "policies", "policies/x", "secrets", ".", ".."])
def test_render_never_writes_into_a_folder_the_config_is_read_from(tmp_path: Path, inside: str) -> None:
    repo = config(tmp_path / "repo")
    write(repo, {"policies/pack.yaml": PACK})
    before = tree(tmp_path)
    result = hks_process("render", "-C", str(repo), "-o", str(repo / inside))
    assert result.returncode == 2, result.stderr
    assert "nothing was changed" in result.stderr
    assert tree(tmp_path) == before


def test_a_staging_folder_left_by_a_killed_render_is_removed_by_the_next(rendered: tuple[Path, Path]) -> None:
    repo, out = rendered
    stale = write(out.parent / ".rendered.hks-999999999-abc", {"kustomization.yaml": "x"})
    busy = write(out.parent / f".rendered.hks-{os.getpid()}-abc", {"kustomization.yaml": "x"})
    assert hks_process("render", "-C", str(repo), "-o", str(out)).returncode == 0
    assert not stale.exists()
    assert busy.exists()  # its process is alive: it may be writing it now


def test_sigterm_while_rendering_leaves_no_staging_folder(tmp_path: Path) -> None:
    from compiler.write import write_tree

    def terminated() -> Iterator[tuple[str, str]]:  # files rendered as they are written
        yield "kustomization.yaml", "x"
        os.kill(os.getpid(), signal.SIGTERM)
        yield "b.yaml", "y"

    out = tmp_path / "rendered"
    with pytest.raises(KeyboardInterrupt):
        write_tree(out, terminated())
    assert list(tmp_path.iterdir()) == []


def test_write_tree_refuses_a_link_before_touching_anything(tmp_path: Path) -> None:
    from compiler.write import write_tree

    (tmp_path / "target").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "target")
    with pytest.raises(InputError, match="is a link"):
        write_tree(tmp_path / "link", [("kustomization.yaml", "x")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "target"]
    assert list((tmp_path / "target").iterdir()) == []


# ---- two edits at once ----

SLOW_EDIT = """
import sys, time
import compiler.tools.edit as edit
check, delay = edit.check, float(sys.argv.pop(1))
def slow(*args, **kwargs):
    verdict = check(*args, **kwargs)
    time.sleep(delay)  # both processes have read the file before either writes
    return verdict
edit.check = slow
sys.argv[0] = "hks"
from compiler.cli import main
main()
"""


def test_two_edits_of_one_file_at_once_never_lose_one(tmp_path: Path) -> None:
    repo = config(tmp_path / "repo")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    edits = [["--temperature", "0.9"], ["--max-tokens", "123"]]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SLOW_EDIT, str(delay), "workspace", "set-llm", "app", "-C", str(repo), *flags],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for delay, flags in zip((1.0, 2.0), edits)
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in processes]  # type: ignore[union-attr]
    text = (repo / "workspaces" / "app.yaml").read_text()
    assert sorted(code for code, _ in results) == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    assert "changed since hks read it" in loser and "nothing was changed" in loser
    winner = edits[[code for code, _ in results].index(0)]
    assert f"{winner[0][2:].replace('-', '_')}: {winner[1]}" in text


# ---- secret create: every file it reads or writes ----


@pytest.fixture
def sealed_repo(tmp_path: Path) -> Path:
    from tests.tools.test_secret import certificate, private_key

    key = private_key.__wrapped__()  # type: ignore[attr-defined]
    return write(tmp_path / "repo", {
        "org.yaml": ORG + "workspaces:\n  app: {}\nsecrets:\n  backend: sealed-secrets\n  cert: sealed-secrets.pem\n",
        "sealed-secrets.pem": certificate(key),
    })


def create(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*hks_command(), "secret", "create", "openai-api-key", "-C", str(repo), *args],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, input=stdin, capture_output=True, text=True, timeout=60,
    )


def test_secret_create_refuses_a_target_that_is_a_fifo_or_a_link_out(sealed_repo: Path, tmp_path: Path) -> None:
    target = sealed_repo / "secrets" / "openai-api-key.yaml"
    target.parent.mkdir()
    os.mkfifo(target)
    result = create(sealed_repo, "--from-literal=key=sk-value")
    assert result.returncode == 1 and "REPO-013" in result.stderr and "nothing was changed" in result.stderr
    target.unlink()
    target.symlink_to(write(tmp_path, {"elsewhere.yaml": "a: 1\n"}) / "elsewhere.yaml")
    result = create(sealed_repo, "--from-literal=key=sk-value")
    assert result.returncode == 1 and "REPO-012" in result.stderr
    assert (tmp_path / "elsewhere.yaml").read_text() == "a: 1\n"


@pytest.mark.parametrize("kind", ["fifo", "link outside", "folder", "huge"])
def test_secret_create_reads_the_certificate_only_as_a_bounded_file_of_the_repository(
    sealed_repo: Path, tmp_path: Path, kind: str
) -> None:
    cert = sealed_repo / "sealed-secrets.pem"
    pem = cert.read_bytes()
    cert.unlink()
    if kind == "fifo":
        os.mkfifo(cert)
    elif kind == "link outside":
        (tmp_path / "outside.pem").write_bytes(pem)
        cert.symlink_to(tmp_path / "outside.pem")
    elif kind == "folder":
        cert.mkdir()
    else:
        cert.write_bytes(pem + b"\n" * (1 << 20))
    result = create(sealed_repo, "--from-literal=key=sk-value")
    assert result.returncode == 1, result.stderr
    assert "sealed-secrets.pem" in result.stderr and "Traceback" not in result.stderr
    assert not (sealed_repo / "secrets").exists()


def test_secret_create_reads_a_value_file_bounded_and_a_fifo_without_writer_as_empty(
    sealed_repo: Path, tmp_path: Path
) -> None:
    result = create(sealed_repo, "--from-file=key=/dev/zero")
    assert result.returncode == 2 and "over 16384 bytes" in result.stderr, result.stderr
    os.mkfifo(tmp_path / "pipe")
    result = create(sealed_repo, f"--from-file=key={tmp_path / 'pipe'}")
    assert result.returncode == 2 and "is empty" in result.stderr
    assert not (sealed_repo / "secrets").exists()


@pytest.mark.parametrize("args, stdin", [(("--from-literal=key=",), None), (("--from-literal=key=-",), "\n")])
def test_secret_create_seals_no_empty_value(sealed_repo: Path, args: tuple[str, ...], stdin: str | None) -> None:
    result = create(sealed_repo, *args, stdin=stdin)
    assert result.returncode == 2 and "empty" in result.stderr
    assert not (sealed_repo / "secrets").exists()


@pytest.mark.parametrize("content, rule", [
    ("a: " + "[" * 100 + "]" * 100 + "\n", "YAML-009"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdef", "bcdefg")
    ), "YAML-007"),
])
def test_secret_create_reads_an_existing_file_within_the_limits(sealed_repo: Path, content: str, rule: str) -> None:
    write(sealed_repo, {"secrets/openai-api-key.yaml": content})
    result = create(sealed_repo, "--from-literal=key=sk-value")
    assert result.returncode == 1 and rule in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert (sealed_repo / "secrets" / "openai-api-key.yaml").read_text() == content


def test_secret_create_writes_no_file_validate_would_refuse(sealed_repo: Path) -> None:
    # sealed with RSA-2048 and base64-encoded, 12,100 bytes are more than 16,384 characters
    result = create(sealed_repo, "--from-literal=key=-", stdin="v" * 12_100)
    assert result.returncode == 1 and "YAML-011" in result.stderr, result.stderr
    assert not (sealed_repo / "secrets").exists()
    assert create(sealed_repo, "--from-literal=key=-", stdin="v" * 11_000).returncode == 0
    validated = hks_process("validate", "-C", str(sealed_repo)).stdout
    assert "openai-api-key.yaml" not in validated and "error[SEC-002]" in validated  # only the master key's


@pytest.mark.parametrize("check", [[], ["--check"]])
def test_cluster_path_through_a_link_out_of_the_repository_is_refused(tmp_path: Path, check: list[str]) -> None:
    repo = write(tmp_path / "repo", {"org.yaml": ORG + "cluster:\n  path: out/rendered\n"})
    elsewhere = write(tmp_path / "elsewhere", {"rendered/kustomization.yaml": "x\n"})
    (repo / "out").symlink_to(elsewhere)
    result = hks_process("render", "-C", str(repo), *check)
    assert result.returncode == 2, result.stderr
    assert "leads out of the config folder" in result.stderr
    assert (elsewhere / "rendered" / "kustomization.yaml").read_text() == "x\n"
