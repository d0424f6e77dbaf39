"""The data folder's configuration file, ``<home>/config.toml``: which sources ``hashrisk update`` asks.

TOML, validated with pydantic (unknown keys are refused; errors name the dotted key). Secrets are never written
in the file: a key names the *environment variable* that holds them (``api_key_env = "COINMETRICS_API_KEY"``),
read when an update runs and never printed (`masked` shows only whether each variable is set).

Layout (every key optional; the defaults are those of `default_config_text`)::

    [sources.coinmetrics]
    enabled = true
    base_url = "https://community-api.coinmetrics.io/v4"
    api_key_env = "COINMETRICS_API_KEY"     # a Pro key, if the variable is set

    [sources.mempool]
    enabled = true
    base_url = "https://mempool.space/api"  # or a self-hosted backend's /api
    blocks = true                            # recent blocks (fees, times, nBits) when no node is enabled

    [sources.blockchain]
    enabled = true
    base_url = "https://api.blockchain.info"

    [sources.bitcoind]
    enabled = false
    rpc_url = "http://127.0.0.1:8332"
    cookie_file = "~/.bitcoin/.cookie"       # or user_env / password_env
    chain = "main"

    [http]
    timeout_s = 30.0
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hashrisk.data import blockchain_com, mempool
from hashrisk.data.bitcoind import DEFAULT_RPC_URL
from hashrisk.data.coinmetrics import COMMUNITY_BASE_URL
from hashrisk.data.store import default_home
from hashrisk.errors import InputError, from_validation_error

__all__ = [
    "CONFIG_FILENAME",
    "UpdateConfig",
    "config_path",
    "default_config_text",
    "init_config",
    "load_config",
]

CONFIG_FILENAME = "config.toml"
MAX_CONFIG_BYTES = 64 * 1024
"""Largest configuration file read [bytes] (a real one is under 1 KiB)."""
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) > 2000:
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpSourceConfig(_Section):
    """A REST source: on or off, and its API root."""

    enabled: bool = True
    base_url: str

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _url(value)


class CoinMetricsConfig(HttpSourceConfig):
    """Coin Metrics: the community API by default; a Pro key from the environment variable `api_key_env`."""

    base_url: str = COMMUNITY_BASE_URL
    api_key_env: str | None = Field(default="COINMETRICS_API_KEY", pattern=_ENV_NAME)

    def api_key(self) -> str | None:
        """The key from the environment (None when the variable is unset or empty)."""
        return (os.environ.get(self.api_key_env) or None) if self.api_key_env else None


class MempoolConfig(HttpSourceConfig):
    """mempool.space or a self-hosted backend; `blocks`: also store recent blocks (when no node is enabled)."""

    base_url: str = mempool.DEFAULT_BASE_URL
    blocks: bool = True


class BlockchainConfig(HttpSourceConfig):
    """blockchain.com charts API."""

    base_url: str = blockchain_com.DEFAULT_BASE_URL


class BitcoindConfig(_Section):
    """A Bitcoin Core node over JSON-RPC: its address, and a cookie file or user/password from the environment."""

    enabled: bool = False
    rpc_url: str = DEFAULT_RPC_URL
    cookie_file: str | None = None
    user_env: str | None = Field(default=None, pattern=_ENV_NAME)
    password_env: str | None = Field(default=None, pattern=_ENV_NAME)
    chain: str = Field(default="main", pattern=r"^(main|test|testnet4|signet|regtest)$")
    batch: int = Field(default=2000, ge=1, le=50_000)

    @field_validator("rpc_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _url(value)

    def credentials(self) -> dict[str, Any]:
        """``rpc_cookie``, ``rpc_user``, ``rpc_password`` for `hashrisk.data.sync.fetch` (from the environment)."""
        return {
            "rpc_cookie": None if self.cookie_file is None else str(Path(self.cookie_file).expanduser()),
            "rpc_user": os.environ.get(self.user_env) if self.user_env else None,
            "rpc_password": os.environ.get(self.password_env) if self.password_env else None,
        }


class SourcesConfig(_Section):
    coinmetrics: CoinMetricsConfig = CoinMetricsConfig()
    mempool: MempoolConfig = MempoolConfig()
    blockchain: BlockchainConfig = BlockchainConfig()
    bitcoind: BitcoindConfig = BitcoindConfig()


class HttpConfig(_Section):
    timeout_s: float = Field(default=30.0, gt=0, le=600)


class UpdateConfig(_Section):
    """The whole file; `path` is where it was read from (None: the built-in defaults, no file)."""

    sources: SourcesConfig = SourcesConfig()
    http: HttpConfig = HttpConfig()
    path: str | None = Field(default=None, exclude=True)

    def enabled(self) -> list[str]:
        """Names of the enabled sources, in update order (the node first: it is the authority on blocks)."""
        order = ("bitcoind", "coinmetrics", "mempool", "blockchain")
        return [name for name in order if getattr(self.sources, name).enabled]

    def masked(self) -> dict[str, Any]:
        """The configuration as a dict, each ``*_env`` key shown as ``NAME (set)`` or ``NAME (unset)``; secret
        values are never included."""
        data = self.model_dump(mode="json")
        for section in data["sources"].values():
            for key, value in list(section.items()):
                if key.endswith("_env") and value:
                    section[key] = f"{value} ({'set' if os.environ.get(value) else 'unset'})"
        data["file"] = self.path
        return data


def config_path(home: str | os.PathLike[str] | None = None) -> Path:
    """``<home>/config.toml`` (see :func:`hashrisk.data.store.default_home`)."""
    return default_home(home) / CONFIG_FILENAME


def load_config(
    home: str | os.PathLike[str] | None = None, path: str | os.PathLike[str] | None = None
) -> UpdateConfig:
    """Read and validate the configuration (the defaults when there is no file).

    Raises
    ------
    InputError
        Unreadable or invalid TOML, an unknown key, or a bad value (the message names the dotted key).
    """
    file = Path(path) if path is not None else config_path(home)
    if path is None and not file.exists():
        return UpdateConfig()
    try:
        with file.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise InputError("config", str(file), f"a readable TOML file ({exc.strerror})") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise InputError("config", str(file), f"a TOML file of at most {MAX_CONFIG_BYTES:,} bytes")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError("config", str(file), f"a valid UTF-8 TOML file ({exc})") from None
    try:
        config = UpdateConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first.get("type") == "extra_forbidden":  # never echo a value: it may be a secret typed in the file
            key = ".".join(str(p) for p in first.get("loc", ()))
            raise InputError(
                key,
                "(value not shown)",
                f"a documented key of {file.name} (secrets go in environment variables named by *_env keys)",
            ) from None
        raise from_validation_error(exc, str(file), default_field="config") from None
    return config.model_copy(update={"path": str(file)})


def default_config_text() -> str:
    """The file `init_config` writes: every key with its default, and comments."""
    return f"""# hashrisk configuration: the sources `hashrisk update` asks (see README, "Daily routine").
