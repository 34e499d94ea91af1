"""Page web-service semantics shared by SOAP and OData: the SourceTableView, Keys, page
permissions (Insert/Modify/DeleteAllowed, non-editable fields) and the basic operations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ledgerlink.emulators.nav.errors import Failure, NavError
from ledgerlink.emulators.nav.keys import decode_key, encode_key
from ledgerlink.emulators.nav.logic import Books
from ledgerlink.emulators.nav.schema import FieldDef, PageDef, TableDef
from ledgerlink.emulators.nav.state import Record
from ledgerlink.emulators.nav.values import compile_criteria, parse_text, sort_value

__all__ = ["Criterion", "PageService"]

Criterion = Callable[[Record], bool]


class PageService:
    """One published page over one company's books (callers hold the state lock)."""

    def __init__(self, books: Books, page: PageDef) -> None:
        self.books = books
        self.page = page
        self.table: TableDef = page.table()
        self._view = [self.criterion(name, criteria) for name, criteria in page.table_view.items()]

    # --- records and keys ---------------------------------------------------------------------

    def field(self, name: str) -> FieldDef:
        """A page field (the .NET serializer's error when the page has no such field)."""
        found = self.page.field(name)
        if found is None:
            raise NavError(
                Failure.BAD_REQUEST,
                f"Instance validation error: '{name}' is not a valid value for "
                f"{self.page.service_name}_Fields.",
            )
        return found

    def criterion(self, name: str, criteria: str) -> Criterion:
        """A record predicate for NAV filter ``criteria`` on field ``name``."""
        field = self.field(name)
        matcher = compile_criteria(field, criteria, table_name=self.page.table_name)
        return lambda record: matcher(record.get(name))

    def visible(self, record: Record) -> bool:
        """Whether ``record`` is inside the page's SourceTableView."""
        return all(check(record) for check in self._view)

    def records(self) -> list[Record]:
        """The page's records in primary-key order."""
        return [r for r in self.books.rows(self.page.table_id) if self.visible(r)]

    def render(self, record: Record) -> Record:
        """The record with FlowFields calculated."""
        return self.books.calc_fields(self.page.table_id, record)

    def key(self, record: Record) -> str:
        """The record's current Key."""
        values = tuple(record.get(name) for name in self.page.primary_key)
        return encode_key(self.table, values, int(record["$version"]))

    def order(self, record: Record) -> tuple[Any, ...]:
        """The primary-key sort order."""
        return tuple(
            sort_value(self.field(name), record.get(name)) for name in self.page.primary_key
        )

    def get(self, values: Sequence[Any]) -> Record | None:
        """The visible record with primary-key ``values``, or ``None``."""
        record = self.books.get(self.page.table_id, values)
        return record if record is not None and self.visible(record) else None

    def parse_key_values(self, texts: Sequence[str]) -> tuple[Any, ...]:
        """Primary-key values from their texts (Read parameters, OData key literals)."""
        if len(texts) != len(self.page.primary_key):
            raise NavError(
                Failure.BAD_REQUEST,
                f"The key of {self.page.service_name} has {len(self.page.primary_key)} fields.",
            )
        return tuple(
            parse_text(self.field(name), text)
            for name, text in zip(self.page.primary_key, texts, strict=True)
        )

    def _deleted(self, values: Sequence[Any]) -> NavError:
        parts = " ".join(
            f"{self.field(name).caption} {value}"
            for name, value in zip(self.page.primary_key, values, strict=True)
        )
        return NavError(Failure.RECORD_NOT_FOUND, f"{self.page.table_name} {parts} does not exist.")

    def locate_values(self, key: str) -> tuple[tuple[Any, ...], int]:
        """The primary-key values and version a Key of this page names."""
        return decode_key(self.table, key)

    def locate(self, key: str, *, check_version: bool = True) -> Record:
        """The record a Key names; NAV's faults when it was deleted or (``check_version``)
        modified since the Key was read."""
        values, version = decode_key(self.table, key)
        record = self.get(values)
        if record is None:
            raise self._deleted(values)
        if check_version and int(record["$version"]) != version:
            position = ",".join(
                f"{self.field(name).caption}=CONST({value})"
                for name, value in zip(self.page.primary_key, values, strict=True)
            )
            raise NavError(
                Failure.STALE, f'Other user has modified "{self.page.table_name}" "{position}".'
            )
        return record

    # --- operations -----------------------------------------------------------------------------

    def read_multiple(
        self, criteria: Sequence[Criterion], bookmark: str | None, set_size: int
    ) -> list[Record]:
        """ReadMultiple: ANDed criteria; continue after ``bookmark``; ``set_size`` 0 = all,
        negative = that many in reverse order."""
        records = [r for r in self.records() if all(check(r) for check in criteria)]
        if set_size < 0:
            records.reverse()
        if bookmark:
            values, _version = decode_key(self.table, bookmark)
            mark = tuple(
                sort_value(self.field(name), value)
                for name, value in zip(self.page.primary_key, values, strict=True)
            )
            if set_size < 0:
                records = [r for r in records if self.order(r) < mark]
            else:
                records = [r for r in records if self.order(r) > mark]
        return records[: abs(set_size)] if set_size else records

    def create(self, sent: dict[str, Any]) -> Record:
        """Create (OnNewRecord, field validation in page order, OnInsert)."""
        if not self.page.insert_allowed:
            raise self._not_allowed("Insert")
        table_id = self.page.table_id
        record = self.books.new_record(table_id)
        for name in self.page.primary_key:
            if name in sent:
                record[name] = sent[name]
        for name, criteria in self.page.table_view.items():
            if name not in sent and "|" not in criteria and ".." not in criteria:
                record[name] = parse_text(self.field(name), criteria)
        self._apply(record, sent, skip=set(self.page.primary_key))
        if not self.visible(record):
            raise NavError(
                Failure.DIALOG,
                "The record is not within the filter of the page. Filters: "
                + ", ".join(
                    f"{self.field(k).caption}: {v}" for k, v in self.page.table_view.items()
                ),
            )
        return self.books.insert(table_id, record)

    def update(self, key: str, sent: dict[str, Any]) -> Record:
        """Update the record the Key names with the fields sent (changed fields are
        validated in page order; OnModify; a new Key)."""
        if not self.page.modify_allowed:
            raise self._not_allowed("Modify")
        old = self.locate(key)
        record = dict(old)
        for name in self.page.primary_key:
            if name in sent and sent[name] != record.get(name):
                raise NavError(Failure.DIALOG, f"You cannot rename a {self.page.table_name}.")
        changed = {k: v for k, v in sent.items() if v != self.render(record).get(k)}
        self._apply(record, changed, skip=set(self.page.primary_key))
        return self.books.modify(self.page.table_id, record, old)

    def delete(self, key: str) -> None:
        """Delete the record the Key names (OnDelete)."""
        if not self.page.delete_allowed:
            raise self._not_allowed("Delete")
        self.books.delete(self.page.table_id, self.locate(key))

    def is_updated(self, key: str) -> bool:
        """Whether the record changed (or disappeared) since ``key`` was read."""
        values, version = decode_key(self.table, key)
        record = self.get(values)
        return record is None or int(record["$version"]) != version

    def rec_id(self, key: str) -> str:
        """GetRecIdFromKey: ``Customer: 10000`` (FORMAT of the RecordID)."""
        values, _version = decode_key(self.table, key)
        shown = []
        for name, value in zip(self.page.primary_key, values, strict=True):
            field = self.field(name)
            if field.type == "Option":
                shown.append(field.options[field.option_names.index(value)].strip())
            else:
                shown.append(str(value))
        return f"{self.page.table_name}: {','.join(shown)}"

    def read_by_rec_id(self, rec_id: str) -> Record | None:
        """ReadByRecId: the record a RecordID text names, or ``None``."""
        prefix = f"{self.page.table_name}: "
        if not rec_id.startswith(prefix):
            return None
        texts = rec_id[len(prefix) :].split(",")
        try:
            return self.get(self.parse_key_values(texts))
        except NavError:
            return None

    def _apply(self, record: Record, sent: dict[str, Any], *, skip: set[str]) -> None:
        for field in self.page.fields:
            if field.name not in sent or field.name in skip:
                continue
            value = sent[field.name]
            if not field.editable:
                current = (
                    self.render(record).get(field.name)
                    if "$version" in record
                    else record.get(field.name)
                )
                if value != current:
                    raise NavError(Failure.READ_ONLY, f"Control '{field.caption}' is read-only")
                continue
            self.books.validate(self.page.table_id, record, field.name, value)

    def _not_allowed(self, action: str) -> NavError:
        return NavError(
            Failure.NOT_ALLOWED,
            f"{action} is not allowed on page {self.page.service_name} ({self.page.table_name}).",
        )
