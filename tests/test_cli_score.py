"""The model-free commands: attnprobe score and attnprobe symmetrize."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from attnprobe.cli.main import cli


@pytest.fixture
def files(tmp_path):
    # the hand-computed example: S = {0-0, 1-1}, P-only = {1-2};
    # A = {0-0, 1-2, 2-2}: precision 2/3, recall 1/2, AER 0.4
    (tmp_path / "gold.txt").write_text("1-1 2-2 2p3\n\n")  # 1-based
    (tmp_path / "hyp.txt").write_text("0-0 1-2 2-2\n\n")  # 0-based
    return tmp_path


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_score_prints_a_line(files):
    r = run("score", files / "gold.txt", files / "hyp.txt", "--gold-one-based")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("AER 40.00%  precision 66.67%  recall 50.00%  F1 57.14%")
    assert "3 links; gold 2 sure, 3 possible; 2 sentences" in r.output


def test_score_json(files):
    r = run("score", files / "gold.txt", files / "hyp.txt", "--gold-one-based", "--json")
    d = json.loads(r.output)
    assert d["aer"] == pytest.approx(0.4) and d["precision"] == pytest.approx(2 / 3)
    assert d["recall"] == 0.5 and d["f1"] == pytest.approx(4 / 7)
    assert (d["links"], d["sure"], d["possible"], d["sentences"]) == (3, 2, 3, 2)


def test_score_reverse_and_naacl(files):
    (files / "gold.wa").write_text("1 2 2 S\n1 1 1 S\n1 2 3 P\n")  # NAACL; no sentence 2
    (files / "rev.txt").write_text("0-0 2-1 2-2\n\n")  # target-source
    r = run("score", files / "gold.wa", files / "rev.txt", "--reverse-hyp", "--json")
    assert r.exit_code == 2 and "sentences carry ids (1) but" in r.stderr  # by id or line?
    r = run(
        "score", files / "gold.wa", files / "rev.txt", "--reverse-hyp", "--json", "--match", "line"
    )
    assert json.loads(r.stdout)["aer"] == pytest.approx(0.4)


def test_score_with_text_checks_lengths(files):
    (files / "bitext").write_text("a b ||| c d\nx ||| y\n")
    r = run(
        "score",
        files / "gold.txt",
        files / "hyp.txt",
        "--gold-one-based",
        "--text",
        files / "bitext",
    )
    assert r.exit_code == 2
    assert "gold.txt:1: link 1-2 (0-based source-target) points outside sentence 1" in r.output


@pytest.mark.parametrize(
    "gold_text, hyp_text, extra, message",
    [
        ("0-0\n", "0-0 1:1\n", [], "hyp.txt:1: malformed link '1:1'"),
        ("0-0\n0-0\n", "0-0\n", [], "hyp.txt:2: file ends after 1 sentence lines"),
        ("0-0\n", "0-0\n", ["--gold-one-based"], "gold.txt:1: a link has position 0"),
        ("<xml/>\n", "0-0\n", [], "gold.txt:1: cannot tell the alignment format"),
    ],
)
def test_score_errors_are_one_line_with_status_2(tmp_path, gold_text, hyp_text, extra, message):
    (tmp_path / "gold.txt").write_text(gold_text)
    (tmp_path / "hyp.txt").write_text(hyp_text)
    r = run("score", tmp_path / "gold.txt", tmp_path / "hyp.txt", *extra)
    assert r.exit_code == 2
    assert r.output.startswith("attnprobe: error: ") and message in r.output
    assert r.output.count("\n") == 1 and "Traceback" not in r.output


def test_score_unknown_format_choice(files):
    r = run("score", files / "gold.txt", files / "hyp.txt", "--format", "talp")
    assert r.exit_code == 2 and "'talp' is not one of" in r.output


def test_score_help_explains_formats_and_bases():
    r = run("score", "--help")
    assert "0-based" in r.output and "1-based" in r.output and "ipj" in r.output
    assert "attnprobe score enfr.gold" in r.output


def test_score_help_states_the_matching_rules():
    text = " ".join(run("score", "--help").output.split())
    assert "--match [auto|line|position]" in text
    assert "by id when both files carry ids" in text and "by position when neither does" in text
    assert "a sentence of GOLD missing from HYP is read as having no links" in text
    assert "an id of HYP that GOLD lacks, and an id used on two lines, are errors" in text
    assert "never the largest id" in text and "null in JSON" in text


def test_symmetrize_help_is_its_own():
    r = run("symmetrize", "--help")
    assert "GOLD" not in r.output and "--text" not in r.output and "--json" not in r.output
    assert "a sentence of FWD missing from REV" in " ".join(r.output.split())
    # the example survives copy-paste: each of its lines is printed as written
    assert "    attnprobe symmetrize fwd.align rev.align --reverse-rev \\\n" in r.output
    assert "        -m grow-diag-final-and -o sym.align\n" in r.output
    assert "possible are ignored" in " ".join(r.output.split())


def test_symmetrize_writes_pharaoh(tmp_path):
    (tmp_path / "fwd").write_text("0-0 1-1\n0-0\n")
    (tmp_path / "rev").write_text("0-0 2-1\n0-0\n")  # target-source
    r = run(
        "symmetrize",
        tmp_path / "fwd",
        tmp_path / "rev",
        "--reverse-rev",
        "-m",
        "union",
        "-o",
        tmp_path / "out",
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out").read_text() == "0-0 1-1 1-2\n0-0\n"


def test_symmetrize_error_leaves_the_output_alone(tmp_path):
    (tmp_path / "fwd").write_text("0-0\n0-0\n")
    (tmp_path / "rev").write_text("0-0\n")
    (tmp_path / "out").write_text("old\n")
    r = run("symmetrize", tmp_path / "fwd", tmp_path / "rev", "-o", tmp_path / "out")
    assert r.exit_code == 2 and "rev:2: file ends after 1 sentence lines" in r.output
    assert (tmp_path / "out").read_text() == "old\n"
    r = run("symmetrize", tmp_path / "fwd", tmp_path / "rev", "-o", tmp_path / "new")
    assert r.exit_code == 2 and not (tmp_path / "new").exists()


def test_symmetrize_unknown_method(tmp_path):
    (tmp_path / "f").write_text("0-0\n")
    r = run("symmetrize", tmp_path / "f", tmp_path / "f", "-m", "gdfa", "-o", tmp_path / "o")
    assert r.exit_code == 2 and "grow-diag-final-and" in r.output


def test_symmetrize_help_lists_methods():
    r = run("symmetrize", "--help")
    assert "grow-diag-final-and" in r.output and "atools" in r.output


@pytest.mark.parametrize("command", ["score", "symmetrize"])
def test_model_free_commands_do_not_import_torch(files, command):
    args = {
        "score": [files / "gold.txt", files / "hyp.txt", "--gold-one-based"],
        "symmetrize": [files / "hyp.txt", files / "hyp.txt", "-o", files / "sym.txt"],
    }
    code = (
        "import sys\n"
        "from attnprobe.cli.main import main\n"
        "try:\n"
        f"    main({[command] + [str(a) for a in args[command]]!r})\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_score_on_real_data(shared_data):
    folder = shared_data / "gold" / "awesome-align"
    r = run(
        "score",
        folder / "enfr.gold",
        folder / "enfr.awesome-align.out",
        "--gold-one-based",
        "--json",
    )
    d = json.loads(r.output)
    assert round(100 * d["aer"], 1) == 4.1 and d["links"] == 6038
    naacl = shared_data / "gold/naacl2003-hansards-enfr/test/test.wa.nonullalign"
    r2 = run("score", naacl, folder / "enfr.awesome-align.out", "--json")
    assert json.loads(r2.output) == d
