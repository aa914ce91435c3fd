"""The schema page says what the code publishes."""

from __future__ import annotations

from commerce_core.integration import IntegrationEventType
from entrypoints.integration_docs import BEGIN, END, PAGE, generated, page_with


def test_the_schema_page_is_generated_from_the_current_structs() -> None:
    page = PAGE.read_text()
    assert page == page_with(page, generated()), "run python -m entrypoints.integration_docs"


def test_the_page_names_every_type_and_only_in_its_generated_part() -> None:
    section = PAGE.read_text().partition(BEGIN)[2].partition(END)[0]
    for kind in IntegrationEventType:
        assert f"### `{kind.value}` (version" in section
