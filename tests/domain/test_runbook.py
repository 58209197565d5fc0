from pathlib import Path

import pytest

from bot.config.runbooks import load_runbooks, validate_runbooks
from bot.domain.runbook import (
    Runbook,
    RunbookError,
    Step,
    parse_runbook,
)

RUNBOOK_DIR = Path(__file__).parents[2] / "runbooks"
PIPELINES = ("profit-unit", "profit-agg", "growth-agg", "growth-daily", "engagement-agg")
DASHBOARDS = ("Ops Overview", "Freshness & Lag", "Error Budget Burn", "Schema Contracts")

# Line numbers matter to the error tests below: title 1, Slug 3, Type 4, Deadline 5,
# "## Purpose" 7, "## Failure modes" 10, "## Diagnostics checklist" 13, steps 14 and 15.
VALID = """\
# Growth — Aggregate

- **Slug:** growth-agg
- **Type:** investor
- **Deadline:** 06:30 IST

## Purpose
Daily active users.

## Failure modes
- **Event Loss:** Kafka backlog.

## Diagnostics checklist
1. **Stream lag:** Check lag. See [[Freshness & Lag]].
2. **Comms:** Notify #investor-kpis if SLA risk.
"""


@pytest.fixture(scope="module")
def shipped() -> dict[str, Runbook]:
    return load_runbooks(RUNBOOK_DIR)


def _rewrite(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new)


# --- shipped runbooks -------------------------------------------------------------------------


def test_every_pipeline_has_a_shipped_runbook(shipped: dict[str, Runbook]) -> None:
    assert sorted(shipped) == sorted(PIPELINES)


def test_shipped_runbooks_validate_cleanly(shipped: dict[str, Runbook]) -> None:
    assert validate_runbooks(shipped, PIPELINES, DASHBOARDS) == []


@pytest.mark.parametrize(
    ("slug", "name", "kind", "deadline", "steps", "failure_modes", "channel"),
    [
        ("profit-agg", "Profit — Aggregate", "investor", "07:00 IST", 8, 8, "#investor-kpis"),
        ("growth-agg", "Growth — Aggregate", "investor", "06:30 IST", 8, 6, "#investor-kpis"),
        (
            "engagement-agg",
            "Engagement — Aggregate",
            "investor",
            "07:00 IST",
            7,
            6,
            "#investor-kpis",
        ),
        ("profit-unit", "Profit — Unit-level", "experiment", None, 6, 5, "#data-platform"),
        ("growth-daily", "Growth — Daily", "experiment", "10:00 IST", 6, 5, "#data-platform"),
    ],
)
def test_shipped_runbook_shape(
    shipped: dict[str, Runbook],
    slug: str,
    name: str,
    kind: str,
    deadline: str | None,
    steps: int,
    failure_modes: int,
    channel: str,
) -> None:
    runbook = shipped[slug]
    assert runbook.name == name
    assert runbook.type == kind
    assert runbook.deadline == deadline
    assert runbook.source == str(RUNBOOK_DIR / f"{slug}.md")
    assert [step.number for step in runbook.steps] == list(range(1, steps + 1))
    assert len(runbook.failure_modes) == failure_modes
    assert all(step.title and step.detail for step in runbook.steps)
    comms = runbook.steps[-1]
    assert comms.title == "Comms"
    assert comms.channels == [channel]
    # Only the Comms step should tell people where to post.
    assert all(not step.channels for step in runbook.steps[:-1])


@pytest.mark.parametrize(
    ("slug", "upstream", "downstream"),
    [
        (
            "profit-agg",
            [
                "Orders fact",
                "Payments fact",
                "Refunds",
                "Discounts",
                "COGS lookup",
                "Experiment flags (excluded)",
            ],
            ["Investor BI dashboard", "Finance close", "CFO weekly brief"],
        ),
        (
            "growth-agg",
            [
                "Auth events",
                "App/SDK events",
                "Device table",
                "Geo/IP enrichment",
                "Bot filter rules",
            ],
            ["Investor growth dashboard", "Earnings package"],
        ),
        (
            "engagement-agg",
            ["App events", "Sessionization job output", "Content metadata", "A/B exclusions"],
            ["Investor engagement dashboard", "IR materials"],
        ),
    ],
)
def test_investor_runbooks_list_policy_inputs_and_consumers(
    shipped: dict[str, Runbook], slug: str, upstream: list[str], downstream: list[str]
) -> None:
    assert shipped[slug].upstream == upstream
    assert shipped[slug].downstream == downstream


