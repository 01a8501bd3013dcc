"""The Community Survey: Table 2 from the seed, imports that are refused whole with a clear message."""
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.concerns import survey
from portal.concerns.models import SurveyResult
from portal.config import ROOT
from portal.extensions import db
from portal.places.models import Locality

from ..concerns.test_concerns import SOURCE
from ..conftest import text_of

GOOD = b"survey,period,area,topic,rank,percentage\n" \
       b"Shropshire Community Survey,2010-Q2,north,Speeding Traffic,1,31.5\n" \
       b"Shropshire Community Survey,2010-Q2,north,Under Age Drinking,2,\n"


def stored():
    return db.session.execute(select(func.count()).select_from(SurveyResult)).scalar_one()


def source_table_two():
    """Table 2 as printed: {period label: [rank 1, 2, 3]}."""
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    start = lines.index("**(Table 2)**") + 2
    heads = lines[start].split("\t")[1:]
    rows = [line.split("\t")[1:] for line in lines[start + 1:start + 4]]
    return {head: [row[i] for row in rows] for i, head in enumerate(heads)}


@pytest.mark.both_databases
def test_table_two_is_reproduced_from_the_seeded_survey(app, backend):
    county = db.session.execute(select(Locality).filter_by(level="county")).scalar_one()
    history = survey.rank_history("Shropshire Community Survey", county.id)
    label = {"2009-Q1": "2009/2010(Q1)"}
    got = {label.get(p, p): [history["ranks"][r][p] for r in (1, 2, 3)] for p in history["periods"]}
    assert got == source_table_two()


def test_the_survey_page_charts_ranks_and_tables_them(as_role):
    response = as_role("officer").get("/concerns/survey")
    html = response.get_data(as_text=True)
    assert 'id="rank-chart"' in html and "chart.umd.js" in html
    assert "Speeding Traffic: VEHICLE RELATED - SPEEDING TRAFFIC" in text_of(response)


def test_an_analyst_imports_a_survey_file(app, as_role):
    analyst = as_role("analyst")
    before = stored()
    response = analyst.post("/concerns/survey/import", {"file": (__import__("io").BytesIO(GOOD), "q2.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 302
    assert stored() == before + 2
    speeding = db.session.execute(select(SurveyResult).filter_by(period="2010-Q2", rank=1)).scalar_one()
    assert speeding.category.name == "VEHICLE RELATED - SPEEDING TRAFFIC" and speeding.percentage == 31.5
    # importing the same survey period and area again replaces it
    analyst.post("/concerns/survey/import", {"file": (__import__("io").BytesIO(GOOD), "q2.csv")},
                 content_type="multipart/form-data")
    assert stored() == before + 2


BAD_FILES = {
    "empty": (b"", "bad.csv: the file is empty"),
    "encoding": ("survey,period,area,topic,rank,percentage\nS,2010,north,Caf\u00e9 noise,1,\n".encode("latin-1"),
                 "bad.csv, row 2: the file is not UTF-8 text"),
    "headers": (b"survey,year,area,topic,rank\nS,2010,north,Noise,1\n",
                "bad.csv, row 1: missing column(s) period"),
    "no rows": (b"survey,period,area,topic,rank,percentage\n", "bad.csv: the file has a header but no rows"),
    "unknown area": (b"survey,period,area,topic,rank,percentage\nS,2010,north,Noise,1,\nS,2010,Atlantis,Noise,1,\n",
                     "bad.csv, row 3, column 'area': unknown area 'Atlantis'"),
    "duplicate": (b"survey,period,area,topic,rank,percentage\nS,2010,north,Noise,1,\nS,2010,north,noise,2,\n",
                  "bad.csv, row 3, column 'topic': repeats row 2"),
    "same rank": (b"survey,period,area,topic,rank,percentage\nS,2010,north,Noise,1,\nS,2010,north,Litter,1,\n",
                  "bad.csv, row 3, column 'rank': rank 1 is already given to another topic in row 2"),
    "period": (b"survey,period,area,topic,rank,percentage\nS,2010/11,north,Noise,1,\n",
               "bad.csv, row 2, column 'period': '2010/11' is not a year (2009) or a quarter (2009-Q1)"),
    "rank": (b"survey,period,area,topic,rank,percentage\nS,2010,north,Noise,first,\n",
             "bad.csv, row 2, column 'rank': 'first' is not a whole number of 1 or more"),
    "percentage": (b"survey,period,area,topic,rank,percentage\nS,2010,north,Noise,1,140\n",
                   "bad.csv, row 2, column 'percentage': '140' is not a percentage between 0 and 100"),
    "empty cell": (b"survey,period,area,topic,rank,percentage\nS,2010,north,,1,\n",
                   "bad.csv, row 2, column 'topic': is empty"),
    "extra values": (b"survey,period,area,topic,rank,percentage\nS,2010,north,Noise,1,,oops\n",
                     "bad.csv, row 2: has 7 values, the header has 6"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_survey_file_is_refused_whole_with_a_message_naming_the_problem(app, as_role, case):
    raw, message = BAD_FILES[case]
    before = stored()
    response = as_role("analyst").post("/concerns/survey/import", {"file": (__import__("io").BytesIO(raw), "bad.csv")},
                                       content_type="multipart/form-data")
    assert response.status_code == 400
    assert f"Nothing was imported. {message}" in text_of(response).replace("&#39;", "'")
    assert stored() == before


def test_the_cli_imports_and_refuses_files_the_same_way(app, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(GOOD)
    bad.write_bytes(BAD_FILES["unknown area"][0])
    runner = app.test_cli_runner()
    before = stored()
    result = runner.invoke(args=["survey", "import", str(bad)])
    assert result.exit_code == 1
    assert "Refused, nothing imported: bad.csv, row 3, column 'area': unknown area 'Atlantis'" in result.output
    assert stored() == before
    result = runner.invoke(args=["survey", "import", str(good)])
    assert result.exit_code == 0 and "good.csv: 2 results for 2010-Q2" in result.output
    assert stored() == before + 2


def test_the_example_file_in_the_readme_is_the_seed_file():
    readme = (ROOT / "README.md").read_text()
    assert "seed/community_survey_2005_2010.csv" in readme
    assert Path(ROOT / "seed" / "community_survey_2005_2010.csv").read_text().startswith(
        "survey,period,area,topic,rank,percentage")
