"""A realistic small data set for the demo: users (GSI on email) and orders (customer + date).

Deterministic (seeded) so the demo's output reads the same every time. Attribute names include
DynamoDB reserved words (name, status, data, year, count) and one with a space, values include
nested maps, lists, sets, binary, decimals and booleans.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ddbkit.database import Database
from ddbkit.errors import TableNotFoundError, ValidationError
from ddbkit.jobs.tables import IndexSpec
from ddbkit.table import Table

USERS = 3000
ORDERS = 2000
CITIES = ["Lisbon", "Berlin", "Nairobi", "Osaka", "Lima", "Toronto", "Oslo", "Pune"]
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]
TAGS = ["admin", "beta", "vip", "newsletter", "mobile", "churn-risk"]
STATUSES = ["active", "active", "active", "suspended", "new"]
ORDER_STATUSES = ["placed", "shipped", "shipped", "delivered", "returned"]
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dogs",
    "while",
    "data",
    "flows",
    "through",
    "partitions",
]


def user_id(n: int) -> str:
    return f"u{n:05d}"


def customer_id(n: int) -> str:
    return f"c{n:03d}"


def users(count: int = USERS, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for n in range(1, count + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        item: dict[str, Any] = {
            "user_id": user_id(n),
            "email": f"{first.lower()}.{last.lower()}{n}@example.com",
            "name": f"{first} {last}",
            "first name": first,
            "status": rng.choice(STATUSES),
            "age": rng.randint(18, 80),
            "score": Decimal(rng.randint(0, 10000)) / 100,
            "active": rng.random() < 0.8,
            "address": {
                "city": rng.choice(CITIES),
                "zip": f"{rng.randint(1000, 99999)}",
                "geo": {
                    "lat": Decimal(str(round(rng.uniform(-60, 60), 4))),
                    "lon": Decimal(str(round(rng.uniform(-180, 180), 4))),
                },
            },
            "logins": [rng.randint(1, 50) for _ in range(rng.randint(0, 5))],
            "data": bytes(rng.getrandbits(8) for _ in range(16)),
            "year": rng.randint(2015, 2025),
            "bio": " ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 220))),
        }
        tags = set(rng.sample(TAGS, rng.randint(0, 3)))
        if tags:  # DynamoDB refuses empty sets: leave the attribute out instead
            item["tags"] = tags
        if rng.random() < 0.3:
            item["nickname"] = first.lower()[:3]
        yield item


def orders(count: int = ORDERS, customers: int = 100, seed: int = 11) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    for n in range(count):
        day = start + timedelta(days=rng.randint(0, 700), seconds=n)
        lines: list[dict[str, Any]] = []
        total = Decimal(0)
        for _ in range(rng.randint(1, 4)):
            qty, price = rng.randint(1, 4), Decimal(rng.randint(199, 9999)) / 100
            lines.append({"sku": f"sku-{rng.randint(1, 300):03d}", "qty": qty, "price": price})
            total += qty * price
        yield {
            "customer": customer_id(rng.randint(1, customers)),
            "order_date": f"{day.isoformat()}#{n:05d}",
            "status": rng.choice(ORDER_STATUSES),
            "total": total,
            "lines": lines,
            "count": sum(line["qty"] for line in lines),
            "year": day.year,
            "gift": rng.random() < 0.1,
        }


def check_free(db: Database, *, prefix: str = "", replace: bool = False) -> list[str]:
    """The demo tables that exist already; a ValidationError for them unless ``replace``."""
    existing = set(db.tables())
    taken = [name for name in (f"{prefix}users", f"{prefix}orders") if name in existing]
    if taken and not replace:
        what = (
            f"table {taken[0]!r} already exists"
            if len(taken) == 1
            else (f"tables {' and '.join(map(repr, taken))} already exist")
        )
        raise ValidationError(
            f"{what} on {db.endpoint}: the demo never replaces a table it did not create in "
            "this run; pick another --prefix, or add --replace --yes to drop and reload them"
        )
    return taken


def create(db: Database, *, prefix: str = "", replace: bool = False) -> tuple[Table, Table]:
    """Create the demo tables and load them; return (users, orders).

    Tables that already exist are never touched unless ``replace`` is given: then they are
    deleted and created anew. Without it, an existing table is a ValidationError before anything
    is changed.
    """
    users_name, orders_name = f"{prefix}users", f"{prefix}orders"
    for name in check_free(db, prefix=prefix, replace=replace):
        with contextlib.suppress(TableNotFoundError):
            db.delete_table(name)
    users_table = db.create_table(
        users_name,
        partition_key=("user_id", "S"),
        indexes=[IndexSpec("by_email", ("email", "S"))],
    )
    orders_table = db.create_table(
        orders_name,
        partition_key=("customer", "S"),
        sort_key=("order_date", "S"),
        indexes=[
            IndexSpec("by_status", ("status", "S"), ("order_date", "S"), projection="KEYS_ONLY")
        ],
    )
    load(users_table, users())
    load(orders_table, orders())
    return users_table, orders_table


def load(table: Table, items: Iterator[dict[str, Any]], workers: int = 8) -> int:
    """Put items with a few threads (one PutItem each: a small data set needs no batching)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(1 for _ in pool.map(table.put, items))
