"""The Community Survey: importing ranked results from CSV, and their ranks over time (Table 2).

A file is checked whole before anything is written: one bad row rejects it
with the file, row, column and reason, and nothing from it is saved.
"""
import codecs
import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import delete, func, select, tuple_

from ..errors import ImportRejected
from ..extensions import db
from ..places.models import Locality
from .models import ConcernCategory, SurveyResult, SurveyTopic

COLUMNS = ("survey", "period", "area", "topic", "rank", "percentage")
REQUIRED = ("survey", "period", "area", "topic", "rank")
PERIOD = re.compile(r"^(19|20)\d\d(-Q[1-4])?$")
# The longest text each column may hold (SurveyResult's String columns; area: a locality's name).
MAX_LENGTH = {"survey": 160, "topic": 200, "area": 120, "period": 10}
MAX_RANK = 1000


@dataclass
class SurveyImport:
    file: str
    rows: int
    replaced: int
    periods: list


def _text_lines(name, raw):
    """Decode the upload as UTF-8 (with or without BOM), naming the line of a bad byte."""
    if not raw.strip():
        raise ImportRejected(name, reason="the file is empty")
    try:
        return codecs.decode(raw, "utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ImportRejected(name, row=line, reason=(
            f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x}); "
            "save it from your spreadsheet as 'CSV UTF-8'")) from None


def parse(name, raw):
    """Validated rows of a survey CSV: [(row number, dict)]; raises ImportRejected."""
    reader = csv.DictReader(io.StringIO(_text_lines(name, raw), newline=""))
    try:
        return _parse(name, reader)
    except csv.Error as error:  # e.g. a value longer than csv.field_size_limit() (128 KB)
        raise ImportRejected(name, row=reader.reader.line_num, reason=f"is not valid CSV ({error})") from None


def _parse(name, reader):
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        raise ImportRejected(name, row=1, reason=(
            f"missing column(s) {', '.join(missing)}; the header row must be: {','.join(COLUMNS)}"))
    reader.fieldnames = headers
    localities = {}
    for loc in db.session.execute(select(Locality)).scalars():
        localities[loc.key.lower()] = loc
        localities.setdefault(loc.name.lower(), loc)
    rows, seen_topic, seen_rank = [], {}, {}
    for number, record in enumerate(reader, start=2):
        if None in record:
            raise ImportRejected(name, row=number, reason=f"has {len(headers) + len(record[None])} values, "
                                                          f"the header has {len(headers)}")
        value = {k: (record.get(k) or "").strip() for k in COLUMNS}
        if not any(value.values()):
            continue  # blank line at the end of a spreadsheet export
        for column in REQUIRED:
            if not value[column]:
                raise ImportRejected(name, row=number, column=column, reason="is empty")
        for column, limit in MAX_LENGTH.items():
            if len(value[column]) > limit:
                raise ImportRejected(name, row=number, column=column,
                                     reason=f"is {len(value[column]):,} characters long; at most {limit} fit")
            if "\x00" in value[column]:
                raise ImportRejected(name, row=number, column=column, reason="holds a NUL character")
        if not PERIOD.match(value["period"]):
            raise ImportRejected(name, row=number, column="period",
                                 reason=f"'{value['period']}' is not a year (2009) or a quarter (2009-Q1)")
        locality = localities.get(value["area"].lower())
        if locality is None:
            raise ImportRejected(name, row=number, column="area",
                                 reason=f"unknown area '{value['area']}'; use shropshire, north, central, south "
                                        "or a locality's name")
        try:
            rank = int(value["rank"])
            if rank < 1:
                raise ValueError
        except ValueError:
            raise ImportRejected(name, row=number, column="rank",
                                 reason=f"'{value['rank']}' is not a whole number of 1 or more") from None
        if rank > MAX_RANK:
            raise ImportRejected(name, row=number, column="rank",
                                 reason=f"'{value['rank'][:30]}' is more than {MAX_RANK:,}: a rank counts topics")
        percentage = None
        if value["percentage"]:
            try:
                percentage = float(value["percentage"].rstrip("%"))
            except ValueError:
                percentage = -1
            if not 0 <= percentage <= 100:
                raise ImportRejected(name, row=number, column="percentage",
                                     reason=f"'{value['percentage']}' is not a percentage between 0 and 100")
        key = (value["survey"].lower(), value["period"], locality.id)
        topic_key = key + (value["topic"].lower(),)
        if topic_key in seen_topic:
            raise ImportRejected(name, row=number, column="topic",
                                 reason=f"repeats row {seen_topic[topic_key]} (same survey, period, area and topic)")
        rank_key = key + (rank,)
        if rank_key in seen_rank:
            raise ImportRejected(name, row=number, column="rank",
                                 reason=f"rank {rank} is already given to another topic in row {seen_rank[rank_key]}")
        seen_topic[topic_key], seen_rank[rank_key] = number, number
        rows.append((number, dict(value, rank=rank, percentage=percentage, locality=locality)))
    if not rows:
        raise ImportRejected(name, reason="the file has a header but no rows")
    return rows


