"""Results on disk: Parquet parts streamed as runs finish, a manifest, and resume.

Layout of an output folder::

    manifest.json        spec, its hash, package versions, seeds, timings, counts
    runs/part-*.parquet  one row per finished run: run_id, sample_id, replication, seed,
                         the varied parameters, the outcomes, duration_s
    failed/part-*.parquet one row per run that raised: parameters, error, traceback
    series/part-*.parquet per-step series (run_id, step, columns), if the spec keeps them
    .journal.jsonl       runs finished since the last part (one JSON line each)
    .commits/            one empty file per part number that is complete

Why a journal: writing a Parquet part per run would leave thousands of tiny files, and
buffering runs in memory would lose them if the sweep is killed. Each finished run is
appended to the journal at once; every few hundred runs (or seconds) the journal becomes
parts, written atomically (temporary name, then rename) and committed by a marker file,
and only then is the journal emptied. On opening, uncommitted parts are deleted and the
journal is replayed (skipping runs already in committed parts), so a kill at any moment
loses at most the runs that were still in flight.
"""

from __future__ import annotations

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

from experiments.runner import Record
from experiments.spec import ExperimentSpec, SpecError
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
        self._next_part = 0
        self._factor_kinds = {name: f.kind for name, f in spec.factors.items()}

    # --- opening and resuming --------------------------------------------------------------

    def open(self, *, retry_failed: bool = False) -> set[int]:
        """Prepare the folder; return the ids of runs already finished (ok or failed).

        With ``retry_failed`` the failed runs are forgotten (their parts deleted) so that
        they run again. Raises :class:`StoreError` if the folder holds another experiment.
        """
        self.check()
        for kind in KINDS:
            (self.out / kind).mkdir(parents=True, exist_ok=True)
        (self.out / ".commits").mkdir(exist_ok=True)
        committed = {int(p.name) for p in (self.out / ".commits").iterdir()
                     if p.name.isdigit()}
        for kind in KINDS:
            for path in (self.out / kind).iterdir():
                number = _part_number(path)
                if number is None or number not in committed:
                    path.unlink()  # a temporary file or a part whose flush was cut short
        self._next_part = max(committed, default=-1) + 1
        if retry_failed:
            self._drop_journaled_failures()
            for path in (self.out / "failed").glob("part-*.parquet"):
                path.unlink()
        for kind in KINDS:
            parts = sorted((self.out / kind).glob("part-*.parquet"))
            if parts:
                self._schemas[kind] = pq.read_schema(parts[0])
        done = self.finished_ids()
        replay = [r for r in self._read_journal() if r.run_id not in done]
        unique = {r.run_id: r for r in replay}
        self._buffer = list(unique.values())
        self._flush()
        self._journal = (self.out / ".journal.jsonl").open("a", encoding="utf-8")
        return done | set(unique)

    def check(self) -> None:
        """Raise :class:`StoreError` if the folder holds another experiment; write nothing."""
        manifest = self.read_manifest()
        if manifest is not None and manifest.get("identity") != self.identity:
            raise StoreError(
                f"--out: {self.out} holds another experiment (spec hash "
                f"{manifest.get('identity', {}).get('spec_hash')}, steps or max-runs differ); "
                "use a new output folder")
        if self.out.exists() and not self.out.is_dir():
            raise StoreError(f"--out: {self.out} is a file, not a folder")

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
            for path in sorted((self.out / kind).glob("part-*.parquet")):
                done.update(pq.read_table(path, columns=["run_id"]).column(0).to_pylist())
        return done

    # --- adding records --------------------------------------------------------------------

    def add(self, record: Record) -> None:
        """Journal one finished run at once; turn the journal into parts now and then."""
        assert self._journal is not None, "open() the store first"
        self._journal.write(json.dumps(_record_to_json(record), default=_plain,
                                       allow_nan=True) + "\n")
        self._journal.flush()
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
        for kind in KINDS:
            frame = frames[kind]
            if frame is not None and len(frame):
                self._write_part(kind, number, frame)
        (self.out / ".commits" / str(number)).touch()
        self._next_part += 1
        self._buffer.clear()
        if self._journal is not None:
            self._journal.truncate(0)
            self._journal.seek(0)
        else:
            (self.out / ".journal.jsonl").write_text("", encoding="utf-8")

    def _write_part(self, kind: str, number: int, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        schema = self._schemas.get(kind)
        if schema is None:
            self._schemas[kind] = table.schema
        else:
            table = _conform(table, schema)
        final = self.out / kind / f"part-{number:06d}.parquet"
        temp = final.with_name(f".{final.name}.tmp")
        pq.write_table(table, temp)
        os.replace(temp, final)

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


def read_runs(out: str | Path) -> pd.DataFrame:
    """All successful runs of an output folder as one table, sorted by ``run_id``."""
    return _read_kind(Path(out) / "runs")


def read_failed(out: str | Path) -> pd.DataFrame:
    """All failed runs of an output folder (empty table if none failed)."""
    return _read_kind(Path(out) / "failed")


def read_series(out: str | Path) -> pd.DataFrame:
    """All per-step series of an output folder (empty table if none were kept)."""
    return _read_kind(Path(out) / "series", sort=["run_id", "step"])


def _read_kind(folder: Path, sort: Iterable[str] = ("run_id",)) -> pd.DataFrame:
    if not folder.is_dir() or not any(folder.glob("part-*.parquet")):
        return pd.DataFrame()
    frame = pd.read_parquet(folder)
    return frame.sort_values(list(sort)).reset_index(drop=True)


def _part_number(path: Path) -> int | None:
    name = path.name
    if name.startswith("part-") and name.endswith(".parquet"):
        digits = name[len("part-"):-len(".parquet")]
        return int(digits) if digits.isdigit() else None
    return None


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
