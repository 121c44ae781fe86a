"""The `kindred` command: clear one-line errors for misconfiguration, and real work otherwise."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import ConfigError, Settings, load_or_create_secret

KINDRED = str(Path(sys.executable).parent / "kindred")


def run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KINDRED_")}
    environ.update({"KINDRED_DATA_DIR": str(data_dir), **env})
    return subprocess.run(
        [KINDRED, *args], env=environ, capture_output=True, text=True, timeout=60, input=""
    )


def test_migrate_then_check(tmp_path: Path) -> None:
    migrated = run(["migrate"], tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    checked = run(["check"], tmp_path, KINDRED_SECRET_KEY="super-secret-value")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "KINDRED_SECRET_KEY" in checked.stdout
    assert "super-secret-value" not in checked.stdout
    assert "database" in checked.stdout and "ok" in checked.stdout


def test_workers_need_redis(tmp_path: Path) -> None:
    result = run(["serve", "--workers", "2"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "KINDRED_REDIS_URL" in result.stderr


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = run(["serve"], tmp_path, KINDRED_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("kindred: cannot reach the database")
    assert "Traceback" not in result.stderr


def test_unwritable_data_dir_is_one_line(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/kindred-cannot-write-here")
    else:
        target = tmp_path / "ro"
        target.mkdir(mode=0o500)
    result = run(["migrate"], target)
    assert result.returncode == 2
    # `migrate` never needs the secret key: the data directory's own check answers.
    [line] = result.stderr.splitlines()
    assert line.startswith(f"kindred: the data directory {target} is not writable (")
    assert line.endswith("); set KINDRED_DATA_DIR to a writable directory")
    assert "Traceback" not in result.stderr


def test_bad_setting_is_one_line(tmp_path: Path) -> None:
    result = run(["check"], tmp_path, KINDRED_SITE_URL="not a url")
    assert result.returncode == 2
    assert "KINDRED_SITE_URL" in result.stderr
    result = run(["check"], tmp_path, KINDRED_RATE_LIMITS="login_member=lots")
    assert result.returncode == 2


def test_create_admin(tmp_path: Path) -> None:
    result = subprocess.run(
        [KINDRED, "create-admin", "Site-Keeper", "--passphrase-stdin"],
        env={**os.environ, "KINDRED_DATA_DIR": str(tmp_path)},
        input="a long admin passphrase\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Recovery codes" in result.stdout


def test_secret_key_is_generated_once_with_0600(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path)
    assert load_or_create_secret(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {
            "KINDRED_SITE_URL": "https://kindred.example/",
            "KINDRED_TRUSTED_PROXIES": "10.0.0.1, 10.0.1.0/24",
            "KINDRED_SESSION_IDLE_MINUTES": "30",
        }
    )
    assert settings.https
    assert settings.origin == "https://kindred.example"
    assert settings.trusted_proxies == ("10.0.0.1", "10.0.1.0/24")
    assert settings.session_idle_minutes == 30
    with pytest.raises(ConfigError):
        Settings.from_env({"KINDRED_SESSION_IDLE_MINUTES": "soon"})
    assert Settings.from_env(
        {"KINDRED_DATABASE_URL": "postgresql://u@h/d"}
    ).effective_database_url == ("postgresql+asyncpg://u@h/d")
