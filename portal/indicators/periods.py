"""Reporting periods: months, UK financial quarters and half years, financial years, rolling 12 months."""
from datetime import date


def add_months(month, n):
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(first, last):
    month = date(first.year, first.month, 1)
    while month <= last:
        yield month
        month = add_months(month, 1)


def financial_year_start(month):
    return date(month.year if month.month >= 4 else month.year - 1, 4, 1)


def periods_of(month):
    """(period_type, period_start, period_end) of every period the month belongs to."""
    fy = financial_year_start(month)
    offset = (month.year * 12 + month.month) - (fy.year * 12 + fy.month)
    quarter = add_months(fy, offset // 3 * 3)
    half = add_months(fy, offset // 6 * 6)
    rows = [("month", month, month), ("quarter", quarter, add_months(quarter, 2)),
            ("half_year", half, add_months(half, 5)), ("financial_year", fy, add_months(fy, 11))]
    # The month is in the twelve rolling windows that end in it and the eleven months after it.
    for k in range(12):
        end = add_months(month, k)
        rows.append(("rolling_12", add_months(end, -11), end))
    return rows


def label(period_type, start, end=None):
    if period_type == "month":
        return f"{start:%b %Y}"
    if period_type == "financial_year":
        return f"{start.year}-{str(start.year + 1)[2:]}"
    if period_type == "quarter":
        fy = financial_year_start(start)
        return f"Q{((start.month - 4) % 12) // 3 + 1} {fy.year}-{str(fy.year + 1)[2:]}"
    if period_type == "half_year":
        return f"{start:%b} to {add_months(start, 5):%b %Y}"
    return f"12 months to {end or add_months(start, 11):%b %Y}"
