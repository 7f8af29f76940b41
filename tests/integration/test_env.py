"""`azxfer env` through the real CLI: every registered variable, values shown, secrets never."""

from __future__ import annotations

import json

from azxfer.envvars import ENV_VARS

KEY = "c2VjcmV0LWtleS1uZXZlci1zaG93bg=="
CONNECTION = f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY}"
CLIENT_SECRET = "s3cr3t-client-value~42"


def test_text_lists_every_variable_with_value_and_purpose(run_azxfer) -> None:
    result = run_azxfer(
        "env",
        env={
            "AZXFER_CONCURRENCY": "48",
            "AZXFER_SOURCE_KEY": KEY,
            "AZXFER_DEST_KEY": None,
            "AZURE_STORAGE_CONNECTION_STRING": CONNECTION,
            "AZXFER_CLIENT_SECRET": CLIENT_SECRET,
            "HTTPS_PROXY": None,
            "https_proxy": "http://ann:pr0xy-pass@proxy.example:3128",
        },
    ).assert_ok()
    lines = result.stdout.splitlines()
    for variable in ENV_VARS:
        assert any(line.startswith(f"{variable.name} = ") for line in lines), variable.name
        assert f"    {variable.purpose}" in lines
    assert "AZXFER_CONCURRENCY = 48" in lines
    assert "AZXFER_SOURCE_KEY = ***" in lines
    assert "AZXFER_DEST_KEY = (not set)" in lines
    assert "AZURE_STORAGE_CONNECTION_STRING = ***" in lines
    assert "HTTPS_PROXY = http://***@proxy.example:3128 (as https_proxy)" in lines
    for secret in (KEY, "AccountName=acct", CLIENT_SECRET, "pr0xy-pass", "ann:"):
        assert secret not in result.stdout + result.stderr


def test_json_one_object_per_variable(run_azxfer) -> None:
    result = run_azxfer(
        "env",
        "--output-type",
        "json",
        env={"AZXFER_DEST_KEY": KEY, "AZXFER_JOB_RETENTION_DAYS": "3", "NO_PROXY": None},
    ).assert_ok()
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["name"] for o in objects] == [v.name for v in ENV_VARS]
    by_name = {o["name"]: o for o in objects}
    assert by_name["AZXFER_DEST_KEY"] == {
        "event": "env_var",
        "name": "AZXFER_DEST_KEY",
        "set": True,
        "value": "***",
        "secret": True,
        "purpose": next(v.purpose for v in ENV_VARS if v.name == "AZXFER_DEST_KEY"),
    }
    assert by_name["AZXFER_JOB_RETENTION_DAYS"]["value"] == "3"
    assert by_name["NO_PROXY"]["set"] is False and by_name["NO_PROXY"]["value"] is None
    assert KEY not in result.stdout


def test_unknown_option_is_one_usage_error(run_azxfer) -> None:
    run_azxfer("env", "--output-type", "yaml").assert_usage_error()
