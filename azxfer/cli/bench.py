"""`azxfer bench`: measure upload and download speed against a container."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from azxfer.cli.common import cap_mbps_of, cap_option, environment, output_options
from azxfer.errors import UsageError
from azxfer.options import DEFAULT_MAX_MEMORY


@click.command("bench", short_help="Measure upload and download throughput against a container")
@click.argument("target")
@click.option(
    "--file-count",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="How many files to generate.",
)
@click.option(
    "--size-per-file", default="4M", show_default=True, help="Size of each file, e.g. 4K, 8M, 1G."
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1, max=1000),
    help="Requests in flight [default: as for copy].",
)
@click.option(
    "--max-memory",
    default=f"{DEFAULT_MAX_MEMORY // (1024 * 1024)}M",
    show_default=True,
    help="Upper bound on data buffered in flight.",
)
@click.option(
    "--block-size-mb",
    type=click.FloatRange(min=0, min_open=True, max=4000),
    help="Block size in MiB [default: as for copy].",
)
@click.option("--keep", is_flag=True, help="Leave the uploaded blobs in place.")
@click.option(
    "--dest-key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the account key (else AZXFER_DEST_KEY).",
)
@cap_option
@output_options
def bench_command(
    target: str,
    file_count: int,
    size_per_file: str,
    concurrency: int | None,
    max_memory: str,
    block_size_mb: float | None,
    keep: bool,
    dest_key_file: Path | None,
    **opts: object,
) -> int:
    """Upload then download FILE-COUNT generated files of SIZE-PER-FILE to the container
    TARGET (a Blob URL, with a SAS or a key as for copy), verify them, report throughput,
    files/s and the effective concurrency, and delete what was uploaded."""
    from azxfer.bench import BenchSettings, check_environment, run_bench
    from azxfer.cli.render import UtcClock, make_reporter
    from azxfer.cli.run import configure_logging
    from azxfer.credentials import resolve_credential
    from azxfer.events import NullSink
    from azxfer.locations import parse_location
    from azxfer.options import (
        EngineSettings,
        default_concurrency,
        parse_block_size_mb,
        parse_max_memory,
        parse_size,
    )

    configure_logging(opts.get("log_file"), str(opts.get("log_level") or "INFO"))  # type: ignore[arg-type]
    location = parse_location(target)
    if location.is_local:
        raise UsageError("bench needs a Blob container URL as its target")
    env = environment()
    check_environment(env)  # an unusable proxy variable is a usage error before any data is made
    block_size = parse_block_size_mb(block_size_mb)
    settings = BenchSettings(
        target=location,
        credential=resolve_credential(location, "dest", env, dest_key_file),
        file_count=file_count,
        file_size=parse_size(size_per_file, "--size-per-file"),
        engine=EngineSettings(
            concurrency=concurrency or default_concurrency(env),
            max_memory=parse_max_memory(max_memory, block_size),
            block_size=block_size,
        ),
        keep=keep,
        env=env,
        cap_mbps=cap_mbps_of(opts, env),
    )
    as_json = opts.get("output_type") == "json"
    level = str(opts.get("output_level") or "default")
    reporter = NullSink() if as_json else make_reporter("text", False, level)
    phases = run_bench(settings, reporter)
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "event": "bench_result",
                    "time": UtcClock().stamp(),
                    "phases": [
                        {
                            "phase": p.phase,
                            "status": p.status,
                            "files": p.files,
                            "bytes": p.bytes,
                            "seconds": round(p.seconds, 3),
                            "mib_per_second": round(p.mib_per_second, 2),
                            "files_per_second": round(p.files_per_second, 1),
                            "effective_concurrency": round(p.effective_concurrency, 1),
                        }
                        for p in phases
                    ],
                }
            )
            + "\n"
        )
    elif level != "quiet":  # the table is bench's summary: quiet shows errors only
        click.echo(
            f"{'phase':9} {'files':>7} {'MiB':>9} {'seconds':>8} {'MiB/s':>8} "
            f"{'files/s':>8} {'concurrency':>11}"
        )
        for p in phases:
            click.echo(
                f"{p.phase:9} {p.files:>7} {p.bytes / 1048576:>9.1f} {p.seconds:>8.2f} "
                f"{p.mib_per_second:>8.1f} {p.files_per_second:>8.1f} "
                f"{p.effective_concurrency:>11.1f}"
            )
    return 0 if all(p.status in ("Completed", "CompletedWithSkipped") for p in phases) else 1
