"""The console's page in a real browser (Chromium, headless, driven by Playwright) on DynamoDB
Local's demo data: tables, a filtered grid with its plan, cursor paging, the item editor (a
plain-JSON edit keeps every type; a save over someone else's change is refused), SQL, anatomy,
read-only mode and the in-page scan confirmation.

Each test saves a screenshot of each page it visits under its tmp_path.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ddbkit.database import Database
from tests.conftest import TableFactory
from tests.console.conftest import RunningConsole, forwarder, start_console

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 30_000


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this thread
# while it is open, and asyncio.run() in a later test module would refuse to start.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if executable is None:
        pytest.fail("the browser tests need Chromium at /usr/bin/chromium (./run installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


class Console:
    """One browser tab on a console; every script error on the page fails the test."""

    def __init__(self, page: Page, running: RunningConsole, shots: Path) -> None:
        self.page = page
        self.running = running
        self.shots = shots
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        # The page asks in its own dialogs: a browser dialog (alert, confirm) is a failure.
        page.on("dialog", lambda dialog: self.errors.append(f"browser dialog: {dialog.message}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(message.text)
                if message.type == "error" and "status of" not in message.text  # refused requests
                else None
            ),
        )

    def open(self, hash_route: str = "#/tables") -> Page:
        """Sign in with the printed URL (the token becomes a cookie), then go to a route."""
        self.page.goto(self.running.url)
        expect(self.page.get_by_test_id("session-endpoint")).to_contain_text("127.0.0.1")
        self.go(hash_route)
        return self.page

    def go(self, hash_route: str) -> None:
        self.page.evaluate("route => { location.hash = route; }", hash_route)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def testid(self, name: str) -> Any:
        return self.page.get_by_test_id(name)


@pytest.fixture
def tab(browser: Browser, console: RunningConsole, tmp_path: Path) -> Iterator[Console]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    opened = Console(page, console, tmp_path)
    try:
        yield opened
        assert opened.errors == [], f"script errors on the page: {opened.errors}"
    finally:
        context.close()


@pytest.fixture
def own_user(demo_tables: tuple[str, str], library: Database) -> Iterator[dict[str, Any]]:
    """A copy of a demo user under a key of this test's own (sets, bytes, decimals, a map)."""
    users = library.table(demo_tables[0])
    template = next(
        item for item in users.scan() if item.get("tags") and item["score"] != int(item["score"])
    )
    item = {**template, "user_id": f"ui-{uuid.uuid4().hex[:10]}"}
    users.put(item)
    try:
        yield item
    finally:
        users.delete({"user_id": item["user_id"]})


def run_where(tab: Console, where: str) -> None:
    tab.testid("where-input").fill(where)
    tab.testid("run-button").click()


def grid_column(tab: Console, column: str) -> list[str]:
    cells = tab.testid("items-grid").locator(f'tbody td[data-col="{column}"]')
    return [text.strip() for text in cells.all_inner_texts()]


def open_own_item(tab: Console, users: str, user_id: str) -> None:
    """Find the item with a where-clause (a Query on the key) and open it from its row."""
    tab.testid(f"table-link-{users}").click()
    expect(tab.testid("table-info")).to_be_visible()
    run_where(tab, f"user_id = '{user_id}'")
    expect(tab.testid("plan-operation")).to_have_text("Query")
    rows = tab.testid("item-row")
    expect(rows).to_have_count(1)
    rows.first.locator('td[data-col="email"]').click()
    expect(tab.testid("item-view")).to_be_visible()


# -- tests --------------------------------------------------------------------------------------


