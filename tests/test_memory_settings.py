"""The command line's memory settings for streaming: applied at import, never leaked."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

_PROBE = (
    "import json, os, sys\n"
    "from custseg._utils.memory import tune_for_streaming\n"
    "tune_for_streaming()\n"
    "import numpy, pyarrow\n"
    "print(json.dumps({\n"
    "    'hugepage': bool(numpy._core.multiarray._get_madvise_hugepage()),\n"
    "    'pool': pyarrow.default_memory_pool().backend_name,\n"
    "    'backends': pyarrow.supported_memory_backends(),\n"
    "    'env': {k: os.environ.get(k) for k in\n"
    "            ('NUMPY_MADVISE_HUGEPAGE', 'ARROW_DEFAULT_MEMORY_POOL')},\n"
    "}))\n"
)


def _probe(**env: str) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NUMPY_MADVISE_HUGEPAGE", "ARROW_DEFAULT_MEMORY_POOL")
    }
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={**clean, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the settings are Linux-only")
def test_streaming_settings_apply_to_the_imports_and_leave_the_environment_alone():
    seen = _probe()
    assert seen["hugepage"] is False
    if "jemalloc" in seen["backends"]:
        assert seen["pool"] == "jemalloc"
    # Child processes (Spark workers, a browser) see the user's environment.
    assert seen["env"] == {"NUMPY_MADVISE_HUGEPAGE": None, "ARROW_DEFAULT_MEMORY_POOL": None}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the settings are Linux-only")
def test_the_users_own_settings_win():
    seen = _probe(NUMPY_MADVISE_HUGEPAGE="1", ARROW_DEFAULT_MEMORY_POOL="system")
    assert seen["hugepage"] is True
    assert seen["pool"] == "system"
