"""The suite `make test` runs is every app's tests: a new app's tests cannot be left out."""

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def configured_testpaths():
    config = configparser.ConfigParser()
    config.read(ROOT / "pytest.ini")
    return set(config["pytest"]["testpaths"].split())


def test_every_tests_package_is_in_testpaths():
    packages = {
        str(tests.parent.relative_to(ROOT))
        for tests in ROOT.glob("*/tests")
        if (tests / "__init__.py").exists()
    }
    packages.add("sdk/python/tests")
    assert packages, "no tests package found"
    assert packages - configured_testpaths() == set()


def test_every_testpath_exists():
    missing = {path for path in configured_testpaths() if not (ROOT / path).is_dir()}
    assert missing == set()
