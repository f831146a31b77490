"""Words for people: plurals, plain values, readable column names, shortened labels;
text from the data cleaned for people, escaped for Markdown and HTML, neutralised for CSV."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from markdown_it import MarkdownIt

from custseg._utils.labels import abbreviate
from custseg._utils.patterns import columns_matching
from custseg._utils.text import (
    FORMULA_PREFIXES,
    count,
    display_name,
    escape_html,
    escape_markdown,
    neutralise_formula,
    neutralise_formulas,
    neutralise_formulas_arrow,
    plain,
    readable_name,
    shorten,
    shorten_middle,
    shorten_words,
)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("NumStorePurchases", "num store purchases"),
        ("MntWines", "mnt wines"),
        ("AcceptedCmp1", "accepted cmp 1"),
        ("CASH_ADVANCE", "cash advance"),
        ("days_since_last_purchase", "days since last purchase"),
        ("avgCLV_usd", "avg CLV usd"),
        ("Year-Birth", "year birth"),
        ("Spending Score (1-100)", "spending score (1-100)"),
        ("Annual Income (k$)", "annual income (k$)"),
        ("Score_(1-100)", "score (1-100)"),
        ("  spaced  name ", "spaced name"),
    ],
)
def test_column_names_read_as_words(name, words):
    assert readable_name(name) == words


def test_counts_take_the_plural_they_need():
    assert count(0, "row") == "0 rows"
    assert count(1, "row") == "1 row"
    assert count(8950, "row") == "8,950 rows"
    assert count(np.int64(1), "category", "categories") == "1 category"
    assert count(3, "category", "categories") == "3 categories"


def test_numpy_scalars_print_as_plain_values():
    assert repr(plain(np.float64(3.0))) == "3.0"
    assert repr(plain((np.int64(2), np.int64(10)))) == "(2, 10)"
    assert repr(plain([np.bool_(True), "x"])) == "[True, 'x']"
    assert plain("text") == "text"


def test_shortening_cuts_at_word_boundaries():
    text = "model score probability of churn within the next ninety days"
    assert shorten(text, 100) == text
    assert shorten(text, 24) == "model score probability…"
    assert len(shorten(text, 24)) <= 24
    assert shorten("abcdefghijklmnop", 6) == "abcde…"
    # Keeping the last word keeps apart labels that differ only at the end.
    first = shorten_words("quarterly behavioural indicator computed version 003", 24)
    second = shorten_words("quarterly behavioural indicator computed version 004", 24)
    assert (first, second) == ("quarterly… 003", "quarterly… 004")
    assert shorten_words("quarterly behavioural indicator version 003", 30) == (
        "quarterly behavioural… 003"
    )
    assert shorten_middle("a" * 20 + "_v1", 10) == "aaaaa…a_v1"
    # Names abbreviate instead: no ellipsis, no word cut without a full stop saying so.
    assert abbreviate("days since first purchase", 24) == "days since first purc."
    assert abbreviate("days since last purchase", 24) == "days since last purchase"
    assert abbreviate("value of the first order", 20) == "value first order"
    assert abbreviate("quarterly behavioural indicator computed version 003", 24) == (
        "quarterly 003"
    )
    # Twenty initials say nothing: the leading words say what the column is about.
    long = "average balance kept on the current account at month end during the last twelve months"
    assert abbreviate(long, 28) == "average balance kept current"
    assert abbreviate("average monthly balance outstanding", 12) == "AMBO"
    # A hyphenated word is a word, not a number to keep: "monthly add-ons" named another column.
    charges = "monthly charges billed to the customer including all service add-ons and taxes"
    assert abbreviate(charges, 30) == "monthly charges billed cust."
    assert shorten_middle("short", 10) == "short"


def test_column_patterns_ignore_case_and_separators():
    columns = ["NumWebPurchases", "num_store_purchases", "Recency", "MntWines"]
    assert columns_matching(["Num*Purchases"], columns) == columns[:2]
    assert columns_matching(["recency", "mnt*"], columns) == ["Recency", "MntWines"]
    assert columns_matching(["web"], columns) == []


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_display_names_lose_bidi_and_control_characters():
    assert display_name("name\u202eevil") == "nameevil"
    assert display_name("tab\tname") == "tab name"
    assert display_name("two\r\nlines\u2028here") == "two  lines here"
    assert display_name("bell\x07\x00\x7f\x9b") == "bell"
    for character in BIDI:
        assert display_name(f"a{character}b") == "ab", hex(ord(character))
    # Letters of every script, accents and emoji stay; a plain name is returned as is.
    assert display_name("Ωmega é 名前 📈") == "Ωmega é 名前 📈"
    assert display_name(12.5) == "12.5"
    # Segment names and traits are built from readable names: they are clean too.
    assert readable_name("Spend\u202e_tab\tname") == "spend tab name"


def _render(markdown: str) -> tuple[str, list[str]]:
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    tokens = parser.parse(markdown)
    kinds = [t.type for t in tokens] + [c.type for t in tokens for c in t.children or []]
    return parser.render(markdown), kinds


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "a|b",
        "**bold**",
        "_under_ and ~~gone~~",
        "`code`",
        "[click](http://x)",
        "![img](http://x/a.png)",
        "# heading",
        "- item",
        "+ item",
        "1. first",
        "===",
        "back\\slash \\| pipe",
        "&lt;b&gt; &amp;",
        "<http://x>",
        '=HYPERLINK("http://x","click")',
    ],
)
def test_markdown_escaping_keeps_text_literal(text):
    escaped = escape_markdown(text, line_start=True)
    assert "\n" not in escaped
    # As a paragraph: one <p> whose text is the input, no element of the text's own.
    html, kinds = _render(escaped)
    assert "html_inline" not in kinds and "html_block" not in kinds
    assert html == f"<p>{escape_html(text)}</p>\n"
    # As a table cell: the row keeps its two cells.
    escaped = escape_markdown(text)
    table = f"| name | n |\n| --- | --- |\n| {escaped} | 1 |\n"
    html, kinds = _render(table)
    assert kinds.count("td_open") == 2, html
    assert f"<td>{escape_html(text)}</td>" in html


def test_only_text_that_starts_a_line_escapes_list_markers():
    assert escape_markdown("custseg 0.1.0 - 2 rows") == "custseg 0.1.0 - 2 rows"
    assert escape_markdown("1. first", line_start=True) == "1\\. first"
    assert escape_markdown("- item", line_start=True) == "\\- item"


def test_html_escaping_leaves_no_markup():
    assert escape_html('<img src=x onerror="a">\u202e') == (
        "&lt;img src=x onerror=&quot;a&quot;&gt;"
    )


def test_a_cell_that_starts_like_a_formula_gets_a_quote():
    for prefix in FORMULA_PREFIXES:
        assert neutralise_formula(prefix + "1") == "'" + prefix + "1"
    assert neutralise_formula("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise_formula("a=b") == "a=b"
    assert neutralise_formula("") == ""
    assert neutralise_formula(-2.5) == -2.5
    assert neutralise_formula(None) is None


def _hostile_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C1", "-2+3", None, "+cmd"],
            '=HYPERLINK("http://x","click")': [-1.5, 2.0, -3.0, 4.0],
            "plan": pd.Categorical(["@SUM(A1)", "gold", "@SUM(A1)", "\tx"]),
            "mixed": ["=1+1", 5, None, "ok"],
            "delta": [-1, -2, 3, -4],
        }
    )


def _csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _formula_cells(rows: list[list[str]]) -> list[str]:
    """Cells that a spreadsheet would evaluate: formula-like text that is not a number."""
    bad = []
    for row in rows:
        for cell in row:
            try:
                float(cell)
            except ValueError:
                if cell.startswith(FORMULA_PREFIXES):
                    bad.append(cell)
    return bad


def test_pandas_text_columns_and_names_are_neutralised_numbers_are_not():
    frame = _hostile_frame()
    before = frame.copy()
    out = neutralise_formulas(frame)
    pd.testing.assert_frame_equal(frame, before)  # the input is not modified
    assert list(out.columns) == [
        "customer_id",
        '\'=HYPERLINK("http://x","click")',
        "plan",
        "mixed",
        "delta",
    ]
    assert out["customer_id"].tolist()[:2] == ["C1", "'-2+3"]
    assert out["customer_id"].isna().tolist() == [False, False, True, False]
    assert out["plan"].astype(str).tolist() == ["'@SUM(A1)", "gold", "'@SUM(A1)", "'\tx"]
    assert isinstance(out["plan"].dtype, pd.CategoricalDtype)
    assert out["mixed"].tolist()[:2] == ["'=1+1", 5]
    assert out.iloc[:, 1].tolist() == [-1.5, 2.0, -3.0, 4.0]
    assert out["delta"].tolist() == [-1, -2, 3, -4]
    rows = _csv_cells(out.to_csv(index=False))
    assert _formula_cells(rows) == []
    assert "-1.5" in rows[1] and "-1" in rows[1]
    # A clean table is returned as is: no copy for the common case.
    clean = pd.DataFrame({"id": ["a", "b"], "x": [-1.0, 2.0]})
    assert neutralise_formulas(clean) is clean


def test_a_level_that_already_exists_with_its_quote_is_not_merged():
    frame = pd.DataFrame({"plan": pd.Categorical(["=x", "'=x"])})
    assert neutralise_formulas(frame)["plan"].tolist() == ["'=x", "'=x"]


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string(), pa.string_view()])
def test_arrow_text_columns_are_neutralised_numbers_are_not(kind):
    table = pa.table(
        {
            "customer_id": pa.array(["C1", "-2+3", None, "+cmd", "", "é=", "@"], kind),
            "@name": pa.array([-1.5, 2.0, -3.0, 4.0, 0.0, 1.0, -0.0]),
            "segment_name": pa.array(["=a", "b", "=a", None, "b", "b", "=a"]).dictionary_encode(),
        }
    )
    out = neutralise_formulas_arrow(table)
    assert out.column_names == ["customer_id", "'@name", "segment_name"]
    assert out.schema.types == table.schema.types
    assert out["customer_id"].to_pylist() == ["C1", "'-2+3", None, "'+cmd", "", "é=", "'@"]
    assert out["'@name"].equals(table["@name"])  # negative numbers are numbers
    assert out["segment_name"].to_pylist() == ["'=a", "b", "'=a", None, "b", "b", "'=a"]
    if pa.types.is_string_view(kind):
        return  # Arrow's CSV writer takes no string_view; ChunkWriter casts it first
    sink = io.BytesIO()
    pa_csv.write_csv(out, sink)
    assert _formula_cells(_csv_cells(sink.getvalue().decode())) == []


def test_arrow_slices_chunks_and_batches():
    values = pa.array(["x", "=1", None, "-y", "z", "@w"])
    sliced = values.slice(1, 4)  # an offset into the buffers, a null inside
    out = neutralise_formulas_arrow(pa.table({"a": sliced}))
    assert out["a"].to_pylist() == ["'=1", None, "'-y", "z"]
    chunked = pa.table({"a": pa.chunked_array([["ok"], ["+1", "fine"]])})
    out = neutralise_formulas_arrow(chunked)
    assert out["a"].to_pylist() == ["ok", "'+1", "fine"]
    assert out["a"].num_chunks == 2
    batch = pa.RecordBatch.from_pydict({"a": ["=b"], "n": [-1]})
    out = neutralise_formulas_arrow(batch)
    assert isinstance(out, pa.RecordBatch)
    assert out.to_pydict() == {"a": ["'=b"], "n": [-1]}


def test_arrow_empty_cells_are_never_prefixed():
    # An empty cell shares its offset with the next cell's first byte.
    out = neutralise_formulas_arrow(pa.table({"a": ["", "=x", "", None, "-"]}))
    assert out["a"].to_pylist() == ["", "'=x", "", None, "'-"]
    # Only empty cells after text that ends with a formula byte: nothing to change.
    table = pa.table({"a": ["x=", "", ""]})
    assert neutralise_formulas_arrow(table) is table


def test_arrow_tables_without_formulas_come_back_unchanged():
    table = pa.table({"id": ["C1", "C2"], "x": [-1.0, -2.0], "empty": pa.array(["", None])})
    assert neutralise_formulas_arrow(table) is table
    assert neutralise_formulas_arrow(pa.table({"id": pa.array([], pa.string())})) is not None


def test_a_star_between_two_words_of_a_pattern_spans_a_few_words_not_a_sentence():
    # "*customer*for*" (a tenure pattern) once matched a long monthly-charges column
    # through "customer account including all service add-ons and taxes for".
    charges = (
        "Monthly charges billed to the customer account including all service add-ons and"
        " taxes for the current period"
    )
    short = [
        "customer_for_days",
        "CustomerForYears",
        "years_as_customer",
        "membership_length_in_months",
    ]
    assert columns_matching(["*customer*for*"], [charges, *short]) == short[:2]
    assert columns_matching(["*years*customer*", "*membership*months*"], short) == short[2:]
    # A star at either end still takes any run: patterns say "contains".
    assert columns_matching(["*charges*", "monthly*"], [charges]) == [charges]
    assert columns_matching(["Num*Purchases"], ["NumCatalogPurchases"]) == ["NumCatalogPurchases"]


def test_a_shortened_label_keeps_words_rather_than_many_stubs_and_ends_on_a_word():
    # Four stubs ("numb. visi. phys. branch loca.") read worse than the leading words.
    assert abbreviate("number of visits to physical branch locations", 30) == (
        "number visits physical branch"
    )
    # A data dictionary's sentence does not end on "has" or "with".
    tenure = "number of months the customer has stayed with the company"
    assert abbreviate(tenure, 30) == "number months customer stayed"
    assert abbreviate("days since first purchase", 22) == "days since first purc."
