"""constructs/ is our source root, never a package: it must not shadow the `constructs` library."""

from pathlib import Path

from conftest import ROOT


def test_constructs_resolves_to_the_installed_library() -> None:
    import constructs

    location = Path(constructs.__file__).resolve()
    assert "site-packages" in location.parts, location
    assert not (ROOT / "constructs" / "__init__.py").exists()
    assert hasattr(constructs, "Construct")


def test_our_package_comes_from_the_source_root() -> None:
    import langflow_cdk8s

    assert Path(langflow_cdk8s.__file__).resolve().parent == ROOT / "constructs" / "langflow_cdk8s"
