"""``opsweek train``: the Tuesday deployment train."""

import re
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from opsweek.cli.output import JsonOption, console, print_json, print_steps
from opsweek.cli.state import state
from opsweek.errors import ConfigError, NotFound

if TYPE_CHECKING:
    from opsweek.duties.train import ProjectStatus

app = typer.Typer(no_args_is_help=True, help="The Tuesday deployment train.")
COMMITS_SHOWN = 15


@app.command("status")
def status(
    ctx: typer.Context,
    project: Annotated[list[str] | None, typer.Argument(help="Only these projects.")] = None,
    json_: JsonOption = False,
) -> None:
    """For each project: the deployed version, the commits waiting on the main branch, and
    the steps to deploy them. Exit 1 when something is waiting."""
    from rich.progress import Progress

    from opsweek.duties.train import project_status

    app_state = state(ctx)
    settings = app_state.settings
    projects = app_state.app.train_projects
    if not projects:
        raise ConfigError("no [[train.projects]] configured in opsweek.toml")
    if project:
        unknown = set(project) - {p.name for p in projects}
        if unknown:
            raise NotFound(f"no train project {', '.join(sorted(unknown))}")
        projects = [p for p in projects if p.name in project]
    cache = settings.data_dir / "train"
    results: list[ProjectStatus] = []
    with Progress(console=console, transient=True, disable=json_) as progress:
        task = progress.add_task("reading repositories", total=len(projects))
        for item in projects:
            progress.update(task, description=f"reading {item.name}")
            results.append(project_status(item, cache))
            progress.advance(task)
    if json_:
        print_json({"projects": [r.as_json() for r in results]})
    else:
        for result in results:
            _print(result)
    if any(r.commits for r in results):
        raise typer.Exit(1)


def _print(result: "ProjectStatus") -> None:
    name = escape(result.project.name)
    if result.error:
        console.print(f"[bold]{name}[/]: [red]{escape(result.error)}[/]")
        return
    if not result.commits:
        console.print(f"[bold]{name}[/]: nothing to deploy ({escape(result.deployed or '')})")
        return
    deployed = result.deployed or ""
    if re.fullmatch(r"[0-9a-f]{40}", deployed):
        deployed = deployed[:12]
    console.print(
        f"[bold]{name}[/]: {len(result.commits)} commits since {escape(deployed)} "
        f"on {escape(result.project.branch)} ({(result.head or '')[:12]})"
    )
    for commit in result.commits[:COMMITS_SHOWN]:
        console.print(
            f"  {commit.sha[:10]} {escape(commit.subject)} [dim]({escape(commit.author)}, "
            f"{commit.at:%Y-%m-%d})[/]",
            soft_wrap=True,
        )
    if len(result.commits) > COMMITS_SHOWN:
        console.print(f"  … and {len(result.commits) - COMMITS_SHOWN} more")
    print_steps(result.steps, indent="  ")


@app.command("deployed")
def deployed(
    ctx: typer.Context,
    project: Annotated[str, typer.Argument(help="The project deployed.")],
    version: Annotated[
        str | None,
        typer.Argument(help="The version deployed (default: the head of its branch)."),
    ] = None,
    json_: JsonOption = False,
) -> None:
    """Record a deploy of the train: a SAL entry naming the version and the commits it took."""
    from opsweek.duties.train import project_status, record_deploy
    from opsweek.sal.log import entry_json

    app_state = state(ctx)
    settings = app_state.settings
    projects = {p.name: p for p in app_state.app.train_projects}
    if project not in projects:
        raise NotFound(f"no train project {project!r}; configured: {', '.join(projects) or 'none'}")
    result = project_status(projects[project], settings.data_dir / "train", version)
    with app_state.session() as session:
        entry = record_deploy(session, settings.user, result, version)
        data = entry_json(entry)
    if json_:
        print_json(data)
    else:
        console.print(f"logged SAL entry {data['id']}: {escape(data['message'])}")
