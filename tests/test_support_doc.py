from conftest import ROOT
from generator.support import supported_ops_markdown


def test_supported_ops_doc_is_generated_from_the_rules() -> None:
    assert (ROOT / "docs" / "SUPPORTED_OPS.md").read_text() == supported_ops_markdown()


def test_every_operator_the_support_rules_accept_has_a_kernel_and_no_more() -> None:
    from generator.codegen.kernel_params import SUPPORTED_OPS as KERNEL_OPS
    from generator.support import SUPPORTED_OPS

    assert set(SUPPORTED_OPS) == set(KERNEL_OPS) | {"RESHAPE"}  # RESHAPE is a free alias, no kernel
