# Two commands: `make serve` (set up, then serve the live try-on at http://127.0.0.1:8000) and `make test`
# (set up, then run the whole suite, browser tests included).
# Set-up is idempotent: Debian packages only when missing, the venv only when pyproject.toml changed.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
# Runtime libraries for headless rendering (EGL on Mesa) and MediaPipe; ffmpeg makes test fixtures.
# chromium: the browser the tests drive through Playwright (never downloaded by Playwright itself).
# postgresql, redis-server, nginx, coturn: the scale-out tests start their own on loopback (never the system's).
DEB_PACKAGES := libegl1 libgl1 libgl1-mesa-dri libgles2 libglib2.0-0 ffmpeg chromium \
	postgresql redis-server nginx coturn
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup serve kiosk test lint bench deb clean

setup: $(STAMP)

deb:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml
	$(MAKE) deb
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --prefer-binary -e ".[dev]"
	touch $(STAMP)

# `make serve PORT=8765` (or HOST=0.0.0.0 to serve the whole network; SERVE_FLAGS for anything else).
PORT ?= 8000
HOST ?= 127.0.0.1
serve: setup
	$(VENV)/bin/tryon serve --host $(HOST) --port $(PORT) $(SERVE_FLAGS)

# The in-store mirror: serves on the network (for the phones' QR links) and opens Chromium full-screen on it.
kiosk: setup
	$(VENV)/bin/tryon kiosk $(KIOSK_FLAGS)

test: setup
	$(VENV)/bin/ruff check tryon tests
	$(VENV)/bin/mypy tryon
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check tryon tests
	$(VENV)/bin/mypy tryon

bench: setup
	$(VENV)/bin/tryon bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