def test_shipped_step_carries_policy_text_and_dashboard(shipped: dict[str, Runbook]) -> None:
    step = shipped["growth-agg"].steps[0]
    assert step.title == "Stream lag"
    assert (
        step.detail == "Check consumer group lag; compare to normal p95. See [[Freshness & Lag]]."
    )
    assert step.dashboards == ["Freshness & Lag"]
    assert (
        step.text
        == "Stream lag: Check consumer group lag; compare to normal p95. See Freshness & Lag."
    )


def test_shipped_failure_mode_and_purpose(shipped: dict[str, Runbook]) -> None:
    runbook = shipped["profit-agg"]
    assert runbook.purpose == (
        "Daily aggregate profit delivered to Investor Warehouse and BI dashboards by 07:00 IST."
    )
    assert runbook.failure_modes[0].title == "Data Freshness Breach"
    assert runbook.failure_modes[0].detail == (
        "Late upstream ingestion of Payments/Refunds; scheduler lag; cluster capacity starvation."
    )


# --- parsing ----------------------------------------------------------------------------------


def test_parse_valid_runbook() -> None:
    runbook = parse_runbook(VALID, "runbooks/growth-agg.md")
    assert runbook.slug == "growth-agg"
    assert runbook.name == "Growth — Aggregate"
    assert runbook.type == "investor"
    assert runbook.deadline == "06:30 IST"
    assert runbook.purpose == "Daily active users."
    assert runbook.upstream == []
    assert runbook.downstream == []
    assert [(m.title, m.detail) for m in runbook.failure_modes] == [
        ("Event Loss", "Kafka backlog.")
    ]
    assert runbook.steps == [
        Step(
            number=1,
            title="Stream lag",
            detail="Check lag. See [[Freshness & Lag]].",
            dashboards=["Freshness & Lag"],
            channels=[],
        ),
        Step(
            number=2,
            title="Comms",
            detail="Notify #investor-kpis if SLA risk.",
            dashboards=[],
            channels=["#investor-kpis"],
        ),
    ]
    assert runbook.source == "runbooks/growth-agg.md"


def test_parse_tolerates_crlf_trailing_space_star_bullets_and_blank_lines() -> None:
    messy = "\n\n" + VALID.replace("- **", "*   **").replace("\n", "  \n\n").replace("\n", "\r\n")
    assert parse_runbook(messy, "x.md") == parse_runbook(VALID, "x.md")


def test_parse_joins_indented_continuation_lines_and_dedupes_links() -> None:
    text = _rewrite(
        "1. **Stream lag:** Check lag. See [[Freshness & Lag]].\n",
        "1. **Stream lag:** Check lag\n   on [[Freshness & Lag]] and again [[Freshness & Lag]].\n",
    )
    step = parse_runbook(text, "x.md").steps[0]
    assert step.detail == "Check lag on [[Freshness & Lag]] and again [[Freshness & Lag]]."
    assert step.dashboards == ["Freshness & Lag"]
    assert step.text == "Stream lag: Check lag on Freshness & Lag and again Freshness & Lag."