def topic_categories():
    return {t.topic.lower(): t.category_id for t in db.session.execute(select(SurveyTopic)).scalars()}


def import_results(name, raw):
    """Import a survey CSV, replacing the results of each survey/period/area it contains. Commits."""
    rows = parse(name, raw)
    try:
        replaced = replace_results(rows)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return SurveyImport(file=name, rows=len(rows), replaced=replaced,
                        periods=sorted({r["period"] for _, r in rows}))


def replace_results(rows):
    """Write parsed rows in place of what is stored for their survey/period/area. Flushes; returns rows replaced."""
    mapping = topic_categories()
    groups = {(r["survey"], r["period"], r["locality"].id) for _, r in rows}
    replaced = db.session.execute(delete(SurveyResult).where(
        tuple_(SurveyResult.survey, SurveyResult.period, SurveyResult.locality_id).in_(groups))).rowcount
    db.session.add_all(SurveyResult(
        survey=r["survey"], period=r["period"], locality_id=r["locality"].id, topic=r["topic"],
        rank=r["rank"], percentage=r["percentage"], category_id=mapping.get(r["topic"].lower()))
        for _, r in rows)
    db.session.flush()
    return replaced


def load_topic_mapping(pairs):
    """Map survey topics to concern categories: [(topic, category name)]. Flushes; returns rows created."""
    categories = {c.name: c for c in db.session.execute(select(ConcernCategory)).scalars()}
    existing = {t.topic: t for t in db.session.execute(select(SurveyTopic)).scalars()}
    created = 0
    for topic, category_name in pairs:
        if category_name not in categories:
            raise ValueError(f"survey_topic_categories.csv: unknown category '{category_name}'")
        row = existing.get(topic)
        if row is None:
            row = SurveyTopic(topic=topic)
            db.session.add(row)
            created += 1
        row.category = categories[category_name]
    # Results imported before the mapping existed pick it up now.
    for result in db.session.execute(select(SurveyResult).where(SurveyResult.category_id.is_(None))).scalars():
        topic = next((t for t, _ in pairs if t.lower() == result.topic.lower()), None)
        if topic:
            result.category = categories[dict(pairs)[topic]]
    db.session.flush()
    return created


def surveys():
    return db.session.execute(select(SurveyResult.survey, SurveyResult.locality_id, func.count())
                              .group_by(SurveyResult.survey, SurveyResult.locality_id)).all()


def rank_history(survey, locality_id):
    """Ranks by period for one survey and area: {periods, ranks: {rank: {period: topic}}, series}."""
    results = db.session.execute(
        select(SurveyResult).where(SurveyResult.survey == survey, SurveyResult.locality_id == locality_id)
        .order_by(SurveyResult.period, SurveyResult.rank)).scalars().all()
    periods = sorted({r.period for r in results})
    by_rank = defaultdict(dict)
    by_topic = defaultdict(dict)
    for r in results:
        by_rank[r.rank][r.period] = r.topic
        by_topic[r.topic][r.period] = r.rank
    series = [{"topic": topic, "ranks": [ranks.get(p) for p in periods],
               "category": next((r.category.name for r in results if r.topic == topic and r.category), None)}
              for topic, ranks in sorted(by_topic.items(), key=lambda kv: min(kv[1].values()))]
    return {"periods": periods, "ranks": dict(sorted(by_rank.items())), "series": series}
