"""Build seed/localities.json from the ward and LSOA boundaries and the GeoNames places list.

Run from the repository root:  .venv/bin/python seed/build_localities.py
Needs shapely.  Inputs: seed/boundaries/*.geojson (copied from /work/shared/data/boundaries)
and the places CSV (/work/shared/data/places, or --places PATH).

Rules (also written into the output's "area_rule" / "population_method"):
- Area = the former (pre-2009) district the ward lies in, from the WARD_AREA table below:
  North = North Shropshire + Oswestry, Central = Shrewsbury & Atcham,
  South = Bridgnorth + South Shropshire.
- Neighbourhood = among the neighbourhood towns of the ward's area, the town whose point the
  ward contains; otherwise the town nearest to the ward's representative point.  In Central,
  wards whose representative point is more than SHREWSBURY_URBAN_KM from Shrewsbury centre form
  "Shrewsbury Rural".
- LSOA -> ward: the ward containing the LSOA's representative point (nearest ward if none).
"""
import argparse
import csv
import json
import math
from pathlib import Path

from shapely.geometry import Point, shape

SEED = Path(__file__).resolve().parent
WARDS = SEED / "boundaries" / "ukgeojson_wards_by_lad_E06000051.geojson"
LSOAS = SEED / "boundaries" / "lsoa_E06000051.geojson"
PLACES = Path("/work/shared/data/places/geonames_cities1000_shropshire_telford.csv")
OUT = SEED / "localities.json"

COUNTY_POPULATION = 306129  # Census 2011, Shropshire (E06000051), ONS via ONSvisual/census-population-scrolly
COUNTY_POPULATION_SOURCE = ("ONS Census 2011 usual resident population, Shropshire (E06000051): 306,129 "
                            "(ONSvisual/census-population-scrolly, OGL v3)")
SHREWSBURY_URBAN_KM = 4.0

AREAS = [
    ("north", "North", "North Shropshire and Oswestry (former districts)",
     ["North Shropshire", "North Area", "Northern Area", "Shropshire North"]),
    ("central", "Central", "Shrewsbury and Atcham (former district)",
     ["Central Shropshire", "Central Area", "Shropshire Central"]),
    ("south", "South", "Bridgnorth and South Shropshire (former districts)",
     ["South Shropshire", "South Area", "Southern Area", "Shropshire South"]),
]

# Former (pre-April 2009) district of each 2013 ward -> area.  Hand-coded from the
# parishes/towns each ward covers; checked against the GeoNames points each ward contains.
FORMER_DISTRICT = {
    # Shrewsbury & Atcham -> central
    "Abbey": "SA", "Bagley": "SA", "Battlefield": "SA", "Bayston Hill, Column and Sutton": "SA",
    "Belle Vue": "SA", "Bowbrook": "SA", "Castlefields and Ditherington": "SA", "Copthorne": "SA",
    "Harlescott": "SA", "Meole": "SA", "Monkmoor": "SA", "Porthill": "SA", "Quarry and Coton Hill": "SA",
    "Radbrook": "SA", "Sundorne": "SA", "Underdale": "SA", "Burnell": "SA", "Longden": "SA",
    "Loton": "SA", "Rea Valley": "SA", "Severn Valley": "SA", "Tern": "SA",
    # North Shropshire -> north
    "Cheswardine": "NS", "Ellesmere Urban": "NS", "Hodnet": "NS", "Market Drayton East": "NS",
    "Market Drayton West": "NS", "Prees": "NS", "Shawbury": "NS", "The Meres": "NS", "Wem": "NS",
    "Whitchurch North": "NS", "Whitchurch South": "NS", "Ruyton and Baschurch": "NS",
    # Oswestry -> north
    "Gobowen, Selattyn and Weston Rhyn": "OS", "Llanymynech": "OS", "Oswestry East": "OS",
    "Oswestry South": "OS", "Oswestry West": "OS", "St Martin's": "OS", "St Oswald": "OS",
    "Whittington": "OS",
    # Bridgnorth -> south
    "Albrighton": "BN", "Alveley and Claverley": "BN", "Bridgnorth East and Astley Abbotts": "BN",
    "Bridgnorth West and Tasley": "BN", "Broseley": "BN", "Brown Clee": "BN", "Highley": "BN",
    "Much Wenlock": "BN", "Shifnal North": "BN", "Shifnal South and Cosford": "BN", "Worfield": "BN",
    # South Shropshire -> south
    "Bishop's Castle": "SS", "Chirbury and Worthen": "SS", "Church Stretton and Craven Arms": "SS",
    "Clee": "SS", "Cleobury Mortimer": "SS", "Clun": "SS", "Corvedale": "SS", "Ludlow East": "SS",
    "Ludlow North": "SS", "Ludlow South": "SS",
}
DISTRICT_AREA = {"SA": "central", "NS": "north", "OS": "north", "BN": "south", "SS": "south"}

