"""The Enron eval: the product's tie strength predicts who keeps emailing (real data, read in place)."""

from __future__ import annotations

import pytest

from evals.enron_auc import DATA_DIR, main, roc_auc, run


def test_roc_auc_helper() -> None:
    assert roc_auc([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]) == 1.0
    assert roc_auc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0


@pytest.mark.skipif(not (DATA_DIR / "messages.tsv").exists(), reason="shared Enron data not available")
def test_tie_strength_predicts_next_year_mail(capsys: pytest.CaptureFixture[str]) -> None:
    result = run()
    auc = result["auc"]
    hard = result["auc_prior_mail_pairs"]
    assert result["pairs"] == 156 * 155 // 2 and result["positives"] > 300
    # measured: 0.867 (count baseline 0.862); among pairs with earlier mail 0.808 (baseline 0.758)
    assert auc["tie_strength"] > 0.8
    assert abs(auc["random_draw"] - 0.5) < 0.05
    assert auc["tie_strength"] >= auc["message_count"]
    assert hard["tie_strength"] > 0.75
    assert hard["tie_strength"] > hard["message_count"]
    assert main(["--json"]) == 0
    assert '"tie_strength"' in capsys.readouterr().out
