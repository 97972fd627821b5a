"""Known-bad image releases (catalogue/advisories.yaml): validate refuses them, and hks's own pins
and the LiteLLM the tests install are clear of them. The cases come from the data file, so a new
advisory is tested without a new test."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.checks import advisories
from compiler.builtin import datafiles
from compiler.checks.advisories import Advisory, Version, affecting, check_image, parse_image, parse_version, product_of
from compiler.diagnostics import Diagnostic, Position
from compiler.pipeline import compile_config
from compiler.builtin.resources import data_dir
from tests.conftest import ROOT, hks, write

PRODUCTS: tuple[advisories.Product, ...] = ("litellm", "ollama")
SETTING = {"litellm": ("gateway", "image"), "ollama": ("self_hosted", "image")}


def tag(product: str, version: Version) -> str:
    """The upstream image of a release, tagged as upstream tags it."""
    text = ".".join(map(str, version.release))
    if product == "ollama":
        return f"docker.io/ollama/ollama:{text}" + (f"-rc{version.pre[1]}" if version.pre else "")
    if version.pre:
        return f"ghcr.io/berriai/litellm:main-v{text}-{('dev', 'rc')[version.pre[0]]}.{version.pre[1]}"
    return f"ghcr.io/berriai/litellm:v{text}" + ("-stable" if version.release < (1, 84, 0) else "")


def org_yaml(product: str, image: str) -> str:
    section = SETTING[product][0]
    return f"llm_config: {{provider: openai, model: gpt-5.4-mini}}\n{section}:\n  image: {image}\n"


def validate(tmp_path: Path, product: str, image: str) -> list[Diagnostic]:
    write(tmp_path, {"org.yaml": org_yaml(product, image)})
    compiled = compile_config(str(tmp_path))
    assert compiled.config is not None, [d.message for d in compiled.diagnostics]
    return [d for d in compiled.diagnostics if d.rule in ("GW-010", "GW-011")]


def refused_by(found: list[Diagnostic]) -> set[str]:
    """The ids of the advisories the GW-010 errors name."""
    matches = [re.search(r"is affected by ([^\s:(]+)", d.message) for d in found if d.rule == "GW-010"]
    return {m[1] for m in matches if m}


# --- every advisory, from the data file -----------------------------------------------------------


def _below(version: Version) -> Version:
    """A release just before `version`."""
    major, minor, patch = version.release
    if version.pre and version.pre[1]:
        return Version(version.release, (version.pre[0], version.pre[1] - 1))
    if patch:
        return Version((major, minor, patch - 1))
    if minor:
        return Version((major, minor - 1, 99))
    return Version((major - 1, 99, 99))


def _cases() -> list[tuple[advisories.Product, Advisory, Version, bool]]:
    """(product, advisory, release, refused by it): each range's first and last affected release
    and the release that fixes it, and each singly listed release."""
    cases = []
    for product in PRODUCTS:
        for advisory in advisories.advisories("image", product):
            for r in advisory.ranges:
                if r.introduced.release != (0, 0, 0):
                    cases.append((product, advisory, r.introduced, True))
                    cases.append((product, advisory, _below(r.introduced), False))
                if r.fixed is not None:
                    cases.append((product, advisory, _below(r.fixed), True))
                    cases.append((product, advisory, r.fixed, False))
            cases += [(product, advisory, v, True) for v in advisory.versions]
    return cases


CASES = _cases()


@pytest.mark.parametrize(
    ("product", "advisory", "version", "refused"),
    CASES,
    ids=[f"{a.id}-{v}-{'refused' if r else 'clear'}" for _, a, v, r in CASES],
)
def test_an_affected_release_is_refused_and_the_fixed_one_is_not(
    tmp_path: Path, product: str, advisory: Advisory, version: Version, refused: bool
) -> None:
    image = tag(product, version)
    found = validate(tmp_path, product, image)
    assert (advisory.id in refused_by(found)) is refused, [d.message for d in found]
    assert not [d for d in found if d.rule == "GW-011"], "a release tag is always checked"
    if refused:
        [error] = [d for d in found if advisory.id in d.message]
        assert error.position.line == 3 and error.position.column == 10  # the image's value
        assert error.message.startswith(f"{'.'.join(SETTING[product])} {image} is affected by {advisory.label}: ")
        fixed = [r.fixed_text for r in advisory.ranges if r.contains(version) and r.fixed]
        assert error.message.endswith(f"; fixed in {fixed[0]}") or not fixed, error.message


def test_every_image_advisory_has_a_case() -> None:
    covered = {a.id for _, a, _, refused in CASES if refused}
    assert covered == {a.id for p in PRODUCTS for a in advisories.advisories("image", p)}


@pytest.mark.parametrize(
    ("product", "advisory", "fixed_tag"),
    [(p, a, t) for p in PRODUCTS for a in advisories.advisories("image", p) for t, _ in a.fixed_tags],
)
def test_a_backport_tag_is_clear_though_its_release_is_in_range(
    tmp_path: Path, product: str, advisory: Advisory, fixed_tag: str
) -> None:
    version = parse_version(fixed_tag)
    assert version is not None and version.patch > 0
    assert any(r.contains(version) for r in advisory.ranges), "a comparison of releases alone would refuse it"
    image = tag(product, version).rpartition(":")[0]
    assert advisory.id not in refused_by(validate(tmp_path, product, f"{image}:{fixed_tag}"))
    assert advisory.id in refused_by(validate(tmp_path, product, tag(product, version)))


def test_the_host_header_patch_build() -> None:
    def ids(tag: str) -> set[str]:
        version = parse_version(tag)
        assert version is not None
        return {a.id for a in affecting("image", "litellm", version)}

    assert "CVE-2026-49468" not in ids("v1.83.10-stable.patch.3")
    assert "CVE-2026-49468" not in ids("main-v1.83.10-stable.patch.4")  # later builds carry it too
    assert "CVE-2026-49468" in ids("v1.83.10-stable.patch.2")
    assert "CVE-2026-49468" in ids("v1.83.10-stable")
    assert "CVE-2026-49468" in ids("v1.83.9-stable.patch.3")  # another release's patch build
    # The patch build is fixed for this advisory only: 1.83.10 is still in the others' ranges.
    assert ids("v1.83.10-stable.patch.3") >= {"CVE-2026-47101", "CVE-2026-59822"}


def test_validate_exits_1_naming_the_advisory_and_its_fix(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": org_yaml("litellm", "ghcr.io/berriai/litellm:v1.80.0-stable")})
    result = hks("validate", str(tmp_path))
    assert result.exit_code == 1, result.output
    line = next(line for line in result.output.splitlines() if "CVE-2026-42271" in line)
    assert line == (
        f"{tmp_path}/org.yaml:3:10: error[GW-010]: gateway.image ghcr.io/berriai/litellm:v1.80.0-stable is affected "
        "by CVE-2026-42271 (GHSA-v4p8-mg3p-g94g, known exploited): commands run through /mcp-rest/test/*; "
        "fixed in 1.83.7"
    )


def test_the_hint_offers_the_pin_unless_it_is_affected_too() -> None:
    def hints(pin: str) -> set[str | None]:
        found = check_image("gateway.image", "ghcr.io/berriai/litellm:v1.80.0-stable", "litellm", pin, Position("o"))
        return {d.hint for d in found}

    clean = "ghcr.io/berriai/litellm:v1.110.2"
    assert hints(clean) == {f"use a fixed release, such as hks's pinned {clean} (leave gateway.image unset to get it)"}
    assert hints("ghcr.io/berriai/litellm:v1.83.0-stable") == {"use a release outside every advisory's range"}


def test_the_ollama_image_is_checked(tmp_path: Path) -> None:
    found = validate(tmp_path, "ollama", "ollama/ollama:0.1.33")
    [error] = [d for d in found if "CVE-2024-37032" in d.message]
    assert error.rule == "GW-010" and error.message.endswith("fixed in 0.1.34")
    assert error.message.startswith("self_hosted.image ollama/ollama:0.1.33 is affected by CVE-2024-37032 (")
    assert "CVE-2024-37032" not in refused_by(validate(tmp_path, "ollama", "ollama/ollama:0.1.34-rocm"))
    assert validate(tmp_path, "ollama", "ollama/ollama:0.32.15-rocm") == []


# --- images hks cannot date -------------------------------------------------------------------------

DIGEST = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("product", "image", "why"),
    [
        ("litellm", f"ghcr.io/berriai/litellm@{DIGEST}", "is given by digest only"),
        ("litellm", "ghcr.io/berriai/litellm:main-latest", "has a tag that names no LiteLLM release ('main-latest')"),
        ("litellm", "ghcr.io/berriai/litellm:latest", "has a tag that names no LiteLLM release ('latest')"),
        ("litellm", "ghcr.io/berriai/litellm:main-v1.80", "has a tag that names no LiteLLM release ('main-v1.80')"),
        ("litellm", "ghcr.io/berriai/litellm:v1.84.0-custom", "has a tag that names no LiteLLM release"),
        ("litellm", "ghcr.io/berriai/litellm", "names no tag"),
        ("litellm", "registry.acme.example/platform/ai-gateway:1.80.0", "is not named litellm"),
        ("litellm", "docker.io/ollama/ollama:0.1.30", "is not named litellm"),
        ("ollama", f"docker.io/ollama/ollama@{DIGEST}", "is given by digest only"),
        ("ollama", "ollama/ollama:rocm", "has a tag that names no Ollama release ('rocm')"),
    ],
)
def test_an_image_hks_cannot_date_is_a_warning(tmp_path: Path, product: str, image: str, why: str) -> None:
    [warning] = validate(tmp_path, product, image)
    assert warning.rule == "GW-011" and warning.severity.value == "warning"
    assert warning.message.startswith(f"{'.'.join(SETTING[product])} {image} {why}")
    assert warning.message.endswith(": it cannot be checked against known advisories")
    assert (warning.position.line, warning.position.column) == (3, 10)


def test_a_digest_with_a_tag_is_checked_by_its_tag(tmp_path: Path) -> None:
    found = validate(tmp_path, "litellm", f"ghcr.io/berriai/litellm:v1.80.0-stable@{DIGEST}")
    assert "CVE-2026-42271" in refused_by(found)


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/berriai/litellm-non_root:main-v1.83.0-stable",
        "ghcr.io/berriai/litellm-database:v1.83.0-nightly",
        "docker.io/litellm/litellm:v1.83.0-stable",
        "registry.acme.example/mirror/litellm:1.83.0",  # a mirror that keeps upstream's name
        "registry.acme.example:5000/litellm:v1.83.0-stable",  # a registry's port is no tag
    ],
)
def test_every_litellm_image_name_is_recognised(tmp_path: Path, image: str) -> None:
    assert "CVE-2026-42271" in refused_by(validate(tmp_path, "litellm", image))


# --- reading tags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v1.80.0-stable", Version((1, 80, 0))),
        ("v1.84.0", Version((1, 84, 0))),
        ("1.110.2", Version((1, 110, 2))),
        ("main-v1.83.10", Version((1, 83, 10))),
        ("v1.84.0-nightly", Version((1, 84, 0))),
        ("main-v1.83.10-stable.patch.3", Version((1, 83, 10), patch=3)),
        ("v1.80.8-stable.1", Version((1, 80, 8), patch=1)),
        ("v1.84.0-rc.1", Version((1, 84, 0), pre=(1, 1))),
        ("main-v1.84.0-rc.2", Version((1, 84, 0), pre=(1, 2))),
        ("v1.111.0-dev.3", Version((1, 111, 0), pre=(0, 3))),
        ("1.104.0rc1", Version((1, 104, 0), pre=(1, 1))),
        ("v1.84.0-rc", Version((1, 84, 0), pre=(1, 0))),
        ("0.32.15-rocm", Version((0, 32, 15))),
        ("0.6.0-rc1", Version((0, 6, 0), pre=(1, 1))),
        ("0.6.0-rc1-rocm", Version((0, 6, 0), pre=(1, 1))),
        ("v1.84.0-rc1.2", None),
        ("latest", None),
        ("main-latest", None),
        ("main-stable", None),
        ("v1.80", None),
        ("v1.84.0-debug", None),
        ("1.84.0.1", None),
    ],
)
def test_parse_version(text: str, expected: Version | None) -> None:
    assert parse_version(text) == expected


def test_a_pre_release_comes_before_its_release() -> None:
    tags = ["v1.84.0-dev.9", "v1.84.0-rc.1", "v1.84.0-rc.2", "v1.84.0", "v1.84.1-dev.1"]
    versions = [parse_version(t) for t in tags]
    assert all(versions)
    assert sorted(versions, key=lambda v: v.key() if v else ()) == versions
    assert versions[1] is not None and "CVE-2026-49468" in {a.id for a in affecting("image", "litellm", versions[1])}


def test_parse_image() -> None:
    assert parse_image("registry:5000/a/litellm:v1.2.3@sha256:ab") == ("litellm", "v1.2.3", "sha256:ab")
    assert parse_image("registry:5000/a/litellm") == ("litellm", None, None)
    assert [product_of(n) for n in ("litellm", "litellm-non_root", "ollama", "litellmx", "ollama-x")] == [
        "litellm", "litellm", "ollama", None, None
    ]


# --- what hks itself deploys and installs -----------------------------------------------------------


@pytest.mark.parametrize(("key", "product"), [("litellm", "litellm"), ("ollama", "ollama"), ("ollama-rocm", "ollama")])
def test_the_pinned_images_are_clear_of_every_advisory(key: str, product: advisories.Product) -> None:
    pin = datafiles.load("catalogue", "images.yaml")[key]
    reference = parse_image(pin)
    assert product_of(reference.name) == product and reference.tag, pin
    version = parse_version(reference.tag)
    assert version is not None, f"{pin}: hks cannot read its own pin's release"
    assert [a.id for a in affecting("image", product, version)] == [], pin


def test_no_finding_when_the_pins_are_used(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": "llm_config: {provider: ollama, model: llama3:8b}\nself_hosted: {models: [llama3:8b]}\n"})
    assert not [d for d in compile_config(str(tmp_path)).diagnostics if d.rule in ("GW-010", "GW-011")]


def installed_litellm_versions() -> dict[str, str]:
    script = (ROOT / "tests" / "install-tools.sh").read_text("utf-8")
    found = dict(re.findall(r"^(LITELLM_VERSION|LITELLM_OLDEST_VERSION)=([^\s#]+)", script, re.MULTILINE))
    assert set(found) == {"LITELLM_VERSION", "LITELLM_OLDEST_VERSION"}, found
    return found


@pytest.mark.parametrize("variable", ["LITELLM_VERSION", "LITELLM_OLDEST_VERSION"])
def test_the_litellm_the_tests_install_is_clear_of_every_advisory(variable: str) -> None:
    text = installed_litellm_versions()[variable]
    version = parse_version(text)
    assert version is not None, f"{variable}={text}"
    found = affecting("image", "litellm", version) + affecting("pypi", "litellm", version)
    assert [a.id for a in found] == [], f"{variable}={text}"


def test_a_pypi_only_advisory_does_not_refuse_an_image(tmp_path: Path) -> None:
    [compromised] = [a for a in advisories.advisories("pypi", "litellm") if a.id == "PYSEC-2026-2"]
    for version in compromised.versions:
        assert compromised in affecting("pypi", "litellm", version)
        found = validate(tmp_path, "litellm", tag("litellm", version))
        assert found and not [d for d in found if re.search(r"PYSEC-2026-2\b", d.message)]


# --- the data file --------------------------------------------------------------------------------


def raw_data() -> dict[str, dict[str, list[dict[str, Any]]]]:
    data: dict[str, dict[str, list[dict[str, Any]]]] = YAML(typ="safe", pure=True).load((data_dir("catalogue") / "advisories.yaml").read_text("utf-8"))
    return data


def test_every_entry_is_complete() -> None:
    data = raw_data()
    assert set(data) == {"image", "pypi"}
    entries = [(scope, product, e) for scope, products in data.items() for product, es in products.items() for e in es]
    assert {product for _, product, _ in entries} <= set(PRODUCTS)
    ids = [e["id"] for _, _, e in entries]
    assert len(ids) == len(set(ids)), "one entry per advisory"
    allowed = {"id", "aliases", "summary", "affected", "versions", "fixed_tags", "known_exploited", "sources"}
    for _, _, entry in entries:
        assert set(entry) <= allowed and {"id", "summary", "sources"} <= set(entry), entry
        assert entry.get("affected") or entry.get("versions"), entry["id"]
        assert "TODO" not in str(entry["summary"]), entry["id"]
        assert all(str(url).startswith("https://") for url in entry["sources"]), entry["id"]
        if "known_exploited" in entry:
            datetime.date.fromisoformat(str(entry["known_exploited"]))
        for r in entry.get("affected", ()):
            assert set(r) <= {"introduced", "fixed"} and all(isinstance(v, str) for v in r.values()), entry["id"]
    # Every version parses (advisories() asserts it while building the entries).
    assert all(advisories.advisories(scope, product) for scope in ("image", "pypi") for product in data[scope])
