from conftest import ROOT
from generator.support import supported_ops_markdown


def test_supported_ops_doc_is_generated_from_the_rules() -> None:
    assert (ROOT / "docs" / "SUPPORTED_OPS.md").read_text() == supported_ops_markdown()
