"""TRYON_ICE_SERVERS and TRYON_ICE_TRANSPORT_POLICY: checked when the server starts (a wrong entry is one clear
line), served to the pages by GET /api/ice, and given to aiortc's peer connection. That aiortc really gathers
through the TURN server, and the relay itself, are tested with coturn and Chromium in
tests/cluster/test_turn_relay_browser.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import subprocess
import sys

import pytest
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from conftest import BASE
from fastapi.testclient import TestClient

from tryon.config import Settings
from tryon.errors import InputError
from tryon.server.app import create_app
from tryon.server.routes.rtc import IceConfig, parse_ice_servers

TURN = {"urls": ["turn:turn.example.com:3478?transport=udp", "turns:turn.example.com:5349"],
        "username": "shop", "credential": "s3cret"}
STUN = {"urls": "stun:stun.example.com:3478"}


def test_by_default_the_pages_get_no_ice_servers_and_aiortc_keeps_its_own_default(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert IceConfig.from_settings(settings).aiortc() is None  # RTCPeerConnection() exactly as before
    with TestClient(create_app(settings), base_url=BASE) as client:
        r = client.get("/api/ice")
    assert r.status_code == 200 and r.json() == {"iceServers": [], "iceTransportPolicy": "all"}
    assert r.headers["cache-control"] == "no-store"


def test_the_pages_and_aiortc_get_the_same_servers(tmp_path):
    settings = Settings(data_dir=tmp_path, ice_servers=[STUN, TURN], ice_transport_policy="relay")
    with TestClient(create_app(settings), base_url=BASE) as client:
        r = client.get("/api/ice")
    assert r.json() == {"iceServers": [{"urls": [STUN["urls"]]}, TURN], "iceTransportPolicy": "relay"}
    config = IceConfig.from_settings(settings).aiortc()
    assert config is not None and config.iceTransportPolicy is RTCIceTransportPolicy.RELAY
    assert config.iceServers is not None
    assert [(s.urls, s.username, s.credential) for s in config.iceServers] == [
        ([STUN["urls"]], None, None), (TURN["urls"], "shop", "s3cret")]


@pytest.mark.parametrize(("entry", "message"), [
    ("stun:x", "TRYON_ICE_SERVERS[0]: an ICE server is a JSON object"),
    ({"url": "stun:x"}, "unknown key(s) 'url'"),
    ({"urls": []}, "\"urls\" is a URL or a non-empty list of URLs"),
    ({"urls": ["stun:ok.example", 5]}, "\"urls\" is a URL or a non-empty list of URLs"),
    ({"urls": "http://turn.example.com"}, "'http://turn.example.com' is not a STUN or TURN URL"),
    ({"urls": "turn:turn.example.com:99999", "username": "u", "credential": "p"}, "port 99999"),
    ({"urls": "stun:s.example?transport=udp"}, "a STUN URL takes no ?transport"),
    ({"urls": "stun:[2001:db8::1]:3478"}, "cannot use an IPv6 address in an ICE URL"),
    ({"urls": "turn:turn.example.com"}, "a TURN server needs a \"username\" and a \"credential\""),
    ({"urls": "turn:t.example", "username": "u", "credential": 7}, "\"credential\" is a string"),
    ({**TURN, "credentialType": "oauth"}, "only credentialType \"password\""),
])
def test_wrong_ice_servers_are_named(entry, message):
    with pytest.raises(InputError, match="TRYON_ICE_SERVERS\\[0\\]") as e:
        parse_ice_servers([entry])
    assert message in str(e.value)


def test_time_limited_turn_credentials_are_made_from_the_shared_secret(tmp_path):
    secret = "shared-with-coturn-0123"
    settings = Settings(data_dir=tmp_path, ice_servers=[STUN, {"urls": TURN["urls"]}], turn_secret=secret,
                        turn_credential_ttl_s=600)
    config = IceConfig.from_settings(settings)
    page = config.to_json(now_s=1_000_000)["iceServers"]
    # As coturn's use-auth-secret checks them: "EXPIRY:user", base64(HMAC-SHA1(secret, username)).
    username = "1000600:tryon"
    credential = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    assert page == [{"urls": [STUN["urls"]]}, {"urls": TURN["urls"], "username": username, "credential": credential}]
    server = config.aiortc(now_s=1_000_000)
    assert server is not None and server.iceServers is not None
    assert (server.iceServers[1].username, server.iceServers[1].credential) == (username, credential)
    later = config.to_json(now_s=1_000_100)["iceServers"][1]
    assert later["username"] == "1000700:tryon" and later["credential"] != credential  # made afresh each time
    # A TURN server given its own user and password keeps them.
    fixed = IceConfig.from_settings(Settings(data_dir=tmp_path, ice_servers=[TURN], turn_secret=secret))
    assert fixed.to_json()["iceServers"] == [TURN]


def test_a_turn_server_without_credentials_needs_the_secret():
    with pytest.raises(InputError, match="or neither, with TRYON_TURN_SECRET"):
        parse_ice_servers([{"urls": TURN["urls"]}])
    with pytest.raises(InputError, match="needs a \"username\" and a \"credential\"$"):
        parse_ice_servers([{"urls": TURN["urls"], "username": "only-a-name"}], turn_secret=True)


def test_relay_without_a_turn_server_is_refused_at_start(tmp_path):
    with pytest.raises(InputError, match="TRYON_ICE_TRANSPORT_POLICY=relay needs a TURN server"):
        create_app(Settings(data_dir=tmp_path, ice_servers=[STUN], ice_transport_policy="relay"))


@pytest.mark.parametrize(("value", "message"), [
    ('[{"urls": ', "tryon: error: TRYON_ICE_SERVERS is not valid JSON"),
    ('{"urls": "stun:x"}', "tryon: error: TRYON_ICE_SERVERS: Input should be a valid list"),
    ('[{"urls": "turn:127.0.0.1"}]', "tryon: error: TRYON_ICE_SERVERS[0]: a TURN server needs a \"username\""),
])
def test_serve_with_a_wrong_setting_says_which_in_one_line(tmp_path, value, message):
    env = {**os.environ, "TRYON_DATA_DIR": str(tmp_path), "TRYON_ICE_SERVERS": value}
    with socket.socket() as probe:  # a port free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    r = subprocess.run([sys.executable, "-m", "tryon.cli", "serve", "--port", str(port)], capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [r.stderr.strip()], r.stderr
    assert r.stderr.startswith(message), r.stderr