# Secrets are never written here: *_env keys name environment variables that hold them.

[sources.coinmetrics]
enabled = true
base_url = "{COMMUNITY_BASE_URL}"
api_key_env = "COINMETRICS_API_KEY"   # a Coin Metrics Pro key, when this variable is set

[sources.mempool]
enabled = true
base_url = "{mempool.DEFAULT_BASE_URL}"   # or a self-hosted backend's /api
blocks = true                               # recent blocks (fees, times, nBits) when no node is enabled

[sources.blockchain]
enabled = true
base_url = "{blockchain_com.DEFAULT_BASE_URL}"

[sources.bitcoind]
enabled = false
rpc_url = "{DEFAULT_RPC_URL}"
cookie_file = "~/.bitcoin/.cookie"
# user_env = "BITCOIN_RPC_USER"          # instead of the cookie
# password_env = "BITCOIN_RPC_PASSWORD"
chain = "main"

[http]
timeout_s = 30.0
"""


def init_config(home: str | os.PathLike[str] | None = None, force: bool = False) -> Path:
    """Write `default_config_text` to ``<home>/config.toml``.

    Raises
    ------
    InputError
        If the file exists and `force` is False.
    """
    file = config_path(home)
    if file.exists() and not force:
        raise InputError("config", str(file), "a path with no file yet (pass --force to overwrite it)")
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".toml.tmp")
    tmp.write_text(default_config_text(), encoding="utf-8")
    tmp.replace(file)
    return file
