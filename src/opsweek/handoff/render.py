"""The handoff report as Markdown (to paste into a doc or a task) and as HTML (mail, web)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from jinja2 import Environment

from opsweek.alerts.areas import TITLES as AREA_TITLES
from opsweek.handoff.report import AlertLine, DutySummary, HandoffReport, summarize_duties
from opsweek.quoting import slack_mention, slack_text
from opsweek.watch.answers import answer_status

ACTION_TITLES = {
    "unassign": "To unassign (assigned, not started)",
    "hand over": "To hand over (in progress)",
    "unassigned": "Nobody assigned",
}


def duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    minutes = max(0, round(delta.total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days {hours % 24} h"


def when(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%a %d %b %H:%M")


def acknowledged(alert: AlertLine) -> str:
    if not alert.acked_by:
        return "not acknowledged"
    return f"{alert.acked_by} after {duration(alert.time_to_ack)}"


def treated(alert: AlertLine) -> str:
    if alert.status != "resolved":
        return f"still {alert.status}" + (f": {alert.note}" if alert.note else "")
    if alert.resolved_without_action:
        return "recovered by itself"
    by = alert.resolved_by or "?"
    return f"resolved by {by}" + (f": {alert.note}" if alert.note else "")


def status_word(status: str) -> str:
    return "missed" if status == "overdue" else status


def duty_counts(summary: DutySummary) -> str:
    order = ("done", "skipped", "overdue", "due")
    parts = [f"{summary.counts[s]} {status_word(s)}" for s in order if summary.counts.get(s)]
    return ", ".join(parts) + (f" of {summary.total}" if summary.total > 1 else "")


def noise_name(kind: str, job: str) -> str:
    return f"{kind} / {job}" if job else kind


def figures_line(report: HandoffReport) -> str:
    f = report.figures
    median = f"{f.median_minutes_to_ack:g} min" if f.median_minutes_to_ack is not None else "—"
    return (
        f"{f.alerts} alerts ({f.occurrences} occurrences), {f.acknowledged} acknowledged, "
        f"median time to acknowledge {median}, {f.still_open} still open · duties: "
        f"{f.duties_done} done, {f.duties_skipped} skipped, {f.duties_missed} missed · "
        f"{f.sal_entries} SAL entries"
    )


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


@dataclass(frozen=True)
class Channel:
    """How a channel shows outside text (alert titles, notes, SAL messages, decisions,
    questions, task titles): each channel its own escaping."""

    text: Callable[[object], str]  # outside text, one line
    link: Callable[[str, str], str]  # (url, label) -> a link
    mention: Callable[[str], str]  # a chat user id -> a mention


MARKDOWN = Channel(
    text=_one_line,
    link=lambda url, label: f"[{label}]({url})",
    mention=lambda user: f"<@{_one_line(user)}>",
)
SLACK = Channel(
    text=lambda value: slack_text(_one_line(value)),
    link=lambda url, label: f"<{slack_text(url)}|{slack_text(label)}>",
    mention=slack_mention,
)


def to_slack(report: HandoffReport, tz: ZoneInfo) -> str:
    """The report for a Slack message: every outside text escaped, so nothing in an alert or
    a question can mention the channel or a person."""
    return to_markdown(report, tz, SLACK)


def to_markdown(report: HandoffReport, tz: ZoneInfo, channel: Channel = MARKDOWN) -> str:
    i = report.inputs
    t = channel.text
    out = [f"# {t(report.title)}", ""]
    out.append(f"{when(i.start, tz)} to {when(i.end, tz)} ({tz.key})")
    out += ["", f"**Figures:** {figures_line(report)}", ""]
    areas = report.by_area()
    out += [
        "**"
        + " · ".join(
            f"{AREA_TITLES[area]}: {n['alerts']} alerts, {n['still_open']} still open"
            for area, n in areas.items()
        )
        + "**",
        "",
    ]

    out.append("## Still open")
    if report.still_open:
        for a in report.still_open[:SHOWN_PER_KIND]:
            out.append(
                f"- #{a.id} {a.kind}: {t(a.title)} ({t(acknowledged(a))}; since "
                f"{when(a.first_seen, tz)})"
            )
        if len(report.still_open) > SHOWN_PER_KIND:
            more = len(report.still_open) - SHOWN_PER_KIND
            out.append(f"- … and {more} more: `opsweek alerts list --status open`")
    else:
        out.append("Nothing: every alert of the week is resolved.")
    out.append("")

    out.append("## Alerts of the week, by kind")
    if not report.groups:
        out.append("No alerts this week.")
    for group in report.groups:
        out += [
            "",
            f"### {group.kind}: {len(group.alerts)} alerts, {group.occurrences} occurrences",
            "",
            "| # | Alert | Times | Acknowledged | How it was treated |",
            "|---|---|---|---|---|",
        ]
        for a in group.alerts[:SHOWN_PER_KIND]:
            out.append(
                f"| {a.id} | {_cell(t(a.title))} | {a.count} | {_cell(t(acknowledged(a)))} "
                f"| {_cell(t(treated(a)))} |"
            )
        if len(group.alerts) > SHOWN_PER_KIND:
            out += ["", more_of_kind(group.kind, len(group.alerts), report)]
    out.append("")

    out.append("## Duties")
    if not i.duties:
        out.append("No duties were due.")
    for summary in summarize_duties(i.duties):
        out.append(f"- {t(summary.title)}: {duty_counts(summary)}")
        for d in summary.notable:
            extra = f" by {t(d.closed_by)}" if d.closed_by else ""
            note = f": {t(d.note)}" if d.note else ""
            out.append(f"  - {when(d.due_at, tz)} **{status_word(d.status)}**{extra}{note}")
    if i.noted:
        out += ["", "Noted while doing them:"]
        out += [f"- {t(n.step)} ({t(n.by)}): {t(n.note)}" for n in i.noted]
    out.append("")

    out.append("## Tracker tasks")
    if i.tasks is None:
        out.append(_absent(report, "tracker"))
    elif not i.tasks:
        out.append("The ops-week column is empty.")
    else:
        for action, tasks in report.tasks_by_action().items():
            out += [f"### {ACTION_TITLES[action]}", ""]
            for task in tasks:
                who = f", {t(task.assignee)}" if task.assignee else ""
                ref = channel.link(task.url, task.ref) if _web(task.url) else t(task.ref)
                out.append(f"- {ref} {t(task.title)} ({t(task.status_name)}{who})")
            out.append("")
    out.append("")

    out.append("## Unanswered questions in the collaboration channel")
    if i.questions is None:
        out.append(_absent(report, "chat"))
    elif not i.questions:
        out.append("Every question got a reply from the team.")
    for q in i.questions or []:
        status = answer_status(q.answer_due_at, i.now)
        out.append(
            f"- {when(q.asked_at, tz)} {channel.mention(q.user)} ({status}): {t(q.text[:300])}"
        )
    out.append("")

    out.append("## Decisions")
    if not i.decisions:
        out.append("None recorded (`opsweek decision TEXT`).")
    for dec in i.decisions:
        mailed = "" if dec.mailed else " (not mailed yet)"
        out.append(f"- {when(dec.at, tz)} {t(dec.actor)}: {t(dec.text)}{mailed}")
    out.append("")

    out.append("## Server Admin Log")
    if not i.sal:
        out.append("No entries this week.")
    for entry in i.sal:
        out.append(f"- {when(entry.logged_at, tz)} {t(entry.nick)}: {t(entry.message)}")
    out.append("")

    out.append(
        f"## Noise: candidates to automate or fix at the source (last {i.noise_weeks} weeks)"
    )
    out.append("")
    out.append("Fired most:")
    fired = [f"- {t(noise_name(n.kind, n.job))}: {n.count} occurrences" for n in report.most_fired]
    out += fired or ["- none"]
    out.append("")
    out.append("Most often recovered by themselves (no acknowledgement, no action):")
    alone = [
        f"- {t(noise_name(n.kind, n.job))}: {n.count} alerts" for n in report.resolved_by_itself
    ]
    out += alone or ["- none"]
    if i.manual:
        out += ["", "Manual maintenance, on the TODO list for automation (times done):"]
        out += [f"- {t(title)}: {done}" for title, done in i.manual]
    if i.unavailable:
        out += ["", "## Not available when this report was built", ""]
        out += [f"- {t(reason)}" for reason in i.unavailable]
    return "\n".join(out).rstrip() + "\n"


def _web(url: str) -> bool:
    return url.startswith(("https://", "http://")) and not any(c in url for c in " <>|\n")


def _unavailable(report: HandoffReport, prefix: str) -> bool:
    return any(r.startswith(prefix) for r in report.inputs.unavailable)


def _absent(report: HandoffReport, source: str) -> str:
    """Why a section of the tracker or the chat is empty."""
    if _unavailable(report, source):
        return "Not available (see the end of the report)."
    return f"No {source} configured."


@functools.cache
def _templates() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("opsweek.handoff", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


SHOWN_PER_KIND = 50  # alerts listed under each kind (and still open): a storm's are counted


def more_of_kind(kind: str, total: int, report: HandoffReport) -> str:
    """What a list cut at `SHOWN_PER_KIND` says about the rest, and where they are."""
    since = report.inputs.start.date().isoformat()
    return (
        f"… and {total - SHOWN_PER_KIND} more {kind} alerts: `opsweek alerts list --kind {kind} "
        f"--since {since} --limit {total}`, or the Inbox"
    )


def to_html(
    report: HandoffReport,
    tz: ZoneInfo,
    standalone: bool = True,
    images: Mapping[str, str] | None = None,
) -> str:
    """The report as HTML: a page of its own (``standalone``) or a part of one. ``images``:
    the address of a chart's picture by its name (``week``, ``noise``), shown instead of its
    SVG (mail: ``cid:`` addresses of the message's own parts)."""
    from markupsafe import Markup

    from opsweek.charts import bars_svg
    from opsweek.handoff import charts

    template = _templates().get_template("handoff.html")
    chart = charts.week_chart(
        report.inputs.alerts, report.inputs.start, tz, f"Alerts per day, {report.title}"
    )
    noise = [(noise_name(n.kind, n.job), n.count) for n in report.most_fired]
    noise_chart = Markup(  # built from escaped values (opsweek.charts): safe as it is
        bars_svg(noise, f"Most fired over {report.inputs.noise_weeks} weeks", "occurrences")
    )
    return template.render(
        images=dict(images or {}),
        chart=chart,
        noise_chart=noise_chart if noise else None,
        report=report,
        i=report.inputs,
        tz=tz,
        when=lambda m: when(m, tz),
        acknowledged=acknowledged,
        treated=treated,
        figures=figures_line(report),
        areas=[(AREA_TITLES[a], n) for a, n in report.by_area().items()],
        action_titles=ACTION_TITLES,
        duty_summaries=summarize_duties(report.inputs.duties),
        duty_counts=duty_counts,
        status_word=status_word,
        noise_name=noise_name,
        answer_status=lambda q: answer_status(q.answer_due_at, report.inputs.now),
        unavailable=lambda prefix: _unavailable(report, prefix),
        standalone=standalone,
        shown=SHOWN_PER_KIND,
        since=report.inputs.start.date().isoformat(),
    )