@pytest.mark.parametrize(
    ("line", "title", "detail", "text"),
    [
        (
            "1. **Is it late?** Check the DAG.",
            "Is it late?",
            "Check the DAG.",
            "Is it late? Check the DAG.",
        ),
        ("1. **Skew**: Top keys.", "Skew", "Top keys.", "Skew: Top keys."),
        ("1. Page the backup.", "", "Page the backup.", "Page the backup."),
        (
            "1) **Lag:** See [[Ops Overview]].",
            "Lag",
            "See [[Ops Overview]].",
            "Lag: See Ops Overview.",
        ),
    ],
)
def test_step_title_forms(line: str, title: str, detail: str, text: str) -> None:
    checklist = _rewrite(
        "1. **Stream lag:** Check lag. See [[Freshness & Lag]].\n2. **Comms:** Notify "
        "#investor-kpis if SLA risk.\n",
        line + "\n",
    )
    (step,) = parse_runbook(checklist, "x.md").steps
    assert (step.title, step.detail, step.text) == (title, detail, text)


def test_upstream_and_downstream_bullets() -> None:
    text = _rewrite(
        "## Failure modes\n",
        "## Upstream inputs\n- Auth events\n* Device\n  table\n\n"
        "## Downstream consumers\n+ Earnings package\n\n## Failure modes\n",
    )
    runbook = parse_runbook(text, "x.md")
    assert runbook.upstream == ["Auth events", "Device table"]
    assert runbook.downstream == ["Earnings package"]


def test_sections_are_optional_except_purpose_and_checklist() -> None:
    text = _rewrite("## Failure modes\n- **Event Loss:** Kafka backlog.\n\n", "")
    text = text.replace("- **Deadline:** 06:30 IST\n", "")
    runbook = parse_runbook(text, "x.md")
    assert runbook.failure_modes == []
    assert runbook.deadline is None


def test_error_str_names_file_and_line() -> None:
    error = RunbookError("runbooks/x.md", 7, "boom")
    assert str(error) == "runbooks/x.md:7: boom"
    assert (error.source, error.line, error.message) == ("runbooks/x.md", 7, "boom")
    assert isinstance(error, ValueError)