def test_tables_list_and_a_typed_grid(tab: Console, demo_tables: tuple[str, str]) -> None:
    users, orders = demo_tables
    page = tab.open()
    listing = tab.testid("tables-list")
    expect(listing).to_be_visible()
    expect(tab.testid(f"table-row-{users}")).to_contain_text("user_id (S)")
    expect(tab.testid(f"table-row-{orders}")).to_contain_text("order_date (S)")
    expect(tab.testid(f"table-row-{users}")).to_contain_text("by_email")
    assert tab.testid("readonly-badge").is_hidden()
    tab.shot("tables")

    tab.testid(f"table-link-{users}").click()
    expect(page).to_have_url(re.compile(rf"#/table/{re.escape(users)}$"))
    expect(tab.testid("table-info")).to_contain_text("by_email")
    expect(tab.testid("item-row").first).to_be_visible()
    headers = tab.testid("items-grid").locator("thead th").all_inner_texts()
    assert headers[0] == "user_id"  # the key first, then the page's other attributes by name
    assert headers[1:] == sorted(headers[1:])
    row = tab.testid("item-row").first
    types = {
        column: row.locator(f'td[data-col="{column}"]').get_attribute("data-type")
        for column in ("user_id", "score", "data", "address", "logins", "active")
    }
    assert types == {
        "user_id": "S",
        "score": "N",
        "data": "B",
        "address": "M",
        "logins": "L",
        "active": "BOOL",
    }
    expect(row.locator('td[data-col="data"]')).to_contain_text("bin")
    expect(row.locator('td[data-col="address"]')).to_contain_text("map")
    tags = tab.testid("items-grid").locator('td[data-col="tags"][data-type="SS"]').first
    expect(tags).to_contain_text("set")
    tab.shot("table")


def test_where_explain_then_page_forward_and_back(
    tab: Console, demo_tables: tuple[str, str], library: Database
) -> None:
    users = demo_tables[0]
    tab.open(f"#/table/{users}")
    expect(tab.testid("item-row").first).to_be_visible()

    # Explain first: the plan shows before anything runs.
    tab.testid("where-input").fill("status = 'active'")
    tab.testid("explain-button").click()
    plan = tab.testid("explain-output")
    expect(tab.testid("plan-operation")).to_have_text("Scan")
    expect(tab.testid("plan-index")).to_have_text("the table")
    expect(tab.testid("plan-cost")).to_contain_text("RCU")
    expect(plan).to_contain_text("status = 'active'")
    tab.shot("explain")

    # An equality on the GSI's key is a Query on that index.
    email = library.table(users).get({"user_id": "u00001"})["email"]  # type: ignore[index]
    tab.testid("where-input").fill(f"email = '{email}'")
    tab.testid("explain-button").click()
    expect(tab.testid("plan-operation")).to_have_text("Query")
    expect(tab.testid("plan-index")).to_have_text("by_email")

    tab.testid("page-size").select_option("25")  # runs the where box as it is
    run_where(tab, "status = 'active'")
    expect(tab.page).to_have_url(re.compile(r"where=status"))
    expect(tab.testid("page-number")).to_have_text("page 1")
    expect(tab.testid("item-row")).to_have_count(25)
    first_page = grid_column(tab, "user_id")
    assert set(grid_column(tab, "status")) == {"active"}
    expect(tab.testid("page-prev")).to_be_disabled()

    tab.testid("page-next").click()
    expect(tab.testid("page-number")).to_have_text("page 2")
    expect(tab.testid("item-row")).to_have_count(25)
    second_page = grid_column(tab, "user_id")
    assert set(grid_column(tab, "status")) == {"active"}
    assert not set(first_page) & set(second_page)
    tab.shot("page-2")

    tab.testid("page-prev").click()
    expect(tab.testid("page-number")).to_have_text("page 1")
    expect(tab.testid("item-row").first.locator('td[data-col="user_id"]')).to_have_text(
        first_page[0]
    )
    assert grid_column(tab, "user_id") == first_page


