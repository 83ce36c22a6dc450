"""Pageview projects to database names, on real pairs (domain and database of Wikimedia's
wikis, as listed by the Foundation's canonical wiki data and MediaWiki's dblists)."""

from __future__ import annotations

import pytest

from opsweek.checks.wiki_names import dbname

REAL = [
    # language + family suffix
    ("en.wikipedia", "enwiki"),
    ("azy.wikipedia", "azywiki"),
    ("simple.wikipedia", "simplewiki"),
    ("aa.wikibooks", "aawikibooks"),
    ("ar.wikinews", "arwikinews"),
    ("af.wikiquote", "afwikiquote"),
    ("ang.wikisource", "angwikisource"),
    ("ar.wikiversity", "arwikiversity"),
    ("bn.wikivoyage", "bnwikivoyage"),
    ("af.wiktionary", "afwiktionary"),
    ("beta.wikiversity", "betawikiversity"),
    # '-' becomes '_'
    ("zh-min-nan.wiktionary", "zh_min_nanwiktionary"),
    ("bat-smg.wikipedia", "bat_smgwiki"),
    ("cbk-zam.wikipedia", "cbk_zamwiki"),
    ("nds-nl.wikipedia", "nds_nlwiki"),
    ("roa-tara.wikipedia", "roa_tarawiki"),
    ("arbcom-en.wikipedia", "arbcom_enwiki"),
    # chapters and user groups on wikimedia.org
    ("ar.wikimedia", "arwikimedia"),
    ("am.wikimedia", "amwikimedia"),
    ("bd.wikimedia", "bdwikimedia"),
    ("nyc.wikimedia", "nycwikimedia"),
    ("mai.wikimedia", "maiwikimedia"),
    ("romd.wikimedia", "romdwikimedia"),
    ("punjabi.wikimedia", "punjabiwikimedia"),
    ("pa-us.wikimedia", "pa_uswikimedia"),
    ("ee.wikimedia", "etwikimedia"),
    # the Foundation's own wikis on wikimedia.org
    ("commons.wikimedia", "commonswiki"),
    ("meta.wikimedia", "metawiki"),
    ("species.wikimedia", "specieswiki"),
    ("incubator.wikimedia", "incubatorwiki"),
    ("outreach.wikimedia", "outreachwiki"),
    ("foundation.wikimedia", "foundationwiki"),
    ("donate.wikimedia", "donatewiki"),
    ("login.wikimedia", "loginwiki"),
    ("vote.wikimedia", "votewiki"),
    ("advisory.wikimedia", "advisorywiki"),
    ("wikimania.wikimedia", "wikimaniawiki"),
    ("wikimania2017.wikimedia", "wikimania2017wiki"),
    ("api.wikimedia", "apiportalwiki"),
    ("wikitech.wikimedia", "labswiki"),
    ("test-commons.wikimedia", "testcommonswiki"),
    # sites without a language part
    ("wikidata", "wikidatawiki"),
    ("www.wikidata", "wikidatawiki"),
    ("test.wikidata", "testwikidatawiki"),
    ("mediawiki", "mediawikiwiki"),
    ("wikifunctions", "wikifunctionswiki"),
    ("wikisource", "sourceswiki"),
    # test and special wikipedia sites
    ("test.wikipedia", "testwiki"),
    ("test2.wikipedia", "test2wiki"),
    ("nostalgia.wikipedia", "nostalgiawiki"),
    ("ten.wikipedia", "tenwiki"),
    ("thankyou.wikipedia", "thankyouwiki"),
    # renamed after the database was made
    ("be-tarask.wikipedia", "be_x_oldwiki"),
    ("be-x-old.wikipedia", "be_x_oldwiki"),
]


@pytest.mark.parametrize(("project", "name"), REAL)
def test_real_project_names(project: str, name: str) -> None:
    assert dbname(project) == name


@pytest.mark.parametrize("project", ["zz.notawiki", "bot2", "", ".wikipedia", "en wiki.wikipedia"])
def test_what_is_not_a_wiki_project(project: str) -> None:
    assert dbname(project) is None