ERROR_CASES = [
    pytest.param("", 1, "missing '# Title'", id="empty-file"),
    pytest.param(_rewrite("# Growth", "Growth"), 1, "missing '# Title'", id="no-title"),
    pytest.param("\n\n## Purpose\n", 3, "missing '# Title'", id="section-before-title"),
    pytest.param(_rewrite("- **Slug:** growth-agg\n", ""), 1, "missing '- **Slug:**", id="no-slug"),
    pytest.param(_rewrite("- **Type:** investor\n", ""), 1, "missing '- **Type:**", id="no-type"),
    pytest.param(
        _rewrite("investor", "investors"),
        4,
        "unknown type 'investors'; expected investor or experiment",
        id="unknown-type",
    ),
    pytest.param(
        _rewrite("growth-agg", "Growth_Agg"), 3, "slug 'Growth_Agg' must be", id="bad-slug"
    ),
    pytest.param(
        _rewrite("**Slug:** growth-agg", "**Slug:**"),
        3,
        "field 'Slug' has no value",
        id="empty-slug",
    ),
    pytest.param(_rewrite("Deadline", "Dealine"), 5, "unknown field 'Dealine'", id="unknown-field"),
    pytest.param(
        _rewrite("- **Deadline:** 06:30 IST\n", "- **Slug:** other\n"),
        5,
        "field 'Slug' repeats (first at line 3)",
        id="repeated-field",
    ),
    pytest.param(
        _rewrite("- **Deadline:** 06:30 IST\n", "Some intro prose.\n"),
        5,
        "expected a field like '- **Slug:** name'",
        id="prose-in-header",
    ),
    pytest.param(
        _rewrite("## Purpose", "## Purpos"),
        7,
        "unknown section 'Purpos'; valid sections: Purpose, Upstream inputs, "
        "Downstream consumers, Failure modes, Diagnostics checklist",
        id="unknown-section",
    ),
    pytest.param(
        _rewrite("## Failure modes", "### Failure modes"),
        10,
        "unexpected ### heading",
        id="h3-heading",
    ),
    pytest.param(
        _rewrite("## Failure modes", "# Failure modes"), 10, "unexpected # heading", id="h1-twice"
    ),
    pytest.param(
        _rewrite("## Failure modes", "## purpose"),
        10,
        "section 'Purpose' repeats (first at line 7)",
        id="repeated-section",
    ),
    pytest.param(
        _rewrite("## Purpose\nDaily active users.\n\n", ""),
        12,
        "missing required section '## Purpose'",
        id="no-purpose",
    ),
    pytest.param(
        VALID[: VALID.index("## Diagnostics checklist")],
        12,
        "missing required section '## Diagnostics checklist'",
        id="no-checklist",
    ),
    pytest.param(
        _rewrite("Daily active users.\n", ""), 7, "section 'Purpose' is empty", id="empty-purpose"
    ),
    pytest.param(
        VALID[: VALID.index("1. ")],
        13,
        "section 'Diagnostics checklist' has no steps",
        id="empty-checklist",
    ),
    pytest.param(
        _rewrite("2. **Comms:**", "- **Comms:**"),
        15,
        "checklist item is not a numbered item; expected '2. **Title:** detail'",
        id="bullet-step",
    ),
    pytest.param(
        _rewrite("2. **Comms:**", "**Comms:**"),
        15,
        "checklist item is not a numbered item",
        id="unnumbered-step",
    ),
    pytest.param(
        _rewrite("2. **Comms:**", "3. **Comms:**"),
        15,
        "checklist numbering skips ahead: expected 2, found 3",
        id="skipped-number",
    ),
    pytest.param(
        _rewrite("2. **Comms:**", "1. **Comms:**"),
        15,
        "checklist numbering repeats: expected 2, found 1",
        id="repeated-number",
    ),
    pytest.param(
        _rewrite("1. **Stream lag:**", "0. **Stream lag:**"),
        14,
        "expected 1, found 0",
        id="starts-at-zero",
    ),
    pytest.param(
        _rewrite("2. **Comms:** Notify #investor-kpis if SLA risk.", "2."),
        15,
        "step 2 has no text",
        id="empty-step",
    ),
    pytest.param(
        _rewrite("2. **Comms:** Notify #investor-kpis if SLA risk.", "2. **Comms:**"),
        15,
        "step 2 has a title 'Comms' but no text after it",
        id="title-only-step",
    ),
    pytest.param(
        _rewrite("[[Freshness & Lag]]", "[[Freshness & Lag"),
        14,
        "unclosed '[['",
        id="unclosed-link",
    ),
    pytest.param(
        _rewrite("See [[Freshness & Lag]].\n", "See\n   [[Freshness & Lag.\n"),
        15,
        "unclosed '[['",
        id="unclosed-link-on-continuation-line",
    ),
    pytest.param(
        _rewrite("[[Freshness & Lag]]", "Freshness & Lag]]"),
        14,
        "']]' without a matching '[['",
        id="stray-close",
    ),
    pytest.param(
        _rewrite("[[Freshness & Lag]]", "[[ ]]"), 14, "empty dashboard link", id="empty-link"
    ),
    pytest.param(
        _rewrite("- **Event Loss:** Kafka backlog.", "Kafka backlog."),
        11,
        "expected a '- ' bullet item",
        id="failure-mode-not-bullet",
    ),
    pytest.param(
        _rewrite("- **Event Loss:** Kafka backlog.", "- **Event Loss:**"),
        11,
        "failure mode has a title 'Event Loss' but no text",
        id="failure-mode-no-detail",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), ERROR_CASES)
def test_parse_errors_name_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(RunbookError) as caught:
        parse_runbook(text, "runbooks/growth-agg.md")
    assert caught.value.source == "runbooks/growth-agg.md"
    assert caught.value.line == line
    assert message in caught.value.message
    assert str(caught.value).startswith(f"runbooks/growth-agg.md:{line}: ")


def test_error_line_numbers_survive_crlf() -> None:
    text = _rewrite("2. **Comms:**", "3. **Comms:**").replace("\n", "\r\n")
    with pytest.raises(RunbookError) as caught:
        parse_runbook(text, "x.md")
    assert caught.value.line == 15


