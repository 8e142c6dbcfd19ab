"""`mendako skills ...`: the skill library."""

from __future__ import annotations

import typer

from agents import _render as render
from agents._cli_common import EnvOpt, console, fail, user_errors

skills_app = typer.Typer(help="The skill library: what the agent can do.", no_args_is_help=True)


@skills_app.command("list")
def skills_list(env: EnvOpt = "crafter") -> None:
    """List the skills available in ENV, with their kind and success history."""
    from envs.registry import adapter
    from skills.library import SkillLibrary

    try:
        adapter(env)
        library = SkillLibrary(env)
    except user_errors() as e:
        fail(str(e))
        return
    render.skills_table(console, library)