# Neighbourhoods: key, name, area, town(s) in the places file, aliases.
NEIGHBOURHOODS = [
    ("oswestry", "Oswestry", "north", ["Oswestry"], ["Oswestry Town", "Oswestry and Rural"]),
    ("whitchurch", "Whitchurch", "north", ["Whitchurch"], ["Whitchurch (Shropshire)"]),
    ("market-drayton", "Market Drayton", "north", ["Market Drayton"], ["Mkt Drayton", "Drayton"]),
    ("wem", "Wem", "north", ["Wem"], ["Wem and Shawbury"]),
    ("ellesmere", "Ellesmere", "north", ["Ellesmere"], ["Ellesmere (Shropshire)"]),
    ("shrewsbury", "Shrewsbury", "central", ["Shrewsbury"], ["Shrewsbury Town", "Shrewsbury Town Centre"]),
    ("shrewsbury-rural", "Shrewsbury Rural", "central", [], ["Rural Shrewsbury", "Shrewsbury and Atcham Rural"]),
    ("bridgnorth", "Bridgnorth", "south", ["Bridgnorth"], []),
    ("ludlow", "Ludlow", "south", ["Ludlow"], []),
    # One 2013 ward ("Church Stretton and Craven Arms") contains both towns, so at ward level
    # they cannot be separated: one neighbourhood holds both.
    ("church-stretton-and-craven-arms", "Church Stretton and Craven Arms", "south",
     ["Church Stretton", "Craven Arms"],
     ["Church Stretton", "Craven Arms", "Church Stretton & Craven Arms", "The Strettons"]),
    ("bishops-castle", "Bishop's Castle", "south", ["Bishop's Castle"], ["Bishops Castle", "Bishop’s Castle"]),
    ("cleobury-mortimer", "Cleobury Mortimer", "south", ["Cleobury Mortimer"], ["Cleobury"]),
    ("much-wenlock", "Much Wenlock", "south", ["Much Wenlock"], ["Wenlock"]),
    ("shifnal", "Shifnal", "south", ["Shifnal"], []),
    ("albrighton", "Albrighton", "south", ["Albrighton"], []),
    ("broseley", "Broseley", "south", ["Broseley"], []),
    ("highley", "Highley", "south", ["Highley"], []),
]

POPULATION_METHOD = (
    "County: ONS Census 2011 total for Shropshire (306,129), not estimated. Every other locality: "
    "round(306129 x n_lsoas / 193), where n_lsoas is the number of 2011 LSOAs assigned to it; LSOAs "
    "are designed to hold similar populations (about 1,500 residents), so this is an approximation. "
    "No ward, town or LSOA population figures are in the shared data, so all sub-county figures are "
    "marked population_estimated=true."
)
POP_SOURCE = "Estimate: Shropshire 2011 Census total (ONS) apportioned by LSOA count"
AREA_RULE = (
    "Areas follow the former districts: North = North Shropshire + Oswestry; Central = Shrewsbury & "
    "Atcham; South = Bridgnorth + South Shropshire (hand-coded ward -> former district table in "
    "seed/build_localities.py). Each 2013 ward (63) goes to the neighbourhood, among those of its area, "
    "whose town point (GeoNames) it contains, else whose town point is nearest its representative point "
    "(great-circle distance). In Central, wards whose representative point is more than "
    f"{SHREWSBURY_URBAN_KM:g} km from Shrewsbury's town point form 'Shrewsbury Rural'. Church Stretton and "
    "Craven Arms share one ward, so they form one neighbourhood. Each 2011 LSOA (193) belongs to the ward "
    "containing its shapely representative_point (nearest ward if none); neighbourhood, area and county "
    "LSOA sets are unions of their children. Centres: ward = representative point; neighbourhood = town "
    "point (mean of the two towns for Church Stretton and Craven Arms; mean of LSOA points for "
    "Shrewsbury Rural); area and county = mean of their LSOAs' representative points."
)
ATTRIBUTION = (
    "Boundaries: martinjc/UK-GeoJSON, contains Ordnance Survey, Office of National Statistics, National "
    "Records Scotland and LPS Intellectual Property data (c) Crown copyright and database right [2016], "
    "Open Government Licence v3.0 and OS OpenData Licence. Population: ONS Census 2011 "
    "(ONSvisual/census-population-scrolly), OGL v3. Town points: GeoNames cities1000, CC BY 4.0."
)


def km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def ll(point):
    return [round(point.y, 5), round(point.x, 5)]


def mean_ll(points):
    return [round(sum(p[0] for p in points) / len(points), 5), round(sum(p[1] for p in points) / len(points), 5)]


def ward_aliases(name):
    out = []
    if " and " in name:
        out.append(name.replace(" and ", " & "))
    if "'" in name:
        out.append(name.replace("'", ""))
        out.append(name.replace("'", "’"))
    if name.startswith("St "):
        out.append("Saint " + name[3:])
    return out


