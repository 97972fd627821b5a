"""Known-bad releases of the images hks deploys: is `gateway.image` or `self_hosted.image` one of them?

The advisories are data (`catalogue/advisories.yaml`), one entry per advisory with OSV's ranges.
An image's release is read from its tag, and only for an image named as the product is (the
last part of its repository name `litellm`, `litellm-*` or `ollama`: upstream's images and a
mirror that keeps upstream's names and tags alike). An image hks cannot date (a digest alone,
a moving tag such as `main-latest`, another name) is a warning: it cannot be checked.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from compiler.builtin import datafiles
from compiler.diagnostics import Diagnostic, Position, error, warning
from compiler.model.config import Config

RULES: dict[str, str] = {
    "GW-010": "image release with a known advisory",
    "GW-011": "image release that cannot be checked against advisories",
}

Product = Literal["litellm", "ollama"]
Scope = Literal["image", "pypi"]

PRODUCT_NAMES: dict[Product, str] = {"litellm": "LiteLLM", "ollama": "Ollama"}


class Version(NamedTuple):
    """A release as an image tag names it. `pre`: (0, N) for a development build devN, (1, N) for
    a release candidate rcN, both before their release. `patch`: N of a `-stable.N` or
    `-stable.patch.N` build, the release with backports a comparison of releases cannot see."""

    release: tuple[int, int, int]
    pre: tuple[int, int] | None = None
    patch: int = 0

    def key(self) -> tuple[int, int, int, int, int]:
        return (*self.release, *(self.pre or (2, 0)))

    def __str__(self) -> str:
        text = ".".join(map(str, self.release))
        return text + (f"{('dev', 'rc')[self.pre[0]]}{self.pre[1]}" if self.pre else "")


@dataclass(frozen=True)
class Range:
    introduced: Version
    fixed: Version | None  # None: no fixed release yet
    fixed_text: str = ""  # as the data file spells it

    def contains(self, version: Version) -> bool:
        after = version.key() >= self.introduced.key()
        return after and (self.fixed is None or version.key() < self.fixed.key())


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    ranges: tuple[Range, ...]
    versions: tuple[Version, ...]  # single affected releases (OSV's `versions`)
    fixed_tags: tuple[tuple[str, Version], ...]  # (tag, its version): backports ranges misjudge
    known_exploited: str | None
    sources: tuple[str, ...]

    def affects(self, version: Version) -> bool:
        if any(fixed.release == version.release and 0 < fixed.patch <= version.patch for _, fixed in self.fixed_tags):
            return False
        listed = any(v.key() == version.key() for v in self.versions)
        return listed or any(r.contains(version) for r in self.ranges)

    def fixed_in(self, version: Version) -> str:
        """Where the fix is for an affected `version`: the end of its range, and any backport
        on its own release line."""
        ends = [r.fixed_text for r in self.ranges if r.contains(version) and r.fixed is not None]
        text = f"fixed in {ends[0]}" if ends else "no fixed release named"
        backports = [tag for tag, fixed in self.fixed_tags if fixed.release == version.release]
        if backports:
            text += f", and on this release line in {' and '.join(backports)}"
        return text

    @property
    def label(self) -> str:
        """The id with its aliases and whether it is known to be exploited."""
        notes = list(self.aliases) + (["known exploited"] if self.known_exploited else [])
        return f"{self.id} ({', '.join(notes)})" if notes else self.id


# --- reading tags -------------------------------------------------------------------------------

_TAG = re.compile(r"^(?:main-)?v?(\d+)\.(\d+)\.(\d+)((?:rc\d+)?(?:[-.][0-9A-Za-z_]+)*)$")
_FLAVOURS = {"stable", "nightly", "rocm"}  # builds of the release itself (rocm: Ollama's AMD variant)
_PRE = {"dev": 0, "rc": 1}


def parse_version(tag: str) -> Version | None:
    """The release a LiteLLM or Ollama tag names (`v1.80.0-stable`, `main-v1.83.10-stable.patch.3`,
    `v1.84.0-nightly`, `1.110.2`, `v1.101.0-rc.1`, `0.32.15-rocm`, `0.6.0-rc1`; PyPI's `1.104.0rc1`),
    or None for a tag that names none (`latest`, `main-latest`, `main-v1.80`) or has a suffix hks
    does not know."""
    match = _TAG.match(tag)
    if match is None:
        return None
    release = (int(match[1]), int(match[2]), int(match[3]))
    words = [w for w in re.split(r"[-.]", match[4]) if w]
    pre: tuple[int, int] | None = None
    patch, index = 0, 0
    while index < len(words):
        word, following = words[index], words[index + 1] if index + 1 < len(words) else ""
        stage = re.fullmatch(r"(dev|rc)(\d*)", word)
        if word in ("stable", "patch") and following.isdigit():  # v1.80.8-stable.1, v1.83.10-stable.patch.3
            patch, index = int(following), index + 2
        elif word in _FLAVOURS:
            index += 1
        elif stage and stage[2]:  # 0.6.0-rc1, 1.104.0rc1
            pre, index = (_PRE[stage[1]], int(stage[2])), index + 1
        elif stage and following.isdigit():  # v1.101.0-rc.1, v1.111.0-dev.3
            pre, index = (_PRE[stage[1]], int(following)), index + 2
        elif stage:  # v1.84.0-rc
            pre, index = (_PRE[stage[1]], 0), index + 1
        else:
            return None
    return Version(release, pre, patch)


class Reference(NamedTuple):
    name: str  # the repository's last path component, e.g. litellm-database
    tag: str | None
    digest: str | None


def parse_image(image: str) -> Reference:
    """`[registry/]path[:tag][@digest]`: a registry's port is not a tag, as only the last
    path component can carry one."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    repository, _, tag = last.partition(":")
    return Reference(repository, tag or None, digest or None)


def product_of(name: str) -> Product | None:
    if name == "litellm" or name.startswith("litellm-"):
        return "litellm"
    if name == "ollama":
        return "ollama"
    return None


# --- the data -----------------------------------------------------------------------------------


@functools.cache
def advisories(scope: Scope, product: Product) -> tuple[Advisory, ...]:
    """`image`: advisories on the released images; `pypi`: on the packages on PyPI (what hks's
    own tests install), which the images may not share."""
    return tuple(_advisory(raw) for raw in _data()[scope].get(product, ()))


@functools.cache  # read once, not once per product
def _data() -> dict[str, Any]:
    raw: dict[str, Any] = datafiles.load("catalogue", "advisories.yaml")
    return raw


def _advisory(raw: dict[str, Any]) -> Advisory:
    def version(text: str) -> Version:
        parsed = parse_version("0.0.0" if text == "0" else text)
        assert parsed is not None, f"advisory {raw['id']}: cannot read version {text!r}"
        return parsed

    ranges = tuple(
        Range(version(r.get("introduced", "0")), version(r["fixed"]) if "fixed" in r else None, r.get("fixed", ""))
        for r in raw.get("affected", ())
    )
    return Advisory(
        id=raw["id"],
        aliases=tuple(raw.get("aliases", ())),
        summary=raw["summary"],
        ranges=ranges,
        versions=tuple(version(v) for v in raw.get("versions", ())),
        fixed_tags=tuple((tag, version(tag)) for tag in raw.get("fixed_tags", ())),
        known_exploited=raw.get("known_exploited"),
        sources=tuple(raw["sources"]),
    )


def affecting(scope: Scope, product: Product, version: Version) -> list[Advisory]:
    return [a for a in advisories(scope, product) if a.affects(version)]


# --- the check ----------------------------------------------------------------------------------


def check_advisories(config: Config) -> list[Diagnostic]:
    """GW-010 for an image in an advisory's affected range, GW-011 for one hks cannot date."""
    org = config.org
    pins: dict[str, str] = datafiles.load("catalogue", "images.yaml")
    settings: list[tuple[str, Product, str | None, str]] = [("gateway", "litellm", org.gateway.image, pins["litellm"])]
    if org.self_hosted is not None:
        pin = pins["ollama-rocm" if org.self_hosted.gpu.vendor == "amd" else "ollama"]
        settings.append(("self_hosted", "ollama", org.self_hosted.image, pin))
    found: list[Diagnostic] = []
    for section, product, image, pin in settings:
        if image:
            where = config.org_doc.position((section, "image"))
            found += check_image(f"{section}.image", image, product, pin, where)
    return found


def check_image(setting: str, image: str, product: Product, pin: str, where: Position) -> list[Diagnostic]:
    """The findings on one image setting; `pin` is hks's own image for it, which the hints offer."""
    reference = parse_image(image)
    version = parse_version(reference.tag) if reference.tag else None
    known = product_of(reference.name) == product
    if known and version is not None:
        hint = f"use a fixed release, such as hks's pinned {pin} (leave {setting} unset to get it)"
        if _affected_pin(product, pin):  # never offer what is refused
            hint = "use a release outside every advisory's range"
        return [
            error(where, "GW-010", f"{setting} {image} is affected by {a.label}: {a.summary}; {a.fixed_in(version)}", hint)
            for a in affecting("image", product, version)
        ]
    name = PRODUCT_NAMES[product]
    if not known:
        why = f"is not named {product}, so hks cannot tell which {name} release it is"
        hint = f"mirror the image under the name {product} with {name}'s own tags, or check its release yourself"
    elif reference.tag is None:
        given = "is given by digest only" if reference.digest else "names no tag"
        why = f"{given}, so hks cannot tell which {name} release it is"
        hint = f"give the release's tag with the digest, as in {pin.partition('@')[0]}@sha256:…"
    else:
        why = f"has a tag that names no {name} release ('{reference.tag}')"
        hint = f"pin a release's tag, as in {pin}"
    return [warning(where, "GW-011", f"{setting} {image} {why}: it cannot be checked against known advisories", hint)]


def _affected_pin(product: Product, pin: str) -> bool:
    version = parse_version(parse_image(pin).tag or "")
    return version is None or bool(affecting("image", product, version))
