"""HTTPS_PROXY / HTTP_PROXY / NO_PROXY read as Go's net/http reads them (AzCopy, rclone)."""

from __future__ import annotations

import base64

import pytest

from azxfer.errors import UsageError
from azxfer.transport.proxy import NO_PROXIES, Proxy, proxy_settings


def test_no_variables_no_proxy() -> None:
    assert proxy_settings({}) == NO_PROXIES
    assert proxy_settings({"NO_PROXY": "*"}) == NO_PROXIES
    assert NO_PROXIES.for_url("https", "a.blob.core.windows.net", 443) is None


def test_scheme_port_and_which_variable_serves_which_urls() -> None:
    settings = proxy_settings({"HTTPS_PROXY": "proxy.corp:3128", "HTTP_PROXY": "http://p2"})
    assert settings.for_url("https", "a.blob.core.windows.net", 443) == Proxy("proxy.corp", 3128)
    assert settings.for_url("http", "a.blob.core.windows.net", 80) == Proxy("p2", 80)
    only_https = proxy_settings({"HTTPS_PROXY": "http://proxy.corp:3128"})
    assert only_https.for_url("http", "a.blob.core.windows.net", 80) is None


def test_upper_case_wins_over_lower_case() -> None:
    settings = proxy_settings({"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"})
    assert settings.https == Proxy("upper", 1)
    assert proxy_settings({"https_proxy": "http://lower:2"}).https == Proxy("lower", 2)
    assert proxy_settings({"HTTPS_PROXY": " ", "https_proxy": "lower:2"}).https == Proxy("lower", 2)


def test_credentials_become_a_basic_authorization_never_shown() -> None:
    proxy = proxy_settings({"HTTPS_PROXY": "http://us%40er:p%3Ass@proxy:8080"}).https
    assert proxy is not None
    assert proxy.authorization == "Basic " + base64.b64encode(b"us@er:p:ss").decode()
    assert "p:ss" not in repr(proxy) and "us@er" not in repr(proxy)
    assert repr(proxy) == "Proxy(proxy:8080)"
    assert proxy.url == "http://proxy:8080"


@pytest.mark.parametrize(
    ("host", "port", "proxied"),
    [
        ("localhost", 10000, False),  # loopback is never proxied
        ("127.0.0.1", 10000, False),
        ("127.8.9.10", 10000, False),
        ("::1", 10000, False),
        ("127.example.com", 443, True),  # not an address
        ("corp.example", 443, False),  # the name itself
        ("blob.corp.example", 443, False),  # and its subdomains
        ("notcorp.example", 443, True),  # but not a longer name that ends the same
        ("x.sub.test", 443, False),  # ".sub.test": subdomains only
        ("sub.test", 443, True),
        ("y.star.test", 443, False),  # "*.star.test" as ".star.test"
        ("10.1.2.3", 443, False),  # in 10.0.0.0/8
        ("11.1.2.3", 443, True),
        ("192.168.0.5", 443, False),  # an address
        ("onlyport.test", 8443, False),  # "onlyport.test:8443": that port only
        ("onlyport.test", 443, True),
        ("fd00::7", 443, False),  # "[fd00::7]"
    ],
)
def test_no_proxy_entries(host: str, port: int, proxied: bool) -> None:
    settings = proxy_settings(
        {
            "HTTPS_PROXY": "http://proxy:3128",
            "NO_PROXY": "corp.example, .sub.test,*.star.test,10.0.0.0/8,192.168.0.5,"
            "onlyport.test:8443,[fd00::7]",
        }
    )
    assert (settings.for_url("https", host, port) is not None) is proxied


def test_no_proxy_star_disables_every_proxy_and_lower_case_is_read() -> None:
    settings = proxy_settings({"HTTPS_PROXY": "http://proxy:3128", "no_proxy": "*"})
    assert settings.for_url("https", "a.blob.core.windows.net", 443) is None


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("socks5://proxy:1080", "only http:// proxies are supported, not socks5://"),
        ("https://proxy:443", "only http:// proxies are supported, not https://"),
        ("http://proxy:notaport", "HTTPS_PROXY is not a proxy URL: http://proxy:notaport"),
        ("http://user:secret@:3128", "HTTPS_PROXY is not a proxy URL: http://:3128"),
    ],
)
def test_an_unusable_proxy_url_is_a_usage_error_without_credentials(value: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        proxy_settings({"HTTPS_PROXY": value})
    assert says in str(caught.value)
    assert "secret" not in str(caught.value)
