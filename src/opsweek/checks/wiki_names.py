"""Which database a pageview project is (pure): the rule MediaWiki's farm uses, a language
code (``-`` becoming ``_``) followed by the family's suffix, with the sites that break it.

    en.wikipedia -> enwiki            zh-min-nan.wiktionary -> zh_min_nanwiktionary
    ar.wikimedia -> arwikimedia       commons.wikimedia -> commonswiki
    wikidata -> wikidatawiki          be-tarask.wikipedia -> be_x_oldwiki

On wikimedia.org, chapters and user groups are ``<code>wikimedia``; the Foundation's own
sites (commons, meta, species, ...) are ``<name>wiki``. Sites renamed after their database
was made keep the database's name."""

from __future__ import annotations

import re

FAMILIES = {
    "wikipedia": "wiki",
    "wiktionary": "wiktionary",
    "wikibooks": "wikibooks",
    "wikinews": "wikinews",
    "wikiquote": "wikiquote",
    "wikisource": "wikisource",
    "wikiversity": "wikiversity",
    "wikivoyage": "wikivoyage",
}
# sites without a language part (www.<site>.org), by their pageview project name
SITES = {
    "wikidata": "wikidatawiki",
    "mediawiki": "mediawikiwiki",
    "wikifunctions": "wikifunctionswiki",
    "wikisource": "sourceswiki",  # the multilingual Wikisource, wikisource.org
}
# wikimedia.org sites that are the Foundation's own wikis, not chapters: <name>wiki
WIKIMEDIA_WIKIS = frozenset(
    {
        "advisors", "advisory", "auditcom", "board", "boardgovcom", "chair", "chapcom",
        "checkuser", "collab", "commons", "donate", "electcom", "exec", "fdc", "foundation",
        "grants", "iegcom", "incubator", "internal", "legalteam", "login", "meta", "movementroles",
        "office", "ombudsmen", "otrs-wiki", "outreach", "projectcom", "quality", "searchcom",
        "spcom", "species", "steward", "strategy", "techconduct", "transitionteam",
        "u4c", "usability", "vote", "wg-en", "wikimania", "wikimaniateam", "zero",
    }
)  # fmt: skip
# sites whose database name does not follow from their domain
RENAMED = {
    "be-tarask.wikipedia": "be_x_oldwiki",
    "be-x-old.wikipedia": "be_x_oldwiki",
    "api.wikimedia": "apiportalwiki",
    "ee.wikimedia": "etwikimedia",
    "wikitech.wikimedia": "labswiki",
    "labtestwikitech.wikimedia": "labtestwiki",
    "test-commons.wikimedia": "testcommonswiki",
    "test.wikidata": "testwikidatawiki",
    "wikipedia-it-arbcom.wikimedia": "arbcom_itwiki",
    "wikipedia-pl-sysop.wikimedia": "sysop_plwiki",
    "affcom.wikimedia": "chapcomwiki",
    "ombuds.wikimedia": "ombudsmenwiki",
    "vrt-wiki.wikimedia": "otrs_wikiwiki",
}
CODE = re.compile(r"^[a-z][a-z0-9-]*\Z")


def dbname(project: str) -> str | None:
    """The database of a pageview project (``<domain>`` without ``www.`` and ``.org``);
    None for what is not a wiki project."""
    name = project.strip().lower().removeprefix("www.").removesuffix(".org")
    if name in RENAMED:
        return RENAMED[name]
    if name in SITES:
        return SITES[name]
    code, dot, family = name.partition(".")
    if not dot or not CODE.match(code):
        return None
    prefix = code.replace("-", "_")
    if family == "wikimedia":
        if code in WIKIMEDIA_WIKIS or re.fullmatch(r"wikimania\d{4}", code):
            return f"{prefix}wiki"
        return f"{prefix}wikimedia"
    suffix = FAMILIES.get(family)
    return f"{prefix}{suffix}" if suffix else None
