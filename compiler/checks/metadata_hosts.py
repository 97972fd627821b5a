"""Link-local and cloud metadata addresses: no URL in the config may point at them (GW-017).

A provider endpoint opens the gateway's egress to its host, and a custom model's source is
fetched by the LLM nodes with curl: on 169.254.169.254 either hands the cloud's instance
credentials to whoever wrote the config. The address has several spellings, so the host is
resolved as far as it can be without DNS: IPv4 in every form inet_aton reads (2852039166,
0xa9fea9fe, 0251.0376.0251.0376, 169.254.43518), IPv6 (fe80::/10, IPv4-mapped, AWS's
fd00:ec2::254) and the metadata services' DNS names.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from compiler.diagnostics import Diagnostic, error
from compiler.model.config import Config

RULES: dict[str, str] = {
    "GW-017": "URL on a link-local or cloud metadata address",
}

# Metadata services outside 169.254.0.0/16: Alibaba Cloud's, and AWS's IPv6 one.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")})
# Names the clouds' DNS resolves to their metadata service (Google Cloud, AWS, Tencent Cloud);
# Azure and Oracle Cloud publish only the address.
METADATA_NAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
    "metadata.tencentyun.com",
})


def why_refused(url: str) -> str | None:
    """Why the URL's host is refused, or None."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return None  # not a URL: the schema or GW-006 says so
    if host in METADATA_NAMES:
        return f"'{host}' is a cloud metadata service"
    address = _address(host)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata service"
    if address.is_link_local:
        return f"{address} is a link-local address, where the cloud metadata service answers"
    if address.is_unspecified:
        return f"{address} is the unspecified address"
    return None


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # 2852039166, 0xa9fea9fe, 0251.0376.0251.0376
    except OSError:
        return None


def check(config: Config) -> list[Diagnostic]:
    """Provider endpoints and custom model sources."""
    urls: list[tuple[tuple[str | int, ...], str]] = [(("providers", name, "endpoint"), s.endpoint) for name, s in config.org.providers.items() if s.endpoint]
    from compiler.providers import selfhosted

    for entry, loc, _ in selfhosted.listed_models(config):  # self_hosted.models and each pool's
        if not isinstance(entry, str):
            urls.append(((*loc, "source"), entry.source))
    found = []
    for keys, url in urls:
        reason = why_refused(url)
        if reason:
            found.append(error(
                config.org_doc.position(keys),
                "GW-017",
                f"{'.'.join(str(k) for k in keys)} points at {reason}: hks opens no way to it "
                "(it hands out the nodes' cloud credentials)",
                hint="give the service's own host name or address",
            ))
    return found
