import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
TESTDATA = ROOT / "testdata"


@pytest.fixture(scope="session")
def testdata():
    return TESTDATA