# --- loading ----------------------------------------------------------------------------------


def test_load_runbooks_keys_by_slug(tmp_path: Path) -> None:
    (tmp_path / "growth-agg.md").write_text(VALID, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a runbook", encoding="utf-8")
    runbooks = load_runbooks(tmp_path)
    assert list(runbooks) == ["growth-agg"]
    assert runbooks["growth-agg"].source == str(tmp_path / "growth-agg.md")


def test_load_runbooks_rejects_stem_that_differs_from_slug(tmp_path: Path) -> None:
    (tmp_path / "growth.md").write_text(VALID, encoding="utf-8")
    with pytest.raises(RunbookError) as caught:
        load_runbooks(tmp_path)
    assert caught.value.source == str(tmp_path / "growth.md")
    assert caught.value.line == 3
    assert "slug 'growth-agg' does not match the file name" in caught.value.message


def test_load_runbooks_rejects_repeated_slug(tmp_path: Path) -> None:
    (tmp_path / "growth-agg.md").write_text(VALID, encoding="utf-8")
    (tmp_path / "z-copy.md").write_text(VALID, encoding="utf-8")
    with pytest.raises(RunbookError) as caught:
        load_runbooks(tmp_path)
    assert caught.value.source == str(tmp_path / "z-copy.md")
    assert caught.value.line == 3
    assert caught.value.message == (
        f"slug 'growth-agg' already used by {tmp_path / 'growth-agg.md'}"
    )


def test_load_runbooks_reports_first_bad_file(tmp_path: Path) -> None:
    (tmp_path / "a-bad.md").write_text(_rewrite("2. **Comms:**", "4. **Comms:**"), "utf-8")
    (tmp_path / "b-bad.md").write_text("no title", encoding="utf-8")
    with pytest.raises(RunbookError) as caught:
        load_runbooks(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'a-bad.md'}:15: checklist numbering skips ahead: expected 2, found 4"
    )


def test_load_runbooks_reports_invalid_utf8_line(tmp_path: Path) -> None:
    (tmp_path / "growth-agg.md").write_bytes(b"# T\n\n- **Slug:** \xff\n")
    with pytest.raises(RunbookError) as caught:
        load_runbooks(tmp_path)
    assert (caught.value.line, caught.value.message) == (3, "file is not valid UTF-8")


def test_load_runbooks_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_runbooks(tmp_path / "nope")


# --- validation -------------------------------------------------------------------------------


def test_validate_reports_missing_and_unknown_pipelines(shipped: dict[str, Runbook]) -> None:
    runbooks = {slug: rb for slug, rb in shipped.items() if slug != "growth-daily"}
    runbooks["legacy"] = shipped["growth-agg"].model_copy(update={"slug": "legacy"})
    problems = validate_runbooks(runbooks, PIPELINES, DASHBOARDS)
    assert problems == [
        "pipeline 'growth-daily' has no runbook",
        f"{RUNBOOK_DIR / 'growth-agg.md'}: runbook 'legacy' is for an unknown pipeline",
    ]


def test_validate_reports_unknown_dashboard_with_file_and_step() -> None:
    text = _rewrite("2. **Comms:** Notify", "2. **Comms:** Check [[Ops Overvew]]; notify")
    runbook = parse_runbook(text, "runbooks/growth-agg.md")
    problems = validate_runbooks({"growth-agg": runbook}, ["growth-agg"], DASHBOARDS)
    assert problems == [
        "runbooks/growth-agg.md: step 2 links unknown dashboard [[Ops Overvew]] (known: "
        "Ops Overview, Freshness & Lag, Error Budget Burn, Schema Contracts)"
    ]


def test_validate_dashboard_names_are_exact() -> None:
    runbook = parse_runbook(VALID, "x.md")
    problems = validate_runbooks({"growth-agg": runbook}, ["growth-agg"], ["freshness & lag"])
    assert problems == [
        "x.md: step 1 links unknown dashboard [[Freshness & Lag]] (known: freshness & lag)"
    ]
