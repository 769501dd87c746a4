"""The XLSX rosters of the roster tests (issue #17), written by openpyxl (Debian's
python3-openpyxl) the way a spreadsheet program writes them, each with the CSV it must read as.

make_roster_166(dir): tests/data/participants-166.csv as a workbook: every 7th name Korean,
completedAt as real Excel date-times (number cells with a date format), an employeeNo column of
numbers (10001...), an empty column (E, no header either, so its cells are skipped letters),
shared strings (with phonetic runs on the Korean names) and inline rich-text strings (the
department), and a second sheet "Notes" after the roster. Returns (xlsx path, the CSV it must convert to).

make_bad_3(dir): a 10-row roster on a sheet named "명단" with 3 bad rows (sheet rows 4, 7, 10:
a bad email, a date that is no date, an unknown course). Returns (xlsx path, {row: externalId}).
"""
import csv
import datetime
import io
import os
import re
import zipfile

import openpyxl

SRC = os.environ.get("CA_SOURCE_DIR",
                     os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROSTER = os.path.join(SRC, "tests", "data", "participants-166.csv")
KOREAN = ["김민준", "이서연", "박지호", "최수아", "정예준", "강하은", "조도윤", "윤서윤", "장시우",
          "임지유"]
HEADER = ["externalId", "name", "email", "employeeNo", "", "department", "course", "completedAt"]


def roster_rows():
    """The 166 rows as the CSV must read them (strings), Korean names mixed in."""
    with open(ROSTER, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = []
    for i, r in enumerate(rows):
        name = KOREAN[(i // 7) % len(KOREAN)] if i % 7 == 3 else r["name"]
        out.append([r["externalId"], name, r["email"], str(10001 + i), "", r["department"],
                    r["course"], r["completedAt"]])
    return out


def csv_text(rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def share_strings(path):
    """openpyxl writes every string inline: move columns A, B, C and G into a shared strings
    part (Korean names with a phonetic run, which is not part of the text), and make column F's
    inline strings two rich-text runs, as Excel writes them."""
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    table, index = [], {}

    def shared(m):
        col, row, attrs, text = m.group(1), m.group(2), m.group(3), m.group(4)
        if col == "F":
            half = len(text) // 2
            return (f'<c r="F{row}"{attrs} t="inlineStr"><is><r><t>{text[:half]}</t></r>'
                    f'<r><rPr><b/></rPr><t>{text[half:]}</t></r></is></c>')
        if col not in "ABCG":
            return m.group(0)
        if text not in index:
            index[text] = len(table)
            phonetic = '<rPh sb="0" eb="1"><t>キム</t></rPh>' if text in KOREAN else ""
            table.append(f"<si><t>{text}</t>{phonetic}</si>")
        return f'<c r="{col}{row}"{attrs} t="s"><v>{index[text]}</v></c>'

    sheet = files["xl/worksheets/sheet1.xml"].decode()
    sheet, n = re.subn(r'<c r="([A-Z])(\d+)"((?: s="\d+")?) t="inlineStr"><is><t>([^<]*)</t></is></c>',
                       shared, sheet)
    if n < 166 * 5:
        raise RuntimeError(f"only {n} string cells rewritten")
    files["xl/worksheets/sheet1.xml"] = sheet.encode()
    files["xl/sharedStrings.xml"] = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'uniqueCount="{len(table)}">' + "".join(table) + "</sst>").encode()
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    files["xl/_rels/workbook.xml.rels"] = files["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdSST" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        b"</Relationships>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)


def make_roster_166(d):
    rows = roster_rows()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Roster"
    ws.append(HEADER[:4] + [None] + HEADER[5:])
    for r in rows:
        when = datetime.datetime.strptime(r[7], "%Y-%m-%dT%H:%M:%SZ")
        ws.append([r[0], r[1], r[2], int(r[3]), None, r[5], r[6], when])
    notes = wb.create_sheet("Notes")
    notes.append(["this sheet is not the roster"])
    path = os.path.join(d, "roster-166.xlsx")
    wb.save(path)
    share_strings(path)
    return path, csv_text([HEADER] + rows)


BAD_ROWS = {4: "K-003", 7: "K-006", 10: "K-009"}


def make_bad_3(d):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "명단"
    ws.append(["externalId", "name", "email", "department", "course", "completedAt"])
    for i in range(1, 11):
        ext = f"K-{i:03d}"
        email = f"k{i}@bizm.example"
        course = "security-awareness-2026"
        when = datetime.date(2026, 6, i)
        if i == 3:
            email = "not-an-email"
        elif i == 6:
            when = "2026-13-45"
        elif i == 9:
            course = "no-such-course"
        ws.append([ext, KOREAN[i - 1], email, "인사팀", course, when])
        if isinstance(when, datetime.date):
            ws.cell(row=i + 1, column=6).number_format = "yyyy-mm-dd"
    path = os.path.join(d, "roster-bad-3.xlsx")
    wb.save(path)
    return path, BAD_ROWS
