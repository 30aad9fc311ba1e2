"""Who the client is when proxies stand in front: X-Forwarded-For is believed only from trusted proxies.

GEMBA_TRUSTED_PROXIES says whom to believe:
- unset (the default): nobody. The address is the peer's, whatever headers say, so a
  client cannot pick its own address to dodge sign-in throttling.
- a number N: that many proxies are always in front (a load balancer and nginx: 2);
  Werkzeug's ProxyFix takes the N-th address from the right of X-Forwarded-For, and the
  scheme from X-Forwarded-Proto.
- a list of addresses or networks (`10.0.0.5, 10.1.0.0/16`): a request from one of them
  is forwarded; the client is the right-most X-Forwarded-For hop that is not one of them.
  Suits proxies that some requests bypass.
"""

import ipaddress

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def parse(setting: str) -> int | list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    """Read GEMBA_TRUSTED_PROXIES. :raise ValueError: naming what is not an address or network."""
    setting = (setting or "").strip()
    if not setting:
        return None
    if setting.isdigit():
        return int(setting) or None
    networks = []
    for part in filter(None, (p.strip() for p in setting.split(","))):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"GEMBA_TRUSTED_PROXIES: {part!r} is not a number, an address or a network") from None
    return networks


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class TrustedProxies:
    """Take the client's address and scheme from X-Forwarded-* when the peer is a trusted proxy."""

    def __init__(self, wsgi_app, networks):
        self.wsgi_app = wsgi_app
        self.networks = networks

    def trusted(self, address) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def __call__(self, environ, start_response):
        peer = _address(environ.get("REMOTE_ADDR", ""))
        if self.trusted(peer):
            client = peer
            for hop in reversed(environ.get("HTTP_X_FORWARDED_FOR", "").split(",")):
                address = _address(hop)
                if address is None:
                    break  # a hop that is no address: believe nothing further left of it
                client = address
                if not self.trusted(address):
                    break
            environ["REMOTE_ADDR"] = str(client)
            scheme = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if scheme in ("http", "https"):
                environ["wsgi.url_scheme"] = scheme
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    trusted = parse(app.config.get("GEMBA_TRUSTED_PROXIES", ""))
    if isinstance(trusted, int):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted)
    elif trusted:
        app.wsgi_app = TrustedProxies(app.wsgi_app, trusted)