def test_a_plain_edit_of_a_nested_value_and_a_set_keeps_every_type(
    tab: Console, demo_tables: tuple[str, str], library: Database, own_user: dict[str, Any]
) -> None:
    users = demo_tables[0]
    user_id = own_user["user_id"]
    tab.open()
    open_own_item(tab, users, user_id)
    editor = tab.testid("item-editor")
    text = editor.input_value()
    assert f'"user_id": "{user_id}"' in text
    assert str(own_user["score"]) in text  # the digits as stored
    tab.testid("item-tab-typed").click()
    typed = tab.testid("item-editor").input_value()
    assert '"SS"' in typed and '"B"' in typed and f'"N": "{own_user["score"]}"' in typed
    tab.shot("item-typed")
    tab.testid("item-tab-plain").click()

    city = own_user["address"]["city"]
    edited = text.replace(f'"city": "{city}"', '"city": "Reykjavík"', 1)
    edited, swapped = re.subn(r'"tags": \[[^\]]*\]', '"tags": ["vip", "ui-edited"]', edited)
    assert swapped == 1 and edited != text
    tab.testid("item-editor").fill(edited)
    tab.testid("item-save").click()
    expect(tab.testid("item-message")).to_have_text("saved")
    expect(tab.testid("error")).to_be_hidden()
    tab.shot("item-saved")

    stored = library.table(users).get({"user_id": user_id})
    assert stored is not None
    assert stored["address"]["city"] == "Reykjavík"
    assert stored["tags"] == {"vip", "ui-edited"} and isinstance(stored["tags"], set)
    assert isinstance(stored["score"], Decimal) and str(stored["score"]) == str(own_user["score"])
    assert isinstance(stored["data"], bytes) and stored["data"] == own_user["data"]
    assert stored["address"]["geo"] == own_user["address"]["geo"]
    assert {k: v for k, v in stored.items() if k not in ("address", "tags")} == {
        k: v for k, v in own_user.items() if k not in ("address", "tags")
    }


