"""Results on disk: Parquet parts streamed as runs finish, a manifest, and resume.

Layout of an output folder::

    manifest.json        spec, its hash, package versions, seeds, timings, counts
    runs/part-*.parquet  one row per finished run: run_id, sample_id, replication, seed,
                         the varied parameters, the outcomes, duration_s
    failed/part-*.parquet one row per run that raised: parameters, error, traceback
    series/part-*.parquet per-step series (run_id, step, columns), if the spec keeps them
    .journal.jsonl       runs finished since the last part (one JSON line each)
    .commits/            one record per complete part number: the experiment's identity
                         and each part's row count and SHA-256
    .lock                held while a sweep writes the folder (``experiments.engine.outdir``)

Why a journal: writing a Parquet part per run would leave thousands of tiny files, and
buffering runs in memory would lose them if the sweep is killed. Each finished run is
appended to the journal at once; every few hundred runs (or seconds) the journal becomes
parts, written atomically (temporary name, then rename) and committed by a marker file,
and only then is the journal emptied. On opening, uncommitted parts are deleted and the
journal is replayed (skipping runs already in committed parts), so a kill at any moment
loses at most the runs that were still in flight.

Integrity: every part is checked against its commit record when the folder is opened (and
when it is read); a part that is missing, truncated or altered is dropped together with the
other parts of its number, so its runs run again and no run is ever stored twice. Only files
named like this store's own parts are ever deleted; a folder that holds other files and no
sweep is refused.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.engine.outdir import LOCK_NAME, check_out_path
from experiments.engine.runner import Record
from experiments.sweeps.spec import ExperimentSpec, SpecError
from simulation.provenance import software_versions, utc_now

KINDS = ("series", "failed", "runs")
"""Part folders, in the order a flush writes them (``runs`` last)."""


class StoreError(SpecError):
    """The output folder holds a different experiment or cannot be used."""


def _plain(value: Any) -> Any:
    """Make a value JSON-safe (numpy scalars to Python, NaN kept as NaN)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class Store:
    """Streams the records of one experiment to an output folder and resumes it."""

    def __init__(self, out: str | Path, spec: ExperimentSpec, *, identity: dict[str, Any],
                 flush_every: int = 256, flush_seconds: float = 15.0) -> None:
        self.out = Path(out)
        self.spec = spec
        self.identity = identity
        """What must match to resume: spec hash, --steps, --max-runs."""
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self._buffer: list[Record] = []
        self._last_flush = time.monotonic()
        self._journal: Any = None
        self._schemas: dict[str, pa.Schema] = {}
        self._stored: set[int] = set()
        self._next_part = 0
        self.repaired: list[str] = []
        """Damaged parts found (and dropped) by :meth:`open`, one line each."""
        self._factor_kinds = {name: f.kind for name, f in spec.factors.items()}

    # --- opening and resuming --------------------------------------------------------------

    def open(self, *, retry_failed: bool = False) -> set[int]:
        """Prepare the folder; return the ids of runs already finished (ok or failed).

        The caller holds the folder's lock. With ``retry_failed`` the failed runs are
        forgotten (their parts deleted) so that they run again. Damaged parts are dropped
        (see :attr:`repaired`) so that their runs run again. Raises :class:`StoreError` if
        the folder holds another experiment or other files.
        """
        self.check()
        for kind in KINDS:
            (self.out / kind).mkdir(parents=True, exist_ok=True)
        (self.out / ".commits").mkdir(exist_ok=True)
        records = self._commit_records()
        last = max(records, default=-1)
        journaled = bool(self._read_journal())
        lost: set[int] = set()
        for kind in KINDS:
            for path in (self.out / kind).iterdir():
                number = _part_number(path)
                if _is_temp_part(path) or number is not None and (
                        number not in records or kind not in records[number].get("parts",
                                                                                 {kind: 0})):
                    # a temporary file or a part whose flush was cut short (the last one,
                    # its runs still in the journal); any other lost its commit record
                    if number is not None and not _is_temp_part(path) and (
                            number < last or not journaled):
                        lost.add(number)
                    path.unlink()
        self.repaired = [f"part {n}: no commit record (deleted?)" for n in sorted(lost)]
        for number, record in sorted(records.items()):
            problem = _verify(self.out, number, record)
            if problem is not None:
                self.repaired.append(f"part {number}: {problem}")
                self._drop_part(number)
        self._next_part = max(records, default=-1) + 1
        if retry_failed:
            self._drop_journaled_failures()
            self._forget_failed_parts()
        for kind in KINDS:
            parts = self.part_files(kind)
            if parts:
                self._schemas[kind] = pq.read_schema(parts[0])
        done = self.finished_ids()
        self._stored = set(done)
        replay = [r for r in self._read_journal() if r.run_id not in done]
        unique = {r.run_id: r for r in replay}
        self._stored |= set(unique)
        self._buffer = list(unique.values())
        self._flush()
        self._journal = (self.out / ".journal.jsonl").open("a", encoding="utf-8")
        return done | set(unique)

    def check(self) -> None:
        """Raise :class:`StoreError` if the folder cannot hold this experiment; write nothing.

        Refused: a file, a folder of another experiment (by its manifest or, if that was
        deleted, by its commit records), and a non-empty folder that holds no sweep.
        """
        check_out_path(self.out)
        if not self.out.is_dir():
            return
        link = _first_link(self.out)
        if link is not None:
            raise StoreError(f"--out: {link} is a symbolic link; a sweep's folder holds only "
                             "what the sweep wrote, and the store never follows a link it did "
                             "not make (remove the link, or use a new folder)")
        manifest = self.read_manifest()
        if manifest is not None:
            other = manifest.get("identity")
        else:
            identities = [r.get("identity") for r in self._commit_records().values()
                          if r.get("identity") is not None]
            other = identities[0] if identities else self.identity
            entries = sorted(p.name for p in self.out.iterdir() if p.name != LOCK_NAME)
            if entries and not (self.out / ".commits").is_dir():  # not a sweep's folder
                raise StoreError(f"--out: {self.out} is not empty ({', '.join(entries[:3])}) "
                                 "and holds no sweep; give a new or empty folder")
        if other != self.identity:
            spec_hash = (other or {}).get("spec_hash") if isinstance(other, dict) else other
            raise StoreError(
                f"--out: {self.out} holds another experiment (spec hash {spec_hash}; the "
                "spec, its seed, --steps, --max-runs or this program's seed rule differ); use a "
                "new output folder")

    def _commit_records(self) -> dict[int, dict[str, Any]]:
        """The commit records by part number (an empty legacy marker reads as ``{}``)."""
        folder = self.out / ".commits"
        records: dict[int, dict[str, Any]] = {}
        if not folder.is_dir():
            return records
        for path in folder.iterdir():
            if not path.name.isdigit():
                continue
            try:
                text = path.read_text(encoding="utf-8")
                records[int(path.name)] = dict(json.loads(text)) if text.strip() else {}
            except (OSError, ValueError, TypeError):
                records[int(path.name)] = {"parts": {"broken": {}}}  # fails verification
        return records

    def _forget_failed_parts(self) -> None:
        """Delete the failed parts and take them out of their commit records."""
        for number, record in self._commit_records().items():
            (self.out / "failed" / _part_name(number)).unlink(missing_ok=True)
            if record.get("parts", {}).pop("failed", None) is not None:
                self._write_commit(number, record)

    def _write_commit(self, number: int, record: dict[str, Any]) -> None:
        commit = self.out / ".commits" / str(number)
        temp = commit.with_name(f".{number}.tmp")
        temp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(temp, commit)

    def part_files(self, kind: str) -> list[Path]:
        """Committed part files of one kind, in part order."""
        records = self._commit_records()
        return [p for p in sorted((self.out / kind).glob("part-*.parquet"))
                if _part_number(p) in records]

    def _drop_part(self, number: int) -> None:
        """Delete every part of one number and its commit record (its runs run again)."""
        for kind in KINDS:
            path = self.out / kind / _part_name(number)
            path.unlink(missing_ok=True)
        (self.out / ".commits" / str(number)).unlink(missing_ok=True)

    def _drop_journaled_failures(self) -> None:
        path = self.out / ".journal.jsonl"
        if path.exists():
            kept = [r for r in self._read_journal() if r.ok]
            path.write_text("".join(json.dumps(_record_to_json(r), default=_plain) + "\n"
                                    for r in kept), encoding="utf-8")

    def finished_ids(self) -> set[int]:
        """Ids of the runs in committed parts (successful and failed)."""
        done: set[int] = set()
        for kind in ("runs", "failed"):
            for path in self.part_files(kind):
                done.update(pq.read_table(path, columns=["run_id"]).column(0).to_pylist())
        return done

    # --- adding records --------------------------------------------------------------------

    def add(self, record: Record) -> None:
        """Journal one finished run at once; turn the journal into parts now and then."""
        assert self._journal is not None, "open() the store first"
        if record.run_id in self._stored:
            return  # a run is stored once, whatever a backend hands back
        self._journal.write(json.dumps(_record_to_json(record), default=_plain,
                                       allow_nan=True) + "\n")
        self._journal.flush()
        self._stored.add(record.run_id)
        self._buffer.append(record)
        if (len(self._buffer) >= self.flush_every
                or time.monotonic() - self._last_flush >= self.flush_seconds):
            self._flush()

    def close(self) -> None:
        """Write what is buffered and close the journal."""
        self._flush()
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        if not self._buffer:
            return
        number = self._next_part
        ok = [r for r in self._buffer if r.ok]
        failed = [r for r in self._buffer if not r.ok]
        frames = {"series": self._series_frame(ok), "failed": self._failed_frame(failed),
                  "runs": self._runs_frame(ok)}
        parts: dict[str, dict[str, Any]] = {}
        for kind in KINDS:
            frame = frames[kind]
            if frame is not None and len(frame):
                parts[kind] = self._write_part(kind, number, frame)
        self._write_commit(number, {"identity": self.identity, "parts": parts})
        self._next_part += 1
        self._buffer.clear()
        if self._journal is not None:
            self._journal.truncate(0)
            self._journal.seek(0)
        else:
            (self.out / ".journal.jsonl").write_text("", encoding="utf-8")

    def _write_part(self, kind: str, number: int, frame: pd.DataFrame) -> dict[str, Any]:
        """Write one part atomically; return its row count and checksum for the commit."""
        table = pa.Table.from_pandas(frame, preserve_index=False)
        schema = self._schemas.get(kind)
        if schema is None:
            self._schemas[kind] = table.schema
        else:
            table = _conform(table, schema)
        final = self.out / kind / _part_name(number)
        temp = final.with_name(f".{final.name}.tmp")
        pq.write_table(table, temp)
        entry = {"rows": table.num_rows, "sha256": _sha256(temp)}
        os.replace(temp, final)
        return entry

    # --- frames ----------------------------------------------------------------------------

    def _ids(self, records: list[Record]) -> dict[str, Any]:
        return {"run_id": [r.run_id for r in records],
                "sample_id": [r.sample_id for r in records],
                "replication": [r.replication for r in records],
                "seed": [r.seed for r in records]}

    def _factor_columns(self, records: list[Record]) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        for name, kind in self._factor_kinds.items():
            values = [r.params.get(name) for r in records]
            if kind == "str":
                columns[name] = pd.array(values, dtype="string")
            elif kind == "bool":
                columns[name] = pd.array(values, dtype="boolean")
            elif kind == "int":
                columns[name] = pd.array(values, dtype="Int64")
            else:
                columns[name] = np.asarray(values, dtype=float)
        return columns

    def _runs_frame(self, records: list[Record]) -> pd.DataFrame | None:
        if not records:
            return None
        names: list[str] = []
        for record in records:
            names.extend(k for k in record.outcomes if k not in names)
        columns = {**self._ids(records), **self._factor_columns(records)}
        for name in names:
            values = [_plain(r.outcomes.get(name)) for r in records]
            if all(isinstance(v, bool) for v in values):
                columns[name] = np.asarray(values, dtype=bool)
            else:
                columns[name] = np.asarray([_number(v) for v in values], dtype=float)
        columns["duration_s"] = [r.duration for r in records]
        return pd.DataFrame(columns)

    def _failed_frame(self, records: list[Record]) -> pd.DataFrame | None:
        if not records:
            return None
        return pd.DataFrame({**self._ids(records), **self._factor_columns(records),
                             "params": [json.dumps(r.params, default=_plain) for r in records],
                             "error": [r.error for r in records],
                             "traceback": [r.traceback for r in records],
                             "duration_s": [r.duration for r in records]})

    def _series_frame(self, records: list[Record]) -> pd.DataFrame | None:
        frames = []
        for record in records:
            if record.series is not None and len(record.series):
                frame = record.series.copy()
                frame.insert(0, "run_id", record.run_id)
                frames.append(frame)
        return pd.concat(frames, ignore_index=True) if frames else None

    def _read_journal(self) -> list[Record]:
        path = self.out / ".journal.jsonl"
        if not path.exists():
            return []
        records = []
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    records.append(_record_from_json(json.loads(line)))
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # the last line of a sweep killed mid-write
        return records

    # --- manifest --------------------------------------------------------------------------

    def read_manifest(self) -> dict[str, Any] | None:
        """Read the folder's manifest, or None if there is none yet."""
        return read_manifest(self.out)

    def write_manifest(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into the manifest and write it atomically."""
        manifest = self.read_manifest() or {
            "experiment": self.spec.name,
            "spec": self.spec.model_dump(mode="json"),
            "identity": self.identity,
            "versions": software_versions(),
            "created": utc_now(),
            "sessions": [],
        }
        manifest.update(fields)
        self.out.mkdir(parents=True, exist_ok=True)
        temp = self.out / ".manifest.json.tmp"
        temp.write_text(json.dumps(manifest, indent=2, default=_plain) + "\n",
                        encoding="utf-8")
        os.replace(temp, self.out / "manifest.json")
        return manifest


def read_manifest(out: str | Path) -> dict[str, Any] | None:
    """Read an output folder's manifest, or None if there is none yet."""
    path = Path(out) / "manifest.json"
    if not path.exists():
        return None
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as err:
        raise StoreError(f"{path} is unreadable ({err})") from None


def read_runs(out: str | Path, *, skip_damaged: bool = False) -> pd.DataFrame:
    """All successful runs of an output folder as one table, sorted by ``run_id``."""
    return _read_kind(Path(out), "runs", skip_damaged=skip_damaged)


def read_failed(out: str | Path, *, skip_damaged: bool = False) -> pd.DataFrame:
    """All failed runs of an output folder (empty table if none failed)."""
    return _read_kind(Path(out), "failed", skip_damaged=skip_damaged)


def read_series(out: str | Path, *, skip_damaged: bool = False) -> pd.DataFrame:
    """All per-step series of an output folder (empty table if none were kept)."""
    return _read_kind(Path(out), "series", sort=["run_id", "step"], skip_damaged=skip_damaged)


def _read_kind(out: Path, kind: str, sort: Iterable[str] = ("run_id",), *,
               skip_damaged: bool = False) -> pd.DataFrame:
    """Read the committed parts of one kind, each verified against its commit record.

    A damaged part raises :class:`StoreError`, or is left out with ``skip_damaged``.
    """
    commits = out / ".commits"
    if not commits.is_dir():
        return pd.DataFrame()
    tables = []
    numbers = sorted(int(p.name) for p in commits.iterdir() if p.name.isdigit())
    for number in numbers:
        path = out / kind / _part_name(number)
        try:
            text = (commits / str(number)).read_text(encoding="utf-8")
            record = json.loads(text) if text.strip() else {}
            if record and kind not in record.get("parts", {}) or not record and \
                    not path.exists():
                continue  # this part number holds no rows of this kind
            problem = _verify(out, number, record, kinds=(kind,))
            table = None if problem else pq.read_table(path)
        except (OSError, ValueError, pa.ArrowException) as err:
            problem, table = f"unreadable ({err})", None
        if (problem is not None or table is None) and skip_damaged:
            continue
        if problem is not None or table is None:
            raise StoreError(f"{path}: damaged part ({problem}); run the same sweep again "
                             "to re-run its runs")
        tables.append(table)
    if not tables:
        return pd.DataFrame()
    frame = pa.concat_tables(tables, promote_options="default").to_pandas()
    return frame.sort_values(list(sort)).reset_index(drop=True)


def _first_link(out: Path) -> Path | None:
    """The first symbolic link inside a sweep's folder (its own entries and part folders)."""
    for entry in sorted(out.iterdir()):
        if entry.is_symlink():
            return entry
        if entry.name in (*KINDS, ".commits") and entry.is_dir():
            for inner in sorted(entry.iterdir()):
                if inner.is_symlink():
                    return inner
    return None


def verify(out: str | Path) -> list[str]:
    """What keeps a sweep's folder from being complete and whole, one line each (or ``[]``).

    Checked: no symbolic link; every part has its commit record and matches it (rows and
    SHA-256); no run is stored twice; nothing left in the journal; and the stored runs
    (finished and failed) are as many as the manifest planned.
    """
    out = Path(out)
    problems: list[str] = []
    link = _first_link(out)
    if link is not None:
        return [f"{link} is a symbolic link"]
    commits = out / ".commits"
    records: dict[int, dict[str, Any]] = {}
    if commits.is_dir():
        for path in commits.iterdir():
            if path.name.isdigit():
                try:
                    text = path.read_text(encoding="utf-8")
                    records[int(path.name)] = dict(json.loads(text)) if text.strip() else {}
                except (OSError, ValueError, TypeError):
                    problems.append(f"{path}: unreadable commit record")
    for kind in KINDS:
        folder = out / kind
        for path in sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []:
            number = _part_number(path)
            if number is not None and (number not in records or records[number] and
                                       kind not in records[number].get("parts", {})):
                problems.append(f"{path} has no commit record (deleted?)")
    for number, record in sorted(records.items()):
        problem = _verify(out, number, record)
        if problem is not None:
            problems.append(f"part {number}: {problem}")
    if problems:
        return problems
    ids: list[int] = []
    for kind in ("runs", "failed"):
        for number in sorted(records):
            path = out / kind / _part_name(number)
            if path.is_file():
                ids.extend(pq.read_table(path, columns=["run_id"]).column(0).to_pylist())
    if len(ids) != len(set(ids)):
        problems.append(f"{len(ids) - len(set(ids))} run(s) are stored twice")
    journal = out / ".journal.jsonl"
    if journal.is_file() and journal.stat().st_size > 0:
        problems.append("finished runs are still in the journal (the sweep was stopped)")
    planned = (read_manifest(out) or {}).get("planned")
    if isinstance(planned, int) and len(set(ids)) != planned:
        problems.append(f"{len(set(ids))} of {planned} planned runs are stored")
    return problems


def _verify(out: Path, number: int, record: dict[str, Any],
            kinds: Iterable[str] = KINDS) -> str | None:
    """Say what is wrong with a part number's files, or None if they match the record.

    A record written before checksums were kept (an empty marker) is trusted as it is.
    """
    if not record:
        return None
    parts = record.get("parts")
    if not isinstance(parts, dict) or not set(parts) <= set(KINDS):
        return "its commit record is unreadable"
    for kind in kinds:
        path = out / kind / _part_name(number)
        entry = parts.get(kind)
        if entry is None:
            continue
        if not path.is_file():
            return f"{kind} part is missing"
        if _sha256(path) != entry.get("sha256"):
            return f"{kind} part does not match its checksum (truncated or altered)"
        try:
            rows = pq.read_metadata(path).num_rows
        except (OSError, pa.ArrowException):
            return f"{kind} part is not a readable Parquet file"
        if rows != entry.get("rows"):
            return f"{kind} part has {rows} rows, not {entry.get('rows')}"
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _part_name(number: int) -> str:
    return f"part-{number:06d}.parquet"


def _part_number(path: Path) -> int | None:
    name = path.name
    if name.startswith("part-") and name.endswith(".parquet"):
        digits = name[len("part-"):-len(".parquet")]
        return int(digits) if digits.isdigit() and len(digits) == 6 else None
    return None


def _is_temp_part(path: Path) -> bool:
    """A part this store began to write and did not finish (``.part-000001.parquet.tmp``)."""
    name = path.name
    return name.startswith(".") and name.endswith(".tmp") and \
        _part_number(Path(name[1:-len(".tmp")])) is not None


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Give a new part the columns and types of the first, so the folder reads as one."""
    columns = []
    for fld in schema:
        if fld.name in table.column_names:
            columns.append(table.column(fld.name).cast(fld.type))
        else:
            columns.append(pa.nulls(len(table), fld.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    return float(value)


def _record_to_json(record: Record) -> dict[str, Any]:
    data: dict[str, Any] = {
        "run_id": record.run_id, "sample_id": record.sample_id,
        "replication": record.replication, "seed": record.seed, "params": record.params,
        "ok": record.ok, "outcomes": record.outcomes, "error": record.error,
        "traceback": record.traceback, "duration": record.duration, "series": None}
    if record.series is not None:
        data["series"] = record.series.to_dict(orient="list")
    return data


def _record_from_json(data: dict[str, Any]) -> Record:
    series = data.get("series")
    return Record(run_id=data["run_id"], sample_id=data["sample_id"],
                  replication=data["replication"], seed=data["seed"],
                  params=data["params"], ok=data["ok"], outcomes=data["outcomes"],
                  series=pd.DataFrame(series) if series is not None else None,
                  error=data["error"], traceback=data["traceback"],
                  duration=data["duration"])
