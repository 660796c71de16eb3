"""`xltool demo`: the whole job end to end into one fresh folder, safe to re-run."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from xltool.cli import main
from xltool.cli.demo import CHECK_JSON, FEEDBACK_DIR, PUBLISH_DIR, SUMMARY_DIR, TEMPLATE_DIR
from xltool.pipeline import sampledata
from xltool.workbook.summary_layout import DETAIL_SHEET, STATUS_SHEET


def test_demo_runs_the_whole_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "演示完成" in printed and str(out / SUMMARY_DIR) in printed

    templates = sorted((out / TEMPLATE_DIR).glob("*.xlsx"))
    assert len(templates) == len(sampledata.AGENCIES)
    # 上年结转 prefilled with a comment saying where it came from
    wb = openpyxl.load_workbook(templates[0])
    ws = wb["表三 依申请公开"]
    assert ws["D7"].value is not None and ws["D7"].comment is not None

    report = json.loads((out / CHECK_JSON).read_text(encoding="utf-8"))
    statuses = {Path(f["path"]).name: f["status"] for f in report["files"]}
    assert sorted(set(statuses.values())) == ["invalid", "ok", "unreadable"]
    feedback = list((out / FEEDBACK_DIR).glob("*_校验意见.xlsx"))
    with_findings = [f for f in report["files"] if f["issues"] and f["status"] != "unreadable"]
    assert len(feedback) == len(with_findings)

    summary = next((out / SUMMARY_DIR).glob("*.xlsx"))
    wb = openpyxl.load_workbook(summary, read_only=True)
    assert DETAIL_SHEET in wb.sheetnames and STATUS_SHEET in wb.sheetnames
    status_text = " ".join(str(c) for row in wb[STATUS_SHEET].iter_rows(values_only=True) for c in row if c)
    missing = sampledata.AGENCIES[next(i for i, m in sampledata.MISTAKES.items() if m == "missing") - 1][0]
    assert missing in status_text and "未报送" in status_text
    wb.close()

    published = sorted(p.suffix for p in (out / PUBLISH_DIR).iterdir())
    assert published == [".docx", ".html"]
    html = next((out / PUBLISH_DIR).glob("*.html")).read_text(encoding="utf-8")
    assert "三、收到和处理政府信息公开申请情况" in html and "环翠区人民政府" in html

    # re-running: refused without --force, fresh with --force
    assert main(["demo", "--out", str(out)]) == 2
    (out / "stale.txt").write_text("x", encoding="utf-8")
    assert main(["demo", "--out", str(out), "--force"]) == 0
    assert not (out / "stale.txt").exists()


def test_demo_never_clears_a_folder_it_did_not_make(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "my-files"
    mine.mkdir()
    (mine / "important.xlsx").write_bytes(b"keep me")
    assert main(["demo", "--out", str(mine), "--force"]) == 2
    assert "不会清空" in capsys.readouterr().err
    assert (mine / "important.xlsx").read_bytes() == b"keep me"
