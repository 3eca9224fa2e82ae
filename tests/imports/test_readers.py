"""File readers: encodings, delimiters, quoted newlines, limits and archive bombs, each
refused with an error naming the file, row and column."""

from __future__ import annotations

import codecs
import zipfile

import openpyxl
import pytest

from kyklos.imports.readers import FileError, Options, open_reader


def rows(path, **kw):
    return [r for _n, r in open_reader(None, path, path.name, Options(**kw))]


def test_encodings_detected(tmp_path):
    text = "name;city\nΠαπαδόπουλος;Θεσσαλονίκη\n"
    cases = {
        "greek.csv": text.encode("cp1253"),
        "bom.csv": codecs.BOM_UTF8 + text.encode("utf-8"),
        "utf16.csv": text.encode("utf-16"),
        "plain.csv": text.encode("utf-8"),
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        assert rows(p) == [["name", "city"], ["Παπαδόπουλος", "Θεσσαλονίκη"]], name
    p = tmp_path / "polish.csv"
    p.write_bytes("nazwisko,miasto\nWójcik,Łódź\nŻółć,Gdańsk\n".encode("cp1250"))
    assert rows(p)[1:] == [["Wójcik", "Łódź"], ["Żółć", "Gdańsk"]]
    # a wrong encoding chosen by hand is named, with the row
    p = tmp_path / "bad.csv"
    p.write_bytes(b"a,b\n1,2\n\xff\xfe\xfa,3\n")
    with pytest.raises(FileError) as exc:
        rows(p, encoding="utf-8")
    assert str(exc.value).startswith("bad.csv:")


def test_delimiters_quotes_newlines(tmp_path):
    p = tmp_path / "tabs.csv"
    p.write_text("a\tb\n1\t2\n", encoding="utf-8")
    assert rows(p) == [["a", "b"], ["1", "2"]]
    p = tmp_path / "quoted.csv"
    p.write_text('name;note\r\n"Smith; J.";"line one\nline two"\r\n', encoding="utf-8")
    assert rows(p) == [["name", "note"], ["Smith; J.", "line one\nline two"]]
    p = tmp_path / "pipe.csv"
    p.write_text("a|b|c\n1|2|3\n", encoding="utf-8")
    assert rows(p, delimiter="|")[1] == ["1", "2", "3"]


def test_limits_and_malformed(tmp_path):
    p = tmp_path / "wide.csv"
    p.write_text(",".join(f"c{i}" for i in range(10_000)) + "\n", encoding="utf-8")
    with pytest.raises(FileError) as exc:
        rows(p)
    assert exc.value.row == 1 and "columns" in str(exc.value) and "wide.csv:1:" in str(exc.value)
    p = tmp_path / "huge.csv"
    p.write_text("a,b\n1," + "x" * 1_000_001 + "\n", encoding="utf-8")
    with pytest.raises(FileError) as exc:
        rows(p)
    assert exc.value.row == 2 and "longer" in str(exc.value)
    p = tmp_path / "unbalanced.csv"
    p.write_text('a,b\n1,"open\n2,3\n', encoding="utf-8")
    with pytest.raises(FileError) as exc:
        rows(p)
    assert "unbalanced.csv:" in str(exc.value)
    p = tmp_path / "nul.csv"
    p.write_bytes(b"a,b\n1,\x002\n")
    with pytest.raises(FileError):
        rows(p)


def test_xlsx_streamed_and_bombs(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["name", "size", "since"])
    ws.append(["Anvil", 7, "2024-01-02"])
    ws.append(["=1+1", 3.0, None])
    p = tmp_path / "ok.xlsx"
    wb.save(p)
    # a formula imports as its last computed value (none here), never as a formula
    assert rows(p) == [["name", "size", "since"], ["Anvil", "7", "2024-01-02"], ["", "3"]]
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(FileError) as exc:
        rows(bomb, limits={"zip_bytes": 10 * 1024 * 1024})
    assert "bomb.xlsx" in str(exc.value) and "inflates" in str(exc.value)
    many = tmp_path / "many.xlsx"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(50):
            zf.writestr(f"x{i}", b"")
    with pytest.raises(FileError) as exc:
        rows(many, limits={"zip_entries": 20})
    assert "entries" in str(exc.value)
    notzip = tmp_path / "fake.xlsx"
    notzip.write_bytes(b"name,size\n")
    with pytest.raises(FileError):
        rows(notzip)
