"""Shell completion of response files: a word starting with `@` completes as `@` and a file
path (Click's own completion would offer nothing there, and bash's default completion takes
`@word` for a host name), and the words before it are read with their response files
expanded, so options given in a file count."""

from __future__ import annotations

from typing import Any

from click.shell_completion import (
    BashComplete,
    CompletionItem,
    FishComplete,
    ShellComplete,
    ZshComplete,
    add_completion_class,
)

from azxfer.cli.argfiles import PREFIX, expanded_or_given, response_file_candidates

# The variable Click's completion scripts set when they ask `azxfer` for candidates.
COMPLETE_VAR = "_AZXFER_COMPLETE"


class _ResponseFiles(ShellComplete):
    """Click's completion for one shell, plus `@FILE` words."""

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem[Any]]:
        """Files after `@` (not `@@`, the escape); else Click's candidates for the command
        line with its response files expanded."""
        if incomplete.startswith(PREFIX) and not incomplete.startswith(PREFIX * 2):
            return [CompletionItem(path) for path in response_file_candidates(incomplete)]
        return super().get_completions(expanded_or_given(args), incomplete)


class _Bash(_ResponseFiles, BashComplete):
    pass


class _Zsh(_ResponseFiles, ZshComplete):
    pass


class _Fish(_ResponseFiles, FishComplete):
    pass


def install_completion() -> None:
    """Answer completion requests with `@FILE` candidates (Click's registry of shells is
    where it looks for the class of each; only a completion run calls this)."""
    for shell in (_Bash, _Zsh, _Fish):
        add_completion_class(shell)