def build(places_path):
    wards = json.loads(WARDS.read_text(encoding="utf-8"))["features"]
    lsoas = json.loads(LSOAS.read_text(encoding="utf-8"))["features"]
    towns = {}
    with open(places_path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["admin2"] == "Shropshire":
                towns[r["name"]] = (float(r["lat"]), float(r["lon"]))

    ward_geom = {f["properties"]["WD13CD"]: shape(f["geometry"]) for f in wards}
    ward_name = {f["properties"]["WD13CD"]: f["properties"]["WD13NM"] for f in wards}
    missing = set(ward_name.values()) - set(FORMER_DISTRICT)
    if missing:
        raise SystemExit(f"wards with no former district: {sorted(missing)}")

    # LSOA -> ward
    lsoa_point, lsoa_ward = {}, {}
    for f in lsoas:
        code = f["properties"]["LSOA11CD"]
        p = shape(f["geometry"]).representative_point()
        lsoa_point[code] = ll(p)
        hits = [wc for wc, g in ward_geom.items() if g.contains(p)]
        if len(hits) != 1:
            hits = [min(ward_geom, key=lambda wc: ward_geom[wc].distance(p))]
        lsoa_ward[code] = hits[0]
    ward_lsoas = {wc: sorted(c for c, w in lsoa_ward.items() if w == wc) for wc in ward_geom}

    # ward -> neighbourhood
    shrews = towns["Shrewsbury"]
    ward_nbhd = {}
    for wc, g in ward_geom.items():
        area = DISTRICT_AREA[FORMER_DISTRICT[ward_name[wc]]]
        rp = g.representative_point()
        cands = [n for n in NEIGHBOURHOODS if n[2] == area and n[3]]
        contains = [n for n in cands if any(g.contains(Point(towns[t][1], towns[t][0])) for t in n[3])]
        if contains:
            choice = contains[0]
        else:
            choice = min(cands, key=lambda n: min(km(rp.y, rp.x, *towns[t]) for t in n[3]))
        if choice[0] == "shrewsbury" and not contains and km(rp.y, rp.x, *shrews) > SHREWSBURY_URBAN_KM:
            choice = next(n for n in NEIGHBOURHOODS if n[0] == "shrewsbury-rural")
        ward_nbhd[wc] = choice[0]

    def pop(n):
        return round(COUNTY_POPULATION * n / len(lsoas))

    def row(key, name, level, parent, codes, centre, ward_code=None, aliases=()):
        return {"key": key, "name": name, "level": level, "parent": parent,
                "population": pop(len(codes)), "population_source": POP_SOURCE,
                "population_estimated": True, "lsoa_codes": sorted(codes), "centre": centre,
                "ward_code": ward_code, "aliases": list(aliases)}

    all_codes = sorted(lsoa_point)
    county = row("shropshire", "Shropshire", "county", None, all_codes,
                 mean_ll([lsoa_point[c] for c in all_codes]),
                 aliases=["Shropshire County", "County of Shropshire", "Salop", "Shropshire Council area"])
    county.update(population=COUNTY_POPULATION, population_source=COUNTY_POPULATION_SOURCE,
                  population_estimated=False)
    out = [county]
    nb_codes = {n[0]: sorted(c for wc in ward_geom if ward_nbhd[wc] == n[0] for c in ward_lsoas[wc])
                for n in NEIGHBOURHOODS}
    for akey, aname, _desc, aal in AREAS:
        codes = sorted(c for n in NEIGHBOURHOODS if n[2] == akey for c in nb_codes[n[0]])
        out.append(row(akey, aname, "area", "shropshire", codes, mean_ll([lsoa_point[c] for c in codes]),
                       aliases=aal))
    for key, name, area, ts, aliases in NEIGHBOURHOODS:
        codes = nb_codes[key]
        if not codes:
            raise SystemExit(f"neighbourhood {key} has no wards")
        centre = mean_ll([towns[t] for t in ts]) if ts else mean_ll([lsoa_point[c] for c in codes])
        out.append(row(key, name, "neighbourhood", area, codes, centre, aliases=aliases))
    for key, *_ in NEIGHBOURHOODS:
        for wc in sorted(ward_geom, key=lambda w: ward_name[w]):
            if ward_nbhd[wc] != key:
                continue
            out.append(row(wc.lower(), ward_name[wc], "ward", key, ward_lsoas[wc],
                           ll(ward_geom[wc].representative_point()), ward_code=wc,
                           aliases=ward_aliases(ward_name[wc])))

    # checks
    wards_out = [r for r in out if r["level"] == "ward"]
    assert len(wards_out) == 63 == len(ward_geom), len(wards_out)
    seen = [c for r in wards_out for c in r["lsoa_codes"]]
    assert len(seen) == len(set(seen)) == 193, (len(seen), len(set(seen)))
    assert len({r["key"] for r in out}) == len(out)
    return {"attribution": ATTRIBUTION, "population_method": POPULATION_METHOD, "area_rule": AREA_RULE,
            "localities": out}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--places", type=Path, default=PLACES)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    doc = build(args.places)
    args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    levels = {}
    for r in doc["localities"]:
        levels[r["level"]] = levels.get(r["level"], 0) + 1
    print(f"wrote {args.out}: {levels}")


if __name__ == "__main__":
    main()
