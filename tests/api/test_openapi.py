"""The OpenAPI description: in step with the routes, and true to the responses."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from services.api.openapi import PATHS
from services.api.routes import routes
from tests.support.shop import open_account
from tests.support.stack import Stack

PUBLIC = {("GET", "/openapi.json")}


def test_every_route_is_described_and_nothing_else() -> None:
    """The document names exactly the methods and paths the API serves."""
    served = {
        (route.method, route.path)  # type: ignore[attr-defined]
        for route in routes
    } - PUBLIC
    described = {
        (method.upper(), path) for path, ops in PATHS.items() for method in ops
    }
    assert served == described


FUZZ_CHECKS = (
    "not_a_server_error,response_schema_conformance,"
    "status_code_conformance,content_type_conformance"
)
FUZZ_EXAMPLES = 15
FUZZ_TIMEOUT_S = 300


async def test_no_server_errors_and_responses_match_the_schema(
    api_stack: Stack, tmp_path: Path
) -> None:
    """Schemathesis: generated requests never get a 5xx; answers fit the document."""
    fuzzer = await open_account(api_stack, "Fuzzer", "+17145550151")
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{api_stack.api_url}/openapi.json",
        "--auth",
        f"{fuzzer.sid}:{fuzzer.token}",
        "--checks",
        FUZZ_CHECKS,
        "--max-examples",
        str(FUZZ_EXAMPLES),
        "--seed",
        "1042",
        "--phases",
        "examples,coverage,fuzzing",
        "--report-dir",
        str(tmp_path),
        "--no-color",
    ]
    completed = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=FUZZ_TIMEOUT_S
    )
    assert completed.returncode == 0, completed.stdout[-6000:]