def test_a_save_over_someone_elses_change_is_refused(
    tab: Console, demo_tables: tuple[str, str], library: Database, own_user: dict[str, Any]
) -> None:
    users = demo_tables[0]
    user_id = own_user["user_id"]
    tab.open()
    open_own_item(tab, users, user_id)
    text = tab.testid("item-editor").input_value()

    # Someone else changes the item after the page opened it.
    library.table(users).put({**own_user, "name": "Changed By The Library"})

    mine = text.replace(f'"city": "{own_user["address"]["city"]}"', '"city": "Mine"', 1)
    tab.testid("item-editor").fill(mine)
    tab.testid("item-save").click()
    error = tab.testid("error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("changed")
    expect(tab.testid("item-message")).to_contain_text("not saved")
    assert tab.testid("item-editor").input_value() == mine  # the user's text is kept
    tab.shot("item-conflict")

    stored = library.table(users).get({"user_id": user_id})
    assert stored is not None
    assert stored["name"] == "Changed By The Library"
    assert stored["address"]["city"] == own_user["address"]["city"]

    tab.page.get_by_role("button", name="Dismiss").click()
    expect(error).to_be_hidden()
    tab.testid("item-reload").click()  # the stored item, the library's change in it
    expect(tab.testid("item-editor")).to_have_value(re.compile("Changed By The Library"))


def test_duplicate_then_delete_with_the_in_page_confirm(
    tab: Console, demo_tables: tuple[str, str], library: Database, own_user: dict[str, Any]
) -> None:
    users = demo_tables[0]
    user_id = own_user["user_id"]
    copy_id = f"{user_id}-copy"
    tab.open()
    open_own_item(tab, users, user_id)
    tab.testid("item-duplicate").click()
    expect(tab.testid("item-new-editor")).to_have_value(re.compile(re.escape(user_id)))
    tab.testid("item-new-tab-typed").click()  # DynamoDB JSON: an exact copy, sets and bytes too
    new_editor = tab.testid("item-new-editor")
    new_editor.fill(new_editor.input_value().replace(f'"{user_id}"', f'"{copy_id}"', 1))
    tab.testid("item-new-save").click()
    expect(tab.page).to_have_url(re.compile(re.escape(copy_id)))
    expect(tab.testid("item-editor")).to_have_value(re.compile(re.escape(copy_id)))
    copy = library.table(users).get({"user_id": copy_id})
    assert copy is not None
    assert copy["tags"] == own_user["tags"] and copy["data"] == own_user["data"]

    tab.testid("item-delete").click()
    tab.testid("item-delete-confirm").click()
    expect(tab.page).to_have_url(re.compile(rf"#/table/{re.escape(users)}$"))
    assert library.table(users).get({"user_id": copy_id}) is None


def test_hostile_text_and_exact_numbers_show_as_they_are(
    tab: Console, make_table: TableFactory
) -> None:
    """Server strings reach the page as text, never as markup; numbers keep every digit."""
    table = make_table()
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    table.put(
        {
            "id": hostile,
            "<b>name</b>": hostile,
            "big": Decimal("12345678901234567890.123456789012345678"),
            "price": Decimal("0.000001"),
            "nums": {Decimal("2.25"), 3},
            "nothing": None,
        }
    )
    tab.open(f"#/table/{table.name}")
    row = tab.testid("item-row")
    expect(row).to_have_count(1)
    assert row.locator("img, script, b").count() == 0
    expect(row.locator('td[data-col="id"]')).to_have_text(hostile)
    expect(row.locator('td[data-col="<b>name</b>"]')).to_have_text(hostile)
    expect(row.locator('td[data-col="big"]')).to_have_text(
        "12345678901234567890.123456789012345678"
    )
    expect(row.locator('td[data-col="price"]')).to_have_text("0.000001")
    nums = row.locator('td[data-col="nums"]')
    expect(nums).to_have_attribute("data-type", "NS")
    expect(nums).to_contain_text("2.25")
    expect(row.locator('td[data-col="nothing"]')).to_have_attribute("data-type", "NULL")
    row.locator('td[data-col="big"]').click()
    expect(tab.testid("item-editor")).to_have_value(
        re.compile(re.escape("12345678901234567890.123456789012345678"))
    )
    assert tab.page.title() == "ddbkit console"
    tab.shot("hostile")


def test_sql_group_by(tab: Console, demo_tables: tuple[str, str], library: Database) -> None:
    users = demo_tables[0]
    tab.open()
    tab.testid("nav-sql").click()
    query = f'SELECT status, count(*) AS n FROM "{users}" GROUP BY status ORDER BY status'
    tab.testid("sql-editor").fill(query)
    tab.testid("sql-run").click()
    grid = tab.testid("sql-grid")
    expect(grid.locator("thead th")).to_have_text(["status", "n"])
    expected: dict[str, int] = {}
    for item in library.table(users).scan():
        expected[item["status"]] = expected.get(item["status"], 0) + 1
    rows = grid.locator("tbody tr")
    expect(rows).to_have_count(len(expected))
    shown = {
        row.locator("td").nth(0).inner_text(): int(row.locator("td").nth(1).inner_text())
        for row in rows.all()
    }
    assert shown == expected
    tab.testid("sql-explain").click()
    expect(tab.testid("sql-explain-output")).to_be_visible()
    with tab.page.expect_download() as download:
        tab.testid("sql-download-csv").click()
    saved = download.value.path()
    assert saved is not None
    assert Path(saved).read_text().splitlines()[0] == "status,n"
    tab.shot("sql")

    tab.testid("sql-editor").fill("SELECT nonsense FROM")
    tab.testid("sql-run").click()
    expect(tab.testid("error")).to_be_visible()
    assert "Traceback" not in tab.testid("error").inner_text()
    tab.shot("sql-error")


def test_anatomy_chart(tab: Console, demo_tables: tuple[str, str]) -> None:
    users = demo_tables[0]
    tab.open(f"#/table/{users}")
    tab.testid("anatomy-link").click()
    chart = tab.testid("anatomy-chart")
    expect(chart).to_be_visible()
    assert chart.evaluate("node => node.namespaceURI") == "http://www.w3.org/2000/svg"
    assert chart.locator("rect.bar").count() >= 1
    schema = tab.testid("anatomy-schema")
    expect(schema.locator('tr[data-attr="tags"]')).to_contain_text("SS")
    expect(schema.locator('tr[data-attr="user_id"]')).to_contain_text("100%")
    expect(tab.testid("anatomy-largest").locator("tbody tr").first).to_be_visible()
    expect(tab.testid("anatomy-hot").locator("tbody tr").first).to_be_visible()
    tab.shot("anatomy")
    tab.page.go_back()  # hash routing: back returns to the table
    expect(tab.testid("table-info")).to_be_visible()


def test_export_with_progress(tab: Console, demo_tables: tuple[str, str]) -> None:
    orders = demo_tables[1]
    tab.open(f"#/table/{orders}")
    expect(tab.testid("item-row").first).to_be_visible()
    tab.testid("where-input").fill("status = 'returned'")
    tab.testid("export-format").select_option("jsonl")
    with tab.page.expect_download() as download:
        tab.testid("export-start").click()
    saved = download.value.path()
    assert saved is not None
    lines = Path(saved).read_text().splitlines()
    assert lines and all('"returned"' in line for line in lines)
    expect(tab.testid("export-progress")).to_contain_text(f"{len(lines)} items")
    tab.shot("export")


def test_create_and_delete_a_table_in_the_page(tab: Console, library: Database) -> None:
    name = f"console-ui-{uuid.uuid4().hex[:8]}"
    tab.open()
    tab.testid("create-table-open").click()
    tab.testid("create-table-name").fill(name)
    tab.testid("create-table-pk-name").fill("pk")
    tab.testid("create-table-sk-name").fill("sk")
    tab.testid("create-table-sk-type").select_option("N")
    tab.testid("create-table-gsi-add").click()
    tab.page.locator(".gsi-row .gsi-name").fill("by_owner")
    tab.page.locator(".gsi-row .gsi-pk-name").fill("owner")
    tab.testid("create-table-ttl").fill("expires")
    tab.shot("create-table")
    tab.testid("create-table-submit").click()
    expect(tab.testid("table-info")).to_contain_text("sk (N)")
    expect(tab.testid("table-info")).to_contain_text("by_owner")
    info = library.table(name).info()
    assert info.sort_key is not None and info.sort_key.type == "N"
    assert [index.name for index in info.indexes] == ["by_owner"]
    assert info.ttl_attribute == "expires"

    tab.testid("delete-table-open").click()
    submit = tab.testid("delete-table-submit")
    tab.testid("delete-table-confirm-input").fill(name[:-1])
    expect(submit).to_be_disabled()
    tab.testid("delete-table-confirm-input").fill(name)
    submit.click()
    expect(tab.testid(f"table-row-{name}")).to_have_count(0)
    expect(tab.testid("tables-list")).to_be_visible()
    assert name not in library.tables() or library.table(name).info().status == "DELETING"


def test_remote_read_only_console_hides_writes_and_asks_before_a_scan(
    browser: Browser, endpoint: str, demo_tables: tuple[str, str], tmp_path: Path
) -> None:
    """Through a relay the endpoint looks remote: read-only by default, and a scan needs an OK."""
    users = demo_tables[0]
    with forwarder(endpoint) as remote, start_console(remote) as running:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        try:
            tab = Console(context.new_page(), running, tmp_path)
            tab.page.goto(running.url)
            expect(tab.testid("readonly-badge")).to_be_visible()
            expect(tab.testid("tables-list")).to_be_visible()
            expect(tab.testid("create-table-open")).to_have_count(0)
            tab.go(f"#/table/{users}")
            # Browsing reads only the page's own items: no question.
            expect(tab.testid("item-row").first).to_be_visible()
            expect(tab.testid("scan-confirm")).to_have_count(0)

            tab.testid("where-input").fill("age > 30")  # a filtered Scan may read everything
            tab.testid("run-button").click()
            dialog = tab.testid("scan-confirm")
            expect(dialog).to_be_visible()
            expect(dialog).to_contain_text("Scan")
            tab.shot("scan-confirm")
            tab.testid("scan-confirm-no").click()
            expect(dialog).to_have_count(0)

            tab.testid("run-button").click()
            tab.testid("scan-confirm-yes").click()
            expect(dialog).to_have_count(0)
            expect(tab.testid("item-row").first).to_be_visible()
            expect(tab.testid("delete-table-open")).to_have_count(0)

            tab.testid("item-row").first.locator('td[data-col="email"]').click()
            expect(tab.testid("item-view")).to_be_visible()
            for control in ("item-save", "item-delete", "item-duplicate"):
                expect(tab.testid(control)).to_have_count(0)
            tab.shot("read-only-item")
            assert tab.errors == []
        finally:
            context.close()
