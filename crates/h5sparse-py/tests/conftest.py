import os
import pathlib

# libhdf5 resolves external raw-data files against the current directory unless told to use
# the HDF5 file's own (read once, before h5py loads): the oracle must look where we look.
os.environ.setdefault("HDF5_EXTFILE_PREFIX", "${ORIGIN}")
os.environ.setdefault("HDF5_VDS_PREFIX", "${ORIGIN}")

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
TESTDATA = ROOT / "testdata"


@pytest.fixture(scope="session")
def testdata():
    return TESTDATA
